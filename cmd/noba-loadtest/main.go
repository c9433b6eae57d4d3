// Command noba-loadtest simulates many agents against a NOBA server,
// speaking the real agent protocol: each simulated agent opens the agent
// WebSocket (X-Agent-Key header, identify, answers commands and pings) and
// posts a report every period to POST /api/agent/report. It prints the
// report latency percentiles, the error count and the server's resident
// memory and CPU time over the measuring window.
//
//	noba-loadtest -spawn bin/noba -cpu 0 -agents 4000 -period 5s -window 60s
//
// With -spawn it starts the server itself in a fresh data directory
// (pinned with taskset to -cpu when given), otherwise it loads -url with -key.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/wire"
)

func main() { os.Exit(run()) }

type opts struct {
	url, key, spawn, cpu, prefix string
	agents                       int
	period, window, warmup       time.Duration
	noWS                         bool
}

func run() int {
	var o opts
	flag.StringVar(&o.url, "url", "", "server base URL (ignored with -spawn)")
	flag.StringVar(&o.key, "key", "loadtest-key-0123456789", "agent key")
	flag.StringVar(&o.spawn, "spawn", "", "path of a noba binary to start in a fresh data directory")
	flag.StringVar(&o.cpu, "cpu", "", "with -spawn: pin the server to this CPU list (taskset -c)")
	flag.StringVar(&o.prefix, "prefix", "sim", "hostname prefix of the simulated agents")
	flag.IntVar(&o.agents, "agents", 1000, "number of simulated agents")
	flag.DurationVar(&o.period, "period", 5*time.Second, "report period of each agent")
	flag.DurationVar(&o.window, "window", 60*time.Second, "measuring window")
	flag.DurationVar(&o.warmup, "warmup", 0, "warm-up before measuring (default: two periods)")
	flag.BoolVar(&o.noWS, "no-ws", false, "reports only, no agent WebSocket")
	flag.Parse()
	if o.warmup == 0 {
		o.warmup = 2 * o.period
	}
	var srv *server
	if o.spawn != "" {
		var err error
		srv, err = startServer(o.spawn, o.cpu, o.key)
		if err != nil {
			fmt.Fprintln(os.Stderr, "start server:", err)
			return 1
		}
		defer srv.stop()
		o.url = srv.url
	}
	if o.url == "" {
		fmt.Fprintln(os.Stderr, "-url or -spawn required")
		return 2
	}
	res := load(o, srv)
	fmt.Println(res)
	if res.reports == 0 {
		return 1
	}
	return 0
}

// result is the outcome of one run.
type result struct {
	agents, reports, errors, wsUp int
	lat                           []time.Duration
	window                        time.Duration
	rssMB, cpuS, selfCPU          float64
}

func (r result) String() string {
	if len(r.lat) == 0 {
		return fmt.Sprintf("agents=%d no successful reports (errors %d)", r.agents, r.errors)
	}
	p := func(q float64) time.Duration { return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*q))] }
	s := fmt.Sprintf("agents=%d websockets=%d reports=%d (%.0f/s) errors=%d p50=%s p90=%s p99=%s max=%s",
		r.agents, r.wsUp, r.reports, float64(r.reports)/r.window.Seconds(), r.errors,
		p(0.5).Round(10*time.Microsecond), p(0.9).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond),
		r.lat[len(r.lat)-1].Round(10*time.Microsecond))
	if r.rssMB > 0 {
		s += fmt.Sprintf(" server_rss=%.1fMB server_cpu=%.1f%% of one core", r.rssMB, r.cpuS/r.window.Seconds()*100)
	}
	s += fmt.Sprintf(" loadtest_cpu=%.1f%% of one core", r.selfCPU/r.window.Seconds()*100)
	return s
}

type recorder struct {
	mu        sync.Mutex
	measuring bool
	lat       []time.Duration
	errors    int
	wsUp      atomic.Int64
}

func (rc *recorder) add(d time.Duration, ok bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.measuring {
		return
	}
	if ok {
		rc.lat = append(rc.lat, d)
	} else {
		rc.errors++
	}
}

func load(o opts, srv *server) result {
	tr := &http.Transport{MaxIdleConns: o.agents * 2, MaxIdleConnsPerHost: o.agents * 2, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	rc := &recorder{}
	var wg sync.WaitGroup
	for i := 0; i < o.agents; i++ {
		wg.Add(1)
		delay := o.period * time.Duration(i) / time.Duration(o.agents)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return
			}
			sim := &simAgent{url: o.url, key: o.key, host: fmt.Sprintf("%s-%05d", o.prefix, i), client: client, rc: rc}
			sim.run(ctx, o.period, !o.noWS)
		}()
	}
	time.Sleep(o.warmup)
	cpu0 := 0.0
	if srv != nil {
		cpu0 = srv.cpuSeconds()
	}
	self0 := selfCPU()
	rc.mu.Lock()
	rc.measuring = true
	rc.mu.Unlock()
	time.Sleep(o.window)
	rc.mu.Lock()
	rc.measuring = false
	res := result{agents: o.agents, reports: len(rc.lat), errors: rc.errors, lat: rc.lat, window: o.window, wsUp: int(rc.wsUp.Load())}
	rc.mu.Unlock()
	res.selfCPU = selfCPU() - self0
	if srv != nil {
		res.cpuS = srv.cpuSeconds() - cpu0
		res.rssMB = float64(srv.rssKB()) / 1024
	}
	cancel()
	wg.Wait()
	tr.CloseIdleConnections()
	sort.Slice(res.lat, func(i, j int) bool { return res.lat[i] < res.lat[j] })
	return res
}

