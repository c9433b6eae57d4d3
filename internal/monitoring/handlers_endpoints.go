package monitoring

import (
	"context"
	"fmt"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

type okOut struct {
	Body struct {
		Status string `json:"status"`
	}
}

func ok() *okOut {
	o := &okOut{}
	o.Body.Status = "ok"
	return o
}

type idOut struct {
	Body struct {
		Status string `json:"status"`
		ID     int64  `json:"id"`
	}
}

func okID(id int64) *idOut {
	o := &idOut{}
	o.Body.Status, o.Body.ID = "ok", id
	return o
}

func (r *Room) audit(ctx context.Context, action, details string) {
	if r.d.Audit == nil {
		return
	}
	user := ""
	if p, ok := authz.From(ctx); ok {
		user = p.Username
	}
	r.d.Audit.Record(ctx, action, user, details, httpx.ClientIP(ctx))
}

// uptimeWindow is the window of per-monitor uptime (spec 20 §15.5).
const uptimeWindow = 720 * 3600

type listEndpointsIn struct {
	History string `query:"history" doc:"include the newest N check results per monitor (0-100)"`
}

type listEndpointsOut struct{ Body []EndpointMonitor }

func (r *Room) listEndpoints(ctx context.Context, in *listEndpointsIn) (*listEndpointsOut, error) {
	hist, err := httpx.IntParam("history", in.History, 0, 0, 100)
	if err != nil {
		return nil, err
	}
	ms, err := r.monitorsWithStats(ctx)
	if err != nil {
		return nil, err
	}
	if hist > 0 {
		for i := range ms {
			if ms[i].History, err = r.d.Store.History(ctx, ms[i].ID, hist); err != nil {
				return nil, err
			}
		}
	}
	return &listEndpointsOut{Body: ms}, nil
}

// monitorsWithStats lists monitors with their 30-day uptime, average
// latency and latest state changes.
func (r *Room) monitorsWithStats(ctx context.Context) ([]EndpointMonitor, error) {
	ms, err := r.d.Store.ListMonitors(ctx)
	if err != nil {
		return nil, err
	}
	stats, err := r.d.Store.Stats(ctx, r.window(r.d.Now().Unix()-uptimeWindow))
	if err != nil {
		return nil, err
	}
	events, err := r.d.Store.Events(ctx, 5)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		st := stats[ms[i].ID]
		ms[i].UptimePercent, ms[i].AvgResponseMS = st.Uptime, st.AvgMS
		ms[i].Events = events[ms[i].ID]
		if ms[i].Events == nil {
			ms[i].Events = []EndpointEvent{}
		}
	}
	return ms, nil
}

type bodyIn struct {
	Body map[string]any
}

func (r *Room) createEndpoint(ctx context.Context, in *bodyIn) (*idOut, error) {
	m := EndpointMonitor{Type: "", Method: "GET", ExpectedStatus: 200, CheckInterval: 300, Timeout: 10, NotifyCertDays: 14,
		Enabled: true, VerifyTLS: true, CreatedAt: r.d.Now().Unix()}
	if in.Body == nil {
		return nil, httpx.Invalid("Name and URL are required")
	}
	if _, err := applyMonitor(in.Body, &m); err != nil {
		return nil, err
	}
	if m.Type == "" {
		m.Type = inferType(m.URL)
	}
	if err := validateMonitor(&m); err != nil {
		return nil, err
	}
	id, err := r.d.Store.CreateMonitor(ctx, m)
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "endpoint_create", fmt.Sprintf("id=%d name=%s url=%s", id, m.Name, m.URL))
	return okID(id), nil
}

type updateEndpointIn struct {
	MonitorID string `path:"monitor_id"`
	Body      map[string]any
}

func (r *Room) updateEndpoint(ctx context.Context, in *updateEndpointIn) (*okOut, error) {
	id, err := parseID("monitor_id", in.MonitorID)
	if err != nil {
		return nil, err
	}
	// Serialised with the monitor's checks, so that alert state stays consistent.
	unlock := r.lock(id)
	defer unlock()
	old, err := r.d.Store.GetMonitor(ctx, id)
	if err != nil {
		return nil, httpx.NotFound("Monitor not found or no changes")
	}
	m := old
	set, err := applyMonitor(in.Body, &m)
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return nil, httpx.NotFound("Monitor not found or no changes")
	}
	if err := validateMonitor(&m); err != nil {
		return nil, err
	}
	cols := monitorColumns(m, set)
	// A renamed, retargeted or disabled monitor closes its open alerts: they
	// are keyed by name and would otherwise never resolve.
	retire := m.Name != old.Name || m.URL != old.URL || m.Type != old.Type || (old.Enabled && !m.Enabled)
	if retire {
		cols["down_alerted"], cols["cert_alert_level"], cols["cert_alerted_at"] = 0, "", 0
	}
	if err := r.d.Store.UpdateMonitor(ctx, id, cols); err != nil {
		return nil, err
	}
	if retire {
		r.retireAlerts(ctx, old)
	}
	r.changed()
	r.audit(ctx, "endpoint_update", fmt.Sprintf("id=%d", id))
	return ok(), nil
}

type monitorIDIn struct {
	MonitorID string `path:"monitor_id"`
}

func (r *Room) deleteEndpoint(ctx context.Context, in *monitorIDIn) (*okOut, error) {
	id, err := parseID("monitor_id", in.MonitorID)
	if err != nil {
		return nil, err
	}
	m, err := r.d.Store.GetMonitor(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := r.d.Store.DeleteMonitor(ctx, id); err != nil {
		return nil, err
	}
	r.locks.Delete(id)
	// An open down or certificate alert of a deleted monitor would never resolve.
	r.retireAlerts(ctx, m)
	r.changed()
	r.audit(ctx, "endpoint_delete", fmt.Sprintf("id=%d name=%s", id, m.Name))
	return ok(), nil
}

type checkOut struct{ Body CheckResult }

func (r *Room) checkEndpoint(ctx context.Context, in *monitorIDIn) (*checkOut, error) {
	id, err := parseID("monitor_id", in.MonitorID)
	if err != nil {
		return nil, err
	}
	res, m, err := r.RunCheck(ctx, id)
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "endpoint_check_now", fmt.Sprintf("id=%d name=%s result=%s", id, m.Name, res.Status))
	return &checkOut{Body: res}, nil
}

// retireAlerts resolves the open alerts of m (before a rename, retarget,
// disable or delete).
func (r *Room) retireAlerts(ctx context.Context, m EndpointMonitor) {
	if r.d.Alerts == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	var keys []string
	if m.downAlerted {
		keys = append(keys, "endpoint_down:"+m.Name)
	}
	if m.certAlertLevel != "" {
		keys = append(keys, "cert_expiry:"+m.Name)
	}
	for _, k := range keys {
		if err := r.d.Alerts.ResolveExternal(ctx, AlertSource, k); err != nil {
			r.d.Log.Warn("alert resolve failed", "key", k, "err", err)
		}
	}
}
