package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every typed message encodes byte for byte as the map-shaped message the
// established protocol sends (sorted keys).
func TestMessagesByteCompatible(t *testing.T) {
	for _, c := range []struct {
		typed WSMessage
		asMap Msg
	}{
		{NewIdentify("web-1", "3.1.0"), Msg{"type": "identify", "hostname": "web-1", "agent_version": "3.1.0", "agent_impl": "go"}},
		{Command("abc", "ping", nil), Msg{"type": "command", "id": "abc", "cmd": "ping", "params": map[string]any{}}},
		{&Ping{}, Msg{"type": "ping"}},
		{&Pong{}, Msg{"type": "pong"}},
		{&StreamLine{ID: "x", Line: "hello"}, Msg{"type": "stream", "id": "x", "line": "hello"}},
		{&PtyOpen{Session: "s", Cols: 80, Rows: 24, Role: "admin"}, Msg{"type": "pty_open", "session": "s", "cols": 80, "rows": 24, "role": "admin"}},
		{&PtyInput{Session: "s", Data: "ls\n"}, Msg{"type": "pty_input", "session": "s", "data": "ls\n"}},
		{&PtyResize{Session: "s", Cols: 100, Rows: 30}, Msg{"type": "pty_resize", "session": "s", "cols": 100, "rows": 30}},
		{&PtyClose{Session: "s"}, Msg{"type": "pty_close", "session": "s"}},
		{&PtyOpened{Session: "s"}, Msg{"type": "pty_opened", "session": "s"}},
		{&PtyOutput{Session: "s", Data: "x"}, Msg{"type": "pty_output", "session": "s", "data": "x"}},
		{&PtyExit{Session: "s", Code: 1}, Msg{"type": "pty_exit", "session": "s", "code": 1}},
		{&PtyError{Session: "s", Error: "boom"}, Msg{"type": "pty_error", "session": "s", "error": "boom"}},
	} {
		got, want := string(Encode(c.typed)), string(c.asMap.Marshal())
		if got != want {
			t.Errorf("%T: %s, want %s", c.typed, got, want)
		}
		back, err := DecodeMessage([]byte(got))
		if err != nil || back.MsgType() != c.typed.MsgType() {
			t.Errorf("decode %s: %T %v", got, back, err)
		}
	}
	// A ping with an id is a legacy ping result; results stay maps.
	if m, _ := DecodeMessage([]byte(`{"type":"ping","id":"7","status":"ok"}`)); m.MsgType() != "ping" {
		t.Errorf("legacy ping result: %T", m)
	} else if _, isMap := m.(Msg); !isMap {
		t.Errorf("legacy ping result decoded as %T", m)
	}
	if _, err := DecodeMessage([]byte(strings.Repeat("[", 40) + strings.Repeat("]", 40))); err == nil {
		t.Error("deep nesting accepted")
	}
}

