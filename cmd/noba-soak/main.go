// Command noba-soak is the soak benchmark of issue 11 (not a test): it
// starts a NOBA server as a child process on loopback, holds agent
// WebSockets speaking the real agent protocol (identify, heartbeats,
// reports), SSE clients on /api/stream and a login flood against it for a
// bounded time, and prints the server's file descriptors, goroutines and
// RSS at the start, every minute, at the end and after the clients left.
//
//	go run ./cmd/noba-soak -minutes 10 -agents 2000 -sse 1000
//
// Everything stays on 127.0.0.0/8 and stops by itself.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/wire"
)

const (
	childEnv   = "NOBA_SOAK_CHILD"
	adminPass  = "Soak-Admin-pass1!"
	agentKey   = "soak-agent-key-0123456789abcdef"
	agentVer   = "2.0.0"
	sampleTick = 5 * time.Second
)

func main() {
	if os.Getenv(childEnv) == "1" {
		if err := child(); err != nil {
			fmt.Fprintln(os.Stderr, "soak child:", err)
			os.Exit(1)
		}
		return
	}
	minutes := flag.Float64("minutes", 10, "how long to hold the load")
	agents := flag.Int("agents", 2000, "agent WebSockets to hold")
	sse := flag.Int("sse", 1000, "SSE clients on /api/stream")
	loginRate := flag.Int("login-rate", 50, "login attempts per second in the flood")
	reportEvery := flag.Duration("report-every", 60*time.Second, "each agent's report period")
	flag.Parse()
	if *minutes <= 0 || *minutes > 60 {
		fmt.Fprintln(os.Stderr, "-minutes must be in (0, 60]")
		os.Exit(2)
	}
	if err := run(time.Duration(*minutes*float64(time.Minute)), *agents, *sse, *loginRate, *reportEvery); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// stats is one sample of the server process.
type stats struct {
	FDs, Goroutines int
	RSSKiB          int
}

func (s stats) String() string {
	return fmt.Sprintf("fds=%d goroutines=%d rss=%.1fMiB", s.FDs, s.Goroutines, float64(s.RSSKiB)/1024)
}

// sample measures this process.
func sample() stats {
	var s stats
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		s.FDs = len(ents)
	}
	s.Goroutines = runtime.NumGoroutine()
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				f := strings.Fields(line)
				if len(f) >= 2 {
					s.RSSKiB, _ = strconv.Atoi(f[1])
				}
			}
		}
	}
	return s
}

// child runs the server on loopback, prints its address, then a stats
// line every few seconds until its standard input closes.
func child() error {
	dir, err := os.MkdirTemp("", "noba-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := config.FromEnv(func(k string) string {
		switch k {
		case "NOBA_DATA_DIR":
			return dir
		case "NOBA_ADMIN_USER":
			return "admin"
		case "NOBA_ADMIN_PASSWORD":
			return adminPass
		case "NOBA_LISTEN":
			return "127.0.0.1:0"
		case "HOME":
			return dir
		case "NOBA_AUTHORIZED_KEYS":
			return filepath.Join(dir, "authorized_keys")
		}
		return ""
	})
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Settings.Update(map[string]any{"agentKeys": agentKey}); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	fmt.Printf("ADDR %s\n", ln.Addr())
	go func() {
		// The parent closes our standard input to stop us.
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	t := time.NewTicker(sampleTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return <-done
		case <-t.C:
			st := sample()
			refused := int64(0)
			if c := s.Conns(); c != nil {
				refused = c.Refused()
			}
			fmt.Printf("STATS %d %d %d %d\n", st.FDs, st.Goroutines, st.RSSKiB, refused)
		}
	}
}

// childProc is the server child as the parent sees it.
type childProc struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	mu      sync.Mutex
	last    stats
	refused int64
	seq     int
}

func (c *childProc) latest() (stats, int64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.refused, c.seq
}

// fresh waits for a sample taken after now.
func (c *childProc) fresh() (stats, int64) {
	_, _, seq := c.latest()
	deadline := time.Now().Add(3 * sampleTick)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		st, r, s := c.latest()
		if s > seq {
			return st, r
		}
	}
	st, r, _ := c.latest()
	return st, r
}

func startChild() (*childProc, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	c := &childProc{cmd: cmd, stdin: in}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 2 && f[0] == "ADDR":
				addrCh <- f[1]
			case len(f) == 5 && f[0] == "STATS":
				var st stats
				st.FDs, _ = strconv.Atoi(f[1])
				st.Goroutines, _ = strconv.Atoi(f[2])
				st.RSSKiB, _ = strconv.Atoi(f[3])
				r, _ := strconv.ParseInt(f[4], 10, 64)
				c.mu.Lock()
				c.last, c.refused, c.seq = st, r, c.seq+1
				c.mu.Unlock()
			}
		}
	}()
	select {
	case a := <-addrCh:
		return c, a, nil
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return nil, "", errors.New("the server child did not start within 60 s")
	}
}

