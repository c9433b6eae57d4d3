package agents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
	"github.com/noba-go/noba/internal/wire"
)

// agentBin is the noba-agent binary built once for the package's tests.
var agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "noba-agent-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBin = filepath.Join(dir, "noba-agent")
	out, err := exec.Command("go", "build", "-o", agentBin, "github.com/noba-go/noba/cmd/noba-agent").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build noba-agent: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testKey = "test-agent-key-0123456789"

// newEnv starts a server with short online window and agent keys set.
func newEnv(t testing.TB) *servertest.Env {
	t.Helper()
	env := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithAgentOnlineWindow(3 * time.Second)}})
	if _, err := env.Server.Settings.Update(map[string]any{"agentKeys": testKey + ", bound-host:bound-key-123"}); err != nil {
		t.Fatalf("set agentKeys: %v", err)
	}
	return env
}

// agentProc is a running noba-agent.
type agentProc struct {
	cmd  *exec.Cmd
	out  *syncBuf
	dir  string
	bin  string
	done chan struct{}
}

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

// startAgent runs a copy of the agent binary against serverURL.
func startAgent(t *testing.T, serverURL, hostname string, extra ...string) *agentProc {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "noba-agent")
	b, err := os.ReadFile(agentBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--server", serverURL, "--key", testKey, "--hostname", hostname, "--interval", "1",
		"--config", filepath.Join(dir, "agent.yaml"), "--data-dir", filepath.Join(dir, "data")}, extra...)
	cmd := exec.Command(bin, args...)
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "NOBA_SERVER=", "NOBA_AGENT_KEY=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &agentProc{cmd: cmd, out: out, dir: dir, bin: bin, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("agent %s output:\n%s", hostname, out.String())
		}
	})
	return p
}

