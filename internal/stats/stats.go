package stats

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/events"
)

// Settings is the read side of config.yaml the room needs.
type Settings = config.Reader

// AlertSource gives the active alerts for the payload's "alerts" array.
type AlertSource interface {
	Active() []map[string]any
}

// AgentSource gives the latest metrics of every agent host (hostname ->
// metric -> value), exported to Prometheus with the label host. When it
// also implements AgentLister, the payload's "agents" array comes from it.
type AgentSource interface {
	AgentMetrics() map[string]map[string]float64
}

// AgentLister optionally gives the payload's "agents" array.
type AgentLister interface {
	AgentList() []map[string]any
}

// PluginSource gives the card data of the enabled plugins.
type PluginSource interface {
	Cards() []map[string]any
}

// IntegrationSource gives the integration blocks of the payload (keys
// such as "pihole", "plex"); keys it leaves out keep their "not
// configured" fallback.
type IntegrationSource interface {
	Blocks(ctx context.Context) map[string]any
}

// ProcessLister is implemented by sources that keep a process table
// (collect.Host).
type ProcessLister interface {
	Processes() []collect.Process
}

// Deps are the room's dependencies. Every interface may be nil.
type Deps struct {
	Store Store
	// History is the metric history over Store; nil builds one (the
	// server builds it first and hands it to the agents room too).
	History  *History
	Bus      *events.Bus
	Settings Settings
	// Source replaces the host collector (tests, fixtures).
	Source collect.Source
	// Interval is the collection period (default 5 s).
	Interval time.Duration
	// HistoryDays is the retention of the 1-hour tier (NOBA_HISTORY_DAYS).
	HistoryDays int
	Now         func() time.Time
	Log         *slog.Logger

	Alerts       AlertSource
	Agents       AgentSource
	Plugins      PluginSource
	Integrations IntegrationSource
}

// Room is the stats room.
type Room struct {
	d        Deps
	log      *slog.Logger
	source   collect.Source
	host     *collect.Host // the default source, nil when Deps.Source is set
	interval time.Duration
	now      func() time.Time
	hist     *History

	cmu sync.Mutex // serialises collections

	fmu sync.RWMutex
	cur *frame

	hmu      sync.Mutex
	procHist []map[string]any

	prom *promExporter
	// keepAlive is the SSE comment period (15 s; tests shorten it).
	keepAlive time.Duration
}

// frame is one published snapshot, encoded once for every client. next
// is closed when a newer frame replaces it.
type frame struct {
	snap  map[string]any
	typed *events.Snapshot
	data  []byte // JSON object of snap
	// event is the SSE message of data with pulse 0.0 (what every client
	// sends right after a collection), encoded once for all of them.
	event []byte
	at    time.Time
	next  chan struct{}
}

