package agent

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/noba-go/noba/internal/agent/metrics"
	"github.com/noba-go/noba/internal/wire"
)

// call is one command being executed.
type call struct {
	id, cmd string
	params  map[string]any
	ws      bool
	agent   *Agent
	// then runs after the result was handed over (restart, stop).
	then func()
}

func (c *call) str(k string) string { s, _ := c.params[k].(string); return strings.TrimSpace(s) }

func (c *call) int(k string, def int) int { return wire.IntOf(c.params[k], def) }

func (c *call) bool(k string) bool { b, _ := c.params[k].(bool); return b }

// handler runs one command type and returns its result fields.
type handler func(ctx context.Context, c *call) map[string]any

// handlers is the command registry of the agent (spec 20 §7).
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		wire.CmdPing:                hPing,
		wire.CmdCheckService:        hCheckService,
		wire.CmdGetLogs:             hGetLogs,
		wire.CmdNetworkTest:         hNetworkTest,
		wire.CmdPackageUpdates:      hPackageUpdates,
		wire.CmdSystemInfo:          hSystemInfo,
		wire.CmdDiskUsage:           hDiskUsage,
		wire.CmdListServices:        hListServices,
		wire.CmdListUsers:           hListUsers,
		wire.CmdFileRead:            hFileRead,
		wire.CmdFileList:            hFileList,
		wire.CmdFileChecksum:        hFileChecksum,
		wire.CmdFileStat:            hFileStat,
		wire.CmdContainerList:       hContainerList,
		wire.CmdContainerLogs:       hContainerLogs,
		wire.CmdDNSLookup:           hDNSLookup,
		wire.CmdNetworkConfig:       hNetworkConfig,
		wire.CmdNetworkStats:        hNetworkStats,
		wire.CmdEndpointCheck:       hEndpointCheck,
		wire.CmdFollowLogs:          hFollowLogs,
		wire.CmdStopStream:          hStopStream,
		wire.CmdGetStream:           hGetStream,
		wire.CmdDiscoverServices:    hDiscoverServices,
		wire.CmdNetworkDiscover:     hNetworkDiscover,
		wire.CmdSecurityScan:        hSecurityScan,
		wire.CmdVerifyBackup:        hVerifyBackup,
		wire.CmdRestartService:      hRestartService,
		wire.CmdSetInterval:         hSetInterval,
		wire.CmdServiceControl:      hServiceControl,
		wire.CmdFileTransfer:        hFileTransfer,
		wire.CmdFilePush:            hFilePush,
		wire.CmdContainerControl:    hContainerControl,
		wire.CmdExec:                hExec,
		wire.CmdFileWrite:           hFileWrite,
		wire.CmdFileDelete:          hFileDelete,
		wire.CmdUpdateAgent:         hUpdateAgent,
		wire.CmdPackageInstall:      hPackage,
		wire.CmdPackageRemove:       hPackage,
		wire.CmdUserManage:          hUserManage,
		wire.CmdUninstallAgent:      hUninstall,
		wire.CmdReboot:              hReboot,
		wire.CmdProcessKill:         hProcessKill,
		wire.CmdRefreshCapabilities: hRefreshCapabilities,
	}
}

// handle validates and runs a command; a panic in a handler is an error result.
func (a *Agent) handle(ctx context.Context, c *call) (out map[string]any) {
	h, known := handlers[c.cmd]
	if !known {
		return fail("Unknown command: %s", c.cmd)
	}
	if err := wire.ValidateParams(c.cmd, c.params); err != nil {
		return fail("%s", err.Error())
	}
	defer func() {
		if r := recover(); r != nil {
			out = fail("command failed: %v", r)
		}
	}()
	out = h(ctx, c)
	if out == nil {
		out = ok(nil)
	}
	if _, has := out["status"]; !has {
		out["status"] = "ok"
	}
	return out
}

func hPing(_ context.Context, c *call) map[string]any {
	return ok(map[string]any{"pong": time.Now().Unix(), "version": wire.AgentVersion})
}

func hCheckService(ctx context.Context, c *call) map[string]any {
	a := c.agent
	svc := c.str("service")
	var r runOut
	if runtime.GOOS == "windows" {
		r = a.run(ctx, 10*time.Second, "powershell", "-NoProfile", "-NonInteractive", "-Command", "Get-Service -Name '"+svc+"' | Format-List")
	} else {
		r = a.run(ctx, 10*time.Second, "systemctl", "status", svc, "--no-pager")
	}
	if r.err != nil && !r.timedOut {
		return fail("%v", r.err)
	}
	return map[string]any{"status": "ok", "stdout": r.stdout, "exit_code": r.code}
}

