package security_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/security"
	"github.com/noba-go/noba/internal/server/servertest"
)

var agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "noba-sec-agent")
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

// TestScanEndToEnd scans a real agent process: the scan is sent, the
// agent's result is recorded as score, findings and history.
func TestScanEndToEnd(t *testing.T) {
	env := servertest.New(t)
	const key = "sec-agent-key-0123456789"
	if _, err := env.Server.Settings.Update(map[string]any{"agentKeys": key}); err != nil {
		t.Fatal(err)
	}
	env.StartAgent(t, servertest.AgentSpec{Bin: agentBin, Key: key, Host: "sec-host"})
	viewer, op := env.Token("viewer"), env.Token("operator")

	if st, _ := env.Do("POST", "/api/security/scan/sec-host", viewer, nil); st != http.StatusForbidden {
		t.Errorf("viewer scan: %d", st)
	}
	var sent map[string]any
	if st := env.JSON("POST", "/api/security/scan/sec-host", op, nil, &sent); st != 200 || sent["hostname"] != "sec-host" ||
		(sent["status"] != "sent" && sent["status"] != "queued") || len(sent["id"].(string)) != 16 {
		t.Fatalf("scan: %d %v", st, sent)
	}
	var sc struct {
		Score  *int `json:"score"`
		Agents []struct {
			Hostname  string             `json:"hostname"`
			Score     int                `json:"score"`
			ScannedAt int64              `json:"scanned_at"`
			Findings  []security.Finding `json:"findings"`
		} `json:"agents"`
	}
	waitFor(t, 60*time.Second, "scan recorded", func() bool {
		return env.JSON("GET", "/api/security/score", viewer, nil, &sc) == 200 && len(sc.Agents) == 1
	})
	a := sc.Agents[0]
	if a.Hostname != "sec-host" || sc.Score == nil || *sc.Score != a.Score || a.ScannedAt < time.Now().Add(-time.Minute).Unix() {
		t.Fatalf("score: %+v", sc)
	}
	// The agent's score follows the formula over the findings it reported.
	if want := security.Score(a.Findings); a.Score != want {
		t.Errorf("score %d, formula over %d findings gives %d", a.Score, len(a.Findings), want)
	}
	cats := map[string]bool{"ssh": true, "firewall": true, "updates": true, "file_permissions": true, "insecure_services": true}
	for _, f := range a.Findings {
		if !cats[f.Category] || (f.Severity != "high" && f.Severity != "medium" && f.Severity != "low") || f.Description == "" {
			t.Errorf("finding %+v", f)
		}
	}
	var fs []map[string]any
	env.JSON("GET", "/api/security/findings?hostname=sec-host", viewer, nil, &fs)
	if len(fs) != len(a.Findings) {
		t.Errorf("%d findings stored, %d reported", len(fs), len(a.Findings))
	}

	// Scan every online host: a second history row.
	var all struct {
		Status string                    `json:"status"`
		Agents map[string]map[string]any `json:"agents"`
		Count  int                       `json:"count"`
	}
	if st := env.JSON("POST", "/api/security/scan-all", op, nil, &all); st != 200 || all.Count != 1 || all.Agents["sec-host"]["id"] == nil {
		t.Fatalf("scan-all: %d %+v", st, all)
	}
	waitFor(t, 60*time.Second, "second scan recorded", func() bool {
		var hist []map[string]any
		return env.JSON("GET", "/api/security/history?hostname=sec-host", viewer, nil, &hist) == 200 && len(hist) == 2
	})
	var audit []map[string]any
	env.JSON("GET", "/api/audit?limit=20", env.Token("admin"), nil, &audit)
	seen := map[string]bool{}
	for _, r := range audit {
		seen[fmt.Sprint(r["action"])] = true
	}
	if !seen["security_scan"] || !seen["security_scan_all"] {
		t.Errorf("audit rows: %v", seen)
	}
}
