package stats

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// promExporter exposes the latest snapshot and the agents' metrics
// through its own client_golang registry (never the global one).
type promExporter struct {
	r   *Room
	reg *prometheus.Registry
	h   http.Handler
}

func newPromExporter(r *Room) *promExporter {
	e := &promExporter{r: r, reg: prometheus.NewRegistry()}
	e.reg.MustRegister(e)
	e.h = promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return e
}

// Describe sends nothing: the metric set follows the snapshot (an
// unchecked collector).
func (e *promExporter) Describe(chan<- *prometheus.Desc) {}

var promName = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// sanitize turns an arbitrary metric name into a Prometheus one.
func sanitize(s string) string {
	s = promName.ReplaceAllString(s, "_")
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "_" + s
	}
	return s
}

// localFamilies are the metric names emitted for this server; agent
// metrics with the same name and only the host label join them.
var localFamilies = map[string]string{
	"noba_cpu_percent":      "CPU busy percent.",
	"noba_mem_percent":      "Memory used percent.",
	"noba_swap_percent":     "Swap used percent.",
	"noba_net_rx_bps":       "Received bytes per second, all interfaces.",
	"noba_net_tx_bps":       "Sent bytes per second, all interfaces.",
	"noba_cpu_temp_celsius": "CPU temperature.",
	"noba_gpu_temp_celsius": "GPU temperature.",
	"noba_uptime_seconds":   "Seconds since boot.",
}

