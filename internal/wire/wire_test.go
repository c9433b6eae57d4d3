package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCatalogue(t *testing.T) {
	if n := len(Commands()); n != 42 {
		t.Fatalf("catalogue has %d types, want 42", n)
	}
	tiers := map[Risk]int{}
	for _, c := range Commands() {
		r, _ := RiskOf(c)
		tiers[r]++
	}
	if tiers[Low] != 25 || tiers[Medium] != 7 || tiers[High] != 10 {
		t.Fatalf("tiers = %v, want low 25, medium 7, high 10", tiers)
	}
	for _, c := range []struct {
		role string
		r    Risk
		want bool
	}{{"viewer", Low, false}, {"operator", Low, true}, {"operator", Medium, true}, {"operator", High, false}, {"admin", High, true}, {"", Low, false}} {
		if got := Allowed(c.role, c.r); got != c.want {
			t.Errorf("Allowed(%q, %s) = %v, want %v", c.role, c.r, got, c.want)
		}
	}
	if !IsCommand(CmdRefreshCapabilities) {
		t.Error("refresh_capabilities is an agent command")
	}
	if _, ok := RiskOf(CmdRefreshCapabilities); ok {
		t.Error("refresh_capabilities is not in the risk table")
	}
}

func TestSupports(t *testing.T) {
	for _, c := range []struct {
		v, cmd string
		want   bool
	}{{"", "exec", true}, {"", "file_read", false}, {"1.1.0", "ping", true}, {"v1.1.0", "security_scan", false},
		{"2.0.0", "security_scan", true}, {"v2.1.0", "file_push", true}, {"3.1.0", "uninstall_agent", true}, {"garbage", "file_read", false}} {
		if got := Supports(c.v, c.cmd); got != c.want {
			t.Errorf("Supports(%q, %q) = %v, want %v", c.v, c.cmd, got, c.want)
		}
	}
}

func TestCheckPath(t *testing.T) {
	for _, c := range []struct{ p, want string }{
		{"", "Path must not be empty"},
		{"/tmp/a\x00b", "Path contains null byte"},
		{"/var/../etc/passwd", "Path traversal ('..') is not allowed"},
		{"/etc/shadow", "Path '/etc/shadow' is on the denylist"},
		{"/etc//shadow", "Path '/etc//shadow' is on the denylist"},
		{"/proc", "Path '/proc' is on the denylist"},
		{"/proc/1/environ", "Path '/proc/1/environ' matches a denied pattern"},
		{"/run/secrets/db", "Path '/run/secrets/db' matches a denied pattern"},
		{"/var/log/syslog", ""},
		{"/tmp/noba-x/..x", ""},
	} {
		err := CheckPath(c.p)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("CheckPath(%q) = %q, want %q", c.p, got, c.want)
		}
	}
}

func TestValidateParams(t *testing.T) {
	dec := func(s string) map[string]any {
		var obj map[string]any
		if err := json.Unmarshal([]byte(s), &obj); err != nil {
			t.Fatal(err)
		}
		return obj
	}
	for _, c := range []struct {
		cmd, params, want string
	}{
		{"ping", `{}`, ""},
		{"check_service", `{}`, "Parameter 'service' is required"},
		{"check_service", `{"service":"nginx; rm -rf /"}`, "Invalid service name"},
		{"get_logs", `{"unit":"sshd","lines":20}`, ""},
		{"get_logs", `{"service":"sshd","lines":0}`, "Parameter 'lines' must be between 1 and 10000"},
		{"get_logs", `{"lines":"x"}`, "Parameter 'lines' must be an integer"},
		{"network_test", `{"target":"8.8.8.8;id"}`, "Invalid target"},
		{"service_control", `{"service":"nginx","action":"poweroff"}`, "Invalid action 'poweroff': must be one of start, stop, restart, enable, disable, status"},
		{"container_control", `{"container":"web","action":"pause"}`, ""},
		{"set_interval", `{"interval":4}`, "Parameter 'interval' must be between 5 and 86400"},
		{"set_interval", `{"interval":60.5}`, "Parameter 'interval' must be an integer"},
		{"exec", `{"command":"` + strings.Repeat("a", 4097) + `"}`, "Parameter 'command' exceeds 4096 characters"},
		{"file_push", `{"path":"/tmp/noba-x/f","transfer_id":"../../x"}`, "Invalid transfer_id"},
		{"file_transfer", `{"source":"/var/log/x"}`, ""},
		{"endpoint_check", `{"url":"ftp://x"}`, "Parameter 'url' must be an http(s) URL of at most 2048 characters"},
		{"user_manage", `{"username":"bob","action":"create","groups":"docker,wheel"}`, "Group 'wheel' is not allowed"},
		{"uninstall_agent", `{"confirm":"true"}`, "Parameter 'confirm' must be true to uninstall the agent"},
		{"process_kill", `{"pid":-3}`, "Parameter 'pid' must be a positive integer"},
		{"process_kill", `{"name":"nginx"}`, ""},
		{"package_install", `{"package":"vim && id"}`, "Invalid package name"},
		{"follow_logs", `{"path":"/etc/shadow"}`, "Path '/etc/shadow' is on the denylist"},
	} {
		err := ValidateParams(c.cmd, dec(c.params))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s %s: got %q, want %q", c.cmd, c.params, got, c.want)
		}
	}
}

func TestResultShapes(t *testing.T) {
	// Handler fields never override the envelope (dns_lookup's "type").
	m := Result("abc", "dns_lookup", map[string]any{"type": "A", "id": "evil", "addresses": []string{"1.1.1.1"}}, true)
	if m["type"] != "result" || m["id"] != "abc" || m["cmd"] != "dns_lookup" || m["status"] != "ok" {
		t.Fatalf("ws result: %v", m)
	}
	h := Result("abc", "ping", nil, false)
	if h["type"] != "ping" || h["cmd"] != "ping" {
		t.Fatalf("http result: %v", h)
	}
	for _, c := range []struct {
		in      Msg
		cmd, st string
		ok      bool
	}{
		{Msg{"type": "result", "id": "1", "cmd": "ping", "status": "ok"}, "ping", "ok", true},
		{Msg{"type": "ping", "id": "1"}, "ping", "ok", true},                                              // legacy WS / HTTP shape
		{Msg{"type": "exec", "id": "1", "error": "boom"}, "exec", "error", true},                          // status derived
		{Msg{"type": "result", "id": "1", "cmd": "dns_lookup", "status": "ok"}, "dns_lookup", "ok", true}, // cmd kept
		{Msg{"type": "pty_output", "session": "s"}, "", "", false},
		{Msg{"type": "ping"}, "", "", false}, // no id
	} {
		got, ok := NormalizeResult(c.in)
		if ok != c.ok || (ok && (got.Str("cmd") != c.cmd || got.Str("status") != c.st)) {
			t.Errorf("NormalizeResult(%v) = %v %v", c.in, got, ok)
		}
	}
}

func TestVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"3.1.0", "3.0.1", 1}, {"v2.0", "2.0.0", 0}, {"9.9.9", "10.0.0", -1}, {"x", "1.0", -1}} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	if !ValidHostname("web-01.lan") || ValidHostname("-x") || ValidHostname(strings.Repeat("a", 254)) {
		t.Error("ValidHostname")
	}
	if !ValidTransferID(NewID(16)) || ValidTransferID("ABCDEF0123456789abcdef0123456789") {
		t.Error("ValidTransferID")
	}
	if Truncate("héllo", 2) != "h" {
		t.Errorf("Truncate cut a rune: %q", Truncate("héllo", 2))
	}
}
