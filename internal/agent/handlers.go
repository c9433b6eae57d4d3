package agent

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/noba-go/noba/internal/agent/metrics"
	"github.com/noba-go/noba/internal/wire"
)

// call is one command being executed. Its parameters are not kept as a
// map: handle decodes them once into the command's parameter struct of
// the shared registry (internal/wire) and hands that to the handler.
type call struct {
	id, cmd string
	ws      bool
	agent   *Agent
	// then runs after the result was handed over (restart, stop).
	then func()
}

// intOr is an optional integer parameter's value, def when absent.
func intOr(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}

// handler runs one command type with its decoded, validated parameters
// and returns its result fields. params is the parameter struct's type
// (the registry's), checked against the registry by the tests.
type handler struct {
	run    func(ctx context.Context, c *call, p wire.Params) map[string]any
	params reflect.Type
}

// with adapts a handler taking its typed parameter struct.
func with[P any, PP interface {
	*P
	wire.Params
}](h func(context.Context, *call, PP) map[string]any) handler {
	return handler{params: reflect.TypeFor[PP](), run: func(ctx context.Context, c *call, p wire.Params) map[string]any {
		tp, ok := p.(PP)
		if !ok {
			return fail("command %s: parameters %T, want %T", c.cmd, p, tp)
		}
		return h(ctx, c, tp)
	}}
}

// plain adapts a handler of a command that takes no parameters.
func plain(h func(context.Context, *call) map[string]any) handler {
	return handler{params: reflect.TypeFor[*wire.NoParams](), run: func(ctx context.Context, c *call, _ wire.Params) map[string]any {
		return h(ctx, c)
	}}
}

// handlers is the command registry of the agent (spec 20 §7).
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		wire.CmdPing:                plain(hPing),
		wire.CmdCheckService:        with(hCheckService),
		wire.CmdGetLogs:             with(hGetLogs),
		wire.CmdNetworkTest:         with(hNetworkTest),
		wire.CmdPackageUpdates:      plain(hPackageUpdates),
		wire.CmdSystemInfo:          plain(hSystemInfo),
		wire.CmdDiskUsage:           with(hDiskUsage),
		wire.CmdListServices:        plain(hListServices),
		wire.CmdListUsers:           plain(hListUsers),
		wire.CmdFileRead:            with(hFileRead),
		wire.CmdFileList:            with(hFileList),
		wire.CmdFileChecksum:        with(hFileChecksum),
		wire.CmdFileStat:            with(hFileStat),
		wire.CmdContainerList:       with(hContainerList),
		wire.CmdContainerLogs:       with(hContainerLogs),
		wire.CmdDNSLookup:           with(hDNSLookup),
		wire.CmdNetworkConfig:       plain(hNetworkConfig),
		wire.CmdNetworkStats:        plain(hNetworkStats),
		wire.CmdEndpointCheck:       with(hEndpointCheck),
		wire.CmdFollowLogs:          with(hFollowLogs),
		wire.CmdStopStream:          with(hStopStream),
		wire.CmdGetStream:           with(hGetStream),
		wire.CmdDiscoverServices:    plain(hDiscoverServices),
		wire.CmdNetworkDiscover:     plain(hNetworkDiscover),
		wire.CmdSecurityScan:        plain(hSecurityScan),
		wire.CmdVerifyBackup:        with(hVerifyBackup),
		wire.CmdRestartService:      with(hRestartService),
		wire.CmdSetInterval:         with(hSetInterval),
		wire.CmdServiceControl:      with(hServiceControl),
		wire.CmdFileTransfer:        with(hFileTransfer),
		wire.CmdFilePush:            with(hFilePush),
		wire.CmdContainerControl:    with(hContainerControl),
		wire.CmdExec:                with(hExec),
		wire.CmdFileWrite:           with(hFileWrite),
		wire.CmdFileDelete:          with(hFileDelete),
		wire.CmdUpdateAgent:         plain(hUpdateAgent),
		wire.CmdPackageInstall:      with(hPackage),
		wire.CmdPackageRemove:       with(hPackage),
		wire.CmdUserManage:          with(hUserManage),
		wire.CmdUninstallAgent:      with(hUninstall),
		wire.CmdReboot:              with(hReboot),
		wire.CmdProcessKill:         with(hProcessKill),
		wire.CmdRefreshCapabilities: plain(hRefreshCapabilities),
	}
}

