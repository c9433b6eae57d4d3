package alerts

import (
	"sort"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/events"
)

// numeric coerces a payload value to a number: numbers, booleans (1/0)
// and numeric strings once `°C`, `%` and spaces are stripped (§13 F4).
func numeric(v any) (float64, bool) { return events.MetricValue(v) }

// Flatten turns a stats snapshot into the metric map conditions read
// (events.Flatten: top-level scalars, key.field, key[i].field, and the
// history-style aliases of §13 F4).
func Flatten(snapshot map[string]any) map[string]float64 { return events.Flatten(snapshot) }

// agentItem resolves `agents[i].<path>` against the snapshot's agents list.
func agentItem(snap map[string]any, k string) (float64, bool) {
	rest := strings.TrimPrefix(k, "agents[")
	num, _, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 {
		return 0, false
	}
	var item any
	switch l := snap["agents"].(type) {
	case []any:
		if i < len(l) {
			item = l[i]
		}
	case []map[string]any:
		if i < len(l) {
			item = l[i]
		}
	}
	if item == nil {
		return 0, false
	}
	flat := map[string]float64{}
	events.FlattenValue(flat, "agents["+num+"]", item)
	v, found := flat[k]
	return v, found
}

// agentPrefix names an agent's metrics: agent_<host>, the host reduced to
// letters, digits and underscores.
func agentPrefix(host string) string {
	var b strings.Builder
	b.WriteString("agent_")
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// plainSnapshot is plain on a stats snapshot, except its agents list,
// which is kept as it is (agentItem reads one item when asked).
func plainSnapshot(snapshot map[string]any) map[string]any {
	out := make(map[string]any, len(snapshot))
	for k, v := range snapshot {
		if k == "agents" {
			out[k] = v
			continue
		}
		out[k] = events.Plain(v)
	}
	return out
}