func hGetLogs(ctx context.Context, c *call) map[string]any {
	a := c.agent
	unit := c.str("unit")
	if unit == "" {
		unit = c.str("service")
	}
	lines := min(max(c.int("lines", 50), 1), 200)
	if runtime.GOOS == "windows" {
		r := a.run(ctx, 15*time.Second, "powershell", "-NoProfile", "-NonInteractive", "-Command",
			fmt.Sprintf("Get-EventLog -LogName System -Newest %d | Format-Table -AutoSize | Out-String -Width 200", lines))
		return map[string]any{"status": statusOf(r), "stdout": r.stdout, "error": errText(r)}
	}
	if !a.have("journalctl") {
		return fail("journalctl not available")
	}
	argv := []string{"journalctl", "--no-pager", "-n", strconv.Itoa(lines)}
	if unit != "" {
		argv = append(argv, "-u", unit)
	}
	if p := c.str("priority"); p != "" {
		argv = append(argv, "-p", p)
	}
	r := a.run(ctx, 15*time.Second, argv...)
	return map[string]any{"status": statusOf(r), "stdout": r.stdout, "error": errText(r)}
}

func errText(r runOut) string {
	if r.err != nil {
		return r.err.Error()
	}
	if r.code != 0 {
		if s := strings.TrimSpace(r.stderr); s != "" {
			return wire.Truncate(s, 2000)
		}
		return fmt.Sprintf("exit code %d", r.code)
	}
	return ""
}

func hNetworkTest(ctx context.Context, c *call) map[string]any {
	a := c.agent
	target, mode := c.str("target"), c.str("mode")
	if !wire.NetTarget(target) {
		return fail("Invalid target")
	}
	argv := []string{"ping", "-c", "4", "-W", "2", target}
	if runtime.GOOS == "windows" {
		argv = []string{"ping", "-n", "4", target}
	}
	if mode == "trace" {
		mode = "traceroute"
		argv = []string{"traceroute", "-n", "-m", "10", "-w", "2", target}
	} else {
		mode = "ping"
	}
	if !a.have(argv[0]) {
		return fail("%s not installed", mode)
	}
	r := a.run(ctx, 20*time.Second, argv...)
	return map[string]any{"status": statusOf(r), "stdout": r.stdout + r.stderr, "error": errText(r)}
}

func hPackageUpdates(ctx context.Context, c *call) map[string]any {
	a := c.agent
	var r runOut
	switch {
	case a.have("apt"):
		r = a.run(ctx, 30*time.Second, "apt", "list", "--upgradable")
	case a.have("dnf"):
		r = a.run(ctx, 30*time.Second, "dnf", "check-update")
	case a.have("pkg"):
		r = a.run(ctx, 30*time.Second, "pkg", "version", "-vIL=")
	default:
		return fail("No supported package manager found")
	}
	var lines []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "Listing") {
			lines = append(lines, l)
		}
	}
	return ok(map[string]any{"count": len(lines), "stdout": strings.Join(lines[:min(len(lines), 50)], "\n")})
}

func hSystemInfo(ctx context.Context, c *call) map[string]any {
	a := c.agent
	host, _ := os.Hostname()
	var ips []string
	if addrs, err := net.DefaultResolver.LookupHost(ctx, host); err == nil {
		for _, a := range addrs {
			if ip := net.ParseIP(a); ip != nil && !ip.IsLoopback() {
				ips = append(ips, a)
			}
		}
	}
	if ips == nil {
		ips = []string{}
	}
	release, version := "", ""
	if r := a.run(ctx, 5*time.Second, "uname", "-r"); r.err == nil {
		release = strings.TrimSpace(r.stdout)
	}
	if r := a.run(ctx, 5*time.Second, "uname", "-v"); r.err == nil {
		version = strings.TrimSpace(r.stdout)
	}
	snap := c.agent.metricsUptime(ctx)
	return ok(map[string]any{"hostname": host, "platform": metrics.Platform(), "release": release, "version": version,
		"arch": metrics.Arch(), "processor": metrics.Arch(), "python": runtime.Version(), "go": runtime.Version(),
		"uptime_s": snap, "ips": ips})
}

func (a *Agent) metricsUptime(ctx context.Context) int64 {
	b, err := a.sys.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return int64(v)
}

func hDiskUsage(ctx context.Context, c *call) map[string]any {
	p := c.str("path")
	if p == "" {
		p = "/"
	}
	if _, err := os.Stat(p); err != nil {
		return fail("Path not found: %s", p)
	}
	u, err := c.agent.host.Statfs(p)
	if err != nil {
		return fail("%v", err)
	}
	used := u.Total - u.Free
	return ok(map[string]any{"path": p, "total": u.Total, "used": used, "free": u.Avail, "percent": metrics.DiskPercent(used, u.Avail)})
}