// handle decodes params once into the command's parameter struct (the
// shared registry's), validates it and runs the handler with it; a panic
// in a handler is an error result.
func (a *Agent) handle(ctx context.Context, c *call, params map[string]any) (out map[string]any) {
	h, known := handlers[c.cmd]
	spec, registered := wire.Lookup(c.cmd)
	if !known || !registered {
		return fail("Unknown command: %s", c.cmd)
	}
	p, err := spec.Decode(params)
	if err != nil {
		return fail("%s", err.Error())
	}
	defer func() {
		if r := recover(); r != nil {
			out = fail("command failed: %v", r)
		}
	}()
	out = h.run(ctx, c, p)
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

func hCheckService(ctx context.Context, c *call, in *wire.ServiceParams) map[string]any {
	a := c.agent
	svc := in.Service
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

func hGetLogs(ctx context.Context, c *call, in *wire.GetLogsParams) map[string]any {
	a := c.agent
	unit := in.UnitName()
	lines := min(max(intOr(in.Lines, 50), 1), 200)
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
	if p := in.Priority; p != "" {
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

func hNetworkTest(ctx context.Context, c *call, in *wire.NetworkTestParams) map[string]any {
	a := c.agent
	target, mode := in.Target, in.Mode
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

func hDiskUsage(ctx context.Context, c *call, in *wire.PathParams) map[string]any {
	p := in.Path
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

func hContainerList(ctx context.Context, c *call, in *wire.ContainerListParams) map[string]any {
	a := c.agent
	rt := a.containerRuntime()
	if rt == "" {
		return fail("No container runtime found")
	}
	argv := []string{rt, "ps", "--format", "{{.ID}}|{{.Names}}|{{.Image}}|{{.Status}}|{{.Ports}}", "--no-trunc"}
	if in.All {
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

func hContainerLogs(ctx context.Context, c *call, in *wire.ContainerLogsParams) map[string]any {
	a := c.agent
	rt := a.containerRuntime()
	if rt == "" {
		return fail("No container runtime found")
	}
	name := in.Container
	tail := in.TailLines(100)
	tail = min(max(tail, 1), 1000)
	r := a.run(ctx, 15*time.Second, rt, "logs", "--tail", strconv.Itoa(tail), name)
	return map[string]any{"status": statusOf(r), "runtime": rtName(rt), "container": name,
		"output": wire.Truncate(r.stdout+r.stderr, wire.OutputCap), "error": errText(r)}
}

func hContainerControl(ctx context.Context, c *call, in *wire.ContainerControlParams) map[string]any {
	a := c.agent
	rt := a.containerRuntime()
	if rt == "" {
		return fail("No container runtime found")
	}
	name, action := in.Container, in.Action
	argv := []string{rt, action, name}
	if action == "remove" {
		argv = []string{rt, "rm", name}
	}
	r := a.run(ctx, 30*time.Second, argv...)
	return map[string]any{"status": statusOf(r), "runtime": rtName(rt), "container": name, "action": action,
		"output": strings.TrimSpace(r.stdout + r.stderr), "error": errText(r)}
}

func hDNSLookup(ctx context.Context, c *call, in *wire.DNSLookupParams) map[string]any {
	a := c.agent
	host := in.Host
	typ := strings.ToUpper(in.Type)
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

func hRestartService(ctx context.Context, c *call, in *wire.ServiceParams) map[string]any {
	a := c.agent
	svc := in.Service
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

func hServiceControl(ctx context.Context, c *call, in *wire.ServiceControlParams) map[string]any {
	a := c.agent
	svc, action := in.Service, in.Action
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

func hSetInterval(_ context.Context, c *call, in *wire.SetIntervalParams) map[string]any {
	n := intOr(in.Interval, 0)
	if n < 5 || n > 86400 {
		return fail("interval must be between 5 and 86400 seconds")
	}
	c.agent.interval.Store(int64(n))
	return ok(map[string]any{"interval": n})
}

func hPackage(ctx context.Context, c *call, in *wire.PackageParams) map[string]any {
	a := c.agent
	pkg := in.Package
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

func hUserManage(ctx context.Context, c *call, in *wire.UserManageParams) map[string]any {
	a := c.agent
	user, action := in.Username, in.Action
	groups := []string(in.Groups)
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

func hReboot(ctx context.Context, c *call, in *wire.RebootParams) map[string]any {
	a := c.agent
	delay := max(intOr(in.Delay, 0), 0)
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

func hProcessKill(ctx context.Context, c *call, in *wire.ProcessKillParams) map[string]any {
	a := c.agent
	sig := strings.TrimPrefix(strings.ToUpper(in.Signal), "SIG")
	s, known := signals[sig]
	if !known {
		sig, s = "TERM", syscall.SIGTERM
	}
	if pid := intOr(in.PID, 0); pid > 0 {
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
	name := in.Name
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
