package healing

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Executor runs remediation actions (spec 30 §6.9.4): on an online agent
// (typed command, else the fallback chain through the agent's exec) or on
// the server (in-process handler, else the fallback chain by PATH).
type Executor struct {
	d    *Deps
	acts map[string]*Action
	rev  map[string]*Action
}

func newExecutor(d *Deps) *Executor { return &Executor{d: d, acts: registry(), rev: reverses()} }

// Action returns an action type.
func (x *Executor) Action(name string) (*Action, bool) {
	a, ok := x.acts[name]
	return a, ok
}

// Risk reports the risk of an action type.
func (x *Executor) Risk(name string) (string, bool) {
	a, ok := x.acts[name]
	if !ok {
		return "", false
	}
	return a.Risk, true
}

// Validate checks the type and required params.
func (x *Executor) Validate(name string, p map[string]any) error {
	a, ok := x.acts[name]
	if !ok {
		return userErr("Unknown action type: %s", name)
	}
	for _, k := range a.Params {
		if _, ok := p[k]; !ok {
			return userErr("Missing required param: %s", k)
		}
	}
	return nil
}

// hostOf is the agent that should run an action: params.hostname, else the
// target when it is an online agent.
func (x *Executor) hostOf(p map[string]any, target string) string {
	if x.d.Agents == nil {
		return ""
	}
	online := x.d.Agents.Online()
	for _, h := range []string{str(p, "hostname"), target} {
		if h != "" && h != "localhost" && h != "self" && slices.Contains(online, h) {
			return h
		}
	}
	return ""
}

// Execute runs an action and records it in the action audit.
func (x *Executor) Execute(ctx context.Context, name string, p map[string]any, triggerType, triggerID, target, approvedBy string) Result {
	start := time.Now()
	if p == nil {
		p = map[string]any{}
	}
	a, ok := x.acts[name]
	if !ok {
		a, ok = x.rev[name]
	}
	var res Result
	switch {
	case !ok:
		res = Result{Error: "Unknown action: " + name}
	default:
		res = x.run(ctx, a, p, target)
	}
	res.DurationS = float64(time.Since(start).Milliseconds()) / 1000
	if x.d.Actions != nil {
		outcome := "success"
		if !ok || (res.Error != "" && !res.Success && strings.HasPrefix(res.Error, "No handler")) {
			outcome = "error"
		} else if !res.Success {
			outcome = "failure"
		}
		x.d.Actions.RecordAction(ctx, ActionRecord{TriggerType: triggerType, TriggerID: triggerID, ActionType: name, Params: p,
			Target: target, Outcome: outcome, DurationS: res.DurationS, Output: res.Output, ApprovedBy: approvedBy, Error: res.Error})
	}
	return res
}

func (x *Executor) run(ctx context.Context, a *Action, p map[string]any, target string) Result {
	if a.refuse != nil {
		return Result{Error: a.refuse(p)}
	}
	if host := x.hostOf(p, target); host != "" && (a.agent != nil || a.chain != nil) {
		return x.runRemote(ctx, a, p, host)
	}
	if x.d.Sandbox {
		return Result{Error: "sandbox: " + a.Name + " would run on this server; refused"}
	}
	if a.local != nil {
		return a.local(ctx, x, p, target)
	}
	if a.chain != nil {
		return x.runChain(ctx, a, p, target)
	}
	return Result{Error: "No handler for: " + a.Name}
}

// runChain runs the first fallback handler whose tool exists on the server.
func (x *Executor) runChain(ctx context.Context, a *Action, p map[string]any, _ string) Result {
	for _, h := range a.chain {
		if _, err := exec.LookPath(h.requires); err != nil {
			continue
		}
		steps, err := h.argv(p)
		if err != nil {
			return Result{Error: err.Error()}
		}
		if _, err := exec.LookPath(steps[0][0]); err != nil {
			continue
		}
		return runLocal(ctx, steps, time.Duration(max(a.TimeoutS, 5))*time.Second)
	}
	return Result{Error: fmt.Sprintf("No capable handler for %s on this server (needs one of: %s)", a.Name, requiresOf(a))}
}

func requiresOf(a *Action) string {
	var r []string
	for _, h := range a.chain {
		r = append(r, h.requires)
	}
	return strings.Join(r, ", ")
}

// resolveHandler picks the first chain handler the manifest allows.
func resolveHandler(a *Action, manifest map[string]any, degraded []string) (handler, bool) {
	caps, _ := manifest["capabilities"].(map[string]any)
	for _, h := range a.chain {
		c, known := caps[h.requires].(map[string]any)
		if slices.Contains(degraded, h.requires) {
			continue
		}
		if known {
			if c["available"] != true || c["state"] == "degraded" {
				continue
			}
			return h, true
		}
		// Tools outside the probed list: the OS decides.
		osName, _ := manifest["os"].(string)
		if h.requires == "powershell" || h.requires == "wevtutil" || h.requires == "sfc" || h.requires == "chkdsk" {
			if strings.EqualFold(osName, "windows") {
				return h, true
			}
			continue
		}
		if !strings.EqualFold(osName, "windows") {
			return h, true
		}
	}
	return handler{}, false
}

