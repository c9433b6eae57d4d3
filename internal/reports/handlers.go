package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/httpx"
)

// ---- logs ----

var ansiRe = regexp.MustCompile(`\x1b(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])`)

func stripANSI(s string) string { return ansiRe.ReplaceAllString(s, "") }

type reportContentOut struct {
	Body struct {
		Content string `json:"content"`
	}
}

func content(s string) *reportContentOut {
	o := &reportContentOut{}
	o.Body.Content = s
	return o
}

// tail returns the last n lines of the file, ANSI stripped; ok is false
// when the file cannot be read.
func tail(p string, n int) (string, bool) {
	f, err := os.Open(p)
	if err != nil {
		return "", false
	}
	defer f.Close()
	// Logs can be large: read at most the last 1 MiB.
	if fi, err := f.Stat(); err == nil && fi.Size() > 1<<20 {
		_, _ = f.Seek(-(1 << 20), io.SeekEnd)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "", false
	}
	s := stripANSI(string(b))
	if n > 0 {
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		s = strings.Join(lines, "\n")
	}
	return s, true
}

type logIn struct {
	Type string `query:"type" doc:"syserr, action, backup or cloud"`
}

func (r *Room) journal(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	args := []string{"-p", "3", "-n", "25", "--no-pager"}
	if r.d.Journal != nil {
		b, err := r.d.Journal(ctx, args...)
		if err != nil {
			return ""
		}
		return string(b)
	}
	var out bytes.Buffer
	c := exec.CommandContext(ctx, "journalctl", args...)
	c.Stdout = &out
	if c.Run() != nil {
		return ""
	}
	return out.String()
}

func (r *Room) logViewer(ctx context.Context, in *logIn) (*reportContentOut, error) {
	var s string
	switch t := in.Type; t {
	case "", "syserr":
		s = r.journal(ctx)
	case "action":
		var ok bool
		if s, ok = tail(filepath.Join(r.d.DataDir, "noba-action.log"), 0); !ok {
			s = "No recent actions."
		}
	case "backup", "cloud":
		name := map[string]string{"backup": "backup-to-nas.log", "cloud": "cloud-backup.log"}[t]
		var ok bool
		if s, ok = tail(filepath.Join(r.d.DataDir, name), 30); !ok {
			s = "No log."
		}
	default:
		s = "Unknown log type."
	}
	if strings.TrimSpace(s) == "" {
		s = "Empty."
	}
	return content(s), nil
}

// ---- reports ----

