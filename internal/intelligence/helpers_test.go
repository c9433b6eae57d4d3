package intelligence_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

// agentBin is the noba-agent binary built once for the package's tests.
var agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "noba-intel-agent")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBin = filepath.Join(dir, "noba-agent")
	if out, err := exec.Command("go", "build", "-o", agentBin, "github.com/noba-go/noba/cmd/noba-agent").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build noba-agent: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const agentKey = "intel-agent-key-0123456789"

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

// startAgent runs the real agent against env as hostname and waits until
// it is online.
func startAgent(t *testing.T, env *servertest.Env, hostname string) {
	t.Helper()
	if _, err := env.Server.Settings.Update(map[string]any{"agentKeys": agentKey}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(agentBin, "--server", env.URL, "--key", agentKey, "--hostname", hostname, "--interval", "1",
		"--config", filepath.Join(dir, "agent.yaml"), "--data-dir", filepath.Join(dir, "data"))
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "NOBA_SERVER=", "NOBA_AGENT_KEY=")
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
			t.Logf("agent %s output:\n%s", hostname, out.String())
		}
	})
	waitFor(t, 30*time.Second, hostname+" online", func() bool {
		var v map[string]any
		return env.JSON(http.MethodGet, "/api/agents/"+hostname, env.Token("viewer"), nil, &v) == 200 && v["online"] == true
	})
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// errMsg is the error of an error body.
func errMsg(b []byte) string {
	var e struct {
		Error, Detail string
	}
	_ = jsonUnmarshal(b, &e)
	return e.Error
}

// insertIncident adds an alert incident the way the alerts room records one.
func insertIncident(t *testing.T, env *servertest.Env, at int64, severity, title string) int64 {
	t.Helper()
	res, err := env.Server.DB.W.Exec(`INSERT INTO incidents (timestamp, severity, source, title, details, resolved_at, auto_generated) VALUES (?, ?, 'alert', ?, 'cpu_percent > 90', 0, 1)`,
		at, severity, title)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return id
}
