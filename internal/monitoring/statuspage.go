package monitoring

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// historyDays is the length of the status page's uptime history.
const historyDays = 90

// publicTTL bounds how stale the public status may be: writes of this room
// refresh it at once, only collector-driven states wait for the TTL.
const publicTTL = 10 * time.Second

// publicView is what the public endpoints serve: the status and the newest
// incidents (usernames stripped). Shared read-only between requests.
type publicView struct {
	status    *PublicStatus
	incidents []StatusIncident
	at        time.Time

	htmlOnce sync.Once
	html     []byte
	htmlErr  error
}

// publicCache keeps the public view so that unauthenticated traffic costs
// no database work; gen counts this room's writes.
type publicCache struct {
	mu   sync.Mutex
	gen  atomic.Uint64
	at   time.Time
	seen uint64
	view *publicView
}

// changed marks the public view stale after a write.
func (r *Room) changed() { r.public.gen.Add(1) }

// publicView returns the cached public view, rebuilding it when stale.
func (r *Room) publicView(ctx context.Context) (*publicView, error) {
	c := &r.public
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := c.gen.Load()
	now := r.d.Now()
	if c.view != nil && c.seen == gen && now.Sub(c.at) < publicTTL && !now.Before(c.at) {
		return c.view, nil
	}
	ps, err := r.publicStatus(ctx)
	if err != nil {
		return nil, err
	}
	ins, err := r.d.Store.Incidents(ctx, false, 50)
	if err != nil {
		return nil, err
	}
	c.view, c.at, c.seen = &publicView{status: ps, incidents: publicIncidents(ins), at: now}, now, gen
	return c.view, nil
}

// DayCell is one day of a component's uptime bar; Percent is nil without data.
type StatusDayCell struct {
	Date    string   `json:"date"`
	Percent *float64 `json:"percent"`
	// State is "no_data" (before the server existed, or nothing checked
	// that day), "up" (a monitor's day with checks), or for a component
	// without a monitor the worst incident severity of the day ("none",
	// "minor", "major", "critical").
	State string `json:"state"`
}

// PublicComponent is a component as the public status page shows it.
type StatusPageComponent struct {
	ID        *int64 `json:"id,omitempty"`
	Name      string `json:"name"`
	GroupName string `json:"group_name"`
	Status    string `json:"status"`
	// UptimePercent and UptimeDays are set for components linked to a monitor.
	UptimePercent *float64        `json:"uptime_percent,omitempty"`
	UptimeDays    []StatusDayCell `json:"uptime_days,omitempty"`
}

// HistoryDay is one day of the incident history bar.
type StatusHistoryDay struct {
	Date          string `json:"date"`
	Incidents     int    `json:"incidents"`
	WorstSeverity string `json:"worst_severity"`
	// NoData marks the days before the server existed.
	NoData bool `json:"no_data,omitempty"`
}

// PublicStatus is the body of /api/status/public.
type PublicStatus struct {
	Components      []StatusPageComponent `json:"components"`
	Services        []StatusPageComponent `json:"services"`
	ActiveIncidents []StatusIncident      `json:"active_incidents"`
	UptimeHistory   []StatusHistoryDay    `json:"uptime_history"`
	Overall         string                `json:"overall"`
	Timestamp       int64                 `json:"timestamp"`
}

var severityRank = map[string]int{"none": 0, "minor": 1, "major": 2, "critical": 3}

// dayIndex returns the calendar day of unix time ts in loc as days since the epoch.
func dayIndex(ts int64, loc *time.Location) int64 {
	_, off := time.Unix(ts, 0).In(loc).Zone()
	return floorDiv(ts+int64(off), 86400)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// window returns the statistics window starting at since.
func (r *Room) window(since int64) Window {
	t := time.Unix(since, 0).In(r.d.Location)
	next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, r.d.Location).Unix()
	return Window{Since: since, DayStart: next, FirstDay: dayIndex(next, r.d.Location)}
}

func dayDate(idx int64) string { return time.Unix(idx*86400, 0).UTC().Format("2006-01-02") }

