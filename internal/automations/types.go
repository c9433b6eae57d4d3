package automations

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/jobs/runner"
	"github.com/noba-go/noba/internal/wire"
)

// Types are the automation types (spec 30 §1.2), sorted.
var Types = []string{"agent_command", "condition", "delay", "http", "notify", "remediation", "script", "service", "webhook", "workflow"}

func knownType(t string) bool {
	i := sort.SearchStrings(Types, t)
	return i < len(Types) && Types[i] == t
}

// builtinScripts maps /api/run script names to their files in ScriptDir.
var builtinScripts = map[string]string{
	"backup": "backup-to-nas.sh", "cloud": "cloud-backup.sh", "verify": "backup-verifier.sh",
	"organize": "organize-downloads.sh", "diskcheck": "disk-sentinel.sh", "check_updates": "noba-update.sh",
}

var serviceRe = regexp.MustCompile(`^[a-zA-Z0-9_.@-]+$`)

// safeArg is an argument an operator may pass to a built-in script: a word
// or a flag, without `=` values, paths or shell characters.
var safeArg = regexp.MustCompile(`^-{0,2}[A-Za-z0-9][A-Za-z0-9_.:@+-]*$`)

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	case int:
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// isGraph reports whether a workflow config is a graph (has nodes).
func isGraph(cfg map[string]any) bool { return len(list(cfg["nodes"])) > 0 }

// validateConfig applies the per-type rules of spec 30 §1.2.
func validateConfig(typ string, cfg map[string]any) error {
	switch typ {
	case "script":
		if str(cfg, "command") == "" && str(cfg, "script") == "" {
			return httpx.Invalid("Script automation requires 'command' or 'script' in config")
		}
	case "webhook":
		if !validURL(str(cfg, "url")) {
			return httpx.Invalid("Webhook requires a valid 'url' in config")
		}
	case "http":
		if !validURL(str(cfg, "url")) {
			return httpx.Invalid("HTTP step requires a valid URL")
		}
	case "service":
		if str(cfg, "service") == "" {
			return httpx.Invalid("Service automation requires 'service' in config")
		}
		if a := str(cfg, "action"); a != "" && a != "start" && a != "stop" && a != "restart" {
			return httpx.Invalid("Service action must be start, stop, or restart")
		}
		if !serviceRe.MatchString(str(cfg, "service")) {
			return httpx.Invalid("Invalid service name")
		}
	case "workflow":
		if _, ok := cfg["nodes"]; ok {
			if !isGraph(cfg) {
				return httpx.Invalid("Workflow requires at least one node")
			}
			return validateGraph(cfg)
		}
		if len(list(cfg["steps"])) == 0 {
			return httpx.Invalid("Workflow requires 'steps' list with at least one automation ID")
		}
		if m := str(cfg, "mode"); m != "" && m != "sequential" && m != "parallel" {
			return httpx.Invalid("Workflow mode must be sequential or parallel")
		}
	case "condition":
		if str(cfg, "condition") == "" {
			return httpx.Invalid("Condition automation requires 'condition'")
		}
		if !validCondition(str(cfg, "condition")) {
			return httpx.Invalid("Invalid condition: expected 'metric operator number' clauses joined by AND or OR (e.g. cpu_percent > 90)")
		}
	case "delay":
		if !truthy(cfg["seconds"]) && !truthy(cfg["duration"]) {
			return httpx.Invalid("Delay requires 'seconds' or 'duration'")
		}
	case "notify":
		if str(cfg, "message") == "" {
			return httpx.Invalid("Notify requires 'message'")
		}
	case "agent_command":
		if str(cfg, "hostname") == "" {
			return httpx.Invalid("agent_command requires 'hostname' in config")
		}
		if str(cfg, "command") == "" {
			return httpx.Invalid("agent_command requires 'command' in config")
		}
		if _, ok := wire.RiskOf(str(cfg, "command")); !ok {
			return httpx.Invalid("Unknown agent command: '%s'", str(cfg, "command"))
		}
	case "remediation":
		if str(cfg, "remediation_type") == "" {
			return httpx.Invalid("Remediation automation requires 'remediation_type' in config")
		}
	default:
		return httpx.Invalid("Type must be one of: %s", strings.Join(Types, ", "))
	}
	return nil
}

// requirement is the least role a config needs and why.
type requirement struct {
	role   authz.Role
	reason string
}

func (q requirement) allows(role authz.Role) bool { return role.Rank() >= q.role.Rank() }

