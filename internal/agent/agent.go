package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/agent/metrics"
	"github.com/noba-go/noba/internal/agent/sysroot"
	"github.com/noba-go/noba/internal/wire"
)

const (
	reportTimeout = 10 * time.Second
	wsDialTimeout = 10 * time.Second
	wsPingEvery   = 30 * time.Second
	capsEvery     = 6 * time.Hour
	maxBackoff    = 300 * time.Second
)

// Agent is the running agent: its configuration, the report loop, the
// WebSocket loop and the state both share (interval, pending results, log
// streams, PTY sessions).
type Agent struct {
	cfg  Config
	log  *slog.Logger
	http *http.Client
	host *metrics.Collector
	sys  *sysroot.Sys
	// NoWS keeps the agent off the WebSocket (HTTP reports only).
	NoWS bool

	interval atomic.Int64 // seconds

	mu          sync.Mutex
	results     []wire.Msg          // results waiting for the next report
	streamLines map[string][]string // log lines waiting for the next report
	heal        []wire.Msg
	capsAt      time.Time
	capsForce   bool

	ws      atomic.Pointer[wsConn]
	kick    chan struct{}
	streams *streamSet
	ptys    *ptySet
	net     netRates
	healer  healState

	// restart is called after a successful self-update (tests replace it).
	restart func()
	// healSleep waits before a heal action is verified (tests shorten it).
	healSleep func(time.Duration)
}

func New(cfg Config, log *slog.Logger) *Agent {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !cfg.VerifySSL} //nolint:gosec // verify_ssl: false is an explicit operator choice
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	a := &Agent{cfg: cfg, log: log, http: &http.Client{Transport: tr}, kick: make(chan struct{}, 1),
		streamLines: map[string][]string{}, streams: newStreamSet(), ptys: newPTYSet()}
	a.sys = cfg.Sys
	if a.sys == nil {
		a.sys = &sysroot.Sys{Root: "/"}
	}
	if a.sys.SetProcGroup == nil {
		a.sys.SetProcGroup = setProcGroup
	}
	a.host = metrics.New(a.sys)
	a.interval.Store(int64(cfg.Interval))
	a.restart = a.reexec
	return a
}

// Run runs the WebSocket loop and the report loop until ctx ends.
func (a *Agent) Run(ctx context.Context) int {
	a.log.Info("NOBA agent starting", "version", wire.AgentVersion, "server", a.cfg.Server, "hostname", a.cfg.Hostname)
	var wg sync.WaitGroup
	if !a.NoWS {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.wsLoop(ctx)
		}()
	}
	a.reportLoop(ctx)
	wg.Wait()
	a.ptys.closeAll()
	a.streams.stopAll()
	return 0
}

