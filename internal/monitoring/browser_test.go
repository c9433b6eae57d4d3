package monitoring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

// TestStatusPageInBrowser opens /status in headless Chromium (driven by
// e2e/status.mjs with playwright-core) and checks that components and an
// open incident are visible with no console or CSP error. The screenshots
// are kept under artifacts/ at the repository root.
func TestStatusPageInBrowser(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	chromium := os.Getenv("CHROMIUM_PATH")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("browser test skipped: %s not installed (apt-get install -y chromium)", chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("browser test skipped: node not installed")
	}
	if _, err := os.Stat(filepath.Join(root, "e2e", "node_modules", "playwright-core")); err != nil {
		t.Skip("browser test skipped: e2e/node_modules absent (npm ci --prefix e2e)")
	}

	env := servertest.New(t)
	admin := env.Token("admin")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer up.Close()
	web := createMonitor(t, env, map[string]any{"name": "website", "url": up.URL})
	api := createMonitor(t, env, map[string]any{"name": "api", "url": "tcp://" + freePort(t), "timeout": 1})
	checkNow(t, env, web)
	checkNow(t, env, api)
	for _, c := range []map[string]any{
		{"name": "Public Website", "group_name": "Web", "monitor_id": web},
		{"name": "Customer API", "group_name": "Web", "monitor_id": api},
		{"name": "Nightly Backups", "group_name": "Storage"},
	} {
		if st, b := env.Do(http.MethodPost, "/api/status/components", admin, c); st != http.StatusOK {
			t.Fatalf("component %v: %d %s", c, st, b)
		}
	}
	var inc struct{ ID int64 }
	env.JSON(http.MethodPost, "/api/status/incidents/create", admin,
		map[string]any{"title": "API connection failures", "severity": "major", "message": "Customers report timeouts on the API"}, &inc)
	env.Do(http.MethodPost, "/api/status/incidents/"+itoa(inc.ID)+"/update", admin, map[string]any{"status": "identified", "message": "A database failover is in progress"})
	var old struct{ ID int64 }
	env.JSON(http.MethodPost, "/api/status/incidents/create", admin, map[string]any{"title": "Storage maintenance", "severity": "minor"}, &old)
	env.Do(http.MethodPut, "/api/status/incidents/"+itoa(old.ID)+"/resolve", admin, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(root, "e2e", "status.mjs"), env.URL,
		"--expect", "NOBA Status", "--expect", "Partial System Degradation",
		"--expect", "Public Website", "--expect", "Customer API", "--expect", "Nightly Backups", "--expect", "Storage",
		"--expect", "API connection failures", "--expect", "A database failover is in progress",
		"--expect", "Storage maintenance", "--out", filepath.Join(root, "artifacts"))
	cmd.Env = append(os.Environ(), "CHROMIUM_PATH="+chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res struct {
		OK          bool     `json:"ok"`
		Problems    []string `json:"problems"`
		Checks      []string `json:"checks"`
		Screenshots []string `json:"screenshots"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("status.mjs: %v (run: %v)\nstdout: %s\nstderr: %s", err, runErr, stdout.String(), stderr.String())
	}
	for _, c := range res.Checks {
		t.Log(c)
	}
	if !res.OK || runErr != nil || len(res.Problems) > 0 {
		t.Fatalf("browser check failed (%v):\n%s\nstderr: %s", runErr, strings.Join(res.Problems, "\n"), stderr.String())
	}
	for _, s := range res.Screenshots {
		if fi, err := os.Stat(s); err != nil || fi.Size() < 1000 {
			t.Errorf("screenshot %s missing or empty: %v", s, err)
		}
	}
	t.Logf("screenshots: %s", strings.Join(res.Screenshots, ", "))
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