func hListServices(ctx context.Context, c *call) map[string]any {
	a := c.agent
	var r runOut
	switch {
	case runtime.GOOS == "windows":
		r = a.run(ctx, 15*time.Second, "powershell", "-NoProfile", "-NonInteractive", "-Command", "Get-Service | Format-Table -AutoSize | Out-String -Width 200")
	case runtime.GOOS == "darwin":
		r = a.run(ctx, 15*time.Second, "launchctl", "list")
	case a.have("systemctl"):
		r = a.run(ctx, 15*time.Second, "systemctl", "list-units", "--type=service", "--all", "--no-pager", "--plain", "--no-legend")
	case a.have("service"):
		r = a.run(ctx, 15*time.Second, "service", "--status-all")
	default:
		return fail("No service manager found")
	}
	return map[string]any{"status": statusOf(r), "output": r.stdout, "error": errText(r)}
}

func hListUsers(_ context.Context, c *call) map[string]any {
	a := c.agent
	f, err := a.sys.Open("/etc/passwd")
	if err != nil {
		return fail("Cannot read /etc/passwd: %v", err)
	}
	defer f.Close()
	users := []map[string]any{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ":")
		if len(p) < 7 {
			continue
		}
		uid, _ := strconv.Atoi(p[2])
		gid, _ := strconv.Atoi(p[3])
		if uid < 1000 || strings.Contains(p[6], "nologin") || strings.Contains(p[6], "false") {
			continue
		}
		users = append(users, map[string]any{"username": p[0], "uid": uid, "gid": gid, "home": p[5], "shell": p[6]})
	}
	return ok(map[string]any{"users": users})
}

// containerRuntime is the first of podman and docker found.
func (a *Agent) containerRuntime() string {
	for _, rt := range []string{"podman", "docker"} {
		for _, dir := range []string{"/usr/bin/", "/usr/local/bin/"} {
			if st, err := a.sys.Stat(dir + rt); err == nil && !st.IsDir() {
				return dir + rt
			}
		}
		if p, err := a.sys.Look(rt); err == nil {
			return p
		}
	}
	return ""
}

func rtName(p string) string {
	if strings.HasSuffix(p, "podman") {
		return "podman"
	}
	return "docker"
}

func hContainerList(ctx context.Context, c *call) map[string]any {
	a := c.agent
	rt := a.containerRuntime()
	if rt == "" {
		return fail("No container runtime found")
	}
	argv := []string{rt, "ps", "--format", "{{.ID}}|{{.Names}}|{{.Image}}|{{.Status}}|{{.Ports}}", "--no-trunc"}
	if c.bool("all") {
		argv = append(argv, "-a")
	}
	r := a.run(ctx, 15*time.Second, argv...)
	if statusOf(r) != "ok" {
		return fail("%s", errText(r))
	}
	list := []map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.SplitN(l, "|", 5)
		if len(f) < 5 {
			continue
		}
		id := f[0]
		if len(id) > 12 {
			id = id[:12]
		}
		list = append(list, map[string]any{"id": id, "name": f[1], "image": f[2], "status": f[3], "ports": f[4]})
	}
	return ok(map[string]any{"runtime": rtName(rt), "containers": list})
}

func hContainerLogs(ctx context.Context, c *call) map[string]any {
	a := c.agent
	rt := a.containerRuntime()
	if rt == "" {
		return fail("No container runtime found")
	}
	name := c.str("container")
	tail := c.int("tail", c.int("lines", 100))
	tail = min(max(tail, 1), 1000)
	r := a.run(ctx, 15*time.Second, rt, "logs", "--tail", strconv.Itoa(tail), name)
	return map[string]any{"status": statusOf(r), "runtime": rtName(rt), "container": name,
		"output": wire.Truncate(r.stdout+r.stderr, wire.OutputCap), "error": errText(r)}
}

func hContainerControl(ctx context.Context, c *call) map[string]any {
	a := c.agent
	rt := a.containerRuntime()
	if rt == "" {
		return fail("No container runtime found")
	}
	name, action := c.str("container"), c.str("action")
	argv := []string{rt, action, name}
	if action == "remove" {
		argv = []string{rt, "rm", name}
	}
	r := a.run(ctx, 30*time.Second, argv...)
	return map[string]any{"status": statusOf(r), "runtime": rtName(rt), "container": name, "action": action,
		"output": strings.TrimSpace(r.stdout + r.stderr), "error": errText(r)}
}