// requiredRole is the role an automation of typ with cfg needs (spec 30
// §8.1): shell commands, free script arguments, high-risk agent commands
// and high-risk (or unknown, or `run`) remediation actions are admin-only.
func requiredRole(typ string, cfg map[string]any, rem Remediator) requirement {
	op := requirement{role: authz.OperatorRole}
	switch typ {
	case "script":
		if str(cfg, "command") != "" {
			return requirement{authz.AdminRole, "Custom script commands require admin role"}
		}
		for _, a := range scriptArgs(cfg["args"]) {
			if !safeArg.MatchString(a) {
				return requirement{authz.AdminRole, fmt.Sprintf("Script argument '%s' requires admin role", a)}
			}
		}
	case "agent_command":
		cmd := str(cfg, "command")
		risk, ok := wire.RiskOf(cmd)
		if !ok || !wire.Allowed(string(authz.OperatorRole), risk) {
			return requirement{authz.AdminRole, fmt.Sprintf("Agent command '%s' requires admin role", cmd)}
		}
	case "remediation":
		action := str(cfg, "remediation_type")
		if action == "run" || rem == nil {
			return requirement{authz.AdminRole, fmt.Sprintf("Remediation action '%s' requires admin role", action)}
		}
		if risk, ok := rem.Risk(action); !ok || risk == "high" {
			return requirement{authz.AdminRole, fmt.Sprintf("Remediation action '%s' requires admin role", action)}
		}
	case "workflow":
		for _, n := range list(cfg["nodes"]) {
			typ, inner, ok := actionOf(obj(n))
			if !ok {
				continue
			}
			if q := requiredRole(typ, inner, rem); q.role == authz.AdminRole {
				return q
			}
		}
	}
	return op
}

