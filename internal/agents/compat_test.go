package agents_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
	"github.com/noba-go/noba/internal/wire"
)

// TestEstablishedAgentProtocol speaks as an agent of the established
// server: key in the query string, version 3.0.1, legacy result shape
// (type = the command) and a handler field named "type". The query-string
// key is accepted for its legacy shared key only (host-bound keys must use
// the header, TestAgentKeysAndHostnameBinding).
func TestEstablishedAgentProtocol(t *testing.T) {
	env := newEnv(t)
	// Queued while the agent is away: flushed over the socket on identify.
	_, queued := sendCommand(t, env, "operator", "py-agent", "ping", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wsu := "ws" + strings.TrimPrefix(env.URL, "http") + "/api/agent/ws?key=" + url.QueryEscape(testKey)
	c, _, err := websocket.Dial(ctx, wsu, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"identify","hostname":"py-agent","agent_version":"3.0.1"}`))
	typ, b, err := c.Read(ctx)
	if err != nil || typ != websocket.MessageText {
		t.Fatalf("read: %v %v", typ, err)
	}
	var cmd map[string]any
	_ = json.Unmarshal(b, &cmd)
	if cmd["type"] != "command" || cmd["id"] != queued["id"] || cmd["cmd"] != "ping" {
		t.Fatalf("flushed command: %s", b)
	}
	// Legacy result shape.
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"ping","id":"`+queued["id"].(string)+`","status":"ok","pong":1718000000,"version":"3.0.1"}`))
	res := waitResult(t, env, "py-agent", queued["id"].(string))
	if res["cmd"] != "ping" || res["status"] != "ok" {
		t.Fatalf("legacy result: %v", res)
	}
	// A dns_lookup result whose handler field "type" overwrote the command
	// type (as the established agent sends it) is still matched by id.
	_, out := sendCommand(t, env, "operator", "py-agent", "dns_lookup", map[string]any{"host": "example.com"})
	_, b, _ = c.Read(ctx)
	_ = json.Unmarshal(b, &cmd)
	if cmd["id"] != out["id"] || out["websocket"] != true {
		t.Fatalf("live command: %s %v", b, out)
	}
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"result","cmd":"A","id":"`+out["id"].(string)+`","status":"ok","host":"example.com","addresses":["93.184.216.34"]}`))
	res = waitResult(t, env, "py-agent", out["id"].(string))
	if res["status"] != "ok" {
		t.Fatalf("dns result: %v", res)
	}
	var hist []map[string]any
	env.JSON(http.MethodGet, "/api/agents/command-history?hostname=py-agent", env.Token("viewer"), nil, &hist)
	for _, h := range hist {
		if h["status"] != "ok" {
			t.Errorf("history row not completed: %v", h)
		}
	}
	// One host cannot complete another host's command.
	_, other := sendCommand(t, env, "operator", "victim-host", "ping", nil)
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"result","cmd":"ping","id":"`+other["id"].(string)+`","status":"ok"}`))
	time.Sleep(300 * time.Millisecond)
	env.JSON(http.MethodGet, "/api/agents/command-history?hostname=victim-host", env.Token("viewer"), nil, &hist)
	if len(hist) != 1 || hist[0]["status"] != "queued" {
		t.Fatalf("victim history after a foreign result: %v", hist)
	}
	// Ping gets pong; a 3.0.1 agent never gets a Go binary as update.
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`))
	_, b, _ = c.Read(ctx)
	if string(b) != `{"type":"pong"}` {
		t.Fatalf("pong: %s", b)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func TestQueuedCommandsExpire(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	env := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithClock(clk.Now)}})
	if _, err := env.Server.Settings.Update(map[string]any{"agentKeys": testKey}); err != nil {
		t.Fatal(err)
	}
	_, out := sendCommand(t, env, "operator", "gone-host", "ping", nil)
	clk.Add(11 * time.Minute)
	// Any agent's report sweeps stale queues.
	resp := env.Request(http.MethodPost, "/api/agent/report", "", []byte(`{"hostname":"other-host"}`),
		map[string]string{"X-Agent-Key": testKey, "Content-Type": "application/json"})
	resp.Body.Close()
	var hist []map[string]any
	env.JSON(http.MethodGet, "/api/agents/command-history?hostname=gone-host", env.Token("viewer"), nil, &hist)
	if len(hist) != 1 || hist[0]["id"] != out["id"] || hist[0]["status"] != "expired" {
		t.Fatalf("history after expiry: %v", hist)
	}
	resp = env.Request(http.MethodPost, "/api/agent/report", "", []byte(`{"hostname":"gone-host"}`),
		map[string]string{"X-Agent-Key": testKey, "Content-Type": "application/json"})
	var rep wire.ReportResponse
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if len(rep.Commands) != 0 {
		t.Fatalf("expired command delivered: %+v", rep.Commands)
	}
}

// Issue 18 §5: a report whose uptime has a fraction (an agent reading
// /proc/uptime as it is) shows that uptime, not 0 s.
func TestFractionalUptimeIsKept(t *testing.T) {
	env := newEnv(t)
	resp := env.Request(http.MethodPost, "/api/agent/report", "", []byte(`{"hostname":"py-uptime","agent_version":"3.0.1",
		"uptime_s":265443.87,"mem_total":8000000000,"top_processes":[{"pid":812,"name":"postgres","cpu":3.1,"mem":4.2}]}`),
		map[string]string{"X-Agent-Key": testKey, "Content-Type": "application/json"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	v := agentView(t, env, "py-uptime")
	if v["uptime_s"] != float64(265443) || v["mem_total"] != float64(8e9) {
		t.Fatalf("uptime_s %v mem_total %v", v["uptime_s"], v["mem_total"])
	}
	var list []map[string]any
	env.JSON(http.MethodGet, "/api/agents", env.Token("viewer"), nil, &list)
	if len(list) != 1 || list[0]["uptime_s"] != float64(265443) {
		t.Fatalf("list: %v", list)
	}
}