// New builds the room.
func New(d Deps) *Room {
	if d.Interval <= 0 {
		d.Interval = 5 * time.Second
	}
	if d.HistoryDays <= 0 {
		d.HistoryDays = 30
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	r := &Room{d: d, log: d.Log, interval: d.Interval, now: d.Now, cur: &frame{next: make(chan struct{})},
		keepAlive: 15 * time.Second}
	r.hist = d.History
	if r.hist == nil {
		r.hist = NewHistory(HistoryDeps{Store: d.Store, Days: d.HistoryDays, Now: d.Now, Log: d.Log})
	}
	r.source = d.Source
	if r.source == nil {
		r.host = collect.NewHost(collect.HostOptions{Log: d.Log})
		r.source = r.host
	}
	r.prom = newPromExporter(r)
	return r
}

// Latest returns the latest snapshot (nil before the first). Callers must
// not modify it.
func (r *Room) Latest() map[string]any {
	return r.current().snap
}

// Snapshot returns the latest collection typed (nil before the first).
// Read-only.
func (r *Room) Snapshot() *events.Snapshot {
	return r.current().typed
}

func (r *Room) current() *frame {
	r.fmu.RLock()
	defer r.fmu.RUnlock()
	return r.cur
}

// csv splits a comma-separated setting.
func csv(v any) []string {
	var out []string
	switch t := v.(type) {
	case string:
		for _, s := range strings.Split(t, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
	}
	return out
}

func (r *Room) settings() *config.Values {
	if r.d.Settings == nil {
		return &config.Values{}
	}
	return r.d.Settings.Current()
}

// Collect runs one collection now: it refreshes the latest snapshot,
// publishes it, and writes its samples. The collection job calls it.
func (r *Room) Collect(ctx context.Context) error {
	r.cmu.Lock()
	defer r.cmu.Unlock()
	return r.collectLocked(ctx)
}

func (r *Room) collectLocked(ctx context.Context) error {
	st := r.settings()
	if r.host != nil {
		// Targets come from the settings only (spec 10 §13 S9/F6).
		r.host.SetTargets(collect.Targets{Services: st.MonitoredServices, RadarHosts: st.RadarIps,
			WANTestIP: strings.TrimSpace(st.WanTestIP), LANTestIP: strings.TrimSpace(st.LanTestIP)})
	}
	// The integrations fan-out (up to its 4.5 s wait) runs beside the host
	// collection rather than after it (spec 10 §4.1).
	var blocks map[string]any
	blocksDone := make(chan struct{})
	if r.d.Integrations != nil {
		go func() {
			defer close(blocksDone)
			blocks = r.d.Integrations.Blocks(ctx)
		}()
	} else {
		close(blocksDone)
	}
	raw, err := r.source.Collect(ctx)
	<-blocksDone
	if err != nil {
		return fmt.Errorf("collect: %w", err)
	}
	now := r.now()
	snap := make(map[string]any, len(raw)+64)
	for k, v := range integrationDefaults {
		snap[k] = v
	}
	for k, v := range raw {
		snap[k] = v
	}
	for k, v := range blocks {
		// A source that already carries a block (a fixture source) keeps
		// it; the host collector never produces these keys.
		if _, fromSource := raw[k]; fromSource {
			continue
		}
		snap[k] = v
	}
	snap["timestamp"] = now.Unix()
	snap["time"] = now.Format("15:04:05")
	if _, ok := snap["agents"]; !ok || snap["agents"] == nil {
		snap["agents"] = []map[string]any{}
	}
	if al, ok := r.d.Agents.(AgentLister); ok && r.d.Agents != nil {
		if list := al.AgentList(); list != nil {
			snap["agents"] = list
		}
	}
	snap["alerts"] = r.alerts(snap)
	if r.d.Plugins != nil {
		if cards := r.d.Plugins.Cards(); len(cards) > 0 {
			snap["plugins"] = cards
		}
	}
	scrub(snap)
	data, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	f := &frame{snap: snap, typed: Typed(snap), data: data, at: now, next: make(chan struct{})}
	f.event = sseMessage(r.enriched(f, data, 0))
	r.fmu.Lock()
	old := r.cur
	r.cur = f
	r.fmu.Unlock()
	close(old.next)
	if r.d.Bus != nil {
		r.d.Bus.Publish(events.TopicStats, snap)
		events.Publish(r.d.Bus, events.Snapshots, f.typed)
	}
	r.recordProcesses(snap, now)
	if err := r.d.Store.WriteBatch(ctx, SnapshotSamples(snap, now.Unix())); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// ensureLatest collects once when there is no snapshot yet (requests
// before the first tick share that one collection).
func (r *Room) ensureLatest(ctx context.Context) *frame {
	if f := r.current(); f.data != nil {
		return f
	}
	r.cmu.Lock()
	defer r.cmu.Unlock()
	if f := r.current(); f.data != nil {
		return f
	}
	if err := r.collectLocked(ctx); err != nil {
		r.log.Warn("synchronous collection failed", "err", err)
	}
	return r.current()
}

// integrationDefaults are the "not configured" values of spec 10 §4.2/4.4.
var integrationDefaults = func() map[string]any {
	m := map[string]any{"kuma": []any{}, "instances": map[string]any{}}
	for _, k := range strings.Fields(`pihole plex truenas radarr sonarr qbit proxmox adguard jellyfin hass unifi speedtest
		tautulli overseerr prowlarr lidarr readarr bazarr radarrExtended sonarrExtended nextcloud traefik npm authentik
		cloudflare omv xcpng homebridge z2m esphome unifiProtect pikvm k8s gitea gitlab github paperless vaultwarden
		weather scrutiny frigate n8n`) {
		m[k] = nil
	}
	for _, k := range strings.Fields(`radarrCalendar sonarrCalendar certExpiry domainExpiry dockerUpdates devicePresence energy`) {
		m[k] = []any{}
	}
	return m
}()

// credentialWords are the (lower-case) parts of payload keys that could
// only carry a credential.
var credentialWords = []string{"token", "passw", "secret", "apikey", "api_key", "credential"}

// secretKey reports whether a payload key names a credential (ASCII
// case-insensitive; a regexp here cost most of a collection with 1,000
// agents).
func secretKey(k string) bool {
	for _, w := range credentialWords {
		if containsFold(k, w) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII word w,
// ignoring the case of s.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for ; j < len(w); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != w[j] {
				break
			}
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// scrub removes credential-named keys anywhere in the payload, so no
// source (integration blocks, plugins) can leak one to a viewer.
func scrub(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if secretKey(k) {
				delete(t, k)
				continue
			}
			scrub(x)
		}
	case []any:
		for _, x := range t {
			scrub(x)
		}
	case []map[string]any:
		for _, x := range t {
			scrub(x)
		}
	}
}

// num reads a number from a payload value ("45°C" and "78%" included).
func num(v any) (float64, bool) { return collect.Number(v) }

// list returns a payload list as []map[string]any whatever its Go type.
func list(v any) []map[string]any { return events.Objects(v) }

func str(v any) string {
	s, _ := v.(string)
	return s
}

// alerts builds the payload's alerts: from the alert room when wired,
// else the built-in threshold alerts of spec 10 §5.5.
func (r *Room) alerts(snap map[string]any) []map[string]any {
	var out []map[string]any
	if src := r.d.Alerts; src != nil {
		out = src.Active()
	} else {
		out = BuiltinAlerts(snap)
	}
	res := make([]map[string]any, 0, len(out))
	for _, a := range out {
		c := make(map[string]any, len(a)+1)
		for k, v := range a {
			c[k] = v
		}
		if _, ok := c["severity"]; !ok {
			c["severity"] = c["level"]
		}
		if _, ok := c["level"]; !ok {
			c["level"] = c["severity"]
		}
		res = append(res, c)
	}
	return res
}

// BuiltinAlerts are the threshold alerts of spec 10 §5.5 (CPU, CPU
// temperature, disks, failed services).
func BuiltinAlerts(snap map[string]any) []map[string]any {
	out := []map[string]any{}
	add := func(level, msg string) { out = append(out, map[string]any{"level": level, "msg": msg}) }
	if cpu, ok := num(snap["cpuPercent"]); ok {
		if cpu > 90 {
			add("danger", fmt.Sprintf("CPU critical: %g%%", cpu))
		} else if cpu > 75 {
			add("warning", fmt.Sprintf("CPU high: %g%%", cpu))
		}
	}
	if t, ok := num(snap["cpuTemp"]); ok {
		ti := int(t)
		if ti > 85 {
			add("danger", fmt.Sprintf("CPU temp critical: %d°C", ti))
		} else if ti > 70 {
			add("warning", fmt.Sprintf("CPU temp elevated: %d°C", ti))
		}
	}
	for _, d := range list(snap["disks"]) {
		p, ok := num(d["percent"])
		if !ok {
			continue
		}
		if p >= 90 {
			add("danger", fmt.Sprintf("Disk %s at %g%%", str(d["mount"]), p))
		} else if p >= 80 {
			add("warning", fmt.Sprintf("Disk %s at %g%%", str(d["mount"]), p))
		}
	}
	for _, s := range list(snap["services"]) {
		if str(s["status"]) == "failed" {
			add("danger", "Service failed: "+str(s["name"]))
		}
	}
	return out
}

// Typed reads a snapshot payload into the typed snapshot of the bus
// (events.Snapshots) and of the rooms' Stats seam.
func Typed(snap map[string]any) *events.Snapshot { return events.NewSnapshot(snap) }

// HistoryMetrics is the whitelist of /api/history/* (spec 10 §4.3).
var HistoryMetrics = []string{"cpu_percent", "mem_percent", "cpu_temp", "gpu_temp", "disk_percent", "ping_ms",
	"net_rx_bytes", "net_tx_bytes", "disk_io_read_bps", "disk_io_write_bps", "custom_metric", "cert_expiry_days",
	"domain_expiry_days", "bandwidth_ip", "weather_temp"}

func historyMetric(m string) bool {
	for _, h := range HistoryMetrics {
		if h == m {
			return true
		}
	}
	return false
}

// SnapshotSamples extracts the history samples of a snapshot (spec 10
// §4.3), one series per mount / radar host / disk device.
func SnapshotSamples(snap map[string]any, ts int64) []Sample {
	var out []Sample
	add := func(metric, label string, v any) {
		if f, ok := num(v); ok {
			out = append(out, Sample{Metric: metric, Label: label, TS: ts, Value: f})
		}
	}
	add("cpu_percent", "", snap["cpuPercent"])
	if _, ok := snap["mem_percent"]; ok {
		add("mem_percent", "", snap["mem_percent"])
	} else {
		add("mem_percent", "", snap["memPercent"])
	}
	add("cpu_temp", "", snap["cpuTemp"])
	add("gpu_temp", "", snap["gpuTemp"])
	for _, d := range list(snap["disks"]) {
		add("disk_percent", str(d["mount"]), d["percent"])
	}
	for _, p := range list(snap["radar"]) {
		if str(p["status"]) == "Up" {
			if ms, ok := num(p["ms"]); ok && ms > 0 {
				add("ping_ms", str(p["ip"]), ms)
			}
		}
	}
	add("net_rx_bytes", "", snap["netRxRaw"])
	add("net_tx_bytes", "", snap["netTxRaw"])
	for _, d := range list(snap["diskIo"]) {
		add("disk_io_read_bps", str(d["device"]), d["read_bps"])
		add("disk_io_write_bps", str(d["device"]), d["write_bps"])
	}
	for _, c := range list(snap["certExpiry"]) {
		add("cert_expiry_days", str(c["host"]), c["days"])
	}
	for _, c := range list(snap["domainExpiry"]) {
		add("domain_expiry_days", str(c["domain"]), c["days"])
	}
	if w, ok := snap["weather"].(map[string]any); ok {
		add("weather_temp", "", w["temp"])
	}
	return out
}

// recordProcesses keeps the rolling top-process history (60 snapshots).
func (r *Room) recordProcesses(snap map[string]any, now time.Time) {
	entry := func(key string) []map[string]any {
		out := []map[string]any{}
		for _, p := range list(snap[key]) {
			name := str(p["name"])
			if len([]rune(name)) > 20 {
				name = string([]rune(name)[:20])
			}
			out = append(out, map[string]any{"name": name, "pid": p["pid"], "val": p["val"]})
		}
		return out
	}
	r.hmu.Lock()
	defer r.hmu.Unlock()
	r.procHist = append(r.procHist, map[string]any{"time": now.Unix(), "cpu": entry("topCpu"), "mem": entry("topMem")})
	if len(r.procHist) > 60 {
		r.procHist = append([]map[string]any(nil), r.procHist[len(r.procHist)-60:]...)
	}
}

// pulse returns seconds since the frame's collection (1 dp).
func (r *Room) pulse(f *frame) float64 {
	return max(math.Round(r.now().Sub(f.at).Seconds()*10)/10, 0)
}

// status is "stalled" when the pulse exceeds 2.5 intervals (spec 10 §4.1).
func (r *Room) status(pulse float64) string {
	if pulse > 2.5*r.interval.Seconds() {
		return "stalled"
	}
	return "healthy"
}

// sseMessage frames one event: "data: <json>\n\n".
func sseMessage(body []byte) []byte {
	msg := make([]byte, 0, len(body)+8)
	msg = append(msg, "data: "...)
	msg = append(msg, body...)
	return append(msg, '\n', '\n')
}

// enriched returns the frame's JSON with collector_pulse and
// collector_status appended (spec 10 §7.5).
func (r *Room) enriched(f *frame, data []byte, p float64) []byte {
	st := r.status(p)
	if len(data) < 2 {
		data = []byte("{}")
	}
	out := make([]byte, 0, len(data)+64)
	out = append(out, data[:len(data)-1]...)
	if len(data) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"collector_pulse":`...)
	out = strconv.AppendFloat(out, p, 'f', 1, 64)
	out = append(out, `,"collector_status":"`...)
	out = append(out, st...)
	out = append(out, `"}`...)
	return out
}

// view is a per-request narrowing of the snapshot (spec 10 §13 S9: query
// parameters never change what the server collects; they only filter
// this client's view).
type view struct {
	services map[string]bool
	radar    map[string]bool
}

func parseView(q map[string][]string) view {
	set := func(keys ...string) map[string]bool {
		for _, k := range keys {
			if vs, ok := q[k]; ok && len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
				m := map[string]bool{}
				for _, s := range csv(vs[0]) {
					m[s] = true
				}
				return m
			}
		}
		return nil
	}
	return view{services: set("services"), radar: set("radarIps", "radar")}
}

func (v view) empty() bool { return v.services == nil && v.radar == nil }

// apply encodes the frame's snapshot narrowed by v.
func (v view) apply(f *frame) []byte {
	if v.empty() || f.snap == nil {
		return f.data
	}
	c := make(map[string]any, len(f.snap))
	for k, x := range f.snap {
		c[k] = x
	}
	filter := func(key, field string, keep map[string]bool) {
		if keep == nil {
			return
		}
		out := []map[string]any{}
		for _, e := range list(c[key]) {
			if keep[str(e[field])] {
				out = append(out, e)
			}
		}
		c[key] = out
	}
	filter("services", "name", v.services)
	filter("radar", "ip", v.radar)
	b, err := json.Marshal(c)
	if err != nil {
		return f.data
	}
	return b
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// metricAliases are the short names the agents room writes for the
// metrics this server calls *_percent.
var metricAliases = map[string]string{"cpu_percent": "cpu", "mem_percent": "mem", "disk_percent": "disk"}
