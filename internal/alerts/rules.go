package alerts

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/alerts/notify"
	"github.com/noba-go/noba/internal/wire/condition"
)

// Severities a rule may carry.
var severities = []string{"info", "warning", "danger", "critical"}

// Autonomy values of a rule (spec 30 §1.10).
var autonomies = []string{"execute", "notify", "approve", "disabled"}

// DefaultCooldown is a rule's cooldown when it sets none (seconds).
const DefaultCooldown = 300

// Rule is the engine's view of one stored rule (the stored mapping keeps
// every other field untouched).
type Rule struct {
	ID          string
	Condition   string
	Severity    string
	Message     string
	Channels    []string
	Cooldown    int
	Autonomy    string
	HasAutonomy bool
	Action      map[string]any
	Escalation  []Tier
	Raw         map[string]any
}

// Tier is one escalation step.
type Tier struct {
	DelayMinutes float64
	Channels     []string
}

func strOf(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// numOf reads a JSON or YAML number (or a numeric string).
func numOf(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, !math.IsNaN(t) && !math.IsInf(t, 0)
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

func intOf(v any) (int64, bool) {
	f, ok := numOf(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

func strList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ruleOf reads a stored rule with the defaults of spec 10 §5.1.
func ruleOf(m map[string]any) Rule {
	r := Rule{Raw: m, ID: strings.TrimSpace(strOf(m["id"])), Condition: strOf(m["condition"]),
		Severity: strOf(m["severity"]), Message: strOf(m["message"]), Channels: strList(m["channels"]), Cooldown: DefaultCooldown}
	if r.Severity == "" {
		r.Severity = "warning"
	}
	if r.Message == "" {
		r.Message = r.Condition
	}
	if c, ok := intOf(m["cooldown"]); ok && c >= 0 {
		r.Cooldown = int(c)
	}
	if a, ok := m["autonomy"]; ok {
		r.HasAutonomy = true
		r.Autonomy = strOf(a)
	}
	r.Action, _ = m["action"].(map[string]any)
	esc, _ := m["escalation"].([]any)
	for _, e := range esc {
		em, _ := e.(map[string]any)
		if em == nil {
			continue
		}
		d, _ := numOf(em["delay_minutes"])
		r.Escalation = append(r.Escalation, Tier{DelayMinutes: d, Channels: strList(em["channels"])})
	}
	return r
}

// rulesOf reads the alertRules list of the settings.
func rulesOf(settings map[string]any) []map[string]any {
	l, _ := settings["alertRules"].([]any)
	out := make([]map[string]any, 0, len(l))
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func newRuleID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// validateRule checks a rule mapping; the message is shown to the user.
func validateRule(m map[string]any) string {
	c, _ := m["condition"].(string)
	if _, isStr := m["condition"].(string); !isStr && m["condition"] != nil {
		return "condition must be a string"
	}
	if err := condition.Validate(c); err != nil {
		return err.Error()
	}
	if v, ok := m["id"]; ok && v != nil {
		s, isStr := v.(string)
		if !isStr || strings.TrimSpace(s) == "" {
			return "id must be a non-empty string"
		}
		if len(s) > 128 {
			return "id must be at most 128 characters"
		}
	}
	if v, ok := m["severity"]; ok && v != nil {
		if s, _ := v.(string); !oneOf(s, severities) {
			return fmt.Sprintf("Invalid severity %s — expected info, warning, danger or critical", condition.PyRepr(strOf(v)))
		}
	}
	if v, ok := m["message"]; ok && v != nil {
		if _, isStr := v.(string); !isStr {
			return "message must be a string"
		}
	}
	if msg := validateChannels("channels", m["channels"]); msg != "" {
		return msg
	}
	if v, ok := m["cooldown"]; ok && v != nil {
		if c, ok := intOf(v); !ok || c < 0 {
			return "cooldown must be a whole number of seconds (0 or more)"
		}
	}
	if v, ok := m["max_retries"]; ok && v != nil {
		if c, ok := intOf(v); !ok || c < 0 {
			return "max_retries must be a whole number (0 or more)"
		}
	}
	if v, ok := m["autonomy"]; ok && v != nil && v != "" {
		if s, _ := v.(string); !oneOf(s, autonomies) {
			return fmt.Sprintf("Invalid autonomy %s — expected execute, notify, approve or disabled", condition.PyRepr(strOf(v)))
		}
	}
	if v, ok := m["action"]; ok && v != nil {
		if _, isMap := v.(map[string]any); !isMap {
			return "action must be an object or null"
		}
	}
	if v, ok := m["escalation"]; ok && v != nil {
		l, isList := v.([]any)
		if !isList {
			return "escalation must be a list of {delay_minutes, channels}"
		}
		for i, e := range l {
			em, isMap := e.(map[string]any)
			if !isMap {
				return fmt.Sprintf("escalation[%d] must be an object {delay_minutes, channels}", i)
			}
			if d, ok := numOf(em["delay_minutes"]); !ok || d < 0 {
				return fmt.Sprintf("escalation[%d].delay_minutes must be a number of minutes (0 or more)", i)
			}
			if msg := validateChannels(fmt.Sprintf("escalation[%d].channels", i), em["channels"]); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func validateChannels(field string, v any) string {
	if v == nil {
		return ""
	}
	l, ok := v.([]any)
	if !ok {
		return field + " must be a list of channel names"
	}
	for _, x := range l {
		s, _ := x.(string)
		if !notify.IsChannel(s) {
			return fmt.Sprintf("Unknown channel %s in %s — expected %s", condition.PyRepr(strOf(x)), field, strings.Join(notify.Channels, ", "))
		}
	}
	return ""
}

// unmask puts back stored values where a client posted the mask "***"
// (settings answers mask secrets inside rules, spec decision 4).
func unmask(nw, old any) any {
	switch t := nw.(type) {
	case string:
		if t == "***" && old != nil {
			return old
		}
	case map[string]any:
		om, _ := old.(map[string]any)
		out := make(map[string]any, len(t))
		for k, v := range t {
			out[k] = unmask(v, om[k])
		}
		return out
	case []any:
		ol, _ := old.([]any)
		out := make([]any, len(t))
		for i, v := range t {
			var o any
			if i < len(ol) {
				o = ol[i]
			}
			out[i] = unmask(v, o)
		}
		return out
	}
	return nw
}
