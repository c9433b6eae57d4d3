package intelligence_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// startAgent runs the real agent against env as hostname and waits until
// it is online.
func startAgent(t *testing.T, env *servertest.Env, hostname string) {
	t.Helper()
	if _, err := env.Server.Settings.Update(map[string]any{"agentKeys": agentKey}); err != nil {
		t.Fatal(err)
	}
	env.StartAgent(t, servertest.AgentSpec{Bin: agentBin, Key: agentKey, Host: hostname})
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
	var id int64
	err := env.Server.DB.W.QueryRow(`INSERT INTO incidents (timestamp, severity, source, title, details, resolved_at, auto_generated) VALUES (?, ?, 'alert', ?, 'cpu_percent > 90', 0, 1) RETURNING id`,
		at, severity, title).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