func humanBytes(b float64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.1f%s", b, units[i])
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

type rangeIn struct {
	Range string `query:"range" doc:"hours (1-8760)"`
}

type anyOut struct{ Body any }

func (r *Room) series(ctx context.Context, metric string, hours int, bands bool) ([]Point, error) {
	if r.d.History == nil {
		return nil, nil
	}
	return r.d.History.Series(ctx, metric, float64(hours), 3600, bands)
}

func (r *Room) bandwidth(ctx context.Context, in *rangeIn) (*anyOut, error) {
	h, err := httpx.IntParam("range", in.Range, 24, 1, 8760)
	if err != nil {
		return nil, err
	}
	rx, err := r.series(ctx, "net_rx_bytes", h, false)
	if err != nil {
		return nil, err
	}
	tx, err := r.series(ctx, "net_tx_bytes", h, false)
	if err != nil {
		return nil, err
	}
	var trx, ttx float64
	for _, p := range rx {
		trx += p.Value * 3600
	}
	for _, p := range tx {
		ttx += p.Value * 3600
	}
	hourly := []map[string]any{}
	for i := 0; i < len(rx) && i < len(tx); i++ {
		hourly = append(hourly, map[string]any{"time": rx[i].Time, "rx_bps": math.Round(rx[i].Value), "tx_bps": math.Round(tx[i].Value)})
	}
	return &anyOut{Body: map[string]any{"range_hours": h, "total_rx": humanBytes(trx), "total_tx": humanBytes(ttx),
		"total_rx_bytes": int64(trx), "total_tx_bytes": int64(ttx), "hourly": hourly}}, nil
}

func (r *Room) anomalies(ctx context.Context, in *rangeIn) (*anyOut, error) {
	h, err := httpx.IntParam("range", in.Range, 168, 1, 8760)
	if err != nil {
		return nil, err
	}
	metrics := map[string]any{}
	total := 0
	for _, m := range []string{"cpu_percent", "mem_percent", "cpu_temp"} {
		pts, err := r.series(ctx, m, h, true)
		if err != nil {
			return nil, err
		}
		var anom []Point
		for _, p := range pts {
			if p.Anomaly {
				anom = append(anom, p)
			}
		}
		if len(anom) == 0 {
			continue
		}
		vals := []float64{}
		for _, p := range anom[max(0, len(anom)-10):] {
			vals = append(vals, p.Value)
		}
		last := anom[len(anom)-1]
		metrics[m] = map[string]any{"count": len(anom), "latest": map[string]any{"time": last.Time, "value": last.Value,
			"upper_band": last.UpperBand, "lower_band": last.LowerBand, "anomaly": true}, "values": vals}
		total += len(anom)
	}
	return &anyOut{Body: map[string]any{"range_hours": h, "anomaly_count": total, "metrics": metrics}}, nil
}

var metricRe = regexp.MustCompile(`^[a-zA-Z0-9_.:-]{1,64}$`)

type reportCustomIn struct {
	Body struct {
		Metrics    []string `json:"metrics,omitempty"`
		RangeHours *float64 `json:"range_hours,omitempty"`
		Title      string   `json:"title,omitempty"`
	}
}

func (r *Room) custom(ctx context.Context, in *reportCustomIn) (*anyOut, error) {
	b := in.Body
	ms := b.Metrics
	if len(ms) == 0 {
		ms = []string{"cpu_percent", "mem_percent"}
	}
	if len(ms) > 20 {
		return nil, httpx.Invalid("At most 20 metrics per report")
	}
	h := 24
	if b.RangeHours != nil {
		if *b.RangeHours < 1 || *b.RangeHours > 8760 {
			return nil, httpx.Invalid("range_hours must be between 1 and 8760")
		}
		h = int(*b.RangeHours)
	}
	title := strings.TrimSpace(b.Title)
	if title == "" {
		title = "Custom Report"
	}
	out := map[string]any{}
	for _, m := range ms {
		if !metricRe.MatchString(m) {
			return nil, httpx.Invalid("Unknown metric name %q", m)
		}
		pts, err := r.series(ctx, m, h, false)
		if err != nil {
			return nil, err
		}
		if len(pts) == 0 {
			continue
		}
		mn, mx, sum := pts[0].Value, pts[0].Value, 0.0
		data := make([]map[string]any, 0, len(pts))
		for _, p := range pts {
			mn, mx, sum = math.Min(mn, p.Value), math.Max(mx, p.Value), sum+p.Value
			data = append(data, map[string]any{"time": p.Time, "value": round2(p.Value)})
		}
		out[m] = map[string]any{"avg": round2(sum / float64(len(pts))), "max": round2(mx), "min": round2(mn),
			"current": round2(pts[len(pts)-1].Value), "points": len(pts), "data": data}
	}
	return &anyOut{Body: map[string]any{"title": title, "range_hours": h, "generated_at": r.d.Now().Format("2006-01-02T15:04:05.000000"),
		"metrics": out}}, nil
}

// ---- Grafana ----

func panel(title, typ string, x, y, w, h int, targets ...[2]string) map[string]any {
	ts := []map[string]any{}
	for _, t := range targets {
		ts = append(ts, map[string]any{"expr": t[0], "legendFormat": t[1]})
	}
	return map[string]any{"title": title, "type": typ, "targets": ts, "gridPos": map[string]any{"x": x, "y": y, "w": w, "h": h}}
}

func (r *Room) grafana(ctx context.Context, _ *struct{}) (*anyOut, error) {
	return &anyOut{Body: map[string]any{
		"dashboard": map[string]any{
			"title": "NOBA System Metrics",
			"panels": []any{
				panel("CPU Usage", "timeseries", 0, 0, 12, 8, [2]string{"noba_cpu_percent", "CPU %"}),
				panel("Memory Usage", "timeseries", 12, 0, 12, 8, [2]string{"noba_mem_percent", "Memory %"}),
				panel("Disk Usage", "bargauge", 0, 8, 12, 8, [2]string{"noba_disk_percent", "{{mount}}"}),
				panel("Network I/O", "timeseries", 12, 8, 12, 8, [2]string{"noba_net_rx_bps", "RX"}, [2]string{"noba_net_tx_bps", "TX"}),
				panel("Service Status", "stat", 0, 16, 24, 4, [2]string{"noba_service_up", "{{name}}"}),
			},
			"time":    map[string]any{"from": "now-24h", "to": "now"},
			"refresh": "30s",
		},
		"datasource": map[string]any{"type": "prometheus", "url": "http://YOUR_NOBA_HOST:8080/api/metrics/prometheus"},
	}}, nil
}

// ---- runbooks ----

func (r *Room) runbookList() []map[string]any {
	raw := r.d.Settings.View()["runbooks"] // shared: read only
	if s, ok := raw.(string); ok {
		var v []any
		if json.Unmarshal([]byte(s), &v) != nil {
			return []map[string]any{}
		}
		raw = v
	}
	out := []map[string]any{}
	l, _ := raw.([]any)
	for _, x := range l {
		if m, ok := x.(map[string]any); ok && m["id"] != nil {
			out = append(out, m)
		}
	}
	return out
}

func (r *Room) runbooks(ctx context.Context, _ *struct{}) (*anyOut, error) {
	return &anyOut{Body: r.runbookList()}, nil
}

type runbookIn struct {
	ID string `path:"runbook_id"`
}

func (r *Room) runbook(ctx context.Context, in *runbookIn) (*anyOut, error) {
	for _, m := range r.runbookList() {
		if fmt.Sprint(m["id"]) == in.ID {
			return &anyOut{Body: m}, nil
		}
	}
	return nil, httpx.NotFound("Runbook not found")
}

// ---- Graylog ----

type graylogIn struct {
	Q     string `query:"q"`
	Hours string `query:"hours"`
}

func (r *Room) graylog(ctx context.Context, in *graylogIn) (*anyOut, error) {
	st := r.d.Settings.View() // shared: read only
	base, _ := st["graylogUrl"].(string)
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	if base == "" {
		return nil, httpx.NotFound("Graylog not configured")
	}
	h, err := httpx.IntParam("hours", in.Hours, 1, 1, 168)
	if err != nil {
		return nil, err
	}
	q := in.Q
	if strings.TrimSpace(q) == "" {
		q = "*"
	}
	if len(q) > 1000 {
		return nil, httpx.Invalid("q must be at most 1000 characters")
	}
	tok, _ := st["graylogToken"].(string)
	user, _ := st["graylogUser"].(string)
	pass, _ := st["graylogPassword"].(string)
	var bu, bp string
	switch {
	case tok != "":
		bu, bp = tok, "token"
		if u, p, ok := strings.Cut(tok, ":"); ok {
			bu, bp = u, p
		}
	case user != "" && pass != "":
		bu, bp = user, pass
	default:
		return &anyOut{Body: map[string]any{"messages": []any{}, "total": 0}}, nil
	}
	v := url.Values{"query": {q}, "range": {fmt.Sprint(h * 3600)}, "limit": {"50"}, "sort": {"timestamp:desc"}}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/search/universal/relative?"+v.Encode(), nil)
	if err != nil {
		return nil, httpx.Invalid("graylogUrl is not a valid URL")
	}
	req.SetBasicAuth(bu, bp)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Requested-By", "noba")
	offline := &anyOut{Body: map[string]any{"status": "offline", "error": "Connection failed"}}
	resp, err := r.d.HTTP.Do(req)
	if err != nil {
		return offline, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return offline, nil
	}
	var res struct {
		Total    int64 `json:"total_results"`
		Messages []struct {
			Message map[string]any `json:"message"`
		} `json:"messages"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&res) != nil {
		return offline, nil
	}
	msgs := []map[string]any{}
	for _, m := range res.Messages {
		text := fmt.Sprint(orEmpty(m.Message["message"]))
		if r := []rune(text); len(r) > 200 {
			text = string(r[:200])
		}
		msgs = append(msgs, map[string]any{"timestamp": orEmpty(m.Message["timestamp"]), "source": orEmpty(m.Message["source"]),
			"message": text, "level": m.Message["level"], "facility": orEmpty(m.Message["facility"])})
	}
	return &anyOut{Body: map[string]any{"total": res.Total, "messages": msgs, "query": q, "status": "online"}}, nil
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}