func TestReportDecode(t *testing.T) {
	r, err := DecodeReport([]byte(`{"hostname":"h","cpu_percent":"bad","mem_percent":12.5,"unknown":{"x":1},
		"disks":[{"mount":"/","total":100,"used":40,"percent":40,"extra":true}],"_cmd_results":[{"id":"1","type":"ping"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Hostname != "h" || r.MemPercent != 12.5 || r.CPUPercent != 0 || len(r.Disks) != 1 || len(r.CmdResults) != 1 {
		t.Fatalf("report: %+v", r)
	}
	if v, ok := r.Lookup("disks[0].percent"); !ok || v != 40 {
		t.Fatalf("lookup: %v %v", v, ok)
	}
	if _, ok := r.Lookup("disks[1].percent"); ok {
		t.Fatal("lookup past the list")
	}
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "unknown") || strings.Contains(string(b), "extra") {
		t.Fatalf("unknown fields kept: %s", b)
	}
}

// Issue 18 §5: an integer field sent with a fraction (the Python agent's
// uptime read from /proc/uptime) keeps its value instead of turning into 0,
// and a field of the wrong kind is still dropped.
func TestReportKeepsFractionalWholeNumbers(t *testing.T) {
	r, err := DecodeReport([]byte(`{"hostname":"py","uptime_s":265443.87,"timestamp":1800000000.5,"mem_total":8.0e9,
		"mem_used":"x","cpu_count":4,"disks":[{"mount":"/","total":1000.0,"used":400.5,"percent":41}],
		"top_processes":[{"pid":812.0,"name":"postgres","cpu":3.1,"mem":4.2}],"net_bytes_recv":1e400}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.UptimeS != 265443 || r.Timestamp != 1800000000 || r.MemTotal != 8e9 || r.MemUsed != 0 || r.CPUCount != 4 {
		t.Fatalf("whole numbers: %+v", r.Metrics)
	}
	if r.Disks[0].Total != 1000 || r.Disks[0].Used != 400 || r.TopProcesses[0].PID != 812 || r.NetBytesRecv != 0 {
		t.Fatalf("disks/processes: %+v %+v %d", r.Disks, r.TopProcesses, r.NetBytesRecv)
	}
}

// The registry covers every command with a parameter struct, a risk and a
// role, and decodes parameters into the struct.
func TestRegistry(t *testing.T) {
	for _, s := range Specs() {
		if s.NewParams == nil || s.NewParams() == nil {
			t.Errorf("%s has no parameter struct", s.Name)
		}
		if r, ok := RiskOf(s.Name); ok && s.Role() == "" || !ok && s.Name != CmdRefreshCapabilities || ok && r != s.Risk {
			t.Errorf("%s: risk %q role %q", s.Name, s.Risk, s.Role())
		}
	}
	s, _ := Lookup(CmdContainerLogs)
	p, err := s.Decode(map[string]any{"container": " web ", "lines": 20.0})
	if err != nil {
		t.Fatal(err)
	}
	cl := p.(*ContainerLogsParams)
	if cl.Container != "web" || cl.TailLines(100) != 20 {
		t.Fatalf("decoded %+v", cl)
	}
	s, _ = Lookup(CmdUserManage)
	p, err = s.Decode(map[string]any{"username": "bob", "action": "create", "groups": []any{"docker", "video"}})
	if err != nil || len(p.(*UserManageParams).Groups) != 2 {
		t.Fatalf("user_manage: %+v %v", p, err)
	}
}

func FuzzDecodeReport(f *testing.F) {
	f.Add([]byte(`{"hostname":"h","cpu_percent":1,"disks":[{"mount":"/","percent":3}],"_stream_data":{"a":["x"]}}`))
	f.Add([]byte(`{"_cmd_results":[{"id":"1","type":"ping","nested":{"a":[1,{"b":2}]}}],"_capabilities":{"capabilities":{}}}`))
	f.Add([]byte(`[[[[[[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeReport(b)
		if err != nil {
			return
		}
		for _, m := range r.CmdResults {
			if res, ok := NormalizeResult(m); ok {
				_ = res.Marshal()
			}
		}
		_ = r.Series()
		_, _ = json.Marshal(r)
	})
}

func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{`{"type":"identify","hostname":"h","agent_version":"3"}`, `{"type":"ping"}`,
		`{"type":"result","id":"1","cmd":"ping"}`, `{"type":"pty_output","session":"s","data":"x"}`,
		`{"type":"stream","id":"1","line":"l"}`, `{"type":"command","id":"1","cmd":"exec","params":{"command":"id"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			return
		}
		if msg, ok := m.(Msg); ok {
			_, _ = NormalizeResult(msg)
		}
		if c, ok := m.(*CommandMsg); ok {
			if s, found := Lookup(c.Cmd); found {
				_, _ = s.Decode(c.Params)
			}
		}
		_ = Encode(m)
	})
}
