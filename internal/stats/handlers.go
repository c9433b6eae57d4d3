package stats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/httpx"
)

// anyOut is a JSON body of any shape.
type anyOut struct {
	Body any
}

type historyIn struct {
	Metric     string `path:"metric"`
	Range      string `query:"range"`
	RangeH     string `query:"range_h"`
	Resolution string `query:"resolution"`
	Anomaly    string `query:"anomaly"`
	Host       string `query:"host"`
	Label      string `query:"label"`
	Tag        string `query:"tag"`
}

// rangeParams reads range (alias range_h) and resolution (spec 10 §7.8).
func rangeParams(rng, rangeH, res string, defRange int) (int, int64, error) {
	if strings.TrimSpace(rng) == "" {
		rng = rangeH
	}
	h, err := httpx.IntParam("range", rng, defRange, 1, 8760)
	if err != nil {
		return 0, 0, err
	}
	rs, err := httpx.IntParam("resolution", res, 60, 1, 3600)
	if err != nil {
		return 0, 0, err
	}
	return h, int64(rs), nil
}

func (in *historyIn) selector() (Selector, error) {
	if !historyMetric(in.Metric) {
		return Selector{}, httpx.Invalid("Unknown metric")
	}
	label := in.Label
	if label == "" {
		label = in.Tag
	}
	return Selector{Host: strings.TrimSpace(in.Host), Metric: in.Metric, Label: label}, nil
}

func (r *Room) history(ctx context.Context, in *historyIn) (*anyOut, error) {
	sel, err := in.selector()
	if err != nil {
		return nil, err
	}
	h, res, err := rangeParams(in.Range, in.RangeH, in.Resolution, 24)
	if err != nil {
		return nil, err
	}
	pts, err := r.Series(ctx, sel, float64(h), res)
	if err != nil {
		return nil, err
	}
	if in.Anomaly == "1" {
		return &anyOut{Body: Bands(pts)}, nil
	}
	return &anyOut{Body: pts}, nil
}

type multiIn struct {
	Metrics    string `query:"metrics"`
	Range      string `query:"range"`
	RangeH     string `query:"range_h"`
	Resolution string `query:"resolution"`
	Host       string `query:"host"`
}

func (r *Room) historyMulti(ctx context.Context, in *multiIn) (*anyOut, error) {
	names := csv(in.Metrics)
	if len(names) == 0 {
		return nil, httpx.Invalid("Provide comma-separated metrics")
	}
	h, res, err := rangeParams(in.Range, in.RangeH, in.Resolution, 24)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, m := range names[:min(10, len(names))] {
		if !historyMetric(m) {
			continue
		}
		pts, err := r.Series(ctx, Selector{Host: strings.TrimSpace(in.Host), Metric: m}, float64(h), res)
		if err != nil {
			return nil, err
		}
		out[m] = pts
	}
	return &anyOut{Body: out}, nil
}

