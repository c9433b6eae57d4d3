package alerts_test

import (
	"context"
	"github.com/noba-go/noba/internal/wire"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/alerts"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/jobs"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type healer struct {
	mu  sync.Mutex
	evs []map[string]any
}

func (h *healer) HandleAlertEvent(_ context.Context, ev map[string]any) {
	h.mu.Lock()
	h.evs = append(h.evs, ev)
	h.mu.Unlock()
}

type engineEnv struct {
	d        *db.DB
	settings *config.Settings
	clk      *clock
	hook     *hookRecorder
	heal     *healer
	dir      string
}

// newEngine opens a real database and config.yaml (with a webhook channel
// and the given rules) in a temporary directory.
func newEngine(t *testing.T, rulesYAML string) *engineEnv {
	t.Helper()
	hook, hs := newHook(t)
	e := newEngineB(t, rulesYAML, "notifications:\n  webhook:\n    enabled: true\n    url: \""+hs.URL+"\"\n")
	e.hook = hook
	return e
}

// newEngineB is newEngine for benchmarks too (extra YAML, no webhook).
func newEngineB(t testing.TB, rulesYAML string, extra ...string) *engineEnv {
	t.Helper()
	dir := t.TempDir()
	yaml := strings.Join(extra, "") + "web:\n  alertRules:\n" + rulesYAML
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(filepath.Join(dir, "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := db.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	st, err := config.OpenSettings(filepath.Join(dir, "config.yaml"), filepath.Join(dir, ".master.key"))
	if err != nil {
		t.Fatal(err)
	}
	return &engineEnv{d: d, settings: st, clk: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.Local)}, heal: &healer{}, dir: dir}
}

// room builds a room over the env and runs its dispatcher.
func (e *engineEnv) room(t *testing.T) *alerts.Room {
	t.Helper()
	r := alerts.New(alerts.Deps{Store: alerts.NewStore(e.d), Settings: e.settings, Bus: events.New(), Log: slog.New(slog.DiscardHandler),
		Now: e.clk.now, Heal: e.heal})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, j := range r.Jobs() {
		if j.Name() == "alerts-notify" {
			wg.Add(1)
			go func(j jobs.Job) { defer wg.Done(); _ = j.Run(ctx) }(j)
		}
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

func (e *engineEnv) eval(t *testing.T, r *alerts.Room, cpu float64) {
	t.Helper()
	if err := r.Evaluate(context.Background(), map[string]any{"cpuPercent": cpu}); err != nil {
		t.Fatal(err)
	}
}

// settle waits until the recorder holds n payloads for ruleID, then a
// little longer to catch extras.
func (h *hookRecorder) settle(t *testing.T, ruleID string, n int) []string {
	t.Helper()
	eventually(t, "webhook deliveries", func() bool { return len(h.events(ruleID)) >= n })
	time.Sleep(100 * time.Millisecond)
	ev := h.events(ruleID)
	if len(ev) != n {
		t.Fatalf("got %d deliveries %v, want %d", len(ev), ev, n)
	}
	return ev
}

func (h *hookRecorder) messages(ruleID string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, p := range h.got {
		if p.RuleID == ruleID {
			out = append(out, p.Event+":"+p.Message)
		}
	}
	slices.Sort(out)
	return out
}

func TestCooldownRemindersAndEscalationOncePerEpisode(t *testing.T) {
	e := newEngine(t, `    - id: esc
      condition: cpuPercent > 50
      message: CPU hot
      cooldown: 600
      escalation:
        - {delay_minutes: 5, channels: [webhook]}
        - {delay_minutes: 10, channels: [webhook]}
        - {delay_minutes: 1, channels: []}
`)
	r := e.room(t)
	e.eval(t, r, 60) // t0: fires
	e.hook.settle(t, "esc", 1)
	e.clk.add(6 * time.Minute)
	e.eval(t, r, 60) // tier 1 (5 min); cooldown holds the reminder
	e.hook.settle(t, "esc", 2)
	e.clk.add(time.Minute)
	e.eval(t, r, 60) // nothing new
	e.clk.add(4 * time.Minute)
	e.eval(t, r, 60) // t0+11: reminder + tier 2
	e.hook.settle(t, "esc", 4)
	e.clk.add(time.Minute)
	e.eval(t, r, 10) // resolves
	e.hook.settle(t, "esc", 5)
	e.clk.add(time.Minute)
	e.eval(t, r, 60) // t0+13: new episode inside the cooldown: no notice
	e.clk.add(6 * time.Minute)
	e.eval(t, r, 60) // escalation re-armed for the new episode
	e.hook.settle(t, "esc", 6)
	want := []string{"escalated:[ESCALATED] CPU hot", "escalated:[ESCALATED] CPU hot", "escalated:[ESCALATED] CPU hot",
		"firing:CPU hot", "reminder:CPU hot", "resolved:[RESOLVED] CPU hot"}
	if got := e.hook.messages("esc"); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	act := r.Active()
	if len(act) != 1 || act[0]["rule_id"] != "esc" || act[0]["level"] != "warning" || act[0]["msg"] != "CPU hot" {
		t.Errorf("Active: %v", act)
	}
}

func TestAutonomyRemovalRestartAndHealSeam(t *testing.T) {
	e := newEngine(t, `    - {id: appr, condition: cpuPercent > 50, autonomy: approve, action: {type: restart_service, target: nginx}}
    - {id: off, condition: cpuPercent > 50, autonomy: disabled}
    - {id: gone, condition: cpuPercent > 50, channels: [email]}
`)
	r := e.room(t)
	e.eval(t, r, 95)
	e.hook.settle(t, "appr", 1)
	if got := e.hook.messages("appr"); got[0] != "firing:[APPROVAL NEEDED] cpuPercent > 50" {
		t.Errorf("approve: %v", got)
	}
	st := alerts.NewStore(e.d)
	ctx := context.Background()
	off, _ := st.History(ctx, alerts.HistoryQuery{Limit: 10, RuleID: "off"})
	if len(off) != 0 {
		t.Errorf("disabled rule recorded: %v", off)
	}
	e.heal.mu.Lock()
	var healed []string
	for _, ev := range e.heal.evs {
		healed = append(healed, ev["rule_id"].(string))
	}
	e.heal.mu.Unlock()
	if !slices.Contains(healed, "appr") || !slices.Contains(healed, "cpu_crit") {
		t.Errorf("heal events: %v", healed)
	}
	// Remove "gone" while it fires: its episode resolves.
	if _, err := e.settings.Update(map[string]any{"alertRules": []any{
		map[string]any{"id": "appr", "condition": "cpuPercent > 50", "autonomy": "approve"}}}); err != nil {
		t.Fatal(err)
	}
	e.clk.add(time.Minute)
	e.eval(t, r, 90)
	gone, _ := st.History(ctx, alerts.HistoryQuery{Limit: 10, RuleID: "gone"})
	if len(gone) != 1 || gone[0].ResolvedAt == nil {
		t.Errorf("removed rule's episode: %+v", gone)
	}
	// A restarted engine picks the open episode up and resolves it.
	r2 := e.room(t)
	e.clk.add(time.Minute)
	e.eval(t, r2, 10)
	appr, _ := st.History(ctx, alerts.HistoryQuery{Limit: 10, RuleID: "appr"})
	if len(appr) != 1 || appr[0].ResolvedAt == nil {
		t.Errorf("episode after restart: %+v", appr)
	}
	e.hook.settle(t, "appr", 2) // the resolved notice of the reloaded episode
}

func TestExternalAlertsAndSLAMerge(t *testing.T) {
	e := newEngine(t, "    []\n")
	r := e.room(t)
	ctx := context.Background()
	if err := r.RaiseExternal(ctx, "monitoring", "endpoint_down:web", "danger", "web is down"); err != nil {
		t.Fatal(err)
	}
	if err := r.RaiseExternal(ctx, "monitoring", "endpoint_down:web", "danger", "web is down"); err != nil {
		t.Fatal(err)
	}
	id := "monitoring:endpoint_down:web"
	st := alerts.NewStore(e.d)
	rows, _ := st.History(ctx, alerts.HistoryQuery{Limit: 10, RuleID: id})
	if len(rows) != 1 || rows[0].Source != "monitoring" || rows[0].ResolvedAt != nil {
		t.Fatalf("external episode: %+v", rows)
	}
	act := r.Active()
	if len(act) != 1 || act[0]["rule_id"] != id || act[0]["source"] != "monitoring" {
		t.Errorf("Active: %v", act)
	}
	e.hook.settle(t, id, 1)
	e.clk.add(90 * time.Second)
	if err := r.ResolveExternal(ctx, "monitoring", "endpoint_down:web"); err != nil {
		t.Fatal(err)
	}
	if len(r.Active()) != 0 {
		t.Errorf("still active: %v", r.Active())
	}
	if got := e.hook.settle(t, id, 2); !slices.Contains(got, "resolved") {
		t.Errorf("events: %v", got)
	}
	sla, err := r.SLA(ctx, id, 1)
	if err != nil || sla != 97.5 {
		t.Errorf("SLA after a 90 s outage: %v %v, want 97.5", sla, err)
	}

	// Overlapping episodes are merged, not summed (§13 F2).
	now := e.clk.now().Unix()
	if _, err := st.OpenEpisode(ctx, "ov", "rule", now-1000, "warning", "a", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OpenEpisode(ctx, "ov", "rule", now-500, "warning", "b", nil); err != nil {
		t.Fatal(err)
	}
	if err := st.ResolveEpisodes(ctx, "ov", now-100); err != nil {
		t.Fatal(err)
	}
	if sla, _ := r.SLA(ctx, "ov", 1); sla != 75 {
		t.Errorf("merged SLA: got %v, want 75", sla)
	}
	// An episode still open since before the window is full downtime.
	if _, err := st.OpenEpisode(ctx, "long", "rule", now-7200, "warning", "c", nil); err != nil {
		t.Fatal(err)
	}
	if sla, _ := r.SLA(ctx, "long", 1); sla != 0 {
		t.Errorf("open episode SLA: got %v, want 0", sla)
	}
	if sla, _ := r.SLA(ctx, "never", 720); sla != 100 {
		t.Errorf("never fired: got %v, want 100", sla)
	}
}

func TestAgentReportsFeedConditions(t *testing.T) {
	e := newEngine(t, `    - id: agent
      condition: "agent_web_1.cpu_percent > 50 AND agent_web_1.disks[0].percent >= 90"
`)
	r := e.room(t)
	r.ObserveAgent(&wire.Metrics{Hostname: "web-1", CPUPercent: 75, Disks: []wire.Disk{{Mount: "/", Percent: 93}}})
	e.eval(t, r, 1)
	e.hook.settle(t, "agent", 1)
	// Reports older than 120 s stop feeding metrics: the rule resolves.
	e.clk.add(3 * time.Minute)
	e.eval(t, r, 1)
	if got := e.hook.settle(t, "agent", 2); got[1] != "resolved" {
		t.Errorf("events: %v", got)
	}
}

func TestMaintenanceWindowsActivity(t *testing.T) {
	e := newEngine(t, "    []\n")
	r := e.room(t)
	ctx := context.Background()
	at := func(h, m int) time.Time { return time.Date(2026, 3, 1, h, m, 0, 0, time.Local) }
	if r.InMaintenance("any", at(3, 30)) {
		t.Fatal("in maintenance without windows")
	}
	sched := "0 3 * * *"
	st := alerts.NewStore(e.d)
	if _, err := st.CreateWindow(ctx, alerts.MaintenanceWindow{Name: "nightly", Schedule: &sched, DurationMin: 60, Enabled: true,
		SuppressAlerts: true, CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		t    time.Time
		want bool
	}{{at(2, 59), false}, {at(3, 0), true}, {at(3, 59), true}, {at(4, 0), false}} {
		if got := r.InMaintenance("nginx", c.t); got != c.want {
			t.Errorf("cron window at %s: got %v, want %v", c.t.Format("15:04"), got, c.want)
		}
	}
	// YAML windows last their duration too (§13 F5).
	if _, err := e.settings.Update(map[string]any{"maintenanceWindows": []any{
		map[string]any{"start": "30 5 * * *", "duration_minutes": 10}}}); err != nil {
		t.Fatal(err)
	}
	if !r.InMaintenance("x", at(5, 39)) || r.InMaintenance("x", at(5, 40)) {
		t.Errorf("YAML window duration not honoured")
	}
}

func TestFlatten(t *testing.T) {
	snap := map[string]any{
		"cpuPercent": 12.5, "memPercent": 40, "cpuTemp": "45°C", "gpuTemp": "N/A", "hostname": "box",
		"disks":      []any{map[string]any{"mount": "/", "percent": 62}, map[string]any{"mount": "/data", "percent": 91}},
		"radar":      []any{map[string]any{"ip": "10.0.0.1", "ms": 3}, map[string]any{"ip": "10.0.0.2", "ms": 17}},
		"agents":     []map[string]any{{"hostname": "web-1", "cpu_percent": 33.0, "online": true}},
		"pihole":     map[string]any{"queries": 100, "percent": "19%"},
		"netRxRaw":   1024.0,
		"cpuHistory": []any{1.0, 2.0},
	}
	r := alerts.Flatten(snap)
	want := map[string]float64{"cpuPercent": 12.5, "cpu_percent": 12.5, "mem_percent": 40, "cpuTemp": 45, "cpu_temp": 45,
		"disks[1].percent": 91, "disk_percent": 91, "ping_ms": 17, "agents[0].cpu_percent": 33, "agents[0].online": 1,
		"pihole.queries": 100, "pihole.percent": 19, "net_rx_bytes": 1024}
	for k, v := range want {
		if got, ok := r[k]; !ok || got != v {
			t.Errorf("%s: got %v (%v), want %v", k, got, ok, v)
		}
	}
	for _, k := range []string{"gpuTemp", "hostname", "cpuHistory[0]", "gpu_temp"} {
		if _, ok := r[k]; ok {
			t.Errorf("%s should not be a metric", k)
		}
	}
	if strings.Contains(strings.Join(mapsKeys(r), ","), "mount") {
		t.Errorf("string fields leaked: %v", r)
	}
}

func mapsKeys(m map[string]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
