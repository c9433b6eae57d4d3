package agent

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/agent/metrics"
	"github.com/noba-go/noba/internal/agent/sysroot"
	"github.com/noba-go/noba/internal/wire"
)

// fixtureAgent is an agent on the fixture host (testdata/root) whose
// programs are answered by fake.
func fixtureAgent(t *testing.T, fake *sysroot.Fake, progs ...string) *Agent {
	t.Helper()
	root, _ := filepath.Abs("testdata/root")
	a := New(Config{Hostname: "fixture", Interval: 30, DataDir: t.TempDir(), Server: "http://127.0.0.1:1",
		Sys: &sysroot.Sys{Root: root, Runner: fake, LookPath: sysroot.LookIn(progs...)}}, slog.New(slog.DiscardHandler))
	a.host.Statfs = func(string) (metrics.FS, error) {
		return metrics.FS{Total: 1000 << 10, Free: 400 << 10, Avail: 350 << 10}, nil
	}
	return a
}

func run(t *testing.T, a *Agent, cmd string, params map[string]any) map[string]any {
	t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	return a.handle(context.Background(), &call{id: "t1", cmd: cmd, agent: a}, params)
}

// Every command of the shared registry has a handler on the agent, and
// every handler is exercised below against the fixture host.
func TestEveryRegistryCommandHasAHandler(t *testing.T) {
	for _, s := range wire.Specs() {
		if _, ok := handlers[s.Name]; !ok {
			t.Errorf("no agent handler for %s", s.Name)
		}
	}
	for name := range handlers {
		if _, ok := wire.Lookup(name); !ok {
			t.Errorf("handler %s is not in the registry", name)
		}
	}
}

// Every handler takes the parameter struct the shared registry decodes
// for its command (the server validated the same struct before queueing),
// so the agent decodes the params once and reads no map.
func TestHandlersTakeTheRegistryParams(t *testing.T) {
	for _, s := range wire.Specs() {
		h, ok := handlers[s.Name]
		if !ok {
			continue
		}
		if want := reflect.TypeOf(s.NewParams()); h.params != want {
			t.Errorf("%s: handler takes %v, registry decodes %v", s.Name, h.params, want)
		}
	}
}

// The handler receives the decoded struct: trimmed strings, the
// established aliases (service for unit, tail for lines) resolved, and an
// invalid parameter never reaches it.
func TestHandleDecodesOnce(t *testing.T) {
	fake := &sysroot.Fake{Answers: map[string]sysroot.Result{"podman": {Stdout: "l1\nl2\n"}}}
	a := fixtureAgent(t, fake, "podman")
	res := run(t, a, wire.CmdContainerLogs, map[string]any{"container": "  web ", "lines": 7.0, "tail": 3.0})
	if res["status"] == "error" {
		t.Fatalf("container_logs: %v", res)
	}
	if got := strings.Join(fake.Calls[len(fake.Calls)-1], " "); !strings.HasSuffix(got, "logs --tail 3 web") {
		t.Fatalf("container_logs ran %q: want the trimmed name and tail over lines", got)
	}
	if res := run(t, a, wire.CmdContainerLogs, map[string]any{"container": "web", "tail": 0.5}); res["status"] != "error" ||
		res["error"] != "Parameter 'tail' must be an integer" {
		t.Fatalf("fractional tail reached the handler: %v", res)
	}
	if res := run(t, a, wire.CmdUninstallAgent, map[string]any{"confirm": "yes"}); res["status"] != "error" {
		t.Fatalf("uninstall without a boolean confirm: %v", res)
	}
}

