package intelligence

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/intelligence/llm"
)

// Action is a remediation the assistant proposed; it is only returned,
// never executed by the server.
type Action struct {
	Cmd      string `json:"cmd"`
	Hostname string `json:"hostname"`
	Params   string `json:"params"`
}

var actionRE = regexp.MustCompile(`\[ACTION:([^:\]]+):([^:\]]+)(?::([^\]]*))?\]`)

// ExtractActions finds every [ACTION:cmd:host(:params)?] of text.
func ExtractActions(text string) []Action {
	out := []Action{}
	for _, m := range actionRE.FindAllStringSubmatch(text, -1) {
		out = append(out, Action{Cmd: strings.TrimSpace(m[1]), Hostname: strings.TrimSpace(m[2]), Params: strings.TrimSpace(m[3])})
	}
	return out
}

// secrets are the values of every secret setting (a key whose masked
// value differs from its value), at any depth.
func (r *Room) secrets() []string {
	if r.d.Settings == nil {
		return nil
	}
	var out []string
	var walk func(v, masked any)
	walk = func(v, masked any) {
		switch x := v.(type) {
		case string:
			if m, ok := masked.(string); !ok || m != x {
				out = append(out, x)
			}
		case map[string]any:
			mm, _ := masked.(map[string]any)
			for k, vv := range x {
				walk(vv, mm[k])
			}
		case []any:
			ml, _ := masked.([]any)
			for i, vv := range x {
				var mv any
				if i < len(ml) {
					mv = ml[i]
				}
				walk(vv, mv)
			}
		default:
			if !reflect.DeepEqual(v, masked) && v != nil {
				out = append(out, fmt.Sprint(v))
			}
		}
	}
	walk(r.d.Settings.View(), r.d.Settings.Masked())
	return out
}

func (r *Room) llmConfig() llm.Config {
	if r.d.Settings == nil {
		return llm.Config{}
	}
	return llm.FromSettings(r.d.Settings.View())
}

// ask sends a request to the configured provider with every secret value
// scrubbed from it, and maps the failures to the answers of spec 30 §4.4.
// Input is validated before ask is called, so that a bad request is a
// 400 whether or not an LLM is configured.
func (r *Room) ask(ctx context.Context, cfg llm.Config, req llm.Request, failMsg string) (string, error) {
	if !cfg.Enabled {
		return "", httpx.Unavailable("LLM not configured")
	}
	return r.send(ctx, cfg, req, failMsg, httpx.Unavailable)
}

func (r *Room) send(ctx context.Context, cfg llm.Config, req llm.Request, failMsg string, cfgErr func(string, ...any) error) (string, error) {
	text, err := r.d.LLM.Complete(ctx, cfg, llm.Redact(req, r.secrets()))
	switch {
	case errors.Is(err, llm.ErrNotConfigured):
		// [fix] spec 30 §8.2: a configuration error is not a 200 answer.
		return "", cfgErr("%s", err.Error())
	case err != nil:
		r.d.Log.Warn("llm request", "provider", cfg.Kind(), "err", err)
		return "", httpx.BadGateway("%s", failMsg)
	}
	return text, nil
}

type aiStatusOut struct {
	Body struct {
		Enabled  bool   `json:"enabled"`
		Provider string `json:"provider"`
		Model    string `json:"model"`
	}
}

func (r *Room) aiStatus(_ context.Context, _ *struct{}) (*aiStatusOut, error) {
	c := r.llmConfig()
	out := &aiStatusOut{}
	out.Body.Enabled, out.Body.Provider, out.Body.Model = c.Enabled, c.Provider, c.Model
	return out, nil
}

type aiOut struct {
	Body struct {
		Response string   `json:"response"`
		Actions  []Action `json:"actions"`
	}
}

func answer(text string) *aiOut {
	o := &aiOut{}
	o.Body.Response, o.Body.Actions = text, ExtractActions(text)
	return o
}

// maxChatChars bounds a chat message and each history item.
const maxChatChars = 20000

const actionHint = "If a remediation can be executed, include it as [ACTION:command_type:hostname:params]."

