package agents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/wire"
)

// rssKB reads a process's resident set size from /proc.
func rssKB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}

// serverProc is a real `noba serve` process for benchmarks.
type serverProc struct {
	cmd *exec.Cmd
	url string
}

func startServerProc(b *testing.B, key string) *serverProc {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "noba")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/noba-go/noba/cmd/noba").CombinedOutput(); err != nil {
		b.Fatalf("build noba: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	_ = os.MkdirAll(data, 0o700)
	if err := os.WriteFile(filepath.Join(data, "config.yaml"), []byte("web:\n  agentKeys: "+key+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "NOBA_LISTEN="+addr, "NOBA_DATA_DIR="+data, "NOBA_ADMIN_USER=admin",
		"NOBA_ADMIN_PASSWORD=Bench-pass-123!", "NOBA_LOG_LEVEL=warn")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	u := "http://" + addr
	for i := 0; i < 200; i++ {
		if r, err := http.Get(u + "/api/health"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return &serverProc{cmd: cmd, url: u}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("server did not start: %s", out.String())
	return nil
}

// simReport is a realistic report body (about 1.5 KB).
func simReport(host string) map[string]any {
	return map[string]any{"hostname": host, "platform": "Linux", "arch": "x86_64", "agent_version": wire.AgentVersion,
		"agent_impl": "go", "timestamp": time.Now().Unix(), "cpu_percent": 12.4, "cpu_count": 4, "load_1m": 0.52,
		"load_5m": 0.61, "load_15m": 0.58, "mem_total": 8254390272, "mem_used": 3012345856, "mem_percent": 36.5,
		"disks": []any{map[string]any{"mount": "/", "total": 53687091200, "used": 33285996544, "percent": 62.0, "fstype": "ext4"},
			map[string]any{"mount": "/srv", "total": 1e12, "used": 4e11, "percent": 40.0, "fstype": "xfs"}},
		"net_bytes_sent": 123456789, "net_bytes_recv": 987654321, "temperatures": map[string]any{"cpu": 48.0},
		"top_processes": []any{map[string]any{"pid": 812, "name": "postgres", "cpu": 3.1, "mem": 4.2},
			map[string]any{"pid": 1, "name": "systemd", "cpu": 0.1, "mem": 0.2}},
		"uptime_s": 265443, wire.KeyCmdResults: []any{}}
}

// simAgent speaks the real protocol: a WebSocket (identify, answer
// commands) and a report every period.
func simAgent(ctx context.Context, url, key, host string, period time.Duration, client *http.Client, lat chan<- time.Duration, errs *int64, mu *sync.Mutex) {
	h := http.Header{}
	h.Set(wire.HeaderAgentKey, key)
	if os.Getenv("NOBA_BENCH_NO_WS") == "" {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		c, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(url, "http")+wire.PathWS, &websocket.DialOptions{HTTPHeader: h})
		cancel()
		if err == nil {
			_ = c.Write(ctx, websocket.MessageText, wire.Encode(wire.NewIdentify(host, wire.AgentVersion)))
			go func() {
				defer c.CloseNow()
				for {
					_, b, err := c.Read(ctx)
					if err != nil {
						return
					}
					if m, err := wire.Decode(b); err == nil && m.Type() == wire.TypeCommand {
						_ = c.Write(ctx, websocket.MessageText, wire.Result(m.Str("id"), m.Str("cmd"), map[string]any{"pong": 1}, true).Marshal())
					}
				}
			}()
		}
	}
	body, _ := json.Marshal(simReport(host))
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+wire.PathReport, bytes.NewReader(body))
		req.Header.Set(wire.HeaderAgentKey, key)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil || res.StatusCode != 200 {
			mu.Lock()
			*errs++
			mu.Unlock()
		} else {
			select {
			case lat <- time.Since(start):
			default:
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// BenchmarkAgentScale runs simulated agents (WebSocket + a report every
// 5 s) against one real server process and reports report latency and
// server RSS per agent count. Counts: NOBA_BENCH_AGENTS (default
// "250,500,1000,1500"); measuring window: NOBA_BENCH_SECONDS (default 30).
func BenchmarkAgentScale(b *testing.B) {
	counts := []int{250, 500, 1000, 1500}
	if s := os.Getenv("NOBA_BENCH_AGENTS"); s != "" {
		counts = nil
		for _, f := range strings.Split(s, ",") {
			n, _ := strconv.Atoi(strings.TrimSpace(f))
			if n > 0 {
				counts = append(counts, n)
			}
		}
	}
	window := 30 * time.Second
	if s := os.Getenv("NOBA_BENCH_SECONDS"); s != "" {
		n, _ := strconv.Atoi(s)
		window = time.Duration(n) * time.Second
	}
	const period = 5 * time.Second
	for _, n := range counts {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				key := "bench-key-0123456789"
				srv := startServerProc(b, key)
				tr := &http.Transport{MaxIdleConns: n * 2, MaxIdleConnsPerHost: n * 2, IdleConnTimeout: time.Minute}
				client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
				ctx, cancel := context.WithCancel(context.Background())
				lat := make(chan time.Duration, 1<<20)
				var errs int64
				var mu sync.Mutex
				var wg sync.WaitGroup
				// Ramp up over one period so reports are spread evenly.
				for a := 0; a < n; a++ {
					wg.Add(1)
					delay := period * time.Duration(a) / time.Duration(n)
					go func() {
						defer wg.Done()
						select {
						case <-time.After(delay):
						case <-ctx.Done():
							return
						}
						simAgent(ctx, srv.url, key, fmt.Sprintf("sim-%05d", a), period, client, lat, &errs, &mu)
					}()
				}
				// Warm up one period, then measure.
				time.Sleep(period + time.Second)
				for len(lat) > 0 {
					<-lat
				}
				time.Sleep(window)
				var ds []time.Duration
				for len(lat) > 0 {
					ds = append(ds, <-lat)
				}
				rss := rssKB(srv.cmd.Process.Pid)
				var online []map[string]any
				_ = online
				cancel()
				wg.Wait()
				tr.CloseIdleConnections()
				if len(ds) == 0 {
					b.Fatalf("no successful reports (errors %d)", errs)
				}
				sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
				p := func(q float64) time.Duration { return ds[min(len(ds)-1, int(float64(len(ds))*q))] }
				b.ReportMetric(float64(p(0.5).Microseconds())/1000, "p50_ms")
				b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99_ms")
				b.ReportMetric(float64(rss)/1024, "server_rss_MB")
				b.ReportMetric(float64(len(ds))/window.Seconds(), "reports/s")
				b.Logf("agents=%d reports=%d errors=%d p50=%s p99=%s max=%s server RSS=%.1f MB",
					n, len(ds), errs, p(0.5), p(0.99), ds[len(ds)-1], float64(rss)/1024)
			}
		})
	}
}

// BenchmarkAgentIdleRSS measures the resident memory of a real noba-agent
// after it has run idle (reporting every 5 s, WebSocket open) for a while.
func BenchmarkAgentIdleRSS(b *testing.B) {
	for i := 0; i < b.N; i++ {
		key := "bench-key-0123456789"
		srv := startServerProc(b, key)
		dir := b.TempDir()
		cmd := exec.Command(agentBin, "--server", srv.url, "--key", key, "--hostname", "rss-probe", "--interval", "5",
			"--config", filepath.Join(dir, "none.yaml"), "--data-dir", dir)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		time.Sleep(35 * time.Second)
		rss := rssKB(cmd.Process.Pid)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		b.ReportMetric(float64(rss)/1024, "agent_rss_MB")
		b.Logf("noba-agent idle RSS after 35 s: %.1f MB", float64(rss)/1024)
	}
}
