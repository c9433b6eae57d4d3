package agent

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
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

func TestHealConditions(t *testing.T) {
	m := flatten(map[string]any{"cpu_percent": 93.5, "mem_percent": 40.0, "hostname": "x",
		"disks": []any{map[string]any{"mount": "/", "percent": 91.0}}})
	if m["disks[0].percent"] != 91 {
		t.Fatalf("flatten: %v", m)
	}
	for _, c := range []struct {
		cond string
		want bool
	}{
		{"cpu_percent > 90", true},
		{"cpu_percent > 90 AND mem_percent > 50", false},
		{"cpu_percent > 95 OR disks[0].percent >= 91", true},
		{"cpu_percent > 90 AND mem_percent < 50 OR x > 1", false},
		{"unknown_metric > 1", false},
		{"cpu_percent >> 1", false},
		{"mem_percent == 40", true},
	} {
		if got := evalCondition(c.cond, m); got != c.want {
			t.Errorf("evalCondition(%q) = %v, want %v", c.cond, got, c.want)
		}
	}
	cmd, params, _ := healAction(map[string]any{"action_type": "restart_container", "action_params": map[string]any{"container": "web"}})
	if cmd != "container_control" || params["container"] != "web" || params["action"] != "restart" {
		t.Fatalf("restart_container maps to %s %v", cmd, params)
	}
	if _, _, sh := healAction(map[string]any{"action_type": "flush_dns"}); !strings.Contains(sh, "resolvectl") {
		t.Fatalf("flush_dns shell: %q", sh)
	}
}