func (r *Room) aiChat(ctx context.Context, in *bodyIn) (*aiOut, error) {
	cfg := r.llmConfig()
	msg := bodyStr(in.Body, "message")
	if msg == "" {
		return nil, httpx.Invalid("message is required")
	}
	if len(msg) > maxChatChars {
		return nil, httpx.Invalid("message must be at most %d characters", maxChatChars)
	}
	var hist []llm.Message
	if list, ok := in.Body["history"].([]any); ok {
		for _, v := range list {
			m, _ := v.(map[string]any)
			role, _ := m["role"].(string)
			content, _ := m["content"].(string)
			if (role == "user" || role == "assistant") && strings.TrimSpace(content) != "" {
				hist = append(hist, llm.Message{Role: role, Content: clipChars(content, maxChatChars)})
			}
		}
	}
	if len(hist) > 20 {
		hist = hist[len(hist)-20:]
	}
	text, err := r.ask(ctx, cfg, llm.Request{System: r.opsContext(ctx), Messages: append(hist, llm.Message{Role: "user", Content: msg})}, "LLM request failed")
	if err != nil {
		return nil, err
	}
	return answer(text), nil
}

type alertIDIn struct {
	AlertID string `path:"alert_id"`
}

func (r *Room) aiAnalyzeAlert(ctx context.Context, in *alertIDIn) (*aiOut, error) {
	cfg := r.llmConfig()
	id, err := parseID("alert_id", in.AlertID)
	if err != nil {
		return nil, err
	}
	var found *Alert
	if r.d.Alerts != nil {
		as, err := r.d.Alerts.Recent(ctx, 100)
		if err != nil {
			return nil, err
		}
		for i := range as {
			if as[i].ID == id {
				found = &as[i]
			}
		}
	}
	if found == nil {
		return nil, httpx.NotFound("Alert not found")
	}
	resolved := "No"
	if found.ResolvedAt != nil {
		resolved = "Yes"
	}
	prompt := fmt.Sprintf("Analyse this alert, explain its likely cause and suggest remediation.\n\nRule: %s\nSeverity: %s\nMessage: %s\nTime (epoch): %d\nResolved: %s\n\n%s",
		found.RuleID, found.Severity, found.Message, found.Timestamp, resolved, actionHint)
	text, err := r.ask(ctx, cfg, llm.Request{System: r.opsContext(ctx), Messages: []llm.Message{{Role: "user", Content: prompt}}}, "LLM request failed")
	if err != nil {
		return nil, err
	}
	return answer(text), nil
}

// maxLogChars is how much of a log excerpt is sent.
const maxLogChars = 8000

func (r *Room) aiAnalyzeLogs(ctx context.Context, in *bodyIn) (*aiOut, error) {
	cfg := r.llmConfig()
	logs := bodyStr(in.Body, "logs")
	if logs == "" {
		return nil, httpx.Invalid("logs field is required")
	}
	if len(logs) > maxLogChars {
		logs = clipChars(logs, maxLogChars) + "\n... (truncated)"
	}
	prompt := "Analyse these logs: identify issues, errors and anomalies, explain what they mean and suggest fixes.\n\n```\n" +
		logs + "\n```\n\n" + actionHint
	text, err := r.ask(ctx, cfg, llm.Request{System: r.opsContext(ctx), Messages: []llm.Message{{Role: "user", Content: prompt}}}, "LLM request failed")
	if err != nil {
		return nil, err
	}
	return answer(text), nil
}

func (r *Room) aiSummarizeIncident(ctx context.Context, in *idIn) (*aiOut, error) {
	cfg := r.llmConfig()
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	inc, err := r.d.Store.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	status := "Open"
	if inc.ResolvedAt > 0 {
		status = "Resolved"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Write an incident report: a root-cause hypothesis, an impact assessment and next steps.\n\nID: %d\nSeverity: %s\nSource: %s\nTitle: %s\nDetails: %s\nStatus: %s\n",
		inc.ID, inc.Severity, inc.Source, inc.Title, inc.Details, status)
	if inc.AssignedTo != "" {
		fmt.Fprintf(&b, "Assigned to: %s\n", inc.AssignedTo)
	}
	if ms, err := r.d.Store.Messages(ctx, id, 50); err == nil && len(ms) > 0 {
		b.WriteString("\nWar room:\n")
		for _, m := range ms {
			fmt.Fprintf(&b, "- [%s] %s: %s\n", m.MsgType, m.Author, clipChars(m.Message, 500))
		}
	}
	b.WriteString("\n" + actionHint)
	text, err := r.ask(ctx, cfg, llm.Request{System: r.opsContext(ctx), Messages: []llm.Message{{Role: "user", Content: b.String()}}}, "LLM request failed")
	if err != nil {
		return nil, err
	}
	return answer(text), nil
}

