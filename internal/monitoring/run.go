package monitoring

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// round rounds v to dp decimals.
func round(v float64, dp int) float64 {
	p := math.Pow(10, float64(dp))
	return math.Round(v*p) / p
}

type alertAction struct {
	raise         bool
	key, sev, msg string
}

// RunCheck checks monitor id once, stores the result, and raises or
// resolves alerts on state changes. Checks of one monitor never overlap.
func (r *Room) RunCheck(ctx context.Context, id int64) (CheckResult, EndpointMonitor, error) {
	unlock := r.lock(id)
	defer unlock()
	m, err := r.d.Store.GetMonitor(ctx, id)
	if err != nil {
		return CheckResult{}, m, err
	}
	res, noHistory := r.check(ctx, m)
	now := r.d.Now().Unix()
	sv := Saved{Now: now, Day: dayIndex(now, r.d.Location), Result: res, NoHistory: noHistory, CertAlertLevel: m.certAlertLevel,
		CertAlertedAt: m.certAlertedAt, DownAlerted: m.downAlerted}
	var actions []alertAction
	event := func(kind, sev, msg string) {
		sv.Events = append(sv.Events, EndpointEvent{Timestamp: now, Kind: kind, Severity: sev, Message: msg})
	}

	downKey := "endpoint_down:" + m.Name
	switch {
	case res.Status == StatusDown && !m.downAlerted:
		msg := fmt.Sprintf("Endpoint %s (%s) is DOWN", m.Name, m.URL)
		if res.Error != "" {
			msg += ": " + res.Error
		}
		event("down", "critical", msg)
		actions = append(actions, alertAction{raise: true, key: downKey, sev: "critical", msg: msg})
		sv.DownAlerted = true
	case (res.Status == StatusUp || res.Status == StatusDegraded) && m.downAlerted:
		msg := fmt.Sprintf("Endpoint %s (%s) recovered: %s", m.Name, m.URL, res.Status)
		event("recovered", "info", msg)
		actions = append(actions, alertAction{key: downKey})
		sv.DownAlerted = false
	}

	certKey := "cert_expiry:" + m.Name
	if d := res.CertExpiryDays; d != nil {
		if *d <= m.NotifyCertDays {
			level := "warning"
			if *d <= 7 {
				level = "critical"
			}
			// Once per level change, then at most once a day (spec 20 §19.19).
			if level != m.certAlertLevel || now-m.certAlertedAt >= 86400 {
				msg := fmt.Sprintf("Certificate for %s (%s) expires in %d day(s)", m.Name, m.URL, *d)
				if *d <= 0 {
					msg = fmt.Sprintf("Certificate for %s (%s) has expired", m.Name, m.URL)
				}
				event("cert_expiry", level, msg)
				actions = append(actions, alertAction{raise: true, key: certKey, sev: level, msg: msg})
				sv.CertAlertLevel, sv.CertAlertedAt = level, now
			}
		} else if m.certAlertLevel != "" {
			event("cert_ok", "info", fmt.Sprintf("Certificate for %s (%s) renewed: expires in %d day(s)", m.Name, m.URL, *d))
			actions = append(actions, alertAction{key: certKey})
			sv.CertAlertLevel, sv.CertAlertedAt = "", 0
		}
	}

	if err := r.d.Store.SaveCheck(ctx, id, sv); err != nil {
		return res, m, err
	}
	r.changed()
	// Alerts and metrics outlive a cancelled request.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if r.d.Alerts != nil {
		for _, a := range actions {
			var err error
			if a.raise {
				err = r.d.Alerts.RaiseExternal(bg, AlertSource, a.key, a.sev, a.msg)
			} else {
				err = r.d.Alerts.ResolveExternal(bg, AlertSource, a.key)
			}
			if err != nil {
				r.d.Log.Warn("alert hand-off failed", "key", a.key, "err", err)
			}
		}
	}
	if r.d.Metrics != nil && res.Status != StatusSkipped && !noHistory {
		if err := r.d.Metrics.WriteMetric(bg, "endpoint_ms:"+m.Name, float64(res.ResponseMS), ""); err != nil {
			r.d.Log.Warn("endpoint metric write failed", "monitor", m.Name, "err", err)
		}
	}
	return res, m, nil
}

// check runs the check itself: on the assigned agent, or from the server.
// noHistory is set when the agent never answered (spec 20 §15.5 step 1).
func (r *Room) check(ctx context.Context, m EndpointMonitor) (CheckResult, bool) {
	if m.AgentHostname == nil || *m.AgentHostname == "" {
		return r.checker.Check(ctx, m), false
	}
	if r.d.Agents == nil {
		return CheckResult{Status: StatusSkipped, Error: "Agent-dispatched checks are unavailable: no agent transport is wired"}, false
	}
	timeout := time.Duration(m.Timeout) * time.Second
	c, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	start := time.Now()
	out, err := r.d.Agents.EndpointCheck(c, *m.AgentHostname, m.URL, m.Method, min(timeout, 30*time.Second))
	if errors.Is(err, ErrNoAgentTransport) {
		return CheckResult{Status: StatusSkipped, Error: "Agent-dispatched checks are unavailable: no agent transport is wired"}, false
	}
	if errors.Is(err, ErrAgentOffline) {
		return CheckResult{Status: StatusDown, Error: "Agent " + *m.AgentHostname + " is offline"}, true
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return CheckResult{Status: StatusDown, ResponseMS: elapsedMS(start), Error: "Agent check failed: " + err.Error()}, false
	}
	if err != nil || out == nil {
		return CheckResult{Status: StatusDown, ResponseMS: elapsedMS(start), Error: "Agent did not respond in time"}, true
	}
	res := CheckResult{StatusCode: toInt(out["status_code"]), ResponseMS: int64(toInt(out["response_ms"]))}
	if e, ok := out["error"].(string); ok {
		res.Error = e
	}
	res.Status = statusFor(res.StatusCode, m.ExpectedStatus)
	if s, _ := out["status"].(string); s == "error" {
		res.Status = StatusDown
	}
	if d, ok := out["cert_expiry_days"]; ok && d != nil {
		v := toInt(d)
		res.CertExpiryDays = &v
	}
	return res, false
}

func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}