func (x *Executor) runRemote(ctx context.Context, a *Action, p map[string]any, host string) Result {
	timeout := time.Duration(max(a.TimeoutS, 30)) * time.Second
	if a.agent != nil {
		cmd, params, err := a.agent(p)
		if err != nil {
			return Result{Error: err.Error()}
		}
		return x.agentRun(ctx, host, cmd, params, timeout)
	}
	manifest, _, degraded, _, err := x.d.Store.Manifest(ctx, host)
	if err != nil {
		return Result{Error: err.Error()}
	}
	h, ok := resolveHandler(a, manifest, degraded)
	if !ok {
		return Result{Error: fmt.Sprintf("No capable handler for %s on %s (needs one of: %s)", a.Name, host, requiresOf(a))}
	}
	steps, err := h.argv(p)
	if err != nil {
		return Result{Error: err.Error()}
	}
	var outs []string
	for _, argv := range steps {
		r := x.agentRun(ctx, host, "exec", map[string]any{"command": quoteArgv(argv), "timeout": min(a.TimeoutS, 60)}, timeout)
		outs = append(outs, r.Output)
		if !r.Success {
			r.Output = trunc(strings.Join(outs, "\n"))
			return r
		}
	}
	return Result{Success: true, Remote: true, Output: trunc(strings.Join(outs, "\n"))}
}

