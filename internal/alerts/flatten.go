package alerts

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/collect"
)

// maxFlat caps the number of metrics one snapshot yields.
const maxFlat = 20000

// numeric coerces a payload value to a number: numbers, booleans (1/0)
// and numeric strings once `°C`, `%` and spaces are stripped (§13 F4).
func numeric(v any) (float64, bool) {
	if b, ok := v.(bool); ok {
		if b {
			return 1, true
		}
		return 0, true
	}
	return collect.Number(v)
}

// Flatten turns a stats snapshot into the metric map conditions read:
// top-level scalars by name, nested objects as `key.field`, lists of
// objects as `key[i].field` (to any depth), plus the history-style aliases
// of §13 F4 (cpu_percent, mem_percent, cpu_temp, gpu_temp, disk_percent =
// the fullest disk, ping_ms = the slowest radar host, net_rx_bytes,
// net_tx_bytes).
func Flatten(snapshot map[string]any) map[string]float64 {
	snap, _ := plain(snapshot).(map[string]any)
	return flattenPlain(snap)
}

// flattenPlain is Flatten on a snapshot already passed through plain.
func flattenPlain(snap map[string]any) map[string]float64 { return flattenSnap(snap, false) }

// flattenSnap flattens a snapshot; skipAgents leaves its agents list out
// (the engine reads one item when a condition names it, agentItem, so
// that thousands of agents are not copied on every evaluation).
func flattenSnap(snap map[string]any, skipAgents bool) map[string]float64 {
	out := make(map[string]float64, 64)
	if skipAgents {
		for k, x := range snap {
			if k != "agents" && validKey(k) {
				flattenInto(out, k, x, 1)
			}
		}
	} else {
		flattenInto(out, "", snap, 0)
	}
	alias := func(name, from string) {
		if _, ok := out[name]; ok {
			return
		}
		if v, ok := out[from]; ok {
			out[name] = v
		}
	}
	alias("cpu_percent", "cpuPercent")
	alias("mem_percent", "memPercent")
	alias("cpu_temp", "cpuTemp")
	alias("gpu_temp", "gpuTemp")
	alias("net_rx_bytes", "netRxRaw")
	alias("net_tx_bytes", "netTxRaw")
	maxOf := func(name, list, field string) {
		if _, ok := out[name]; ok {
			return
		}
		l, _ := snap[list].([]any)
		best, found := 0.0, false
		for _, x := range l {
			m, _ := x.(map[string]any)
			if v, ok := numeric(m[field]); ok && (!found || v > best) {
				best, found = v, true
			}
		}
		if found {
			out[name] = best
		}
	}
	maxOf("disk_percent", "disks", "percent")
	maxOf("ping_ms", "radar", "ms")
	return out
}

func flattenInto(out map[string]float64, prefix string, v any, depth int) {
	if len(out) >= maxFlat || depth > 6 {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if !validKey(k) {
				continue
			}
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flattenInto(out, name, x, depth+1)
		}
	case []any:
		if prefix == "" {
			return
		}
		for i, x := range t {
			if _, isMap := x.(map[string]any); !isMap {
				continue // lists of scalars (cpuHistory...) are series, not metrics
			}
			flattenInto(out, prefix+"["+strconv.Itoa(i)+"]", x, depth+1)
		}
	default:
		if prefix == "" {
			return
		}
		if f, ok := numeric(v); ok {
			out[prefix] = f
		}
	}
}

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
	flattenInto(flat, "agents["+num+"]", plain(item), 1)
	v, found := flat[k]
	return v, found
}

// validKey keeps keys a condition can name.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
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
		out[k] = plain(v)
	}
	return out
}

// plain copies a snapshot into JSON-shaped values (map[string]any, []any,
// float64, string, bool, nil) so typed slices or structs a producer put in
// it read like the JSON payload. The input is never modified.
func plain(v any) any {
	switch t := v.(type) {
	case nil, string, bool, float64:
		return t
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case int32:
		return float64(t)
	case uint64:
		return float64(t)
	case float32:
		return float64(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = plain(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = plain(x)
		}
		return out
	case []map[string]any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = plain(x)
		}
		return out
	case []string:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = x
		}
		return out
	}
	return plainJSON(v)
}

func plainJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}
