package infra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/runcmd"
	"github.com/noba-go/noba/internal/wire"
)

const agentKey = "infra-test-agent-key-0123456789"

// protoAgent speaks the agent protocol (report + WebSocket) and answers
// network_discover with the given device lists in turn. The real agent's
// discovery probes the LAN (ip neigh, TCP probes), which these tests may
// not reach: only loopback traffic is allowed here.
func protoAgent(t *testing.T, ctx context.Context, url, host string, answers ...[]any) *atomic.Int32 {
	t.Helper()
	var asked atomic.Int32
	h := http.Header{}
	h.Set(wire.HeaderAgentKey, agentKey)
	body, _ := json.Marshal(map[string]any{"hostname": host, "platform": "Linux", "arch": "x86_64", "agent_version": wire.AgentVersion,
		"timestamp": time.Now().Unix(), "cpu_percent": 1.0, "mem_percent": 2.0, wire.KeyCmdResults: []any{}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+wire.PathReport, bytes.NewReader(body))
	req.Header.Set(wire.HeaderAgentKey, agentKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("report: %v %v", err, resp)
	}
	resp.Body.Close()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+wire.PathWS, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("agent ws: %v", err)
	}
	if err := c.Write(ctx, websocket.MessageText, wire.Encode(wire.NewIdentify(host, wire.AgentVersion))); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer c.CloseNow()
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			m, err := wire.Decode(b)
			if err != nil || m.Type() != wire.TypeCommand {
				continue
			}
			n := int(asked.Add(1)) - 1
			devs := []any{}
			if n < len(answers) {
				devs = answers[n]
			}
			_ = c.Write(ctx, websocket.MessageText, wire.Result(m.Str("id"), m.Str("cmd"), map[string]any{"devices": devs}, true).Marshal())
		}
	}()
	return &asked
}

func TestNetworkDiscoveryThroughAgent(t *testing.T) {
	e := newEnv(t, runcmd.NewRecorded(nil))
	if _, err := e.Server.Settings.Update(map[string]any{"agentKeys": agentKey}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := []any{
		map[string]any{"ip": "127.0.0.2", "mac": "AA:BB:CC:00:11:22", "hostname": "printer.lan", "open_ports": []any{631, 80, 9100}},
		map[string]any{"ip": "127.0.0.3", "mac": "", "hostname": "", "open_ports": []any{}},
		map[string]any{"ip": "not-an-ip", "mac": "", "hostname": "x"},
	}
	second := []any{map[string]any{"ip": "127.0.0.2", "mac": "aa:bb:cc:00:11:22", "hostname": "", "open_ports": []any{443}}}
	asked := protoAgent(t, ctx, e.URL, "lab-1", first, second)
	op, viewer, admin := e.Token("operator"), e.Token("viewer"), e.Token("admin")
	// The WebSocket registers asynchronously: retry until the command goes over it.
	var out map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st := e.JSON(http.MethodPost, "/api/network/discover/lab-1", op, nil, &out); st != 200 {
			t.Fatalf("discover: %d %v", st, out)
		}
		if out["websocket"] == true || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out["status"] != "sent" || len(fmt.Sprint(out["id"])) != 16 {
		t.Fatalf("discover = %v", out)
	}
	var devs []map[string]any
	waitDevices := func(cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			e.JSON(http.MethodGet, "/api/network/devices", viewer, nil, &devs)
			if cond() {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("devices = %v", devs)
	}
	waitDevices(func() bool { return len(devs) == 2 })
	var printer map[string]any
	for _, d := range devs {
		if d["ip"] == "127.0.0.2" {
			printer = d
		}
	}
	if printer == nil || printer["mac"] != "aa:bb:cc:00:11:22" || printer["hostname"] != "printer.lan" || fmt.Sprint(printer["open_ports"]) != "[80 631 9100]" || printer["discovered_by"] != "lab-1" {
		t.Fatalf("printer = %v", printer)
	}
	// A second discovery: same (ip, mac) updated, the known name kept, ports replaced.
	for asked.Load() < 2 {
		e.JSON(http.MethodPost, "/api/network/discover/lab-1", op, nil, &out)
		time.Sleep(100 * time.Millisecond)
	}
	waitDevices(func() bool {
		for _, d := range devs {
			if d["ip"] == "127.0.0.2" && fmt.Sprint(d["open_ports"]) == "[443]" {
				printer = d
				return true
			}
		}
		return false
	})
	if printer["hostname"] != "printer.lan" || len(devs) != 2 {
		t.Errorf("after rediscovery: %v", devs)
	}
	if st, _ := e.Do(http.MethodPost, "/api/network/discover/lab-1", viewer, nil); st != 403 {
		t.Errorf("viewer discover: %d", st)
	}
	id := int(printer["id"].(float64))
	if st, _ := e.Do(http.MethodDelete, fmt.Sprintf("/api/network/devices/%d", id), viewer, nil); st != 403 {
		t.Errorf("viewer delete: %d", st)
	}
	if st, b := e.Do(http.MethodDelete, fmt.Sprintf("/api/network/devices/%d", id), op, nil); st != 200 || !strings.Contains(string(b), `"ok"`) {
		t.Errorf("delete: %d %s", st, b)
	}
	e.JSON(http.MethodGet, "/api/network/devices", viewer, nil, &devs)
	if len(devs) != 1 || devs[0]["ip"] != "127.0.0.3" {
		t.Errorf("after delete: %v", devs)
	}
	var audit []map[string]any
	e.JSON(http.MethodGet, "/api/audit?limit=50", admin, nil, &audit)
	if a := fmt.Sprint(audit); !strings.Contains(a, "network_discover") || !strings.Contains(a, fmt.Sprintf("device_id=%d", id)) {
		t.Errorf("audit: %s", a)
	}
}