func (p *agentProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// waitFor polls cond until it holds or the timeout passes.
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

func agentView(t *testing.T, env *servertest.Env, host string) map[string]any {
	t.Helper()
	var out map[string]any
	st := env.JSON(http.MethodGet, "/api/agents/"+host, env.Token("viewer"), nil, &out)
	if st == http.StatusNotFound {
		return nil
	}
	if st != http.StatusOK {
		t.Fatalf("GET agent %s: %d", host, st)
	}
	return out
}

// waitResult polls the results ring until the result of id arrives.
func waitResult(t *testing.T, env *servertest.Env, host, id string) map[string]any {
	t.Helper()
	var found map[string]any
	waitFor(t, 20*time.Second, "result of "+id, func() bool {
		var res []map[string]any
		env.JSON(http.MethodGet, "/api/agents/"+host+"/results", env.Token("viewer"), nil, &res)
		for _, r := range res {
			if r["id"] == id {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

func sendCommand(t *testing.T, env *servertest.Env, role, host, typ string, params map[string]any) (int, map[string]any) {
	t.Helper()
	var out map[string]any
	st := env.JSON(http.MethodPost, "/api/agents/"+host+"/command", env.Token(role), map[string]any{"type": typ, "params": params}, &out)
	return st, out
}

func waitWS(t *testing.T, env *servertest.Env, host string) {
	t.Helper()
	waitFor(t, 20*time.Second, host+" online over WebSocket", func() bool {
		v := agentView(t, env, host)
		return v != nil && v["online"] == true && v["websocket"] == true
	})
}

func TestAgentRegistersReportsAndGoesOffline(t *testing.T) {
	env := newEnv(t)
	p := startAgent(t, env.URL, "e2e-web-01")
	waitFor(t, 20*time.Second, "agent online with a report", func() bool {
		v := agentView(t, env, "e2e-web-01")
		return v != nil && v["online"] == true && v["cpu_percent"] != nil
	})
	v := agentView(t, env, "e2e-web-01")
	for _, k := range []string{"cpu_percent", "mem_percent", "mem_total", "disks", "platform", "arch", "uptime_s", "cmd_results"} {
		if _, ok := v[k]; !ok {
			t.Errorf("agent detail lacks %q: %v", k, v)
		}
	}
	if v["agent_version"] != wire.AgentVersion {
		t.Errorf("agent_version = %v, want %s", v["agent_version"], wire.AgentVersion)
	}
	var list []map[string]any
	if st := env.JSON(http.MethodGet, "/api/agents", env.Token("viewer"), nil, &list); st != 200 || len(list) != 1 || list[0]["hostname"] != "e2e-web-01" {
		t.Fatalf("list: %d %v", st, list)
	}
	for k := range list[0] {
		if strings.HasPrefix(k, "_") {
			t.Errorf("list item exposes internal key %q", k)
		}
	}
	// Reports flow into the per-host history (written by the history
	// writer in batches, so shortly after the report is seen live).
	var hist []map[string]any
	st := 0
	waitFor(t, 10*time.Second, "the report in the agent's history", func() bool {
		hist = nil
		st = env.JSON(http.MethodGet, "/api/agents/e2e-web-01/history?metric=mem&hours=1", env.Token("viewer"), nil, &hist)
		return st != 200 || len(hist) > 0
	})
	if st != 200 {
		t.Errorf("history: %d %v", st, hist)
	} else if v := hist[len(hist)-1]["value"].(float64); v <= 0 || v > 100 {
		t.Errorf("mem history value %v", v)
	}
	// ... and into the Prometheus exposition (stats room, via AgentMetrics).
	if st, prom := env.Do(http.MethodGet, "/api/metrics/prometheus", env.Token("viewer"), nil); st != 200 || !strings.Contains(string(prom), `host="e2e-web-01"`) {
		t.Errorf("prometheus exposition lacks the agent: %d", st)
	}
	if st, _ := env.Do(http.MethodGet, "/api/agents/e2e-web-01/history?hours=x", env.Token("viewer"), nil); st != 400 {
		t.Errorf("bad hours: %d", st)
	}
	p.kill()
	waitFor(t, 15*time.Second, "agent offline", func() bool {
		v := agentView(t, env, "e2e-web-01")
		return v != nil && v["online"] == false
	})
}

func TestCommandRoundTripWebSocket(t *testing.T) {
	env := newEnv(t)
	startAgent(t, env.URL, "e2e-ws")
	waitWS(t, env, "e2e-ws")

	st, out := sendCommand(t, env, "operator", "e2e-ws", "ping", nil)
	if st != http.StatusOK || out["status"] != "sent" || out["websocket"] != true {
		t.Fatalf("ping: %d %v", st, out)
	}
	id := out["id"].(string)
	res := waitResult(t, env, "e2e-ws", id)
	if res["status"] != "ok" || res["cmd"] != "ping" || res["type"] != "result" || res["version"] != wire.AgentVersion {
		t.Fatalf("ping result: %v", res)
	}

	// exec streams its output over the WebSocket before the result.
	st, out = sendCommand(t, env, "admin", "e2e-ws", "exec", map[string]any{"command": "printf 'alpha\\nbeta\\n'"})
	if st != http.StatusOK || out["websocket"] != true {
		t.Fatalf("exec: %d %v", st, out)
	}
	id = out["id"].(string)
	res = waitResult(t, env, "e2e-ws", id)
	if res["status"] != "ok" || res["stdout"] != "alpha\nbeta\n" || wire.IntOf(res["exit_code"], -1) != 0 {
		t.Fatalf("exec result: %v", res)
	}
	var poll struct {
		Lines  []map[string]any `json:"lines"`
		Cursor int              `json:"cursor"`
	}
	env.JSON(http.MethodGet, "/api/agents/e2e-ws/stream/"+id, env.Token("operator"), nil, &poll)
	if len(poll.Lines) != 2 || poll.Lines[0]["line"] != "alpha" || poll.Lines[1]["line"] != "beta" {
		t.Fatalf("exec stream lines: %+v", poll)
	}

	// A failing command is an error result and an error history row.
	_, out = sendCommand(t, env, "admin", "e2e-ws", "exec", map[string]any{"command": "false"})
	res = waitResult(t, env, "e2e-ws", out["id"].(string))
	if res["status"] != "error" || wire.IntOf(res["exit_code"], 0) != 1 {
		t.Fatalf("false: %v", res)
	}
	var hist []map[string]any
	env.JSON(http.MethodGet, "/api/agents/command-history?hostname=e2e-ws", env.Token("viewer"), nil, &hist)
	if len(hist) != 3 {
		t.Fatalf("history rows = %d, want 3: %v", len(hist), hist)
	}
	byID := map[string]map[string]any{}
	for _, h := range hist {
		byID[h["id"].(string)] = h
	}
	if h := byID[out["id"].(string)]; h["status"] != "error" || h["queued_by"] != "admin" || h["finished_at"] == nil {
		t.Errorf("history of failing exec: %v", h)
	}
	if h := byID[id]; h["status"] != "ok" || h["cmd_type"] != "exec" {
		t.Errorf("history of exec: %v", h)
	}

	// set_interval over the WebSocket changes the shared interval (a
	// result says so; the original lost it).
	_, out = sendCommand(t, env, "operator", "e2e-ws", "set_interval", map[string]any{"interval": 5})
	if res := waitResult(t, env, "e2e-ws", out["id"].(string)); res["status"] != "ok" || wire.IntOf(res["interval"], 0) != 5 {
		t.Fatalf("set_interval: %v", res)
	}

	// Deleting the agent closes its socket; it reconnects (backoff 5 s +
	// jitter) and re-appears with its next report.
	if st, _ := env.Do(http.MethodDelete, "/api/agents/e2e-ws", env.Token("admin"), nil); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	waitFor(t, 25*time.Second, "agent back over WebSocket after delete", func() bool {
		v := agentView(t, env, "e2e-ws")
		return v != nil && v["websocket"] == true && v["cpu_percent"] != nil
	})
}

// refuseWS is a reverse proxy in front of the server that refuses
// WebSocket upgrades, so the agent must fall back to HTTP.
func refuseWS(t *testing.T, target string) string {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "websockets disabled", http.StatusBadGateway)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestCommandRoundTripHTTPFallback(t *testing.T) {
	env := newEnv(t)
	startAgent(t, refuseWS(t, env.URL), "e2e-http")
	waitFor(t, 20*time.Second, "agent online", func() bool {
		v := agentView(t, env, "e2e-http")
		return v != nil && v["online"] == true
	})
	if v := agentView(t, env, "e2e-http"); v["websocket"] != false {
		t.Fatalf("agent has a WebSocket through a proxy that refuses them: %v", v["websocket"])
	}
	st, out := sendCommand(t, env, "operator", "e2e-http", "ping", nil)
	if st != http.StatusOK || out["status"] != "queued" || out["websocket"] != false {
		t.Fatalf("ping: %d %v", st, out)
	}
	res := waitResult(t, env, "e2e-http", out["id"].(string))
	if res["status"] != "ok" || res["cmd"] != "ping" || res["type"] != "ping" {
		t.Fatalf("ping result over HTTP: %v", res)
	}
	// exec over HTTP does not stream but returns its output.
	_, out = sendCommand(t, env, "admin", "e2e-http", "exec", map[string]any{"command": "echo via-http"})
	res = waitResult(t, env, "e2e-http", out["id"].(string))
	if res["stdout"] != "via-http\n" {
		t.Fatalf("exec over HTTP: %v", res)
	}
}

func TestRiskTiersPerRole(t *testing.T) {
	env := newEnv(t)
	cases := []struct {
		role, typ string
		params    map[string]any
		want      int
		msg       string
	}{
		{"viewer", "ping", nil, 403, "Forbidden"},
		{"operator", "ping", nil, 200, ""},
		{"operator", "restart_service", map[string]any{"service": "nginx"}, 200, ""},
		{"operator", "exec", map[string]any{"command": "id"}, 403, "Insufficient permissions: exec requires admin access"},
		{"operator", "file_write", map[string]any{"path": "/tmp/noba-x", "content": "x"}, 403, "Insufficient permissions: file_write requires admin access"},
		{"operator", "uninstall_agent", map[string]any{"confirm": true}, 403, "Insufficient permissions: uninstall_agent requires admin access"},
		{"admin", "exec", map[string]any{"command": "id"}, 200, ""},
		{"admin", "bogus", nil, 400, "Unknown command type: 'bogus'"},
		{"admin", "exec", map[string]any{}, 400, "Parameter 'command' is required"},
		{"admin", "file_read", map[string]any{"path": "/etc/shadow"}, 400, "Path '/etc/shadow' is on the denylist"},
		{"admin", "file_read", map[string]any{"path": "/var/../etc/x"}, 400, "Path traversal ('..') is not allowed"},
		{"admin", "user_manage", map[string]any{"username": "bob", "action": "create", "groups": []any{"sudo"}}, 400, "Group 'sudo' is not allowed"},
		{"admin", "uninstall_agent", map[string]any{}, 400, "Parameter 'confirm' must be true to uninstall the agent"},
		{"operator", "set_interval", map[string]any{"interval": 2}, 400, "Parameter 'interval' must be between 5 and 86400"},
	}
	for _, c := range cases {
		t.Run(c.role+"/"+c.typ, func(t *testing.T) {
			var out map[string]any
			st := env.JSON(http.MethodPost, "/api/agents/tier-host/command", env.Token(c.role), map[string]any{"type": c.typ, "params": c.params}, &out)
			if st != c.want {
				t.Fatalf("got %d %v, want %d", st, out, c.want)
			}
			if c.msg != "" && out["error"] != c.msg {
				t.Fatalf("error = %q, want %q", out["error"], c.msg)
			}
		})
	}
	// Bulk: same tiers; operators cannot reach admin power through it.
	var out map[string]any
	if st := env.JSON(http.MethodPost, "/api/agents/bulk-command", env.Token("operator"),
		map[string]any{"hostnames": []string{"a1", "a2"}, "type": "exec", "params": map[string]any{"command": "id"}}, &out); st != 403 || out["error"] != "Insufficient permissions" {
		t.Fatalf("operator bulk exec: %d %v", st, out)
	}
	if st := env.JSON(http.MethodPost, "/api/agents/bulk-command", env.Token("operator"),
		map[string]any{"hostnames": []string{"a1", "a2"}, "type": "ping"}, &out); st != 200 || len(out["commands"].(map[string]any)) != 2 {
		t.Fatalf("operator bulk ping: %d %v", st, out)
	}
	// Nothing was queued by the refused commands.
	var hist []map[string]any
	env.JSON(http.MethodGet, "/api/agents/command-history?hostname=tier-host", env.Token("viewer"), nil, &hist)
	for _, h := range hist {
		if h["cmd_type"] == "file_write" || h["cmd_type"] == "uninstall_agent" || h["cmd_type"] == "bogus" {
			t.Errorf("refused command recorded: %v", h)
		}
	}
	if len(hist) != 3 {
		t.Errorf("history has %d rows, want 3 (ping, restart_service, exec)", len(hist))
	}
}

func TestAgentKeysAndHostnameBinding(t *testing.T) {
	env := newEnv(t)
	post := func(key, host string) (int, map[string]any) {
		h := map[string]string{"Content-Type": "application/json"}
		if key != "" {
			h["X-Agent-Key"] = key
		}
		resp := env.Request(http.MethodPost, "/api/agent/report", "", []byte(`{"hostname":"`+host+`","cpu_percent":5}`), h)
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if st, out := post("", "h1"); st != 401 || out["error"] != "Missing X-Agent-Key" {
		t.Errorf("no key: %d %v", st, out)
	}
	if st, out := post("wrong", "h1"); st != 403 || out["error"] != "Invalid agent key" {
		t.Errorf("wrong key: %d %v", st, out)
	}
	if st, _ := post("bound-key-123", "bound-host"); st != 200 {
		t.Errorf("bound key, own host: %d", st)
	}
	if st, out := post("bound-key-123", "other-host"); st != 403 {
		t.Errorf("bound key, other host: %d %v", st, out)
	}
	if st, out := post(testKey, "bad host!"); st != 400 || out["error"] != "Invalid hostname" {
		t.Errorf("bad hostname: %d %v", st, out)
	}
	// The WebSocket takes the key from the header; a bound key cannot
	// identify as another host.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsu := "ws" + strings.TrimPrefix(env.URL, "http") + "/api/agent/ws"
	_, resp, err := websocket.Dial(ctx, wsu, nil)
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("ws without key: %v %v", err, resp)
	}
	c, _, err := websocket.Dial(ctx, wsu, &websocket.DialOptions{HTTPHeader: http.Header{"X-Agent-Key": {"bound-key-123"}}})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Write(ctx, websocket.MessageText, wire.Encode(wire.NewIdentify("other-host", "3.0.1")))
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != wire.CloseHostnameRefused {
		t.Errorf("bound key identifying as another host: %v", err)
	}
	// A host-bound key in the query string is refused (spec 20 §19.1);
	// the legacy shared key still works there for established agents.
	if _, resp, err := websocket.Dial(ctx, wsu+"?key=bound-key-123", nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("bound ?key= accepted: %v %v", err, resp)
	}
	c, _, err = websocket.Dial(ctx, wsu+"?key="+url.QueryEscape(testKey), nil)
	if err != nil {
		t.Fatalf("legacy ?key= dial: %v", err)
	}
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`))
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != wire.CloseBadIdentify {
		t.Errorf("non-identify first message: %v", err)
	}
}
