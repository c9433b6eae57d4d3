package intelligence

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

func (r *Room) audit(ctx context.Context, action, details string) {
	if r.d.Audit != nil {
		r.d.Audit.Record(ctx, action, user(ctx), details, httpx.ClientIP(ctx))
	}
}

func user(ctx context.Context) string {
	if p, ok := authz.From(ctx); ok {
		return p.Username
	}
	return ""
}

func parseID(name, raw string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpx.Invalid("Invalid %s", name)
	}
	return id, nil
}

func bodyStr(b map[string]any, k string) string {
	s, _ := b[k].(string)
	return strings.TrimSpace(s)
}

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

type bodyIn struct {
	Body map[string]any
}

// ---- incidents and war room (spec 30 §4.1) ----

type incidentsIn struct {
	Hours string `query:"hours" doc:"window in hours (default 24, 1-168)"`
}

type incidentsOut struct{ Body []Incident }

func (r *Room) listIncidents(ctx context.Context, in *incidentsIn) (*incidentsOut, error) {
	hours, err := httpx.IntParam("hours", in.Hours, 24, 1, 168)
	if err != nil {
		return nil, err
	}
	is, err := r.d.Store.Incidents(ctx, r.d.Now().Unix()-int64(hours)*3600, 200)
	if err != nil {
		return nil, err
	}
	return &incidentsOut{Body: is}, nil
}

type idIn struct {
	ID string `path:"id"`
}

func (r *Room) resolveIncident(ctx context.Context, in *idIn) (*okOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	now := r.d.Now().Unix()
	if err := r.d.Store.ResolveIncident(ctx, id, now); err != nil {
		return nil, err
	}
	if _, err := r.d.Store.AddMessage(ctx, IncidentMessage{IncidentID: id, Author: user(ctx), Message: "Resolved incident",
		MsgType: "system", CreatedAt: now}); err != nil {
		r.d.Log.Warn("war room message", "err", err)
	}
	r.audit(ctx, "incident_resolved", fmt.Sprintf("id=%d", id))
	return ok(), nil
}

type messagesOut struct {
	Body struct {
		IncidentID int64             `json:"incident_id"`
		Messages   []IncidentMessage `json:"messages"`
	}
}

func (r *Room) listMessages(ctx context.Context, in *idIn) (*messagesOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	if _, err := r.d.Store.Incident(ctx, id); err != nil {
		return nil, err
	}
	ms, err := r.d.Store.Messages(ctx, id, 200)
	if err != nil {
		return nil, err
	}
	out := &messagesOut{}
	out.Body.IncidentID, out.Body.Messages = id, ms
	return out, nil
}

type idBodyIn struct {
	ID   string `path:"id"`
	Body map[string]any
}

var msgTypes = []string{"comment", "system", "action", "note"}

// maxMessage bounds a war-room message.
const maxMessage = 10000

func (r *Room) postMessage(ctx context.Context, in *idBodyIn) (*idOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	if _, err := r.d.Store.Incident(ctx, id); err != nil {
		return nil, err
	}
	msg := bodyStr(in.Body, "message")
	if msg == "" {
		return nil, httpx.Invalid("message is required")
	}
	if len(msg) > maxMessage {
		return nil, httpx.Invalid("message must be at most %d characters", maxMessage)
	}
	typ := bodyStr(in.Body, "msg_type")
	if typ == "" {
		typ = "comment"
	}
	if !slices.Contains(msgTypes, typ) {
		return nil, httpx.Invalid("msg_type must be comment, system, action, or note")
	}
	mid, err := r.d.Store.AddMessage(ctx, IncidentMessage{IncidentID: id, Author: user(ctx), Message: msg, MsgType: typ, CreatedAt: r.d.Now().Unix()})
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "incident_message", fmt.Sprintf("incident=%d", id))
	out := &idOut{}
	out.Body.Status, out.Body.ID = "ok", mid
	return out, nil
}

type assignOut struct {
	Body struct {
		Status     string `json:"status"`
		AssignedTo string `json:"assigned_to"`
	}
}

func (r *Room) assignIncident(ctx context.Context, in *idBodyIn) (*assignOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	if _, err := r.d.Store.Incident(ctx, id); err != nil {
		return nil, err
	}
	to := bodyStr(in.Body, "assigned_to")
	if to == "" {
		return nil, httpx.Invalid("assigned_to is required")
	}
	if len(to) > 128 {
		return nil, httpx.Invalid("assigned_to must be at most 128 characters")
	}
	by := user(ctx)
	if err := r.d.Store.Assign(ctx, id, to, by, r.d.Now().Unix(), "Assigned incident to "+to); err != nil {
		return nil, err
	}
	r.audit(ctx, "incident_assign", fmt.Sprintf("incident=%d assigned_to=%s", id, to))
	out := &assignOut{}
	out.Body.Status, out.Body.AssignedTo = "ok", to
	return out, nil
}

// ---- dependency graph (spec 30 §4.2) ----

var depTypes = []string{"requires", "optional", "network"}

type node struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Health string `json:"health"`
}

type edge struct {
	ID             int64  `json:"id"`
	Source         string `json:"source"`
	Target         string `json:"target"`
	Type           string `json:"type"`
	AutoDiscovered bool   `json:"auto_discovered"`
}

type graphOut struct {
	Body struct {
		Nodes        []node       `json:"nodes"`
		Edges        []edge       `json:"edges"`
		Dependencies []Dependency `json:"dependencies"`
	}
}

