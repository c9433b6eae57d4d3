package monitoring

import (
	"context"
	"fmt"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Incident severities and statuses (spec 20 §15.4).
var (
	severities     = []string{"minor", "major", "critical"}
	updateStatuses = []string{"investigating", "identified", "monitoring", "resolved"}
)

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// applyComponent applies the recognised fields of body to c.
func (r *Room) applyComponent(ctx context.Context, body map[string]any, c *StatusComponent) ([]string, error) {
	var set []string
	if v, ok := body["name"]; ok {
		s, _ := strField(v)
		if s == "" {
			return nil, httpx.Invalid("name is required")
		}
		if len(s) > 200 {
			return nil, httpx.Invalid("name must be at most 200 characters")
		}
		if err := httpx.CheckPrintable("name", s); err != nil {
			return nil, err
		}
		c.Name = s
		set = append(set, "name")
	}
	if v, ok := body["group_name"]; ok {
		s, _ := strField(v)
		if s == "" {
			s = "Default"
		}
		if len(s) > 200 {
			return nil, httpx.Invalid("group_name must be at most 200 characters")
		}
		if err := httpx.CheckPrintable("group_name", s); err != nil {
			return nil, err
		}
		c.GroupName = s
		set = append(set, "group_name")
	}
	if v, ok := body["service_key"]; ok {
		s, _ := strField(v)
		if s == "" {
			c.ServiceKey = nil
		} else {
			if len(s) > 200 {
				return nil, httpx.Invalid("service_key must be at most 200 characters")
			}
			c.ServiceKey = &s
		}
		set = append(set, "service_key")
	}
	if v, ok := body["monitor_id"]; ok {
		if v == nil || v == "" {
			c.MonitorID = nil
		} else {
			n, ok := intField(v)
			if !ok || n <= 0 {
				return nil, httpx.Invalid("monitor_id must be the id of an endpoint monitor")
			}
			if _, err := r.d.Store.GetMonitor(ctx, int64(n)); err != nil {
				return nil, httpx.Invalid("monitor_id %d does not exist", n)
			}
			id := int64(n)
			c.MonitorID = &id
		}
		set = append(set, "monitor_id")
	}
	if v, ok := body["display_order"]; ok {
		n, ok := intField(v)
		if !ok || n < -1000000 || n > 1000000 {
			return nil, httpx.Invalid("display_order must be an integer")
		}
		c.DisplayOrder = n
		set = append(set, "display_order")
	}
	if v, ok := body["enabled"]; ok {
		b, ok := boolField(v)
		if !ok {
			return nil, httpx.Invalid("enabled must be true or false")
		}
		c.Enabled = b
		set = append(set, "enabled")
	}
	return set, nil
}

func (r *Room) createComponent(ctx context.Context, in *bodyIn) (*idOut, error) {
	c := StatusComponent{GroupName: "Default", Enabled: true}
	if in.Body == nil {
		return nil, httpx.Invalid("name is required")
	}
	if _, err := r.applyComponent(ctx, in.Body, &c); err != nil {
		return nil, err
	}
	if c.Name == "" {
		return nil, httpx.Invalid("name is required")
	}
	id, err := r.d.Store.CreateComponent(ctx, c)
	if err != nil {
		return nil, err
	}
	r.changed()
	r.audit(ctx, "status_component_create", fmt.Sprintf("id=%d name=%s", id, c.Name))
	return okID(id), nil
}

type componentIn struct {
	CompID string `path:"comp_id"`
	Body   map[string]any
}

func (r *Room) updateComponent(ctx context.Context, in *componentIn) (*okOut, error) {
	id, err := parseID("comp_id", in.CompID)
	if err != nil {
		return nil, err
	}
	var c StatusComponent
	set, err := r.applyComponent(ctx, in.Body, &c)
	if err != nil {
		return nil, err
	}
	cols := map[string]any{}
	for _, k := range set {
		switch k {
		case "name":
			cols[k] = c.Name
		case "group_name":
			cols[k] = c.GroupName
		case "service_key":
			cols[k] = c.ServiceKey
		case "monitor_id":
			cols[k] = c.MonitorID
		case "display_order":
			cols[k] = c.DisplayOrder
		case "enabled":
			cols[k] = b2i(c.Enabled)
		}
	}
	if err := r.d.Store.UpdateComponent(ctx, id, cols); err != nil {
		return nil, err
	}
	r.changed()
	r.audit(ctx, "status_component_update", fmt.Sprintf("id=%d", id))
	return ok(), nil
}

type compIDIn struct {
	CompID string `path:"comp_id"`
}

func (r *Room) deleteComponent(ctx context.Context, in *compIDIn) (*okOut, error) {
	id, err := parseID("comp_id", in.CompID)
	if err != nil {
		return nil, err
	}
	if err := r.d.Store.DeleteComponent(ctx, id); err != nil {
		return nil, err
	}
	r.changed()
	r.audit(ctx, "status_component_delete", fmt.Sprintf("id=%d", id))
	return ok(), nil
}

type componentsOut struct {
	Body struct {
		Components []StatusComponent `json:"components"`
	}
}

func (r *Room) listComponents(ctx context.Context, _ *struct{}) (*componentsOut, error) {
	cs, err := r.d.Store.ListComponents(ctx)
	if err != nil {
		return nil, err
	}
	out := &componentsOut{}
	out.Body.Components = cs
	return out, nil
}

func (r *Room) createIncident(ctx context.Context, in *bodyIn) (*idOut, error) {
	body := in.Body
	title, _ := strField(body["title"])
	if title == "" {
		return nil, httpx.Invalid("title is required")
	}
	if len(title) > 300 {
		return nil, httpx.Invalid("title must be at most 300 characters")
	}
	if err := httpx.CheckPrintable("title", title); err != nil {
		return nil, err
	}
	sev := "minor"
	if v, ok := body["severity"]; ok && v != nil {
		sev, _ = strField(v)
		if !oneOf(sev, severities) {
			return nil, httpx.Invalid("severity must be minor, major, or critical")
		}
	}
	msg, _ := strField(body["message"])
	if len(msg) > 10000 {
		return nil, httpx.Invalid("message must be at most 10000 characters")
	}
	assigned, _ := strField(body["assigned_to"])
	user := authz.Must(ctx).Username
	id, err := r.d.Store.CreateIncident(ctx, StatusIncident{Title: title, Severity: sev, Status: "investigating",
		CreatedAt: r.d.Now().Unix(), CreatedBy: user, AssignedTo: assigned}, msg)
	if err != nil {
		return nil, err
	}
	r.changed()
	r.audit(ctx, "status_incident_create", fmt.Sprintf("id=%d title=%s", id, title))
	return okID(id), nil
}

type incidentIn struct {
	ID   string `path:"id"`
	Body map[string]any
}

func (r *Room) updateIncident(ctx context.Context, in *incidentIn) (*idOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	msg, _ := strField(in.Body["message"])
	if msg == "" {
		return nil, httpx.Invalid("message is required")
	}
	if len(msg) > 10000 {
		return nil, httpx.Invalid("message must be at most 10000 characters")
	}
	st := "investigating"
	if v, ok := in.Body["status"]; ok && v != nil {
		st, _ = strField(v)
		if !oneOf(st, updateStatuses) {
			return nil, httpx.Invalid("status must be investigating, identified, monitoring, or resolved")
		}
	}
	now := r.d.Now().Unix()
	var resolvedAt *int64
	if st == "resolved" {
		// Go: an update with status resolved resolves the incident (spec 20 §19.19).
		resolvedAt = &now
	}
	uid, err := r.d.Store.AddUpdate(ctx, id, StatusUpdate{Message: msg, Status: st, CreatedAt: now, CreatedBy: authz.Must(ctx).Username}, resolvedAt)
	if err != nil {
		return nil, err
	}
	r.changed()
	r.audit(ctx, "status_incident_update", fmt.Sprintf("incident=%d status=%s", id, st))
	return okID(uid), nil
}

type incidentIDIn struct {
	ID string `path:"id"`
}

func (r *Room) resolveIncident(ctx context.Context, in *incidentIDIn) (*okOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	changed, err := r.d.Store.ResolveIncident(ctx, id, r.d.Now().Unix(), authz.Must(ctx).Username)
	if err != nil {
		return nil, err
	}
	r.changed()
	if changed {
		r.audit(ctx, "status_incident_resolve", fmt.Sprintf("id=%d", id))
	}
	return ok(), nil
}

// publicIncidents strips usernames (spec 20 §19.7).
func publicIncidents(ins []StatusIncident) []StatusIncident {
	for i := range ins {
		ins[i].CreatedBy, ins[i].AssignedTo = "", ""
		for j := range ins[i].Updates {
			ins[i].Updates[j].CreatedBy = ""
		}
	}
	return ins
}

type incidentsOut struct {
	Body struct {
		Incidents []StatusIncident `json:"incidents"`
	}
}

func (r *Room) publicIncidentList(ctx context.Context, _ *struct{}) (*incidentsOut, error) {
	v, err := r.publicView(ctx)
	if err != nil {
		return nil, err
	}
	out := &incidentsOut{}
	out.Body.Incidents = v.incidents
	return out, nil
}

// componentStatus resolves a component's status (spec 20 §15.3, with
// monitor links and "service:<name>" keys for monitored services).
func componentStatus(c StatusComponent, snap map[string]any, monitors map[int64]EndpointMonitor) string {
	if c.MonitorID != nil {
		m, ok := monitors[*c.MonitorID]
		if !ok || !m.Enabled || m.LastStatus == nil {
			return "unknown"
		}
		switch *m.LastStatus {
		case StatusUp:
			return "operational"
		case StatusDegraded:
			return "degraded"
		case StatusDown:
			return "outage"
		}
		return "unknown"
	}
	if c.ServiceKey == nil || *c.ServiceKey == "" {
		return "operational"
	}
	return snapshotStatus(*c.ServiceKey, snap)
}

func snapshotStatus(key string, snap map[string]any) string {
	if name, ok := strings.CutPrefix(key, "service:"); ok {
		svcs, _ := snap["services"].([]any)
		for _, s := range svcs {
			sm, _ := s.(map[string]any)
			if n, _ := sm["name"].(string); n == name {
				switch st, _ := sm["status"].(string); st {
				case "active", "timer-active":
					return "operational"
				case "not-found", "invalid", "":
					return "unknown"
				case "failed":
					return "outage"
				default:
					return "degraded"
				}
			}
		}
		return "unknown"
	}
	v, ok := snap[key]
	if !ok {
		return "unknown"
	}
	switch x := v.(type) {
	case map[string]any:
		if st, has := x["status"]; has {
			s, _ := st.(string)
			switch s {
			case "online", "enabled", "ok":
				return "operational"
			}
			return "degraded"
		}
		if len(x) > 0 {
			return "operational"
		}
		return "unknown"
	case []any:
		if len(x) > 0 {
			return "operational"
		}
		return "unknown"
	case nil:
		return "unknown"
	case bool:
		if x {
			return "operational"
		}
		return "unknown"
	case string:
		if x != "" {
			return "operational"
		}
		return "unknown"
	case float64:
		if x != 0 {
			return "operational"
		}
		return "unknown"
	}
	return "operational"
}