func hDNSLookup(ctx context.Context, c *call) map[string]any {
	a := c.agent
	host := c.str("host")
	typ := strings.ToUpper(c.str("type"))
	if typ == "" {
		typ = "A"
	}
	if typ == "A" || typ == "AAAA" {
		ips, err := net.DefaultResolver.LookupIP(ctx, map[string]string{"A": "ip4", "AAAA": "ip6"}[typ], host)
		if err != nil {
			return map[string]any{"status": "error", "error": err.Error(), "host": host, "record_type": typ}
		}
		addrs := []string{}
		for _, ip := range ips {
			addrs = append(addrs, ip.String())
		}
		return ok(map[string]any{"host": host, "record_type": typ, "addresses": addrs})
	}
	if !a.have("nslookup") {
		return fail("nslookup not installed")
	}
	r := a.run(ctx, 10*time.Second, "nslookup", "-type="+typ, host)
	return map[string]any{"status": statusOf(r), "host": host, "record_type": typ, "output": r.stdout, "error": errText(r)}
}

func hNetworkConfig(ctx context.Context, c *call) map[string]any {
	a := c.agent
	var parts []string
	switch runtime.GOOS {
	case "windows":
		parts = append(parts, a.run(ctx, 10*time.Second, "ipconfig", "/all").stdout)
	case "linux":
		if a.have("ip") {
			parts = append(parts, a.run(ctx, 10*time.Second, "ip", "addr").stdout, a.run(ctx, 10*time.Second, "ip", "route").stdout)
		}
		if b, err := a.sys.ReadFile("/etc/resolv.conf"); err == nil {
			parts = append(parts, string(b))
		}
	default:
		parts = append(parts, a.run(ctx, 10*time.Second, "ifconfig").stdout, a.run(ctx, 10*time.Second, "netstat", "-rn").stdout)
	}
	return ok(map[string]any{"output": wire.Truncate(strings.Join(parts, "\n---\n"), wire.OutputCap)})
}

func hRestartService(ctx context.Context, c *call) map[string]any {
	a := c.agent
	svc := c.str("service")
	if len(svc) > 128 || !wire.ServiceName(svc) {
		return fail("Invalid service name")
	}
	var r runOut
	if runtime.GOOS == "windows" {
		r = a.run(ctx, 30*time.Second, "powershell", "-NoProfile", "-NonInteractive", "-Command", "Restart-Service -Name '"+svc+"' -Force")
	} else {
		r = a.run(ctx, 30*time.Second, a.sudo("systemctl", "restart", svc)...)
	}
	return map[string]any{"status": statusOf(r), "exit_code": r.code, "output": strings.TrimSpace(r.stdout + r.stderr), "error": errText(r)}
}

func hServiceControl(ctx context.Context, c *call) map[string]any {
	a := c.agent
	svc, action := c.str("service"), c.str("action")
	var r runOut
	switch {
	case runtime.GOOS == "windows":
		verb := map[string]string{"start": "Start-Service", "stop": "Stop-Service", "restart": "Restart-Service", "status": "Get-Service",
			"enable": "Set-Service -StartupType Automatic", "disable": "Set-Service -StartupType Disabled"}[action]
		r = a.run(ctx, 30*time.Second, "powershell", "-NoProfile", "-NonInteractive", "-Command", verb+" -Name '"+svc+"'")
	case action == "status":
		r = a.run(ctx, 30*time.Second, "systemctl", "status", svc, "--no-pager")
	case a.have("systemctl"):
		r = a.run(ctx, 30*time.Second, a.sudo("systemctl", action, svc)...)
	case a.have("rc-service") && (action == "start" || action == "stop" || action == "restart"):
		r = a.run(ctx, 30*time.Second, a.sudo("rc-service", svc, action)...)
	default:
		return fail("No supported service manager found")
	}
	return map[string]any{"status": statusOf(r), "service": svc, "action": action, "exit_code": r.code,
		"output": strings.TrimSpace(r.stdout + r.stderr), "error": errText(r)}
}

// sudo prefixes argv with "sudo -n" unless the agent runs as root.
func (a *Agent) sudo(argv ...string) []string {
	if os.Geteuid() == 0 || runtime.GOOS == "windows" || !a.have("sudo") {
		return argv
	}
	return append([]string{"sudo", "-n"}, argv...)
}

func hSetInterval(_ context.Context, c *call) map[string]any {
	n := c.int("interval", 0)
	if n < 5 || n > 86400 {
		return fail("interval must be between 5 and 86400 seconds")
	}
	c.agent.interval.Store(int64(n))
	return ok(map[string]any{"interval": n})
}