func TestHandlersOnFixtureHost(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "noba-handlers-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "app.log")
	if err := os.WriteFile(file, []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer web.Close()

	ok0 := sysroot.Result{}
	fake := &sysroot.Fake{Answers: map[string]sysroot.Result{
		"systemctl":  {Stdout: "nginx.service loaded active running nginx\n"},
		"journalctl": {Stdout: "Dec 05 sshd[1]: Accepted\n"},
		"ping":       {Stdout: "4 packets transmitted, 4 received\n"},
		"apt":        {Stdout: "Listing...\nvim/stable 9.1 amd64 [upgradable from: 9.0]\n"},
		"uname":      {Stdout: "6.1.0\n"},
		"podman":     {Stdout: "0123456789abcdef|web|nginx:latest|Up 2 hours|0.0.0.0:80->80/tcp\n"},
		"ip":         {Stdout: "192.0.2.10 dev eth0 lladdr aa:bb:cc:dd:ee:ff REACHABLE\n"},
		"ss":         {Stdout: "State Recv-Q Send-Q Local Peer\nLISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=1,fd=3))\n"},
		"apt-get":    ok0, "env": ok0, "echo": {Stdout: "hello\n"}, "useradd": ok0, "usermod": ok0, "shutdown": ok0, "pkill": ok0, "nslookup": {Stdout: "mail exchanger = mx.example.\n"},
		"iptables": {Stdout: "Chain INPUT (policy ACCEPT)\ntarget prot opt source destination\n"},
	}}
	a := fixtureAgent(t, fake, "systemctl", "journalctl", "ping", "apt", "uname", "podman", "ip", "ss", "apt-get",
		"useradd", "usermod", "shutdown", "pkill", "nslookup", "iptables")
	for _, c := range []struct {
		cmd    string
		params map[string]any
		check  func(map[string]any) bool
	}{
		{wire.CmdPing, nil, func(r map[string]any) bool { return r["version"] == wire.AgentVersion }},
		{wire.CmdCheckService, map[string]any{"service": "nginx"}, func(r map[string]any) bool { return strings.Contains(r["stdout"].(string), "nginx") }},
		{wire.CmdGetLogs, map[string]any{"unit": "sshd", "lines": 5.0}, func(r map[string]any) bool { return strings.Contains(r["stdout"].(string), "Accepted") }},
		{wire.CmdNetworkTest, map[string]any{"target": "127.0.0.1"}, func(r map[string]any) bool { return strings.Contains(r["stdout"].(string), "received") }},
		{wire.CmdPackageUpdates, nil, func(r map[string]any) bool { return r["count"] == 1 }},
		{wire.CmdSystemInfo, nil, func(r map[string]any) bool { return r["release"] == "6.1.0" && r["platform"] == "Linux" }},
		{wire.CmdDiskUsage, map[string]any{"path": dir}, func(r map[string]any) bool { return r["percent"] == 64.0 }},
		{wire.CmdListServices, nil, func(r map[string]any) bool { return strings.Contains(r["output"].(string), "nginx") }},
		{wire.CmdListUsers, nil, func(r map[string]any) bool {
			u, _ := r["users"].([]map[string]any)
			return len(u) == 1 && u[0]["username"] == "alice"
		}},
		{wire.CmdFileRead, map[string]any{"path": file, "lines": 2.0}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdFileList, map[string]any{"path": dir}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdFileChecksum, map[string]any{"path": file}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdFileStat, map[string]any{"path": file}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdContainerList, nil, func(r map[string]any) bool {
			l, _ := r["containers"].([]map[string]any)
			return r["runtime"] == "podman" && len(l) == 1 && l[0]["id"] == "0123456789ab"
		}},
		{wire.CmdContainerLogs, map[string]any{"container": "web", "tail": 5.0}, func(r map[string]any) bool { return r["container"] == "web" }},
		{wire.CmdContainerControl, map[string]any{"container": "web", "action": "restart"}, func(r map[string]any) bool { return r["action"] == "restart" }},
		{wire.CmdDNSLookup, map[string]any{"host": "localhost"}, func(r map[string]any) bool { return r["record_type"] == "A" }},
		{wire.CmdDNSLookup, map[string]any{"host": "example.com", "type": "MX"}, func(r map[string]any) bool { return strings.Contains(r["output"].(string), "mx.example") }},
		{wire.CmdNetworkConfig, nil, func(r map[string]any) bool { return strings.Contains(r["output"].(string), "nameserver 127.0.0.53") }},
		{wire.CmdNetworkStats, nil, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdEndpointCheck, map[string]any{"url": web.URL}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdDiscoverServices, nil, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdSecurityScan, nil, func(r map[string]any) bool {
			f, _ := r["findings"].([]map[string]any)
			var got []string
			for _, x := range f {
				got = append(got, x["description"].(string))
			}
			s := strings.Join(got, "|")
			// Telnet (TCP 23) and SNMP (UDP 161) listen in the fixture;
			// TFTP is not bound and TCP port 69 is not TFTP.
			return strings.Contains(s, "Root login") && strings.Contains(s, "Telnet is listening on port 23") &&
				strings.Contains(s, "SNMP is listening on port 161") && !strings.Contains(s, "TFTP")
		}},
		{wire.CmdVerifyBackup, map[string]any{"path": file, "verification_type": "checksum"}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdRestartService, map[string]any{"service": "nginx"}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdSetInterval, map[string]any{"interval": 60.0}, func(r map[string]any) bool { return r["interval"] == 60 && a.interval.Load() == 60 }},
		{wire.CmdServiceControl, map[string]any{"service": "nginx", "action": "status"}, func(r map[string]any) bool { return r["action"] == "status" }},
		{wire.CmdExec, map[string]any{"command": "echo hello"}, func(r map[string]any) bool { return strings.Contains(r["stdout"].(string), "hello") }},
		{wire.CmdFileWrite, map[string]any{"path": filepath.Join(dir, "new.txt"), "content": "x"}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdFileDelete, map[string]any{"path": filepath.Join(dir, "new.txt")}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdPackageInstall, map[string]any{"package": "vim"}, func(r map[string]any) bool { return r["package"] == "vim" && r["status"] == "ok" }},
		{wire.CmdPackageRemove, map[string]any{"package": "vim"}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdUserManage, map[string]any{"username": "bob", "action": "create", "groups": "video"}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdReboot, map[string]any{"delay": 5.0}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdProcessKill, map[string]any{"name": "nginx"}, func(r map[string]any) bool { return r["name"] == "nginx" }},
		{wire.CmdRefreshCapabilities, nil, func(r map[string]any) bool { return r["status"] == "ok" && a.capsForce }},
		{wire.CmdFollowLogs, map[string]any{"path": file, "lines": 2.0}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdGetStream, map[string]any{"stream_id": "t1"}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdStopStream, map[string]any{"stream_id": "t1"}, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdNetworkDiscover, nil, func(r map[string]any) bool { return r["status"] == "ok" }},
		{wire.CmdFileTransfer, map[string]any{"path": file}, func(r map[string]any) bool { return r["status"] == "error" }},
		{wire.CmdFilePush, map[string]any{"path": filepath.Join(dir, "p"), "transfer_id": strings.Repeat("a", 32)}, func(r map[string]any) bool { return r["status"] == "error" }},
		{wire.CmdUpdateAgent, nil, func(r map[string]any) bool { return r["status"] == "error" }},
	} {
		r := run(t, a, c.cmd, c.params)
		if !c.check(r) {
			t.Errorf("%s %v: %v", c.cmd, c.params, r)
		}
	}
	// Parameters are validated by the shared registry before any handler.
	if r := run(t, a, wire.CmdServiceControl, map[string]any{"service": "nginx", "action": "poweroff"}); r["status"] != "error" ||
		!strings.Contains(r["error"].(string), "Invalid action") {
		t.Errorf("bad action ran: %v", r)
	}
	for _, call := range fake.Called() {
		if call[0] == "sh" {
			t.Errorf("a handler ran a shell: %v", call)
		}
	}
}

func TestUninstallOnFixtureHost(t *testing.T) {
	a := fixtureAgent(t, &sysroot.Fake{})
	cfg := filepath.Join(t.TempDir(), "agent.yaml")
	_ = os.WriteFile(cfg, []byte("server: x\n"), 0o600)
	a.cfg.ConfigPath = cfg
	if r := run(t, a, wire.CmdUninstallAgent, map[string]any{"confirm": false}); r["status"] != "error" {
		t.Fatalf("unconfirmed uninstall: %v", r)
	}
}