// scriptArgs reads args: a string is split like a shell would (falling
// back to whitespace on a quoting error), a list keeps its non-blank items.
func scriptArgs(v any) []string {
	switch x := v.(type) {
	case string:
		if w, ok := shellSplit(x); ok {
			return w
		}
		return strings.Fields(x)
	case []any:
		var out []string
		for _, it := range x {
			s := strings.TrimSpace(fmt.Sprint(it))
			if it != nil && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// shellSplit splits s into words with POSIX quoting rules.
func shellSplit(s string) ([]string, bool) {
	var out []string
	var cur strings.Builder
	in, quote, esc := false, rune(0), false
	for _, c := range s {
		switch {
		case esc:
			cur.WriteRune(c)
			esc, in = false, true
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				esc = true
			} else {
				cur.WriteRune(c)
			}
		case c == '\\':
			esc, in = true, true
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(c)
			in = true
		}
	}
	if quote != 0 || esc {
		return nil, false
	}
	if in {
		out = append(out, cur.String())
	}
	return out, true
}

// buildSpec turns a single-type automation into a runner job. A job whose
// work cannot be built is recorded failed by the runner.
func (r *Room) buildSpec(typ string, cfg map[string]any, by string) runner.Spec {
	var sp runner.Spec
	switch typ {
	case "script":
		sp.Command = r.scriptCommand(cfg)
		if t, ok := numeric(cfg["timeout"]); ok && t > 0 {
			sp.Timeout = time.Duration(t * float64(time.Second))
		}
	case "service":
		svc, action := str(cfg, "service"), str(cfg, "action")
		if action == "" {
			action = "restart"
		}
		if serviceRe.MatchString(svc) && (action == "start" || action == "stop" || action == "restart") {
			if truthy(cfg["is_user"]) {
				sp.Command = &runner.Command{Argv: []string{"systemctl", "--user", action, svc}}
			} else {
				sp.Command = &runner.Command{Argv: []string{"sudo", "-n", "systemctl", "--no-ask-password", action, svc}}
			}
		}
	case "webhook", "http":
		c := cfg
		sp.Func = func(ctx context.Context, out io.Writer) (int, error) { return r.httpJob(ctx, typ, c, out), nil }
	case "delay":
		secs := 10
		if v, ok := numeric(cfg["seconds"]); ok && v > 0 {
			secs = int(v)
		} else if v, ok := numeric(cfg["duration"]); ok && v > 0 {
			secs = int(v)
		}
		sp.Func = func(ctx context.Context, out io.Writer) (int, error) {
			t := time.NewTimer(time.Duration(secs) * time.Second)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return 1, ctx.Err()
			case <-t.C:
			}
			say(out, "Waited %ds\n", secs)
			return 0, nil
		}
	case "notify":
		msg, level := str(cfg, "message"), str(cfg, "level")
		if msg == "" {
			msg = "Automation notification"
		}
		if level == "" {
			level = "info"
		}
		chans := strList(cfg["channels"])
		sp.Func = func(ctx context.Context, out io.Writer) (int, error) {
			r.notify(level, str(cfg, "title"), msg, chans)
			say(out, "Notification sent: %s\n", msg)
			return 0, nil
		}
	case "condition":
		expr := str(cfg, "condition")
		sp.Func = func(ctx context.Context, out io.Writer) (int, error) {
			if evalCondition(expr, r.metrics()) {
				say(out, "Condition '%s' is true\n", expr)
				return 0, nil
			}
			say(out, "Condition '%s' is false\n", expr)
			return 1, nil
		}
	case "agent_command":
		sp.Func = func(ctx context.Context, out io.Writer) (int, error) { return r.agentJob(ctx, cfg, by, out), nil }
	case "remediation":
		sp.Func = func(ctx context.Context, out io.Writer) (int, error) {
			rem := r.remediator()
			if rem == nil {
				say(out, "%s\n", "Remediation is not available: the healing room is not running")
				return 1, nil
			}
			res := rem.Execute(ctx, str(cfg, "remediation_type"), obj(cfg["params"]), "workflow", "0", str(cfg, "target"), by)
			_, _ = io.WriteString(out, res.Output)
			if res.Error != "" {
				say(out, "\nError: %s", res.Error)
			}
			if res.Success {
				return 0, nil
			}
			return 1, nil
		}
	}
	return sp
}

func strList(v any) []string {
	var out []string
	for _, x := range list(v) {
		if s, ok := x.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// scriptCommand builds the process of a script automation: a built-in
// script that exists in ScriptDir, or bash -c command.
func (r *Room) scriptCommand(cfg map[string]any) *runner.Command {
	if name := str(cfg, "script"); name != "" {
		if c := r.builtinCommand(name, scriptArgs(cfg["args"])); c != nil {
			return c
		}
	}
	if cmd := str(cfg, "command"); cmd != "" {
		return &runner.Command{Argv: []string{shell(), "-c", cmd}}
	}
	return nil
}

func shell() string {
	if p, err := exec.LookPath("bash"); err == nil {
		return p
	}
	return "sh"
}

// builtinCommand is the process of a built-in script (spec 30 §1.13), nil
// when it is unknown or not installed.
func (r *Room) builtinCommand(name string, args []string) *runner.Command {
	switch name {
	case "speedtest":
		p, err := exec.LookPath("speedtest-cli")
		if err != nil {
			return nil
		}
		return &runner.Command{Argv: append([]string{p, "--simple"}, args...)}
	case "custom":
		if len(args) == 0 {
			return nil
		}
		for _, a := range list(r.settings()["customActions"]) {
			m := obj(a)
			if str(m, "id") == args[0] && str(m, "command") != "" {
				return &runner.Command{Argv: []string{shell(), "-c", str(m, "command")}}
			}
		}
		return nil
	}
	file, ok := builtinScripts[name]
	if !ok || r.d.ScriptDir == "" {
		return nil
	}
	path := filepath.Join(r.d.ScriptDir, file)
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		return nil
	}
	return &runner.Command{Argv: append([]string{path, "--verbose"}, args...), Dir: r.d.ScriptDir}
}

// settings is the flat settings dict in force, shared by every reader:
// read it, never modify it (no copy per read).
func (r *Room) settings() map[string]any {
	if r.d.Settings == nil {
		return map[string]any{}
	}
	return r.d.Settings.View()
}

// metrics is the flat metric view of the latest collector snapshot (spec
// 30 §0.4 with its fix: nested and list values as key.field and
// key[i].field, and the snake_case headline names including disk_percent,
// which the built-in disk-cleanup template's condition reads); empty
// before the first collection. Read-only.
func (r *Room) metrics() map[string]float64 {
	if r.d.Stats == nil {
		return nil
	}
	if s := r.d.Stats.Snapshot(); s != nil {
		return s.Metrics()
	}
	return nil
}

func (r *Room) notify(level, title, msg string, channels []string) {
	if r.d.Notify == nil {
		return
	}
	if title == "" {
		title = "Automation"
	}
	r.goBG(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.d.Notify.Notify(ctx, level, title, msg, channels); err != nil {
			r.d.Log.Warn("automation notification failed", "err", err)
		}
	})
}

// httpJob performs the request of a webhook or http automation: 30 s
// timeout, no redirects, response read up to the cap; webhooks with a
// secret sign the body (X-Noba-Signature).
func (r *Room) httpJob(ctx context.Context, typ string, cfg map[string]any, out io.Writer) int {
	start := time.Now()
	method := strings.ToUpper(str(cfg, "method"))
	if method == "" {
		method = "GET"
		if typ == "webhook" {
			method = "POST"
		}
	}
	var body []byte
	ctype := ""
	switch b := cfg["body"].(type) {
	case map[string]any, []any:
		body, _ = json.Marshal(b)
		ctype = "application/json"
	case string:
		body = []byte(b)
	}
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	fail := func(err error) int {
		say(out, "Request failed: %v\n--- HTTP 0 (%.3fs) ---", err, time.Since(start).Seconds())
		return 1
	}
	req, err := http.NewRequestWithContext(ctx, method, str(cfg, "url"), rd)
	if err != nil {
		return fail(err)
	}
	for k, v := range obj(cfg["headers"]) {
		s, _ := v.(string)
		req.Header.Set(stripNL(k), stripNL(s))
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	switch {
	case typ == "webhook" && str(cfg, "secret") != "" && body != nil:
		mac := hmac.New(sha256.New, []byte(str(cfg, "secret")))
		mac.Write(body)
		req.Header.Set("X-Noba-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	case typ == "http" && str(cfg, "auth_type") == "bearer":
		req.Header.Set("Authorization", "Bearer "+str(cfg, "auth_token"))
	case typ == "http" && str(cfg, "auth_type") == "basic":
		req.SetBasicAuth(str(cfg, "auth_user"), str(cfg, "auth_pass"))
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	text, trunc, _ := readCapped(resp.Body)
	_, _ = io.WriteString(out, text)
	if trunc {
		_, _ = io.WriteString(out, "\n[response truncated]")
	}
	say(out, "\n--- HTTP %d (%.3fs) ---", resp.StatusCode, time.Since(start).Seconds())
	if resp.StatusCode < 400 {
		return 0
	}
	return 1
}

// say writes job output; a failed write to the output buffer cannot be acted on.
func say(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }

func stripNL(s string) string { return strings.NewReplacer("\r", "", "\n", "").Replace(s) }

// agentJob sends an agent command and waits for its result (spec 30 §1.2).
func (r *Room) agentJob(ctx context.Context, cfg map[string]any, by string, out io.Writer) int {
	if r.d.Agents == nil {
		say(out, "%s\n", "agent_command timed out")
		return 1
	}
	host, cmd := str(cfg, "hostname"), str(cfg, "command")
	timeout := 30 * time.Second
	if t, ok := numeric(cfg["timeout"]); ok && t > 0 {
		timeout = time.Duration(t * float64(time.Second))
	}
	params := obj(cfg["params"])
	if params == nil {
		params = map[string]any{}
	}
	res, err := r.d.Agents.Run(ctx, host, cmd, params, by, timeout)
	if err != nil {
		say(out, "agent_command error: %v", err)
		return 1
	}
	if res == nil {
		say(out, "%s", "agent_command timed out")
		return 1
	}
	if host == "__all__" {
		results := obj(res["results"])
		if len(results) == 0 {
			say(out, "%s", "agent_command timed out")
			return 1
		}
		var bad []string
		for h, v := range results {
			m := obj(v)
			if m == nil || str(m, "status") == "error" {
				bad = append(bad, h)
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			say(out, "agent_command %s failed on: %s", cmd, strings.Join(bad, ", "))
			return 1
		}
		say(out, "agent_command %s succeeded on %d agents", cmd, len(results))
		return 0
	}
	if str(res, "status") == "error" {
		say(out, "agent_command error: %s", str(res, "error"))
		return 1
	}
	say(out, "agent_command %s on %s: %s", cmd, host, str(res, "status"))
	if o := str(res, "output"); o != "" {
		say(out, "\n%s", o)
	}
	return 0
}

// secretKey reports whether a config key names a secret.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "key") || strings.Contains(k, "secret") || strings.Contains(k, "token") || strings.Contains(k, "pass")
}

// masked is what a secret config value is replaced with in responses.
const masked = "********"

// maskConfig returns a copy of cfg with secret-named values masked, at any depth.
func maskConfig(cfg map[string]any) map[string]any {
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		switch x := v.(type) {
		case map[string]any:
			out[k] = maskConfig(x)
		case []any:
			l := make([]any, len(x))
			for i, it := range x {
				if m, ok := it.(map[string]any); ok {
					l[i] = maskConfig(m)
				} else {
					l[i] = it
				}
			}
			out[k] = l
		default:
			if secretKey(k) && truthy(v) {
				out[k] = masked
			} else {
				out[k] = v
			}
		}
	}
	return out
}

// keepSecrets puts back stored secrets where an update posts the mask.
func keepSecrets(next, old map[string]any) {
	for k, v := range next {
		switch x := v.(type) {
		case map[string]any:
			if o := obj(old[k]); o != nil {
				keepSecrets(x, o)
			}
		case string:
			if x == masked && secretKey(k) {
				if ov, ok := old[k]; ok {
					next[k] = ov
				} else {
					delete(next, k)
				}
			}
		}
	}
}