func (r *Room) graph(ctx context.Context, _ *struct{}) (*graphOut, error) {
	deps, err := r.d.Store.Dependencies(ctx)
	if err != nil {
		return nil, err
	}
	agents := map[string]AgentInfo{}
	if r.d.Agents != nil {
		for _, a := range r.d.Agents.List() {
			agents[a.Hostname] = a
		}
	}
	names := map[string]bool{}
	out := &graphOut{}
	out.Body.Edges, out.Body.Dependencies = []edge{}, deps
	for _, d := range deps {
		names[d.SourceService], names[d.TargetService] = true, true
		out.Body.Edges = append(out.Body.Edges, edge{ID: d.ID, Source: d.SourceService, Target: d.TargetService, Type: d.DependencyType, AutoDiscovered: d.AutoDiscovered})
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	out.Body.Nodes = make([]node, 0, len(sorted))
	for _, n := range sorted {
		out.Body.Nodes = append(out.Body.Nodes, node{ID: n, Label: n, Health: health(agents, n)})
	}
	return out, nil
}

// health of a graph node: an agent's health by its last report (spec 30
// §4.2, with the freshness read from the agent's last report [fix]).
func health(agents map[string]AgentInfo, name string) string {
	a, ok := agents[name]
	switch {
	case !ok:
		return "unknown"
	case !a.Online:
		return "offline"
	case a.CPU > 90 || a.Mem > 95:
		return "critical"
	case a.CPU > 70 || a.Mem > 80:
		return "warning"
	}
	return "healthy"
}

// maxServiceName bounds a service name.
const maxServiceName = 200

func (r *Room) createDependency(ctx context.Context, in *bodyIn) (*idOut, error) {
	src, tgt := bodyStr(in.Body, "source"), bodyStr(in.Body, "target")
	if src == "" || tgt == "" {
		return nil, httpx.Invalid("Both 'source' and 'target' are required")
	}
	if len(src) > maxServiceName || len(tgt) > maxServiceName {
		return nil, httpx.Invalid("Service names must be at most %d characters", maxServiceName)
	}
	if src == tgt {
		return nil, httpx.Invalid("A service cannot depend on itself")
	}
	typ := bodyStr(in.Body, "type")
	if typ == "" {
		typ = "requires"
	}
	if !slices.Contains(depTypes, typ) {
		return nil, httpx.Invalid("Invalid dependency type")
	}
	id, err := r.d.Store.AddDependency(ctx, Dependency{SourceService: src, TargetService: tgt, DependencyType: typ, CreatedAt: r.d.Now().Unix()})
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "dependency_create", fmt.Sprintf("id=%d %s->%s type=%s", id, src, tgt, typ))
	out := &idOut{}
	out.Body.Status, out.Body.ID = "ok", id
	return out, nil
}

type depIDIn struct {
	DepID string `path:"dep_id"`
}

func (r *Room) deleteDependency(ctx context.Context, in *depIDIn) (*okOut, error) {
	id, err := parseID("dep_id", in.DepID)
	if err != nil {
		return nil, err
	}
	if err := r.d.Store.DeleteDependency(ctx, id); err != nil {
		return nil, err
	}
	r.audit(ctx, "dependency_delete", fmt.Sprintf("id=%d", id))
	return ok(), nil
}

type impactIn struct {
	Service string `path:"service"`
}

type impactOut struct {
	Body struct {
		Service  string   `json:"service"`
		Affected []string `json:"affected"`
		Count    int      `json:"count"`
	}
}

func (r *Room) impact(ctx context.Context, in *impactIn) (*impactOut, error) {
	deps, err := r.d.Store.Dependencies(ctx)
	if err != nil {
		return nil, err
	}
	svc := strings.TrimSpace(in.Service)
	out := &impactOut{}
	out.Body.Service = svc
	out.Body.Affected = Impact(deps, svc)
	out.Body.Count = len(out.Body.Affected)
	return out, nil
}

// Impact is every service that depends, directly or transitively, on
// service (breadth-first over the reversed edges, cycle-safe), sorted. The
// service itself is listed only when a cycle leads back to it.
func Impact(deps []Dependency, service string) []string {
	dependents := map[string][]string{}
	for _, d := range deps {
		dependents[d.TargetService] = append(dependents[d.TargetService], d.SourceService)
	}
	seen := map[string]bool{}
	queue := []string{service}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, s := range dependents[cur] {
			if !seen[s] {
				seen[s] = true
				queue = append(queue, s)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

type hostIn struct {
	Hostname string `path:"hostname"`
}

type sentOut struct {
	Body struct {
		Status string `json:"status"`
		ID     string `json:"id"`
	}
}

func (r *Room) discover(ctx context.Context, in *hostIn) (*sentOut, error) {
	host := strings.TrimSpace(in.Hostname)
	if !r.known(host) {
		// [fix] spec 30 §8.1.11: no command queued for an unknown host.
		return nil, httpx.NotFound("Agent '%s' not found", host)
	}
	id, ws, err := r.d.Agents.Send(ctx, host, wire.CmdDiscoverServices, map[string]any{}, user(ctx))
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "discover_services", fmt.Sprintf("host=%s id=%s ws=%t", host, id, ws))
	out := &sentOut{}
	out.Body.Status, out.Body.ID = "queued", id
	if ws {
		out.Body.Status = "sent"
	}
	return out, nil
}

func (r *Room) known(host string) bool {
	if r.d.Agents == nil {
		return false
	}
	for _, a := range r.d.Agents.List() {
		if a.Hostname == host {
			return true
		}
	}
	return false
}

func parseFloat(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