// reportLoop posts a report every interval (2 s while a log stream runs,
// backing off after repeated failures).
func (a *Agent) reportLoop(ctx context.Context) {
	failures := 0
	for {
		err := a.sendReport(ctx)
		if ctx.Err() != nil {
			return
		}
		iv := time.Duration(a.interval.Load()) * time.Second
		var wait time.Duration
		switch {
		case err != nil:
			failures++
			if failures <= 3 || failures%10 == 0 {
				a.log.Warn("report failed", "attempt", failures, "err", err)
			}
			wait = iv
			if failures > 3 {
				wait = min(iv*time.Duration(1<<min(failures-3, 5)), maxBackoff)
			}
		case a.streams.active():
			if failures > 0 {
				a.log.Info(fmt.Sprintf("Connection restored after %d failures", failures))
			}
			failures = 0
			wait = 2 * time.Second
		default:
			if failures > 0 {
				a.log.Info(fmt.Sprintf("Connection restored after %d failures", failures))
			}
			failures = 0
			wait = iv
		}
		// An idle agent should stay small: hand freed memory back to the OS
		// between reports.
		debug.FreeOSMemory()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-a.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// kickReport asks the report loop to report now (results are waiting).
func (a *Agent) kickReport() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// BuildReport collects the metrics part of a report.
func (a *Agent) BuildReport(ctx context.Context, withCaps bool) *wire.Report {
	rep := &wire.Report{Metrics: a.host.Collect(ctx)}
	rep.Hostname = a.cfg.Hostname
	rep.AgentVersion = wire.AgentVersion
	rep.AgentImpl = wire.AgentImpl
	rep.Timestamp = time.Now().Unix()
	rep.Tags = a.cfg.Tags
	if withCaps {
		if b, err := json.Marshal(a.capabilities()); err == nil {
			rep.Capabilities = b
		}
	}
	return rep
}

// sendReport posts one report with the pending results and log lines, and
// runs the commands of the answer. Results and lines stay pending until the
// server acknowledged them with a 200.
func (a *Agent) sendReport(ctx context.Context) error {
	a.mu.Lock()
	withCaps := a.capsForce || a.capsAt.IsZero() || time.Since(a.capsAt) > capsEvery
	a.mu.Unlock()
	rep := a.BuildReport(ctx, withCaps)

	a.streams.drainInto(a)
	a.mu.Lock()
	results := append([]wire.Msg(nil), a.results...)
	lines := a.streamLines
	a.streamLines = map[string][]string{}
	heal := a.heal
	a.heal = nil
	a.mu.Unlock()
	rep.CmdResults = results
	if len(lines) > 0 {
		rep.StreamData = lines
	}
	if len(heal) > 0 {
		rep.HealReports = heal
	}
	restore := func() {
		a.mu.Lock()
		for id, l := range a.streamLines {
			lines[id] = append(lines[id], l...)
		}
		a.streamLines = lines
		a.heal = append(heal, a.heal...)
		a.mu.Unlock()
	}
	resp, err := a.postReport(ctx, rep)
	if err != nil {
		restore()
		return err
	}
	a.mu.Lock()
	a.results = a.results[min(len(results), len(a.results)):]
	if withCaps {
		a.capsAt, a.capsForce = time.Now(), false
	}
	a.mu.Unlock()
	if len(resp.Commands) > 0 {
		go a.runBatch(ctx, resp.Commands)
	}
	a.healer.setPolicy(resp.HealPolicy)
	a.runHeal(&rep.Metrics)
	return nil
}

func (a *Agent) postReport(ctx context.Context, rep *wire.Report) (*wire.ReportResponse, error) {
	body, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.Server+wire.PathReport, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderAgentKey, a.cfg.Key)
	res, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("report: HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(b)))
	}
	var out wire.ReportResponse
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("report: bad answer: %w", err)
	}
	return &out, nil
}

// ReportOnce is --once: one report, no commands run.
func (a *Agent) ReportOnce(ctx context.Context) error {
	_, err := a.postReport(ctx, a.BuildReport(ctx, true))
	return err
}

// runBatch runs the commands of one report answer in order; their results
// go out with the next report, which it asks for at once.
func (a *Agent) runBatch(ctx context.Context, cmds []wire.QueuedCommand) {
	for _, c := range cmds {
		a.execute(ctx, c.ID, c.Type, c.Params, false)
	}
	a.kickReport()
}

// execute runs one command and delivers its result: over the WebSocket
// when it came that way (falling back to the next report), else with the
// next report.
func (a *Agent) execute(ctx context.Context, id, cmd string, params map[string]any, viaWS bool) {
	if params == nil {
		params = map[string]any{}
	}
	c := &call{id: id, cmd: cmd, ws: viaWS, agent: a}
	fields := a.handle(ctx, c, params)
	if viaWS {
		if err := a.sendWS(ctx, wire.Result(id, cmd, fields, true)); err == nil {
			a.after(c, fields)
			return
		}
	}
	a.mu.Lock()
	a.results = append(a.results, wire.Result(id, cmd, fields, false))
	a.mu.Unlock()
	a.kickReport()
	a.after(c, fields)
}

// after runs what must follow a delivered result (restart after update,
// service stop after uninstall).
func (a *Agent) after(c *call, fields map[string]any) {
	if c.then != nil {
		go func() {
			// Give the report loop a moment to deliver an HTTP result.
			time.Sleep(500 * time.Millisecond)
			c.then()
		}()
	}
}