// publicStatus assembles the public status data.
func (r *Room) publicStatus(ctx context.Context) (*PublicStatus, error) {
	now := r.d.Now()
	snap := normalized(r.latest())
	if snap == nil {
		snap = map[string]any{}
	}
	comps, err := r.d.Store.ListComponents(ctx)
	if err != nil {
		return nil, err
	}
	monitors, err := r.d.Store.ListMonitors(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[int64]EndpointMonitor{}
	for _, m := range monitors {
		byID[m.ID] = m
	}
	today := dayIndex(now.Unix(), r.d.Location)
	first := today - historyDays + 1
	_, off := now.In(r.d.Location).Zone()
	since := first*86400 - int64(off)

	var linked []int64
	for _, c := range comps {
		if c.Enabled && c.MonitorID != nil {
			linked = append(linked, *c.MonitorID)
		}
	}
	daily, err := r.d.Store.DailyUptime(ctx, linked, first)
	if err != nil {
		return nil, err
	}

	// Days before the server's first migration have no data.
	firstData := first
	if at, ok, err := r.d.Store.Began(ctx); err != nil {
		r.d.Log.Warn("status page: server start unknown", "err", err)
	} else if ok {
		firstData = max(first, dayIndex(at, r.d.Location))
	}
	recent, err := r.d.Store.IncidentsSince(ctx, since)
	if err != nil {
		return nil, err
	}
	days := map[int64]*StatusHistoryDay{}
	history := make([]StatusHistoryDay, 0, historyDays)
	for d := first; d <= today; d++ {
		history = append(history, StatusHistoryDay{Date: dayDate(d), WorstSeverity: "none", NoData: d < firstData})
	}
	for i := range history {
		days[first+int64(i)] = &history[i]
	}
	for _, in := range recent {
		if h := days[dayIndex(in.CreatedAt, r.d.Location)]; h != nil {
			h.Incidents++
			if severityRank[in.Severity] > severityRank[h.WorstSeverity] {
				h.WorstSeverity = in.Severity
			}
		}
	}

	out := &PublicStatus{Components: []StatusPageComponent{}, Timestamp: now.Unix(), UptimeHistory: history}
	for _, c := range comps {
		if !c.Enabled {
			continue
		}
		id := c.ID
		pc := StatusPageComponent{ID: &id, Name: c.Name, GroupName: c.GroupName, Status: componentStatus(c, snap, byID)}
		if c.MonitorID != nil {
			pc.UptimeDays, pc.UptimePercent = uptimeCells(daily[*c.MonitorID], first, today)
		} else {
			pc.UptimeDays = incidentCells(history)
		}
		out.Components = append(out.Components, pc)
	}
	if len(out.Components) == 0 && r.d.Settings != nil {
		legacy := r.d.Settings.Current().StatusPageServices
		for _, k := range strings.Split(legacy, ",") {
			if k = strings.TrimSpace(k); k != "" {
				out.Components = append(out.Components, StatusPageComponent{Name: k, GroupName: "Default", Status: snapshotStatus(k, snap),
					UptimeDays: incidentCells(history)})
			}
		}
	}
	out.Services = out.Components

	active, err := r.d.Store.Incidents(ctx, true, 20)
	if err != nil {
		return nil, err
	}
	out.ActiveIncidents = publicIncidents(active)

	out.Overall = overall(out.Components, out.ActiveIncidents)
	return out, nil
}

func uptimeCells(days []DayUptime, first, today int64) ([]StatusDayCell, *float64) {
	by := map[int64]DayUptime{}
	up, total := 0, 0
	for _, d := range days {
		by[d.Day] = d
		up += d.Up
		total += d.Total
	}
	cells := make([]StatusDayCell, 0, historyDays)
	for d := first; d <= today; d++ {
		c := StatusDayCell{Date: dayDate(d), State: "no_data"}
		if u, ok := by[d]; ok && u.Total > 0 {
			p := round(float64(u.Up)/float64(u.Total)*100, 2)
			c.Percent = &p
			c.State = "up"
		}
		cells = append(cells, c)
	}
	if total == 0 {
		return cells, nil
	}
	p := round(float64(up)/float64(total)*100, 2)
	return cells, &p
}

// incidentCells is the bar of a component without a monitor: each day's
// worst incident, and "no_data" before the server existed.
func incidentCells(history []StatusHistoryDay) []StatusDayCell {
	cells := make([]StatusDayCell, 0, len(history))
	for _, h := range history {
		c := StatusDayCell{Date: h.Date, State: h.WorstSeverity}
		if h.NoData {
			c.State = "no_data"
		}
		cells = append(cells, c)
	}
	return cells
}

// overall is the page's banner state (spec 20 §15.3; a component whose
// monitor is down counts as degradation, all of them down as an outage).
func overall(comps []StatusPageComponent, active []StatusIncident) string {
	for _, in := range active {
		if in.Severity == "critical" {
			return "major_outage"
		}
	}
	outages, degraded := 0, false
	for _, c := range comps {
		switch c.Status {
		case "outage":
			outages++
			degraded = true
		case "degraded":
			degraded = true
		}
	}
	if len(comps) > 0 && outages == len(comps) {
		return "major_outage"
	}
	if degraded || len(active) > 0 {
		return "degraded"
	}
	return "operational"
}

type publicOut struct{ Body *PublicStatus }

func (r *Room) publicStatusJSON(ctx context.Context, _ *struct{}) (*publicOut, error) {
	v, err := r.publicView(ctx)
	if err != nil {
		return nil, err
	}
	return &publicOut{Body: v.status}, nil
}