// counters of the clients.
type counters struct {
	agentsUp, agentsFailed, agentsDropped atomic.Int64
	reportsOK, reportsFailed              atomic.Int64
	sseUp, sseFailed, sseDropped          atomic.Int64
	sseEvents                             atomic.Int64
	login                                 sync.Map // status -> *atomic.Int64
}

func (c *counters) loginCount(code int) {
	v, _ := c.login.LoadOrStore(code, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (c *counters) loginSummary() string {
	var parts []string
	c.login.Range(func(k, v any) bool {
		parts = append(parts, fmt.Sprintf("%v:%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	return strings.Join(parts, " ")
}

func (c *counters) String() string {
	return fmt.Sprintf("agents up=%d failed=%d dropped=%d reports ok=%d failed=%d | sse up=%d failed=%d dropped=%d events=%d | logins %s",
		c.agentsUp.Load(), c.agentsFailed.Load(), c.agentsDropped.Load(), c.reportsOK.Load(), c.reportsFailed.Load(),
		c.sseUp.Load(), c.sseFailed.Load(), c.sseDropped.Load(), c.sseEvents.Load(), c.loginSummary())
}

func raiseFDLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func run(d time.Duration, nAgents, nSSE, loginRate int, reportEvery time.Duration) error {
	raiseFDLimit()
	ch, addr, err := startChild()
	if err != nil {
		return err
	}
	defer func() {
		_ = ch.stdin.Close()
		done := make(chan struct{})
		go func() { _ = ch.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = ch.cmd.Process.Kill()
		}
	}()
	base := "http://" + addr
	fmt.Printf("soak: server %s, %v, %d agents, %d SSE clients, login flood %d/s\n", addr, d, nAgents, nSSE, loginRate)
	idle, _ := ch.fresh()
	fmt.Printf("idle:   %s\n", idle)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	clientsCtx, endClients := context.WithCancel(ctx)
	defer endClients()
	var cn counters
	var wg sync.WaitGroup

	tok, err := login(base)
	if err != nil {
		return err
	}

	// Agents, each from its own loopback address as agents on their own
	// hosts would be: identify, heartbeat every 30 s, a report every reportEvery.
	var transports []*http.Transport
	sem := make(chan struct{}, 32) // bounded handshake concurrency
	for i := 0; i < nAgents; i++ {
		local := &net.TCPAddr{IP: net.IPv4(127, 1, byte(i/250), byte(i%250+1))}
		tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: local}).DialContext, MaxIdleConnsPerHost: 1}
		transports = append(transports, tr)
		hc := &http.Client{Timeout: 30 * time.Second, Transport: tr}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			agent(clientsCtx, base, fmt.Sprintf("soak-%04d", i), hc, reportEvery, sem, &cn)
		}(i)
	}
	for i := 0; i < cap(sem); i++ {
		sem <- struct{}{}
	}
	for i := 0; i < cap(sem); i++ {
		<-sem
	}
	// SSE clients (browsers on 100 addresses).
	sseClients := make([]*http.Client, 100)
	for i := range sseClients {
		local := &net.TCPAddr{IP: net.IPv4(127, 3, 0, byte(i+1))}
		tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: local}).DialContext, DisableCompression: true}
		transports = append(transports, tr)
		sseClients[i] = &http.Client{Transport: tr}
	}
	for i := 0; i < nSSE; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			sseReader(clientsCtx, base, tok, sseClients[i%len(sseClients)], sem, &cn)
		}(i)
	}
	for i := 0; i < cap(sem); i++ {
		sem <- struct{}{}
	}
	for i := 0; i < cap(sem); i++ {
		<-sem
	}
	// Login flood from 64 loopback addresses.
	wg.Add(1)
	go func() {
		defer wg.Done()
		loginFlood(clientsCtx, addr, loginRate, &cn)
	}()

	conn, _ := ch.fresh()
	fmt.Printf("connected: %s\n        %s\n", conn, &cn)
	// Warm up until every agent reported once (each then keeps its
	// keep-alive connection), so that start and end compare like with like.
	select {
	case <-ctx.Done():
	case <-time.After(reportEvery + 15*time.Second):
	}
	start, _ := ch.fresh()
	fmt.Printf("start:  %s (after a warm-up of %v)\n        %s\n", start, reportEvery+15*time.Second, &cn)
	t0 := time.Now()
	tick := time.NewTicker(time.Minute)
loop:
	for time.Since(t0) < d {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			st, refused := ch.fresh()
			fmt.Printf("%5.1fm: %s refused=%d\n        %s\n", time.Since(t0).Minutes(), st, refused, &cn)
		case <-time.After(time.Until(t0.Add(d))):
		}
	}
	tick.Stop()
	end, refused := ch.fresh()
	fmt.Printf("end:    %s refused=%d\n        %s\n", end, refused, &cn)
	endClients()
	wg.Wait()
	for _, tr := range transports {
		tr.CloseIdleConnections()
	}
	time.Sleep(3 * sampleTick) // let the server notice every close
	after, _ := ch.fresh()
	fmt.Printf("after:  %s (clients gone 15 s)\n", after)
	time.Sleep(30 * time.Second)
	after, _ = ch.fresh()
	fmt.Printf("after:  %s (clients gone 45 s)\n", after)
	fmt.Printf("delta start->end: fds %+d goroutines %+d rss %+.1fMiB\n", end.FDs-start.FDs, end.Goroutines-start.Goroutines,
		float64(end.RSSKiB-start.RSSKiB)/1024)
	return nil
}