type aiTestOut struct {
	Body struct {
		Status   string `json:"status"`
		Response string `json:"response"`
	}
}

// aiTest tests the configured provider whether or not the assistant is
// enabled yet (an admin tests before enabling); a configuration the
// request cannot be sent with is a 400 naming what to set.
func (r *Room) aiTest(ctx context.Context, _ *struct{}) (*aiTestOut, error) {
	text, err := r.send(ctx, r.llmConfig(), llm.Request{System: "You are a connection test. Reply with exactly the text requested.",
		Messages: []llm.Message{{Role: "user", Content: "Reply with exactly: NOBA AI connection successful."}}}, "LLM connection test failed", httpx.Invalid)
	if err != nil {
		return nil, err
	}
	out := &aiTestOut{}
	out.Body.Status, out.Body.Response = "ok", strings.TrimSpace(text)
	return out, nil
}

// opsContext is the system prompt: the fleet, active alerts and recent
// incidents (spec 30 §4.4). It carries names and figures only: no
// setting, key or token is ever read into it, and ask scrubs every secret
// value besides.
func (r *Room) opsContext(ctx context.Context) string {
	lines := []string{
		fmt.Sprintf("You are the NOBA Ops Assistant for server '%s'.", r.d.Hostname),
		"You help the operators of this homelab diagnose issues, analyse alerts, suggest fixes and explain the infrastructure's status.",
		"When you propose a command that could be executed, write it as [ACTION:command_type:hostname:params].",
		"Valid command types: exec, restart_service, update_agent, set_interval, ping, get_logs, check_service, network_test, package_updates.",
		"",
	}
	var on, off []string
	var cpu, mem, disk float64
	var nDisk int
	if r.d.Agents != nil {
		for _, a := range r.d.Agents.List() {
			if !a.Online {
				off = append(off, a.Hostname)
				continue
			}
			on = append(on, a.Hostname)
			cpu += a.CPU
			mem += a.Mem
			if a.Disk >= 0 {
				disk += a.Disk
				nDisk++
			}
		}
	}
	sort.Strings(on)
	sort.Strings(off)
	lines = append(lines, fmt.Sprintf("## Fleet: %d agents online, %d offline", len(on), len(off)))
	if len(on) > 0 {
		lines = append(lines, "Online: "+strings.Join(on, ", "))
	}
	if len(off) > 0 {
		lines = append(lines, "Offline: "+strings.Join(off, ", "))
	}
	if len(on) > 0 {
		d := 0.0
		if nDisk > 0 {
			d = disk / float64(nDisk)
		}
		lines = append(lines, fmt.Sprintf("Averages across online agents: CPU %.1f%%, RAM %.1f%%, Disk %.1f%%", cpu/float64(len(on)), mem/float64(len(on)), d))
	}
	lines = append(lines, "")
	if r.d.Alerts == nil {
		lines = append(lines, "## Active Alerts: 0")
	} else if as, err := r.d.Alerts.Recent(ctx, 20); err != nil {
		lines = append(lines, "## Active Alerts: unable to query")
	} else {
		var active []Alert
		for _, a := range as {
			if a.ResolvedAt == nil {
				active = append(active, a)
			}
		}
		lines = append(lines, fmt.Sprintf("## Active Alerts: %d", len(active)))
		for i, a := range active {
			if i == 5 {
				break
			}
			lines = append(lines, fmt.Sprintf("- [%s] %s (rule: %s)", a.Severity, a.Message, a.RuleID))
		}
	}
	lines = append(lines, "")
	if is, err := r.d.Store.Incidents(ctx, r.d.Now().Add(-48*time.Hour).Unix(), 5); err != nil {
		lines = append(lines, "## Recent Incidents: unable to query")
	} else {
		lines = append(lines, fmt.Sprintf("## Recent Incidents (%d in last 48h)", len(is)))
		for i, inc := range is {
			if i == 3 {
				break
			}
			st := "open"
			if inc.ResolvedAt > 0 {
				st = "resolved"
			}
			lines = append(lines, fmt.Sprintf("- [%s] %s (%s)", inc.Severity, inc.Title, st))
		}
	}
	lines = append(lines, "", "Respond concisely. Use markdown formatting. If the user asks about a specific host or alert, focus on that.")
	return strings.Join(lines, "\n")
}

func clipChars(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// cut on a rune boundary
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