// simAgent is one simulated agent.
type simAgent struct {
	url, key, host string
	client         *http.Client
	rc             *recorder
	body           []byte
	// results are command results waiting for the next report.
	mu      sync.Mutex
	results []wire.Msg
}

func (s *simAgent) run(ctx context.Context, period time.Duration, ws bool) {
	if ws {
		go s.wsLoop(ctx)
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		s.report(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *simAgent) report(ctx context.Context) {
	s.mu.Lock()
	results := s.results
	s.results = nil
	s.mu.Unlock()
	body := s.body
	if body == nil || len(results) > 0 {
		// The report without results is encoded once; one with results is
		// encoded afresh.
		rep := simReport(s.host)
		rep.CmdResults = results
		body, _ = json.Marshal(rep)
		if len(results) == 0 {
			s.body = body
		}
	}
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url+wire.PathReport, bytes.NewReader(body))
	req.Header.Set(wire.HeaderAgentKey, s.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if ctx.Err() != nil {
		if err == nil {
			res.Body.Close()
		}
		return
	}
	if err != nil {
		s.rc.add(0, false)
		return
	}
	raw, rerr := io.ReadAll(res.Body)
	res.Body.Close()
	d := time.Since(start)
	var answer wire.ReportResponse
	if rerr == nil && !bytes.Contains(raw, []byte(`"commands":[]`)) {
		rerr = json.Unmarshal(raw, &answer)
	}
	s.rc.add(d, res.StatusCode == http.StatusOK && rerr == nil)
	// Commands handed out with the answer are answered in the next report.
	for _, c := range answer.Commands {
		s.mu.Lock()
		s.results = append(s.results, wire.Result(c.ID, c.Type, map[string]any{"pong": time.Now().Unix()}, false))
		s.mu.Unlock()
	}
}

func (s *simAgent) wsLoop(ctx context.Context) {
	h := http.Header{}
	h.Set(wire.HeaderAgentKey, s.key)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(s.url, "http")+wire.PathWS, &websocket.DialOptions{HTTPHeader: h})
	cancel()
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(wire.MaxMessage)
	if err := c.Write(ctx, websocket.MessageText, wire.Encode(wire.NewIdentify(s.host, wire.AgentVersion))); err != nil {
		return
	}
	s.rc.wsUp.Add(1)
	defer s.rc.wsUp.Add(-1)
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		m, err := wire.Decode(b)
		if err != nil {
			continue
		}
		switch m.Type() {
		case wire.TypeCommand:
			out := wire.Result(m.Str("id"), m.Str("cmd"), map[string]any{"pong": time.Now().Unix()}, true)
			if err := c.Write(ctx, websocket.MessageText, out.Marshal()); err != nil {
				return
			}
		case wire.TypePing:
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
		}
	}
}

// simReport is a realistic report (about 1.2 KB) as noba-agent sends it.
func simReport(host string) *wire.Report {
	return &wire.Report{Metrics: wire.Metrics{Hostname: host, Platform: "Linux", Arch: "x86_64", AgentVersion: wire.AgentVersion,
		AgentImpl: wire.AgentImpl, Timestamp: time.Now().Unix(), CPUPercent: 12.4, CPUCount: 4, Load1: 0.52, Load5: 0.61,
		Load15: 0.58, MemTotal: 8254390272, MemUsed: 3012345856, MemPercent: 36.5,
		Disks: []wire.Disk{{Mount: "/", Total: 53687091200, Used: 33285996544, Percent: 62, FSType: "ext4"},
			{Mount: "/srv", Total: 1e12, Used: 4e11, Percent: 40, FSType: "xfs"}},
		NetBytesSent: 123456789, NetBytesRecv: 987654321, Temperatures: map[string]float64{"cpu": 48},
		TopProcesses: []wire.Process{{PID: 812, Name: "postgres", CPU: 3.1, Mem: 4.2}, {PID: 1, Name: "systemd", CPU: 0.1, Mem: 0.2}},
		UptimeS:      265443}, CmdResults: []wire.Msg{}}
}

// server is a spawned noba process.
type server struct {
	cmd *exec.Cmd
	url string
	dir string
	out bytes.Buffer
}

func startServer(bin, cpu, key string) (*server, error) {
	dir, err := os.MkdirTemp("", "noba-loadtest-")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("web:\n  agentKeys: "+key+"\n"), 0o600); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	_ = l.Close()
	args := []string{bin, "serve"}
	if cpu != "" {
		args = append([]string{"taskset", "-c", cpu}, args...)
	}
	s := &server{url: "http://" + addr, dir: dir}
	s.cmd = exec.Command(args[0], args[1:]...) //nolint:gosec // the operator names the binary
	s.cmd.Env = append(os.Environ(), "NOBA_LISTEN="+addr, "NOBA_DATA_DIR="+dir, "NOBA_ADMIN_USER=admin",
		"NOBA_ADMIN_PASSWORD=Loadtest-pass-123!", "NOBA_LOG_LEVEL=warn")
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for range 300 {
		if r, err := http.Get(s.url + "/api/health"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, errors.New("server did not become ready: " + s.out.String())
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	_ = os.RemoveAll(s.dir)
}

func (s *server) rssKB() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			if f := strings.Fields(l); len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return 0
}

// cpuSeconds is the server's user+system CPU time so far (taskset execs
// the server in place, so the pid is the server's).
func (s *server) cpuSeconds() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	st := string(b)
	if i := strings.LastIndexByte(st, ')'); i >= 0 {
		st = st[i+1:]
	}
	f := strings.Fields(st)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100
}

// selfCPU is this process's user+system CPU time in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
