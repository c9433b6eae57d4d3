package alerts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/noba-go/noba/internal/httpx"
)

// cronParser reads 5-field cron expressions (names and @descriptors too),
// with standard semantics: day-of-month and day-of-week OR-ed when both
// are restricted, 7 = Sunday (a conscious fix of spec 30 §1.8.1 quirks).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// cronActive reports whether expr matched any minute of the last durMin
// minutes up to now (offsets 0..durMin-1), in now's location.
func cronActive(expr string, durMin int, now time.Time) bool {
	if durMin <= 0 {
		durMin = 60
	}
	sched, err := cronParser.Parse(strings.TrimSpace(expr))
	if err != nil {
		return false
	}
	floor := now.Truncate(time.Minute)
	next := sched.Next(floor.Add(-time.Duration(durMin) * time.Minute))
	return !next.IsZero() && !next.After(floor)
}

// windowActive is spec 30 §1.10 for one DB window.
func windowActive(w MaintenanceWindow, now time.Time) bool {
	if !w.Enabled {
		return false
	}
	if w.OneOffStart != nil && w.OneOffEnd != nil {
		t := now.Unix()
		return *w.OneOffStart <= t && t <= *w.OneOffEnd
	}
	if w.Schedule != nil && strings.TrimSpace(*w.Schedule) != "" {
		return cronActive(*w.Schedule, w.DurationMin, now)
	}
	return false
}

// maintenance is the state of every window at one instant.
type maintenance struct {
	active   []MaintenanceWindow
	yaml     bool
	suppress bool
	override string
	close    bool
}

func (m maintenance) any() bool { return m.yaml || len(m.active) > 0 }

// maintenanceAt evaluates the DB windows and the YAML `maintenanceWindows`
// ({start: cron, duration_minutes}, active for their duration, §13 F5).
// YAML windows suppress alert notifications like DB windows with
// suppress_alerts.
func (r *Room) maintenanceAt(ctx context.Context, now time.Time, settings map[string]any) maintenance {
	var m maintenance
	ws, err := r.d.Store.Windows(ctx)
	if err != nil {
		r.d.Log.Warn("maintenance windows unreadable", "err", err)
	}
	for _, w := range ws {
		if !windowActive(w, now) {
			continue
		}
		m.active = append(m.active, w)
		if w.SuppressAlerts {
			m.suppress = true
		}
		if w.AutoCloseAlerts {
			m.close = true
		}
		if m.override == "" && w.OverrideAutonomy != nil && *w.OverrideAutonomy != "" {
			m.override = *w.OverrideAutonomy
		}
	}
	if settings == nil {
		settings = r.d.Settings.View() // shared: read only
	}
	yl, _ := settings["maintenanceWindows"].([]any)
	for _, x := range yl {
		ym, _ := x.(map[string]any)
		start := strOf(ym["start"])
		if start == "" {
			continue
		}
		d, ok := intOf(ym["duration_minutes"])
		if !ok {
			d = 60
		}
		if cronActive(start, int(d), now) {
			m.yaml, m.suppress = true, true
		}
	}
	return m
}

// InMaintenance reports whether a maintenance window (DB or YAML) is
// active at now. Automation windows are global, so every target is in
// maintenance while one is active; target is accepted for the healing
// room's interface.
func (r *Room) InMaintenance(target string, now time.Time) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = target
	return r.maintenanceAt(ctx, now, nil).any()
}

// windowFields are the fields a client may set on a window.
var windowFields = []string{"name", "schedule", "duration_min", "one_off_start", "one_off_end", "suppress_alerts",
	"override_autonomy", "auto_close_alerts", "enabled"}

// applyWindow sets the recognised fields of body on w and reports how many
// it saw; the message of a bad value is returned for a 400.
func applyWindow(w *MaintenanceWindow, body map[string]any) (int, string) {
	seen := 0
	for _, f := range windowFields {
		v, ok := body[f]
		if !ok {
			continue
		}
		seen++
		switch f {
		case "name":
			s, _ := v.(string)
			w.Name = strings.TrimSpace(s)
		case "schedule":
			if v == nil || v == "" {
				w.Schedule = nil
				continue
			}
			s, isStr := v.(string)
			if !isStr {
				return seen, "schedule must be a cron expression string"
			}
			s = strings.TrimSpace(s)
			if _, err := cronParser.Parse(s); err != nil {
				return seen, fmt.Sprintf("Invalid schedule '%s' — expected 5 cron fields (minute hour day month weekday): %v", s, err)
			}
			w.Schedule = &s
		case "duration_min":
			if v == nil {
				w.DurationMin = 60
				continue
			}
			n, ok := intOf(v)
			if !ok || n < 1 || n > 525600 {
				return seen, "duration_min must be a whole number of minutes between 1 and 525600"
			}
			w.DurationMin = int(n)
		case "one_off_start", "one_off_end":
			var p *int64
			if v != nil {
				n, ok := intOf(v)
				if !ok || n < 0 {
					return seen, f + " must be a Unix time in seconds"
				}
				p = &n
			}
			if f == "one_off_start" {
				w.OneOffStart = p
			} else {
				w.OneOffEnd = p
			}
		case "suppress_alerts", "auto_close_alerts", "enabled":
			b, isBool := v.(bool)
			if !isBool {
				if n, ok := intOf(v); ok && (n == 0 || n == 1) {
					b, isBool = n == 1, true
				}
			}
			if !isBool {
				return seen, f + " must be true or false"
			}
			switch f {
			case "suppress_alerts":
				w.SuppressAlerts = b
			case "auto_close_alerts":
				w.AutoCloseAlerts = b
			default:
				w.Enabled = b
			}
		case "override_autonomy":
			if v == nil || v == "" {
				w.OverrideAutonomy = nil
				continue
			}
			s, _ := v.(string)
			if !oneOf(s, autonomies) {
				return seen, "override_autonomy must be execute, notify, approve, disabled or null"
			}
			w.OverrideAutonomy = &s
		}
	}
	return seen, ""
}

// checkWindow validates a whole window after the fields are applied.
func checkWindow(w MaintenanceWindow) string {
	if w.Name == "" {
		return "name is required"
	}
	if len(w.Name) > 200 {
		return "name must be at most 200 characters"
	}
	if !httpx.Printable(w.Name) {
		return "name must be printable text (no control or bidi characters)"
	}
	if (w.OneOffStart == nil) != (w.OneOffEnd == nil) {
		return "one_off_start and one_off_end must be given together"
	}
	if w.OneOffStart != nil && *w.OneOffEnd < *w.OneOffStart {
		return "one_off_end must not be before one_off_start"
	}
	if w.OneOffStart == nil && w.Schedule == nil {
		return "Provide a cron schedule or one_off_start and one_off_end"
	}
	return ""
}
