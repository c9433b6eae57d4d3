package servertest

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BuildAgent builds cmd/noba-agent into dir and returns the binary's path
// (the Go build cache makes a second build of the same code cheap).
func BuildAgent(dir string) (string, []byte, error) {
	bin := filepath.Join(dir, "noba-agent")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/noba-go/noba/cmd/noba-agent").CombinedOutput()
	return bin, out, err
}

// AgentSpec says how to start a real agent: its binary (empty: built for
// this test), key, hostname and extra environment (e.g. a PATH with fake
// tools first).
type AgentSpec struct {
	Bin, Key, Host string
	Env            []string
}

// Agent is a real noba-agent process connected to the test server.
type Agent struct {
	out syncBuf
}

// Output is what the agent printed so far.
func (a *Agent) Output() string { return a.out.String() }

// StartAgent runs a real noba-agent against e (reporting every second),
// waits until the server lists it online (30 s at most) and kills it when
// the test ends, printing its output if the test failed. The key must be
// one of the agentKeys setting already.
func (e *Env) StartAgent(t *testing.T, spec AgentSpec) *Agent {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs noba-agent")
	}
	dir := t.TempDir()
	if spec.Bin == "" {
		bin, out, err := BuildAgent(dir)
		if err != nil {
			t.Fatalf("build noba-agent: %v\n%s", err, out)
		}
		spec.Bin = bin
	}
	a := &Agent{}
	cmd := exec.Command(spec.Bin, "--server", e.URL, "--key", spec.Key, "--hostname", spec.Host, "--interval", "1",
		"--config", filepath.Join(dir, "agent.yaml"), "--data-dir", filepath.Join(dir, "data"))
	cmd.Stdout, cmd.Stderr = &a.out, &a.out
	cmd.Env = append(append(os.Environ(), "NOBA_SERVER=", "NOBA_AGENT_KEY="), spec.Env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		if t.Failed() {
			t.Logf("agent %s output:\n%s", spec.Host, a.Output())
		}
	})
	viewer := e.Token("viewer")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var v map[string]any
		if e.JSON(http.MethodGet, "/api/agents/"+spec.Host, viewer, nil, &v) == http.StatusOK && v["online"] == true {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %s did not come online", spec.Host)
		}
	}
}

// syncBuf is a bytes.Buffer safe for the process's two output streams.
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
