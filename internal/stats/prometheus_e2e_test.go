package stats_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRealPrometheusScrapes starts the Debian prometheus binary on
// loopback with an API key as bearer credentials; it scrapes
// /api/metrics/prometheus and its own query API must return our series.
func TestRealPrometheusScrapes(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus binary not installed (Debian package prometheus: apt-get install -y prometheus)")
	}
	src := collect.SourceFunc(func(context.Context) (map[string]any, error) {
		return map[string]any{"hostname": "fixture-host", "cpuPercent": 42.5, "mem_percent": 12.0,
			"disks": []map[string]any{{"mount": "/", "percent": 62}}}, nil
	})
	env := servertest.NewWith(t, servertest.Setup{Jobs: true,
		Options: []server.Option{server.WithStatsSource(src), server.WithStatsInterval(500 * time.Millisecond)}})
	var key struct {
		Key string `json:"key"`
	}
	if st := env.JSON(http.MethodPost, "/api/admin/api-keys", env.Token("admin"), map[string]any{"name": "prometheus", "role": "viewer"}, &key); st != 200 || key.Key == "" {
		t.Fatalf("create API key: %d", st)
	}
	target := strings.TrimPrefix(env.URL, "http://")
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: noba
    metrics_path: /api/metrics/prometheus
    authorization:
      type: Bearer
      credentials: %q
    static_configs:
      - targets: [%q]
`, key.Key, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--log.level=warn")
	logf, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		logf.Close()
	})

	query := func(q string) (string, []map[string]any) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=%s", port, url.QueryEscape(q)))
		if err != nil {
			return "", nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out struct {
			Data struct {
				Result []map[string]any `json:"result"`
			} `json:"data"`
		}
		json.Unmarshal(b, &out)
		return string(b), out.Data.Result
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, up := query(`up{job="noba"}`)
		body, res := query(`noba_cpu_percent`)
		if len(res) == 1 && len(up) == 1 {
			m := res[0]["metric"].(map[string]any)
			v := res[0]["value"].([]any)[1]
			if m["host"] != "fixture-host" || v != "42.5" {
				t.Fatalf("noba_cpu_percent = %s, want host fixture-host 42.5", body)
			}
			if upv := up[0]["value"].([]any)[1]; upv != "1" {
				t.Fatalf("up = %v, want 1 (scrape with the API key succeeded)", upv)
			}
			_, disk := query(`noba_disk_percent{mount="/"}`)
			if len(disk) != 1 {
				t.Errorf("noba_disk_percent{mount=\"/\"} not found")
			}
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			_, targets := query(`up`)
			t.Fatalf("prometheus never returned our cpu series: %s\nup: %v\nlog:\n%s", body, targets, log)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
