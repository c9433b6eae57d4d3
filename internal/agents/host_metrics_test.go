//go:build linux

package agents_test

import (
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

// Issue 18 §5, with a real agent process: the uptime it reports is the
// host's, and a busy process with a small memory footprint is listed with
// its CPU and a memory share that is not rounded to 0.
func TestRealAgentUptimeAndProcessShares(t *testing.T) {
	env := newEnv(t)
	// A busy shell loop: a few MiB of RSS, far below 0.05 % of the host's
	// memory (what one decimal rounded to 0).
	spin := exec.Command("sh", "-c", "while :; do :; done")
	if err := spin.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = spin.Process.Kill(); _ = spin.Wait() })
	env.StartAgent(t, servertest.AgentSpec{Bin: agentBin, Key: testKey, Host: "metrics-host"})

	hostUptime := func() float64 {
		b, err := os.ReadFile("/proc/uptime")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
		return v
	}
	pid := float64(spin.Process.Pid)
	var v map[string]any
	var proc map[string]any
	waitFor(t, 20*time.Second, "the busy loop among the agent's top processes", func() bool {
		v = agentView(t, env, "metrics-host")
		for _, p := range asMaps(v["top_processes"]) {
			if p["pid"] == pid {
				proc = p
				return true
			}
		}
		return false
	})
	up, _ := v["uptime_s"].(float64)
	if host := hostUptime(); up < host-10 || up > host+1 {
		t.Errorf("agent uptime_s %v, host uptime %.0f s", v["uptime_s"], host)
	}
	if cpu, _ := proc["cpu"].(float64); cpu < 10 {
		t.Errorf("busy loop cpu %v %%", proc["cpu"])
	}
	statm, err := os.ReadFile("/proc/" + strconv.Itoa(spin.Process.Pid) + "/statm")
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := strconv.ParseFloat(strings.Fields(string(statm))[1], 64)
	memTotal, _ := v["mem_total"].(float64)
	want := pages * float64(os.Getpagesize()) / memTotal * 100
	mem, _ := proc["mem"].(float64)
	if (want >= 0.005 && mem <= 0) || math.Abs(mem-want) > 0.011 {
		t.Errorf("busy loop mem %v %%, want %.4f %% (RSS %v pages of %v bytes)", proc["mem"], want, pages, memTotal)
	}
}

func asMaps(v any) []map[string]any {
	var out []map[string]any
	l, _ := v.([]any)
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
