package automations_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// agent_command automations run through a real noba-agent: one host and
// every online host (__all__).
func TestAgentCommandThroughRealAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs noba-agent")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "noba-agent")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/noba-go/noba/cmd/noba-agent").CombinedOutput(); err != nil {
		t.Fatalf("build noba-agent: %v\n%s", err, out)
	}
	e := servertest.New(t)
	const key = "automations-agent-key-0123456789"
	if _, err := e.Server.Settings.Update(map[string]any{"agentKeys": key}); err != nil {
		t.Fatal(err)
	}
	var out syncBuf
	cmd := exec.Command(bin, "--server", e.URL, "--key", key, "--hostname", "auto-agent", "--interval", "1",
		"--config", filepath.Join(dir, "agent.yaml"), "--data-dir", filepath.Join(dir, "data"))
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "NOBA_SERVER=", "NOBA_AGENT_KEY=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		if t.Failed() {
			t.Logf("agent output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		var a map[string]any
		if e.JSON(http.MethodGet, "/api/agents/auto-agent", e.Token("viewer"), nil, &a) == http.StatusOK && a["online"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("agent did not come online")
		}
		time.Sleep(200 * time.Millisecond)
	}
	op := e.Token("operator")
	for host, want := range map[string]string{"auto-agent": "agent_command ping on auto-agent: ok", "__all__": "agent_command ping succeeded on 1 agents"} {
		id := create(t, e, "operator", map[string]any{"name": "ping " + host, "type": "agent_command",
			"config": map[string]any{"hostname": host, "command": "ping", "timeout": 20}})
		var res struct {
			RunID int64 `json:"run_id"`
		}
		e.JSON(http.MethodPost, "/api/automations/"+id+"/run", op, nil, &res)
		r := waitRun(t, e, res.RunID, finished)
		if r.Status != "done" || !strings.HasPrefix(deref(r.Output), want) {
			t.Fatalf("%s: %+v %q", host, r, deref(r.Output))
		}
	}
}
