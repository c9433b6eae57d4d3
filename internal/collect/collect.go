// Package collect gathers host metrics, node_exporter style: one collector
// per file, a registry, parsing separated from reading, the filesystem root
// injectable so tests read fixtures. The server's stats room and the agent
// both use it.
package collect

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Source produces one snapshot: the /api/stats payload as a JSON object
// (keys and shapes of spec 10 §4.2). Consumers treat it as read-only.
type Source interface {
	Collect(ctx context.Context) (map[string]any, error)
}

// SourceFunc adapts a function to a Source (tests feed fixtures this way).
type SourceFunc func(ctx context.Context) (map[string]any, error)

// Collect implements Source.
func (f SourceFunc) Collect(ctx context.Context) (map[string]any, error) { return f(ctx) }

// Number reads a numeric payload value: JSON and Go numbers, and numeric
// strings once a unit (`°C`, `°F`, `%`) and spaces are stripped ("45°C",
// "78%"). NaN, infinities and anything else are not numbers.
func Number(v any) (float64, bool) {
	var f float64
	switch t := v.(type) {
	case float64:
		f = t
	case float32:
		f = float64(t)
	case int:
		f = float64(t)
	case int32:
		f = float64(t)
	case int64:
		f = float64(t)
	case uint64:
		f = float64(t)
	case json.Number:
		x, err := t.Float64()
		if err != nil {
			return 0, false
		}
		f = x
	case string:
		s := strings.TrimSpace(unitStripper.Replace(t))
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false
		}
		f = x
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

var unitStripper = strings.NewReplacer("°C", "", "°F", "", "%", "")