func hPackage(ctx context.Context, c *call) map[string]any {
	a := c.agent
	pkg := c.str("package")
	install := c.cmd == wire.CmdPackageInstall
	var argv []string
	switch {
	case a.have("apt-get"):
		verb := "remove"
		if install {
			verb = "install"
		}
		argv = []string{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", verb, pkg}
	case a.have("dnf"):
		argv = []string{"dnf", "-y", map[bool]string{true: "install", false: "remove"}[install], pkg}
	case a.have("yum"):
		argv = []string{"yum", "-y", map[bool]string{true: "install", false: "remove"}[install], pkg}
	case a.have("apk"):
		argv = []string{"apk", map[bool]string{true: "add", false: "del"}[install], pkg}
	case a.have("pkg"):
		argv = []string{"pkg", map[bool]string{true: "install", false: "delete"}[install], "-y", pkg}
	case a.have("brew"):
		argv = []string{"brew", map[bool]string{true: "install", false: "uninstall"}[install], pkg}
	default:
		return fail("No supported package manager found")
	}
	if argv[0] != "brew" {
		argv = a.sudo(argv...)
	}
	r := a.run(ctx, 300*time.Second, argv...)
	return map[string]any{"status": statusOf(r), "package": pkg, "exit_code": r.code,
		"output": wire.Truncate(r.stdout+r.stderr, wire.OutputCap), "error": errText(r)}
}

func hUserManage(ctx context.Context, c *call) map[string]any {
	a := c.agent
	user, action := c.str("username"), c.str("action")
	groups, _ := wire.Groups(c.params["groups"])
	g := strings.Join(groups, ",")
	var argv []string
	switch action {
	case "create":
		argv = []string{"useradd", "-m"}
		if g != "" {
			argv = append(argv, "-G", g)
		}
		argv = append(argv, user)
	case "delete":
		argv = []string{"userdel", "-r", user}
	case "modify":
		if g == "" {
			return fail("Parameter 'groups' is required to modify a user")
		}
		argv = []string{"usermod", "-aG", g, user}
	case "lock":
		argv = []string{"usermod", "-L", user}
	case "unlock":
		argv = []string{"usermod", "-U", user}
	}
	r := a.run(ctx, 30*time.Second, a.sudo(argv...)...)
	return map[string]any{"status": statusOf(r), "action": action, "username": user,
		"output": strings.TrimSpace(r.stdout + r.stderr), "error": errText(r)}
}

func hReboot(ctx context.Context, c *call) map[string]any {
	a := c.agent
	delay := max(c.int("delay", 0), 0)
	var r runOut
	if runtime.GOOS == "windows" {
		r = a.run(ctx, 15*time.Second, "shutdown", "/r", "/t", strconv.Itoa(delay*60))
	} else {
		r = a.run(ctx, 15*time.Second, a.sudo("shutdown", "-r", "+"+strconv.Itoa(delay))...)
	}
	return map[string]any{"status": statusOf(r), "output": strings.TrimSpace(r.stdout + r.stderr), "error": errText(r)}
}

var signals = map[string]syscall.Signal{"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "HUP": syscall.SIGHUP,
	"INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT}

func hProcessKill(ctx context.Context, c *call) map[string]any {
	a := c.agent
	sig := strings.TrimPrefix(strings.ToUpper(c.str("signal")), "SIG")
	s, known := signals[sig]
	if !known {
		sig, s = "TERM", syscall.SIGTERM
	}
	if pid := c.int("pid", 0); pid > 0 {
		p, err := os.FindProcess(pid)
		if err == nil {
			err = p.Signal(s)
		}
		switch {
		case err == nil:
			return ok(map[string]any{"pid": pid, "signal": sig})
		case strings.Contains(err.Error(), "permission") || strings.Contains(err.Error(), "not permitted"):
			return fail("Permission denied for PID %d", pid)
		default:
			return fail("No such process: %d", pid)
		}
	}
	name := c.str("name")
	if !a.have("pkill") {
		return fail("pkill not installed")
	}
	r := a.run(ctx, 10*time.Second, "pkill", "-"+sig, "-x", name)
	if r.code == 1 {
		return fail("No such process: %s", name)
	}
	return map[string]any{"status": statusOf(r), "name": name, "signal": sig, "output": strings.TrimSpace(r.stdout + r.stderr), "error": errText(r)}
}

func hRefreshCapabilities(_ context.Context, c *call) map[string]any {
	c.agent.mu.Lock()
	c.agent.capsForce = true
	c.agent.mu.Unlock()
	return ok(map[string]any{"message": "Capabilities will be re-probed on the next report"})
}
