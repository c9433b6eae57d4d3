package agents_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func openFDs() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es)
}

// Issue 11 §5: agents killed without a close frame leave no descriptor
// behind on the server.
func TestKilledAgentsReleaseDescriptors(t *testing.T) {
	if openFDs() < 0 {
		t.Skip("no /proc/self/fd")
	}
	env := newEnv(t)
	env.Do(http.MethodGet, "/api/health", "", nil)
	base := openFDs()
	var procs []*agentProc
	for i := range 4 {
		host := fmt.Sprintf("fd-agent-%d", i)
		procs = append(procs, startAgent(t, env.URL, host))
		waitWS(t, env, host)
	}
	if n := openFDs(); n < base+4 {
		t.Fatalf("descriptors with 4 agents: %d (base %d)", n, base)
	}
	for _, p := range procs {
		p.kill()
	}
	deadline := time.Now().Add(15 * time.Second)
	for openFDs() > base+1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := openFDs(); n > base+1 {
		t.Fatalf("descriptors after killing the agents: %d, base %d", n, base)
	}
}

// Issue 11 §6: a report is bounded in depth; fields the server does not
// use are dropped, not kept.
func TestReportBoundsAndUnknownFields(t *testing.T) {
	env := newEnv(t)
	hdr := map[string]string{"X-Agent-Key": testKey, "Content-Type": "application/json"}
	deep := `{"hostname":"deep-host","_capabilities":` + strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100) + `}`
	resp := env.Request(http.MethodPost, "/api/agent/report", "", []byte(deep), hdr)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("deeply nested report: %d", resp.StatusCode)
	}
	body := `{"hostname":"junk-host","cpu_percent":7.5,"junk":"` + strings.Repeat("j", 100_000) + `","extra":{"x":[1,2,3]},"disks":"not-a-list"}`
	resp = env.Request(http.MethodPost, "/api/agent/report", "", []byte(body), hdr)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("report with unknown fields: %d", resp.StatusCode)
	}
	v := agentView(t, env, "junk-host")
	if _, kept := v["junk"]; kept {
		t.Fatalf("unknown field kept: %v", v["junk"] != nil)
	}
	if _, kept := v["extra"]; kept || v["cpu_percent"] != 7.5 {
		t.Fatalf("view: %v", v)
	}
}