// handleExport is GET /api/history/{metric}/export (CSV).
func (r *Room) handleExport(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	in := historyIn{Metric: req.PathValue("metric"), Host: q.Get("host"), Label: q.Get("label"), Tag: q.Get("tag")}
	sel, err := in.selector()
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	h, res, err := rangeParams(q.Get("range"), q.Get("range_h"), q.Get("resolution"), 24)
	if err != nil {
		httpx.WriteErr(w, err)
		return
	}
	pts, err := r.Series(req.Context(), sel, float64(h), res)
	if err != nil {
		r.log.Error("history export failed", "err", err)
		httpx.WriteError(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="noba-%s-%dh.csv"`, sel.Metric, h))
	_, _ = w.Write([]byte(ExportCSV(pts, time.Local)))
}

// ExportCSV renders points as the export CSV of spec 10 §7.9 (no trailing
// newline; datetime in loc).
func ExportCSV(pts []Point, loc *time.Location) string {
	var b strings.Builder
	b.WriteString("timestamp_unix,datetime,value")
	for _, p := range pts {
		b.WriteByte('\n')
		b.WriteString(strconv.FormatInt(p.Time, 10))
		b.WriteByte(',')
		b.WriteString(time.Unix(p.Time, 0).In(loc).Format("2006-01-02T15:04:05"))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(p.Value, 'f', -1, 64))
	}
	return b.String()
}

type trendIn struct {
	historyIn
	Project string `query:"project"`
}

func (r *Room) trend(ctx context.Context, in *trendIn) (*anyOut, error) {
	sel, err := in.selector()
	if err != nil {
		return nil, err
	}
	h, _, err := rangeParams(in.Range, in.RangeH, "", 168)
	if err != nil {
		return nil, err
	}
	proj, err := httpx.IntParam("project", in.Project, 168, 1, 8760)
	if err != nil {
		return nil, err
	}
	now := r.now().Unix()
	from := now - int64(h)*3600
	// 300 s buckets; the finest tier that still holds the whole range
	tier := TierRaw
	if int64(h)*3600 > r.hist.keep(TierRaw) {
		tier = Tier1m
	}
	if int64(h)*3600 > r.hist.keep(Tier1m) {
		tier = Tier1h
	}
	pts, err := r.hist.seriesAt(ctx, sel, from, now+1, tier, 300)
	if err != nil {
		return nil, err
	}
	return &anyOut{Body: Trend(pts, proj)}, nil
}

func (r *Room) available(ctx context.Context, _ *struct{}) (*anyOut, error) {
	snap := r.Latest()
	out := []map[string]any{}
	listed := map[string]bool{}
	for _, k := range sortedKeys(snap) {
		switch v := snap[k].(type) {
		case float64, float32, int, int64, uint64:
			f, _ := num(v)
			out = append(out, map[string]any{"name": k, "value": roundN(f, 2), "type": "number"})
			listed[k] = true
		case string:
			if v == "N/A" || v == "--" || v == "" {
				continue
			}
			if _, ok := num(v); ok {
				out = append(out, map[string]any{"name": k, "value": v, "type": "string_numeric"})
				listed[k] = true
			}
		}
	}
	for _, m := range HistoryMetrics {
		if !listed[m] {
			out = append(out, map[string]any{"name": m, "value": nil, "type": "history"})
		}
	}
	return &anyOut{Body: out}, nil
}

type correlateIn struct {
	Metrics string `query:"metrics"`
	Hours   string `query:"hours"`
	Host    string `query:"host"`
}

func (r *Room) correlate(ctx context.Context, in *correlateIn) (*anyOut, error) {
	names := csv(in.Metrics)
	if len(names) == 0 {
		return nil, httpx.Invalid("metrics parameter required (comma-separated)")
	}
	hours := min(httpx.SafeInt(in.Hours, 6), 168)
	out := map[string]any{}
	for _, m := range names[:min(8, len(names))] {
		if hours <= 0 {
			out[m] = []Point{}
			continue
		}
		pts, err := r.Series(ctx, Selector{Host: strings.TrimSpace(in.Host), Metric: m}, float64(hours), 120)
		if err != nil {
			return nil, err
		}
		out[m] = pts
	}
	return &anyOut{Body: out}, nil
}

// handlePrometheus serves the text exposition of the room's registry.
func (r *Room) handlePrometheus(w http.ResponseWriter, req *http.Request) {
	r.prom.h.ServeHTTP(w, req)
}

func (r *Room) plugins(ctx context.Context, _ *struct{}) (*anyOut, error) {
	if r.d.Plugins == nil {
		return &anyOut{Body: []any{}}, nil
	}
	cards := r.d.Plugins.Cards()
	if cards == nil {
		cards = []map[string]any{}
	}
	return &anyOut{Body: cards}, nil
}

func (r *Room) getDashboard(ctx context.Context, _ *struct{}) (*anyOut, error) {
	d, err := r.d.Store.Dashboard(ctx, authz.Must(ctx).Username)
	if errors.Is(err, ErrNoDashboard) {
		return &anyOut{Body: map[string]any{}}, nil
	}
	if err != nil {
		return nil, err
	}
	return &anyOut{Body: d}, nil
}

type dashboardIn struct {
	RawBody []byte
}

func (r *Room) saveDashboard(ctx context.Context, in *dashboardIn) (*anyOut, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(in.RawBody, &body); err != nil || body == nil {
		return nil, httpx.Invalid("Invalid JSON")
	}
	field := func(k string) json.RawMessage {
		v, ok := body[k]
		if !ok || string(v) == "null" {
			return nil
		}
		return v
	}
	if err := r.d.Store.SaveDashboard(ctx, authz.Must(ctx).Username, field("card_order"), field("card_vis"),
		field("card_theme"), r.now().Unix()); err != nil {
		return nil, err
	}
	return &anyOut{Body: map[string]any{"status": "ok"}}, nil
}

func gib(v any) (float64, bool) {
	f, ok := num(v)
	if !ok {
		return 0, false
	}
	return roundN(f/(1<<30), 1), true
}

func (r *Room) systemInfo(ctx context.Context, _ *struct{}) (*anyOut, error) {
	f := r.ensureLatest(ctx)
	snap := f.snap
	if snap == nil {
		snap = map[string]any{}
	}
	orDash := func(k string) string {
		if s := str(snap[k]); s != "" {
			return s
		}
		return "--"
	}
	uptime := "--"
	if s, ok := num(snap["uptime_s"]); ok && s > 0 {
		uptime = collect.UptimeShort(uint64(s))
	}
	gov := str(snap["cpu_governor"])
	if gov == "" {
		gov = "unknown"
	}
	cores := snap["cpu_cores"]
	if c, ok := num(cores); !ok || c == 0 {
		cores = runtime.NumCPU()
	}
	out := map[string]any{
		"hostname": orDash("hostname"), "os": orDash("os"), "kernel": orDash("kernel"), "arch": runtime.GOARCH,
		"python": runtime.Version(), "go": runtime.Version(), "cpu_model": orDash("hwCpu"), "cpu_cores": cores,
		"gpu": orDash("hwGpu"), "uptime": uptime, "load": orDash("loadavg"), "ip": str(snap["defaultIp"]),
		"governor": gov, "noba_version": config.Version,
	}
	if m, ok := snap["memory"].(map[string]any); ok {
		if v, ok := gib(m["total"]); ok {
			out["ram_total_gb"] = v
		}
		if v, ok := gib(m["available"]); ok {
			out["ram_available_gb"] = v
		}
	}
	if m, ok := snap["swap"].(map[string]any); ok {
		if v, ok := gib(m["total"]); ok {
			out["swap_total_gb"] = v
		}
		if v, ok := gib(m["used"]); ok {
			out["swap_used_gb"] = v
		}
	}
	return &anyOut{Body: out}, nil
}

// HealthScore is spec 20 §17.4 on a snapshot.
func HealthScore(snap map[string]any) map[string]any {
	score := 100
	checks := []map[string]any{}
	check := func(name, status, value string, ded int) {
		checks = append(checks, map[string]any{"name": name, "status": status, "value": value, "deduction": ded})
		score -= ded
	}
	pctStr := func(v float64) string { return strconv.FormatFloat(roundN(v, 1), 'f', -1, 64) + "%" }
	if v, ok := num(snap["cpuPercent"]); ok {
		switch {
		case v > 90:
			check("CPU", "critical", pctStr(v), 30)
		case v > 75:
			check("CPU", "warning", pctStr(v), 10)
		default:
			check("CPU", "ok", pctStr(v), 0)
		}
	}
	if v, ok := num(snap["memPercent"]); ok {
		switch {
		case v > 90:
			check("Memory", "critical", pctStr(v), 25)
		case v > 80:
			check("Memory", "warning", pctStr(v), 10)
		default:
			check("Memory", "ok", pctStr(v), 0)
		}
	}
	for _, d := range list(snap["disks"]) {
		v, ok := num(d["percent"])
		if !ok {
			continue
		}
		name := "Disk " + str(d["mount"])
		switch {
		case v >= 95:
			check(name, "critical", pctStr(v), 20)
		case v >= 85:
			check(name, "warning", pctStr(v), 5)
		default:
			check(name, "ok", pctStr(v), 0)
		}
	}
	if v, ok := num(snap["cpuTemp"]); ok {
		val := fmt.Sprintf("%d°C", int(v))
		switch {
		case v > 85:
			check("CPU Temp", "critical", val, 15)
		case v > 70:
			check("CPU Temp", "warning", val, 5)
		default:
			check("CPU Temp", "ok", val, 0)
		}
	}
	for _, s := range list(snap["services"]) {
		if str(s["status"]) == "failed" {
			check("Service: "+str(s["name"]), "critical", "failed", 10)
		}
	}
	if nh, ok := snap["netHealth"].(map[string]any); ok && nh["configured"] == true && str(nh["wan"]) == "Down" {
		check("WAN", "critical", "Down", 20)
	}
	if n := len(list(snap["alerts"])); n > 0 {
		check("Active Alerts", "warning", strconv.Itoa(n), min(3*n, 15))
	}
	score = max(score, 0)
	grade := "F"
	switch {
	case score >= 90:
		grade = "A"
	case score >= 75:
		grade = "B"
	case score >= 60:
		grade = "C"
	case score >= 40:
		grade = "D"
	}
	uptime, host := "--", "--"
	if s := str(snap["uptime"]); s != "" {
		uptime = s
	}
	if s := str(snap["hostname"]); s != "" {
		host = s
	}
	return map[string]any{"score": score, "grade": grade, "checks": checks, "uptime": uptime, "hostname": host}
}

func (r *Room) systemHealth(ctx context.Context, _ *struct{}) (*anyOut, error) {
	snap := r.ensureLatest(ctx).snap
	if snap == nil {
		snap = map[string]any{}
	}
	return &anyOut{Body: HealthScore(snap)}, nil
}

func (r *Room) processHistory(ctx context.Context, _ *struct{}) (*anyOut, error) {
	r.hmu.Lock()
	out := append([]map[string]any{}, r.procHist...)
	r.hmu.Unlock()
	return &anyOut{Body: out}, nil
}

func (r *Room) processCurrent(ctx context.Context, _ *struct{}) (*anyOut, error) {
	out := []map[string]any{}
	pl, ok := r.source.(ProcessLister)
	if !ok {
		return &anyOut{Body: out}, nil
	}
	r.ensureLatest(ctx)
	procs := pl.Processes()
	sort.SliceStable(procs, func(i, j int) bool { return procs[i].CPU > procs[j].CPU })
	for _, p := range procs {
		if p.CPU <= 0.1 && p.Mem <= 0.1 {
			continue
		}
		out = append(out, map[string]any{"pid": p.PID, "name": truncate(p.Name, 30), "cpu": roundN(p.CPU, 1),
			"mem": roundN(p.Mem, 1), "status": p.Status, "user": truncate(p.User, 20)})
		if len(out) >= 100 {
			break
		}
	}
	return &anyOut{Body: out}, nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func (r *Room) diskPrediction(ctx context.Context, _ *struct{}) (*anyOut, error) {
	now := r.now().Unix()
	from := now - 168*3600
	ids := r.d.Store.SeriesIDs("", "disk_percent", "")
	mounts := map[string]bool{}
	for _, k := range r.d.Store.Series() {
		if k.Host == "" && k.Metric == "disk_percent" {
			mounts[k.Label] = true
		}
	}
	_ = ids
	names := make([]string, 0, len(mounts))
	for m := range mounts {
		names = append(names, m)
	}
	sort.Strings(names)
	tier := Tier1m
	var best map[string]any
	var bestFit Fit
	bestMount := ""
	perMount := map[string]any{}
	for _, m := range names {
		pts, err := r.hist.seriesAt(ctx, Selector{Metric: "disk_percent", Label: m}, from, now+1, tier, 300)
		if err != nil {
			return nil, err
		}
		res, fit, ok := Predict(pts, now)
		perMount[m] = res
		if !ok {
			continue
		}
		// the worst mount: the one filling up first (else the highest R²)
		if best == nil || worse(fit, bestFit, now) {
			best, bestFit, bestMount = res, fit, m
		}
	}
	combined := map[string]any{"full_at": nil, "primary_metric": nil, "confidence": "low"}
	metrics := map[string]any{"disk_percent": map[string]any{"error": "Insufficient data"}}
	if best != nil {
		best["mount"] = bestMount
		metrics["disk_percent"] = best
		conf := "low"
		if bestFit.R2 > 0.8 {
			conf = "high"
		} else if bestFit.R2 > 0.5 {
			conf = "medium"
		}
		var fullAt any
		if t, ok := fullTime(bestFit); ok && t > float64(now) {
			fullAt = isoUTC(t)
		}
		combined = map[string]any{"full_at": fullAt, "primary_metric": "disk_percent", "r_squared": roundN(bestFit.R2, 4),
			"confidence": conf, "slope_per_day": roundN(bestFit.Slope*86400, 4), "mount": bestMount}
	}
	return &anyOut{Body: map[string]any{"metrics": metrics, "combined": combined, "mounts": perMount}}, nil
}

func fullTime(f Fit) (float64, bool) {
	if f.Slope <= 0 {
		return 0, false
	}
	return (100 - f.Intercept) / f.Slope, true
}

// worse reports whether a fills up before b (a mount that never fills
// ranks after one that does).
func worse(a, b Fit, now int64) bool {
	ta, oka := fullTime(a)
	tb, okb := fullTime(b)
	oka, okb = oka && ta > float64(now), okb && tb > float64(now)
	switch {
	case oka && okb:
		return ta < tb
	case oka != okb:
		return oka
	}
	return a.R2 > b.R2 || math.IsNaN(b.R2)
}
