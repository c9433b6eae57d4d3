package automations

import (
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/wire/condition"
)

// validCondition reports whether expr parses in NOBA's one condition
// grammar (internal/wire/condition, shared with alert rules, healing and
// the agent).
func validCondition(expr string) bool { return condition.Validate(expr) == nil }

// evalCondition evaluates expr (spec 30 §0.4) against the flat metrics
// (events.Snapshot.Metrics). A missing metric makes its clause false; an
// unparsable condition is false.
func evalCondition(expr string, metrics map[string]float64) bool {
	c, err := condition.Parse(expr)
	if err != nil {
		return false
	}
	return c.Eval(func(k string) (float64, bool) {
		v, ok := metrics[k]
		return v, ok
	})
}

func numeric(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}