// quoteArgv joins argv for the agent's exec (split without a shell).
func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if strings.ContainsAny(a, " \t'\"\\") || a == "" {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

func (x *Executor) agentRun(ctx context.Context, host, cmd string, params map[string]any, timeout time.Duration) Result {
	res, err := x.d.Agents.Run(ctx, host, cmd, params, "healing", timeout)
	if err != nil {
		return Result{Error: err.Error(), Remote: true}
	}
	if res == nil {
		return Result{Output: "Agent command timed out on " + host, Error: "Agent command timed out on " + host, Remote: true}
	}
	text := str(res, "output")
	if text == "" {
		text = strings.TrimSpace(str(res, "stdout") + str(res, "stderr"))
	}
	out := trunc(fmt.Sprintf("[%s] %s: %s", host, cmd, text))
	if str(res, "status") != "ok" {
		e := str(res, "error")
		if e == "" {
			e = "Action failed"
		}
		return Result{Output: out, Error: e, Remote: true}
	}
	return Result{Success: true, Output: out, Remote: true}
}

// Snapshot captures the pre-action state of reversible actions (§6.10).
func (x *Executor) Snapshot(ctx context.Context, name string, p map[string]any, target string) (map[string]any, bool) {
	host := x.hostOf(p, target)
	probe := func(argv ...string) (string, bool) { return x.probe(ctx, host, argv...) }
	switch name {
	case "container_pause":
		c := str(p, "container")
		return map[string]any{"container": c, "hostname": host}, c != ""
	case "nice_adjust":
		pid := str(p, "pid")
		v, ok := probe("ps", "-o", "ni=", "-p", pid)
		if _, err := strconv.Atoi(v); !ok || err != nil {
			return nil, false
		}
		return map[string]any{"pid": pid, "priority": v, "hostname": host}, true
	case "scale_container":
		c := str(p, "container")
		v, ok := probe("docker", "inspect", "-f", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}", c)
		f := strings.Fields(v)
		if !ok || len(f) != 2 {
			return nil, false
		}
		st := map[string]any{"container": c, "hostname": host, "cpu_limit": "", "mem_limit": ""}
		if n, _ := strconv.ParseInt(f[0], 10, 64); n > 0 {
			st["cpu_limit"] = strconv.FormatFloat(float64(n)/1e9, 'f', -1, 64)
		}
		if n, _ := strconv.ParseInt(f[1], 10, 64); n > 0 {
			st["mem_limit"] = strconv.FormatInt(n, 10)
		}
		return st, true
	case "failover_dns":
		b, err := os.ReadFile(x.d.ResolvConf)
		if err != nil {
			return nil, false
		}
		return map[string]any{"resolv_conf": string(b)}, true
	case "firewall_rule_add":
		return map[string]any{"rule": str(p, "rule"), "hostname": host}, true
	case "vm_migrate":
		return map[string]any{"vm_id": str(p, "vm_id"), "target_node": host, "hostname": str(p, "target_node")}, host != ""
	}
	return nil, false
}

// probe runs a read-only command on host's agent (exec), or on this
// server when host is empty (never in a sandbox), and returns its trimmed
// stdout.
func (x *Executor) probe(ctx context.Context, host string, argv ...string) (string, bool) {
	if host != "" {
		r, err := x.d.Agents.Run(ctx, host, "exec", map[string]any{"command": quoteArgv(argv), "timeout": 10}, "healing", 15*time.Second)
		if err != nil || r == nil || str(r, "status") != "ok" {
			return "", false
		}
		return strings.TrimSpace(str(r, "stdout")), true
	}
	if x.d.Sandbox {
		return "", false
	}
	b, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	return strings.TrimSpace(string(b)), err == nil
}

// ProcessOf finds the process a process action (process_kill,
// nice_adjust) of a heal acts on: a pid carried by the event's metrics,
// else on host the oldest process named exactly as the target. ok false
// when none is found. The host-wide target "system" names no process: it
// is not guessed (the busiest process may be NOBA, its agent or a
// database), so its process steps fail and the chain moves on.
func (x *Executor) ProcessOf(ctx context.Context, host, target string, metrics map[string]any) (int, bool) {
	if f, ok := num(metrics["pid"]); ok && f >= 2 && f <= 1<<22 {
		return int(f), true
	}
	if target == "" || target == "system" || !nameRE.MatchString(target) {
		return 0, false
	}
	out, ok := x.probe(ctx, host, "pgrep", "-o", "-x", target)
	if !ok {
		return 0, false
	}
	for _, f := range strings.Fields(out) {
		if n, err := strconv.Atoi(f); err == nil && n >= 2 && n <= 1<<22 {
			return n, true
		}
	}
	return 0, false
}

// Rollback runs the reverse of an action with its snapshot state.
func (x *Executor) Rollback(ctx context.Context, name string, state map[string]any, target string) Result {
	switch name {
	case "failover_dns":
		text, _ := state["resolv_conf"].(string)
		if err := writeAtomic(x.d.ResolvConf, []byte(text)); err != nil {
			return Result{Error: err.Error()}
		}
		return Result{Success: true, Output: "resolv.conf restored"}
	case "scale_container":
		if str(state, "cpu_limit") == "" {
			state["cpu_limit"] = "0"
		}
		if str(state, "mem_limit") == "" {
			state["mem_limit"] = "0"
		}
	}
	a, ok := x.acts[name]
	if !ok || !a.Reversible() {
		return Result{Error: "No reverse action defined"}
	}
	return x.Execute(ctx, a.Reverse, state, "rollback", "", target, "")
}

// Preflight checks the capability manifest of host for chain actions.
func (x *Executor) Preflight(ctx context.Context, a *Action, host string, inMaint bool) (map[string]any, bool, string) {
	checks := map[string]any{}
	if a.chain == nil || a.agent != nil && host != "" {
		return map[string]any{"note": "No fallback chain — API-based action"}, true, ""
	}
	if host == "" {
		checks["manifest"] = "local"
		for _, h := range a.chain {
			if _, err := exec.LookPath(h.requires); err == nil {
				checks["capability_match"] = h.requires
				return checks, !inMaint, map[bool]string{true: "", false: "maintenance"}[!inMaint]
			}
		}
		checks["capability_match"] = "no match"
		return checks, false, "no_capable_handler"
	}
	manifest, _, degraded, ok, err := x.d.Store.Manifest(ctx, host)
	if err != nil || !ok {
		checks["manifest"] = "missing"
		return checks, false, "no_manifest"
	}
	checks["manifest"] = "ok"
	if inMaint {
		checks["maintenance"] = "blocked"
		return checks, false, "maintenance"
	}
	checks["maintenance"] = "ok"
	h, ok := resolveHandler(a, manifest, degraded)
	if !ok {
		checks["capability_match"] = "no match"
		return checks, false, "no_capable_handler"
	}
	checks["capability_match"] = h.requires
	return checks, true, ""
}

// runWebhook posts to a public http(s) URL; private, loopback, link-local
// and reserved addresses are refused at dial time (pinned dialer keeps the
// hostname for TLS).
func runWebhook(ctx context.Context, x *Executor, p map[string]any, _ string) Result {
	raw := str(p, "url")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{Error: "URL must be http(s): " + raw}
	}
	method := strings.ToUpper(str(p, "method"))
	if method == "" {
		method = http.MethodPost
	}
	client := x.d.HTTPClient
	if client == nil {
		client = safeClient()
	}
	req, err := http.NewRequestWithContext(ctx, method, raw, nil)
	if err != nil {
		return Result{Error: err.Error()}
	}
	if hs, ok := p["headers"].(map[string]any); ok {
		for k, v := range hs {
			req.Header.Set(strings.NewReplacer("\r", "", "\n", "").Replace(k), strings.NewReplacer("\r", "", "\n", "").Replace(fmt.Sprint(v)))
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "blocked") {
			return Result{Error: "URL blocked by SSRF protection: " + raw}
		}
		return Result{Error: err.Error()}
	}
	resp.Body.Close()
	return Result{Success: resp.StatusCode/100 == 2, Output: fmt.Sprintf("HTTP %d", resp.StatusCode)}
}

func safeClient() *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			if !publicIP(ip.IP) {
				return nil, fmt.Errorf("address %s blocked", ip.IP)
			}
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("no address for %s", host)
		}
		return (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, net.JoinHostPort(ips[0].IP.String(), port))
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dial},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func publicIP(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast())
}