// Collect implements prometheus.Collector.
func (e *promExporter) Collect(ch chan<- prometheus.Metric) {
	snap := e.r.Latest()
	gauge := func(name, help string, v float64, labels []string, values ...string) {
		if h, ok := localFamilies[name]; ok {
			help = h // one help text per family, whoever emits it
		}
		d := prometheus.NewDesc(name, help, labels, nil)
		if m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, values...); err == nil {
			ch <- m
		}
	}
	if bus := e.r.d.Bus; bus != nil {
		d := prometheus.NewDesc("noba_events_dropped_total", "Events the bus dropped because a subscriber was too slow.",
			[]string{"topic"}, nil)
		for _, td := range bus.DroppedByTopic() {
			if m, err := prometheus.NewConstMetric(d, prometheus.CounterValue, float64(td.Dropped), td.Topic); err == nil {
				ch <- m
			}
		}
	}
	host := []string{"host"}
	localHost := ""
	if snap != nil {
		localHost = str(snap["hostname"])
		if v, ok := num(snap["cpuPercent"]); ok {
			gauge("noba_cpu_percent", "CPU busy percent.", v, host, localHost)
		}
		for i, v := range anyFloats(snap["cpu_per_core"]) {
			gauge("noba_cpu_core_percent", "CPU busy percent per core.", v, []string{"host", "core"}, localHost, itoa(i))
		}
		if v, ok := num(snap["mem_percent"]); ok {
			gauge("noba_mem_percent", "Memory used percent.", v, host, localHost)
		} else if v, ok := num(snap["memPercent"]); ok {
			gauge("noba_mem_percent", "Memory used percent.", v, host, localHost)
		}
		if m, ok := snap["swap"].(map[string]any); ok {
			if v, ok := num(m["percent"]); ok {
				gauge("noba_swap_percent", "Swap used percent.", v, host, localHost)
			}
		}
		for i, v := range anyFloats(snap["load"]) {
			if i < 3 {
				gauge("noba_load", "Load average.", v, []string{"host", "period"}, localHost, []string{"1m", "5m", "15m"}[i])
			}
		}
		if v, ok := num(snap["uptime_s"]); ok {
			gauge("noba_uptime_seconds", "Seconds since boot.", v, host, localHost)
		}
		if v, ok := num(snap["cpu_temp"]); ok {
			gauge("noba_cpu_temp_celsius", "CPU temperature.", v, host, localHost)
		}
		if v, ok := num(snap["gpu_temp"]); ok {
			gauge("noba_gpu_temp_celsius", "GPU temperature.", v, host, localHost)
		}
		seen := map[string]bool{}
		for _, d := range list(snap["disks"]) {
			m := str(d["mount"])
			if v, ok := num(d["percent"]); ok && !seen[m] {
				seen[m] = true
				gauge("noba_disk_percent", "Filesystem used percent.", v, []string{"host", "mount"}, localHost, m)
			}
		}
		if v, ok := num(snap["netRxRaw"]); ok {
			gauge("noba_net_rx_bps", "Received bytes per second, all interfaces.", v, host, localHost)
		}
		if v, ok := num(snap["netTxRaw"]); ok {
			gauge("noba_net_tx_bps", "Sent bytes per second, all interfaces.", v, host, localHost)
		}
		seen = map[string]bool{}
		for _, n := range list(snap["netInterfaces"]) {
			name := str(n["name"])
			if seen[name] {
				continue
			}
			seen[name] = true
			if v, ok := num(n["rx_bps"]); ok {
				gauge("noba_net_interface_rx_bps", "Received bytes per second.", v, []string{"host", "interface"}, localHost, name)
			}
			if v, ok := num(n["tx_bps"]); ok {
				gauge("noba_net_interface_tx_bps", "Sent bytes per second.", v, []string{"host", "interface"}, localHost, name)
			}
		}
		seen = map[string]bool{}
		for _, s := range list(snap["services"]) {
			name := str(s["name"])
			if seen[name] {
				continue
			}
			seen[name] = true
			up := 0.0
			if str(s["status"]) == "active" {
				up = 1
			}
			gauge("noba_service_up", "1 when the systemd unit is active.", up, []string{"host", "name"}, localHost, name)
		}
		seen = map[string]bool{}
		for _, c := range list(snap["containers"]) {
			name := str(c["name"])
			if seen[name] {
				continue
			}
			seen[name] = true
			up := 0.0
			if str(c["state"]) == "running" {
				up = 1
			}
			gauge("noba_container_running", "1 when the container runs.", up, []string{"host", "name", "image"}, localHost, name, str(c["image"]))
		}
		seen = map[string]bool{}
		for _, p := range list(snap["radar"]) {
			ip := str(p["ip"])
			if seen[ip] {
				continue
			}
			seen[ip] = true
			up := 0.0
			if str(p["status"]) == "Up" {
				up = 1
			}
			gauge("noba_radar_up", "1 when the host answers ping.", up, []string{"host", "target"}, localHost, ip)
			if ms, ok := num(p["ms"]); ok && up == 1 {
				gauge("noba_radar_latency_ms", "Ping round trip.", ms, []string{"host", "target"}, localHost, ip)
			}
		}
		gauge("noba_alerts_active", "Active alerts.", float64(len(list(snap["alerts"]))), host, localHost)
	}
	if e.r.d.Agents == nil {
		return
	}
	agents := e.r.d.Agents.AgentMetrics()
	hosts := make([]string, 0, len(agents))
	for h := range agents {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		if h == localHost && snap != nil {
			continue // the same label set would collide with this server's series
		}
		for m, v := range agents[h] {
			for long, short := range metricAliases {
				if m == short {
					m = long
				}
			}
			name := "noba_" + sanitize(strings.ToLower(m))
			if _, local := localFamilies[name]; !local && !strings.HasPrefix(name, "noba_agent_") {
				name = "noba_agent_" + sanitize(strings.ToLower(m))
			}
			gauge(name, "Agent metric "+m+".", v, host, h)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// anyFloats reads a numeric list of any Go type.
func anyFloats(v any) []float64 {
	var out []float64
	switch t := v.(type) {
	case []float64:
		return t
	case []any:
		for _, x := range t {
			if f, ok := num(x); ok {
				out = append(out, f)
			}
		}
	}
	return out
}