func login(base string) (string, error) {
	b, _ := json.Marshal(map[string]string{"username": "admin", "password": adminPass})
	resp, err := http.Post(base+"/api/login", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("login: %d %v", resp.StatusCode, err)
	}
	return out.Token, nil
}

// agent holds one agent WebSocket for as long as ctx lives.
func agent(ctx context.Context, base, host string, hc *http.Client, reportEvery time.Duration, sem chan struct{}, cn *counters) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(base, "http")+wire.PathWS,
		&websocket.DialOptions{HTTPClient: &http.Client{Transport: hc.Transport}, HTTPHeader: http.Header{wire.HeaderAgentKey: {agentKey}}})
	cancel()
	if err == nil {
		err = c.Write(ctx, websocket.MessageText, wire.Encode(wire.NewIdentify(host, agentVer)))
	}
	<-sem
	if err != nil {
		cn.agentsFailed.Add(1)
		return
	}
	cn.agentsUp.Add(1)
	defer cn.agentsUp.Add(-1)
	c.SetReadLimit(wire.MaxMessage)
	readErr := make(chan error, 1)
	go func() {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				readErr <- err
				return
			}
			if m, err := wire.Decode(b); err == nil && m.Type() == wire.TypeCommand {
				// Answer any command with an error result, as an agent that cannot run it would.
				res := wire.Result(m.Str("id"), m.Str("cmd"), map[string]any{"status": "error", "error": "soak agent"}, true)
				_ = c.Write(ctx, websocket.MessageText, res.Marshal())
			}
		}
	}()
	beat := time.NewTicker(30 * time.Second)
	defer beat.Stop()
	rep := time.NewTimer(time.Duration(rand.Int64N(int64(reportEvery))))
	defer rep.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = c.Close(websocket.StatusNormalClosure, "soak over")
			return
		case err := <-readErr:
			if ctx.Err() == nil {
				cn.agentsDropped.Add(1)
				_ = err
			}
			return
		case <-beat.C:
			_ = c.Write(ctx, websocket.MessageText, wire.Msg{"type": wire.TypePing}.Marshal())
		case <-rep.C:
			report(ctx, base, host, hc, cn)
			rep.Reset(reportEvery)
		}
	}
}

func report(ctx context.Context, base, host string, hc *http.Client, cn *counters) {
	body, _ := json.Marshal(map[string]any{"hostname": host, "agent_version": agentVer, "cpu_percent": rand.Float64() * 100,
		"mem_percent": 40 + rand.Float64()*10, "uptime": 86400, "load_1m": 0.5, "platform": "linux"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+wire.PathReport, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderAgentKey, agentKey)
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			cn.reportsFailed.Add(1)
		}
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		cn.reportsOK.Add(1)
	} else {
		cn.reportsFailed.Add(1)
	}
}

// sseReader holds one /api/stream client.
func sseReader(ctx context.Context, base, tok string, hc *http.Client, sem chan struct{}, cn *counters) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/stream?token="+tok, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	<-sem
	if err != nil || resp.StatusCode != http.StatusOK {
		cn.sseFailed.Add(1)
		if resp != nil {
			resp.Body.Close()
		}
		return
	}
	defer resp.Body.Close()
	cn.sseUp.Add(1)
	defer cn.sseUp.Add(-1)
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if ctx.Err() == nil {
				cn.sseDropped.Add(1)
			}
			return
		}
		if bytes.HasPrefix(line, []byte("data:")) {
			cn.sseEvents.Add(1)
		}
	}
}

// loginFlood sends wrong (and now and then right) logins at rate per
// second from 64 loopback addresses, a few workers at a time.
func loginFlood(ctx context.Context, addr string, rate int, cn *counters) {
	if rate <= 0 {
		return
	}
	clients := make([]*http.Client, 64)
	for i := range clients {
		local := &net.TCPAddr{IP: net.IPv4(127, 0, 2, byte(i+1))}
		clients[i] = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			DialContext: (&net.Dialer{LocalAddr: local}).DialContext, MaxIdleConnsPerHost: 2}}
	}
	jobs := make(chan int, rate)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				user, pw := "admin", fmt.Sprintf("wrong-%d", n)
				switch {
				case n%200 == 0:
					pw = adminPass // the real admin now and then (a real hash each)
				case n%10 < 3:
					user = fmt.Sprintf("ghost%d", n%500)
				}
				b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/login", bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
				resp, err := clients[n%len(clients)].Do(req)
				if err != nil {
					if ctx.Err() == nil {
						cn.loginCount(0)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				cn.loginCount(resp.StatusCode)
			}
		}()
	}
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			close(jobs)
			wg.Wait()
			for _, c := range clients {
				c.CloseIdleConnections()
			}
			return
		case <-t.C:
			select {
			case jobs <- n:
			default: // the workers are behind: drop, never queue without bound
			}
		}
	}
}
