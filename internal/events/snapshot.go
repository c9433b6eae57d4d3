package events

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
)

// Snapshot is one stats collection of this server: the headline metrics
// typed, the flattened metric view conditions are evaluated against, and
// the /api/stats payload they were read from (free-form where the payload
// is: integration blocks, agents, plugins). Build it with NewSnapshot;
// read-only once published, and never copied by value.
type Snapshot struct {
	// Timestamp is Unix seconds (0 when the payload has none).
	Timestamp int64
	// CPUPercent, MemPercent, CPUTemp and GPUTemp are NaN when the host did
	// not measure them.
	CPUPercent float64
	MemPercent float64
	CPUTemp    float64
	GPUTemp    float64
	Disks      []Disk
	Services   []Service
	// Agents is the number of agents in the payload.
	Agents int
	// Payload is the /api/stats object; never modify it.
	Payload map[string]any

	flatOnce sync.Once
	flat     map[string]float64
}

// Disk is one mounted filesystem of a snapshot.
type Disk struct {
	Mount   string
	Percent float64
}

// Service is one watched systemd unit of a snapshot.
type Service struct {
	Name   string
	Status string
}

// NewSnapshot reads the typed fields of an /api/stats payload (spec 10
// §4.2 keys); payload becomes the snapshot's Payload and must not change
// afterwards.
func NewSnapshot(payload map[string]any) *Snapshot {
	f := func(keys ...string) float64 {
		for _, k := range keys {
			if v, ok := Number(payload[k]); ok {
				return v
			}
		}
		return math.NaN()
	}
	s := &Snapshot{CPUPercent: f("cpuPercent", "cpu_percent"), MemPercent: f("memPercent", "mem_percent"),
		CPUTemp: f("cpu_temp", "cpuTemp"), GPUTemp: f("gpu_temp", "gpuTemp"), Payload: payload}
	if ts, ok := Number(payload["timestamp"]); ok {
		s.Timestamp = int64(ts)
	}
	for _, d := range Objects(payload["disks"]) {
		if p, ok := Number(d["percent"]); ok {
			m, _ := d["mount"].(string)
			s.Disks = append(s.Disks, Disk{Mount: m, Percent: p})
		}
	}
	for _, sv := range Objects(payload["services"]) {
		n, _ := sv["name"].(string)
		st, _ := sv["status"].(string)
		s.Services = append(s.Services, Service{Name: n, Status: st})
	}
	switch a := payload["agents"].(type) {
	case []map[string]any:
		s.Agents = len(a)
	case []any:
		s.Agents = len(a)
	}
	return s
}

// Metrics is the flat metric view every condition is evaluated against
// (alert rules, the condition automation and graph node, heal
// re-checks and verification): Flatten without the agents list, whose
// items are other hosts' metrics (alert rules read one item when a
// condition names it, and thousands of agents would make every ledger
// row huge). Computed once per snapshot, on first use; read-only.
func (s *Snapshot) Metrics() map[string]float64 {
	s.flatOnce.Do(func() { s.flat = flatten(s.Payload, true) })
	return s.flat
}

// maxFlat caps the number of metrics one payload yields.
const maxFlat = 20000

// Flatten turns an /api/stats payload into the metric map conditions
// read (spec 10 §13 F4, a superset of spec 30 §0.4): top-level scalars by
// name, nested objects as key.field, lists of objects as key[i].field (to
// depth 6, at most 20,000 metrics), numbers, booleans (1/0) and numeric
// strings once a unit is stripped; plus the history names cpu_percent,
// mem_percent, cpu_temp, gpu_temp, net_rx_bytes and net_tx_bytes,
// disk_percent as the fullest filesystem and ping_ms as the slowest radar
// host. Lists of scalars (cpuHistory...) are series, not metrics.
func Flatten(payload map[string]any) map[string]float64 { return flatten(payload, false) }

func flatten(payload map[string]any, skipAgents bool) map[string]float64 {
	out := make(map[string]float64, 64)
	for k, x := range payload {
		if (skipAgents && k == "agents") || !validKey(k) {
			continue
		}
		FlattenValue(out, k, x)
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
		best, found := 0.0, false
		for _, m := range Objects(Plain(payload[list])) {
			if v, ok := MetricValue(m[field]); ok && (!found || v > best) {
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

// FlattenValue adds the metrics of one payload value, named prefix, to
// out (the rules of Flatten).
func FlattenValue(out map[string]float64, prefix string, v any) { flattenInto(out, prefix, v, 1) }

func flattenInto(out map[string]float64, prefix string, v any, depth int) {
	if len(out) >= maxFlat || depth > 6 {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if validKey(k) {
				flattenInto(out, prefix+"."+k, x, depth+1)
			}
		}
	case []map[string]any:
		for i, x := range t {
			flattenInto(out, prefix+"["+strconv.Itoa(i)+"]", x, depth+1)
		}
	case []any:
		for i, x := range t {
			switch x.(type) {
			case map[string]any:
			case nil, string, bool, float64, float32, int, int32, int64, uint64, json.Number:
				continue // lists of scalars (cpuHistory...) are series, not metrics
			default:
				if x = Plain(x); x == nil {
					continue
				}
				if _, isMap := x.(map[string]any); !isMap {
					continue
				}
			}
			flattenInto(out, prefix+"["+strconv.Itoa(i)+"]", x, depth+1)
		}
	case nil, string, bool, float64, float32, int, int32, int64, uint64, json.Number:
		if f, ok := MetricValue(t); ok {
			out[prefix] = f
		}
	default:
		// Typed values a producer put in the payload (structs, typed
		// slices) read as their JSON.
		if p := Plain(t); p != nil {
			switch p.(type) {
			case map[string]any, []any:
				flattenInto(out, prefix, p, depth)
			}
		}
	}
}

// metricValue is Number, with booleans as 1 and 0.
func MetricValue(v any) (float64, bool) {
	if b, ok := v.(bool); ok {
		if b {
			return 1, true
		}
		return 0, true
	}
	return Number(v)
}

// validKey keeps the keys a condition can name.
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

// Plain copies a payload value into JSON-shaped values (map[string]any,
// []any, float64, string, bool, nil), so typed slices or structs a
// producer put in it read like the JSON payload. v is never modified.
func Plain(v any) any {
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
			out[k] = Plain(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = Plain(x)
		}
		return out
	case []map[string]any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = Plain(x)
		}
		return out
	case []string:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = x
		}
		return out
	}
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

// Objects returns a payload list of objects whatever its Go type (the
// collector builds []map[string]any, a decoded payload has []any); items
// that are not objects are left out.
func Objects(v any) []map[string]any {
	switch t := v.(type) {
	case []map[string]any:
		return t
	case []any:
		out := make([]map[string]any, 0, len(t))
		for _, x := range t {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// Number reads a numeric payload value: Go and JSON numbers, and numeric
// strings once a unit (°C, °F, %) and spaces are stripped ("45°C",
// "78%"). Booleans, NaN, infinities and anything else are not numbers.
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
		x, err := strconv.ParseFloat(strings.TrimSpace(unitStripper.Replace(t)), 64)
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