// wsConn is the agent's side of the WebSocket; writes are serialised.
type wsConn struct {
	c  *websocket.Conn
	mu sync.Mutex
}

func (w *wsConn) send(ctx context.Context, m wire.WSMessage) error {
	b := wire.Encode(m)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Write(ctx, websocket.MessageText, b)
}

var errNoWS = errors.New("websocket not connected")

// sendWS sends one message over the live WebSocket.
func (a *Agent) sendWS(ctx context.Context, m wire.WSMessage) error {
	w := a.ws.Load()
	if w == nil {
		return errNoWS
	}
	return w.send(ctx, m)
}

func wsURL(server string) string {
	switch {
	case strings.HasPrefix(server, "https://"):
		return "wss://" + strings.TrimPrefix(server, "https://") + wire.PathWS
	case strings.HasPrefix(server, "http://"):
		return "ws://" + strings.TrimPrefix(server, "http://") + wire.PathWS
	}
	return server + wire.PathWS
}

// wsLoop keeps the WebSocket open, reconnecting with jittered exponential
// backoff (5 s doubling to 60 s, reset after a successful session).
func (a *Agent) wsLoop(ctx context.Context) {
	backoff := 5 * time.Second
	for ctx.Err() == nil {
		connected, err := a.wsSession(ctx)
		a.ptys.closeAll()
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = 5 * time.Second
		}
		a.log.Debug("websocket closed", "err", err, "retry_in", backoff)
		jitter := time.Duration(rand.Int64N(int64(backoff) / 5))
		t := time.NewTimer(backoff - backoff/10 + jitter)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, 60*time.Second)
	}
}

// wsSession runs one WebSocket connection until it ends.
func (a *Agent) wsSession(ctx context.Context) (bool, error) {
	dctx, cancel := context.WithTimeout(ctx, wsDialTimeout)
	h := http.Header{}
	h.Set(wire.HeaderAgentKey, a.cfg.Key)
	c, _, err := websocket.Dial(dctx, wsURL(a.cfg.Server), &websocket.DialOptions{HTTPHeader: h, HTTPClient: a.http,
		CompressionMode: websocket.CompressionDisabled})
	cancel()
	if err != nil {
		return false, err
	}
	c.SetReadLimit(wire.MaxMessage)
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	w := &wsConn{c: c}
	if err := w.send(sctx, wire.NewIdentify(a.cfg.Hostname, wire.AgentVersion)); err != nil {
		_ = c.CloseNow()
		return false, err
	}
	a.ws.Store(w)
	defer a.ws.CompareAndSwap(w, nil)
	a.log.Info("websocket connected")
	go func() {
		t := time.NewTicker(wsPingEvery)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				if err := w.send(sctx, &wire.Ping{}); err != nil {
					scancel()
					return
				}
			}
		}
	}()
	for {
		_, b, err := c.Read(sctx)
		if err != nil {
			_ = c.CloseNow()
			return true, err
		}
		m, err := wire.DecodeMessage(b)
		if err != nil {
			continue
		}
		a.onMessage(sctx, m)
	}
}

// onMessage handles one server message; commands run in their own
// goroutine so that PTY input is never blocked by a long command.
func (a *Agent) onMessage(ctx context.Context, m wire.WSMessage) {
	switch x := m.(type) {
	case *wire.CommandMsg:
		if x.ID == "" || x.Cmd == "" {
			return
		}
		go a.execute(context.WithoutCancel(ctx), x.ID, x.Cmd, x.Params, true)
	case *wire.PtyOpen, *wire.PtyInput, *wire.PtyResize, *wire.PtyClose:
		a.ptys.handle(ctx, a, m)
	}
}

// reexec restarts the agent after an update: through systemd when it runs
// as the noba-agent service, else by replacing this process.
func (a *Agent) reexec() {
	a.ptys.closeAll()
	a.streams.stopAll()
	restartSelf(a, a.log)
}
