package automations

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/jobs/runner"
)

// maxVisited bounds the nodes one path of an execution may visit.
const maxVisited = 200

// actionAliases are node types that are action nodes of that builder type
// (the playbook format, spec 30 §1.7.2 fix 3).
var actionAliases = map[string]bool{"script": true, "service": true, "agent_command": true, "webhook": true, "http": true, "remediation": true}

// actionOf returns the builder type and config of an action node.
func actionOf(n map[string]any) (string, map[string]any, bool) {
	t := str(n, "type")
	if t == "action" {
		c := obj(n["config"])
		inner := obj(c["config"])
		if inner == nil {
			inner = map[string]any{}
		}
		return str(c, "type"), inner, true
	}
	if !actionAliases[t] {
		return "", nil, false
	}
	p := map[string]any{}
	for k, v := range obj(n["params"]) {
		p[k] = v
	}
	if t == "agent_command" {
		if c, ok := p["cmd_type"]; ok && p["command"] == nil {
			p["command"] = c
		}
		if truthy(p["broadcast"]) && p["hostname"] == nil {
			p["hostname"] = "__all__"
		}
	}
	return t, p, true
}

// nodeTypes are the graph node types besides the action aliases.
var nodeTypes = map[string]bool{"action": true, "condition": true, "approval_gate": true, "parallel": true, "delay": true,
	"notification": true, "notify": true}

type graph struct {
	entry string
	nodes map[string]map[string]any
	edges []map[string]any
}

func parseGraph(nodes, edges []any, entry string) *graph {
	g := &graph{nodes: map[string]map[string]any{}}
	for i, n := range nodes {
		m := obj(n)
		if m == nil {
			continue
		}
		id := str(m, "id")
		if i == 0 && entry == "" {
			entry = id
		}
		g.nodes[id] = m
	}
	for _, e := range edges {
		if m := obj(e); m != nil {
			g.edges = append(g.edges, m)
		}
	}
	g.entry = entry
	return g
}

func graphOf(cfg map[string]any) *graph {
	return parseGraph(list(cfg["nodes"]), list(cfg["edges"]), str(cfg, "entry"))
}

// validateGraph checks a graph workflow before it is stored.
func validateGraph(cfg map[string]any) error {
	g := graphOf(cfg)
	if _, ok := g.nodes[g.entry]; !ok {
		return httpx.Invalid("Workflow entry node '%s' does not exist", g.entry)
	}
	for _, n := range list(cfg["nodes"]) {
		m := obj(n)
		id, t := str(m, "id"), str(m, "type")
		if m == nil || id == "" {
			return httpx.Invalid("Every workflow node needs an 'id'")
		}
		if typ, inner, ok := actionOf(m); ok {
			if typ == "workflow" || !knownType(typ) {
				return httpx.Invalid("Node '%s': unknown action type '%s'", id, typ)
			}
			if err := validateConfig(typ, inner); err != nil {
				return httpx.Invalid("Node '%s': %s", id, err.Error())
			}
			continue
		}
		if !nodeTypes[t] {
			return httpx.Invalid("Node '%s': unknown node type '%s'", id, t)
		}
		if t == "condition" && !validCondition(conditionExpr(m)) {
			return httpx.Invalid("Node '%s': condition needs an expression like 'cpu_percent > 90'", id)
		}
	}
	for _, e := range g.edges {
		for _, k := range []string{"from", "to"} {
			if _, ok := g.nodes[str(e, k)]; !ok {
				return httpx.Invalid("Edge %s '%s' names no node", k, str(e, k))
			}
		}
	}
	return nil
}

func conditionExpr(n map[string]any) string {
	if e := str(n, "expression"); e != "" {
		return e
	}
	if e := str(n, "condition"); e != "" {
		return e
	}
	p := obj(n["params"])
	if e := str(p, "expression"); e != "" {
		return e
	}
	if m := str(p, "metric"); m != "" {
		return fmt.Sprintf("%s %s %s", m, str(p, "operator"), str(p, "threshold"))
	}
	return ""
}

// next resolves the node after id on port ("" = default): the explicit
// node field, then an edge with that port, then a playbook edge whose
// boolean condition matches.
func (g *graph) next(id, port string) string {
	n := g.nodes[id]
	if port != "" {
		if v := str(n, port+"_next"); v != "" {
			return v
		}
		for _, e := range g.edges {
			if str(e, "from") == id && str(e, "port") == port {
				return str(e, "to")
			}
		}
		if port == "true" || port == "false" {
			want := port == "true"
			for _, e := range g.edges {
				if b, ok := e["condition"].(bool); ok && str(e, "from") == id && b == want {
					return str(e, "to")
				}
			}
		}
		if port != "approved" {
			return ""
		}
	}
	for _, e := range g.edges {
		if str(e, "from") != id {
			continue
		}
		if p := str(e, "port"); (p == "" || p == "default") && e["condition"] == nil {
			return str(e, "to")
		}
	}
	return ""
}

// defaults lists the targets of the default edges of id.
func (g *graph) defaults(id string) []string {
	var out []string
	for _, e := range g.edges {
		if p := str(e, "port"); str(e, "from") == id && (p == "" || p == "default") {
			out = append(out, str(e, "to"))
		}
	}
	return out
}

// execution is one graph workflow run (a workflow-level job row).
type execution struct {
	r     *Room
	g     *graph
	wf    Automation
	runID int64
	by    string
	role  authz.Role
	ctx   context.Context
}

// startGraph records the workflow-level run and executes from the entry
// in the background.
func (r *Room) startGraph(ctx context.Context, a Automation, o origin) (int64, error) {
	id, err := r.run.Store().Insert(ctx, a.ID, "workflow:"+a.ID+":graph", runner.StatusRunning, o.by, r.now().Unix())
	if err != nil {
		return 0, err
	}
	x := r.execution(a, graphOf(a.Config), id, o.by)
	r.goPath(x, x.g.entry, nil)
	return id, nil
}

func (r *Room) execution(a Automation, g *graph, runID int64, by string) *execution {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.graphs[runID]; !ok {
		ctx, cancel := context.WithCancel(context.Background())
		r.graphs[runID] = cancel
		r.ctxs[runID] = ctx
	}
	role, _ := authz.ParseRole(a.AuthorRole)
	return &execution{r: r, g: g, wf: a, runID: runID, by: by, role: role, ctx: r.ctxs[runID]}
}

// goPath runs one path of x in the background; the run settles when no
// path of it is left running.
func (r *Room) goPath(x *execution, node string, visited map[string]bool) {
	r.mu.Lock()
	r.live[x.runID]++
	r.mu.Unlock()
	r.goBG(func() {
		if visited == nil {
			visited = map[string]bool{}
		}
		if node != "" {
			x.path(node, visited)
		}
		r.settle(x.runID)
	})
}

func (x *execution) trace(node, typ, outcome string) int64 {
	id, err := x.r.d.Store.AddTrace(context.Background(), x.runID, node, typ, outcome, x.r.now().Unix())
	if err != nil {
		x.r.d.Log.Warn("workflow trace", "err", err)
	}
	return id
}

func (x *execution) done(traceID int64, outcome, detail string, job *int64) {
	if err := x.r.d.Store.FinishTrace(context.Background(), traceID, outcome, detail, job, x.r.now().Unix()); err != nil {
		x.r.d.Log.Warn("workflow trace", "err", err)
	}
}

func (x *execution) fail() {
	x.r.mu.Lock()
	x.r.failed[x.runID] = true
	x.r.mu.Unlock()
}

// path executes from node until the path ends (an action failed, no next
// node, a gate paused it, a cycle or the visit bound).
func (x *execution) path(node string, visited map[string]bool) {
	for node != "" {
		if x.ctx.Err() != nil {
			return
		}
		n, ok := x.g.nodes[node]
		if !ok {
			x.done(x.trace(node, "", "running"), "failed", "node does not exist", nil)
			x.fail()
			return
		}
		if visited[node] || len(visited) >= maxVisited {
			x.done(x.trace(node, str(n, "type"), "running"), "stopped", "cycle or visit bound reached", nil)
			return
		}
		visited[node] = true
		node = x.step(node, n, visited)
	}
}

// step executes one node and returns the next ("" ends the path).
func (x *execution) step(id string, n map[string]any, visited map[string]bool) string {
	t := str(n, "type")
	tr := x.trace(id, t, "running")
	if typ, cfg, ok := actionOf(n); ok {
		return x.action(id, tr, typ, cfg)
	}
	switch t {
	case "condition":
		expr := conditionExpr(n)
		if evalCondition(expr, x.r.metrics()) {
			x.done(tr, "true", expr, nil)
			return x.g.next(id, "true")
		}
		x.done(tr, "false", expr, nil)
		return x.g.next(id, "false")
	case "approval_gate":
		if err := x.gate(id, n); err != nil {
			x.done(tr, "failed", err.Error(), nil)
			x.fail()
			return ""
		}
		x.done(tr, "waiting", "approval requested", nil)
		return ""
	case "parallel":
		branches := strList(n["branches"])
		if len(branches) == 0 {
			branches = x.g.defaults(id)
		}
		var wg sync.WaitGroup
		for _, b := range branches {
			if _, ok := x.g.nodes[b]; !ok {
				continue
			}
			cp := make(map[string]bool, len(visited))
			for k := range visited {
				cp[k] = true
			}
			wg.Add(1)
			go func(b string) {
				defer wg.Done()
				x.path(b, cp)
			}(b)
		}
		wg.Wait()
		x.done(tr, "joined", fmt.Sprintf("%d branches ended", len(branches)), nil)
		if j := str(n, "join"); j != "" {
			return j
		}
		return ""
	case "delay":
		secs, ok := numeric(n["seconds"])
		if !ok {
			secs, _ = numeric(obj(n["params"])["seconds"])
		}
		t := time.NewTimer(time.Duration(secs * float64(time.Second)))
		defer t.Stop()
		select {
		case <-x.ctx.Done():
			x.done(tr, "cancelled", "", nil)
			return ""
		case <-t.C:
		}
		x.done(tr, "done", fmt.Sprintf("waited %gs", secs), nil)
		return x.g.next(id, "")
	case "notification", "notify":
		p := obj(n["params"])
		msg, level, title := str(n, "message"), str(n, "level"), str(n, "title")
		if msg == "" {
			msg = str(p, "message")
		}
		if level == "" {
			level = str(p, "level")
		}
		if title == "" {
			title = str(p, "title")
		}
		if msg == "" {
			msg = "Workflow notification"
		}
		if level == "" {
			level = "info"
		}
		chans := strList(n["channels"])
		x.r.notify(level, title, msg, chans)
		x.done(tr, "sent", msg, nil)
		return x.g.next(id, "")
	}
	x.done(tr, "failed", "unknown node type "+t, nil)
	x.fail()
	return ""
}

// action submits the node's job (queued when the runner is full) and
// waits for it; only done continues.
func (x *execution) action(id string, tr int64, typ string, cfg map[string]any) string {
	if q := requiredRole(typ, cfg, x.r.remediator()); !q.allows(x.role) {
		x.done(tr, "refused", q.reason, nil)
		x.fail()
		return ""
	}
	sp := x.r.buildSpec(typ, cfg, x.by)
	sp.AutomationID, sp.Trigger, sp.TriggeredBy, sp.Wait = x.wf.ID, "workflow:"+x.wf.ID+":node:"+id, x.by, true
	job, err := x.r.run.Submit(x.ctx, sp)
	if err != nil {
		x.done(tr, "failed", err.Error(), nil)
		x.fail()
		return ""
	}
	status, err := x.r.run.Wait(x.ctx, job)
	if err != nil {
		x.r.run.Cancel(job)
		status, _ = x.r.run.Wait(context.Background(), job)
	}
	x.done(tr, status, typ, &job)
	if status != runner.StatusDone {
		x.fail()
		return ""
	}
	return x.g.next(id, "")
}

// gate inserts the approval of an approval_gate node with the context
// needed to resume; params.timeout_s (or auto_approve_after_s) sets the
// auto-approve time, on_timeout "deny" makes it a denial instead.
func (x *execution) gate(id string, n map[string]any) error {
	p := obj(n["params"])
	at := str(n, "action_type")
	if at == "" {
		at = "workflow_approval_gate"
	}
	params := obj(n["action_params"])
	if params == nil {
		params = map[string]any{}
	}
	if msg := str(p, "message"); msg != "" {
		params["message"] = msg
	}
	var autoAt *int64
	for _, src := range []map[string]any{n, p} {
		for _, k := range []string{"timeout_s", "auto_approve_after_s"} {
			if v, ok := numeric(src[k]); ok && v > 0 && autoAt == nil {
				t := x.r.now().Unix() + int64(v)
				autoAt = &t
			}
		}
	}
	onTimeout := str(n, "on_timeout")
	if onTimeout == "" {
		onTimeout = str(p, "on_timeout")
	}
	src, target, by := "graph_workflow", str(n, "target"), x.by
	nodes := make([]map[string]any, 0, len(x.g.nodes))
	for _, v := range x.g.nodes {
		nodes = append(nodes, v)
	}
	runID := x.runID
	_, err := x.r.d.Store.InsertApproval(context.Background(), Approval{AutomationID: x.wf.ID, RunID: &runID,
		Trigger: "graph_workflow:" + x.wf.ID + ":node:" + id, TriggerSource: &src, ActionType: at, ActionParams: params,
		Target: &target, RequestedAt: x.r.now().Unix(), RequestedBy: &by, AutoApproveAt: autoAt,
		Context: &WorkflowContext{AutoID: x.wf.ID, RunID: x.runID, NodeID: id, Nodes: nodes, Edges: x.g.edges,
			ApprovedNext: x.g.next(id, "approved"), DeniedNext: x.g.next(id, "denied"), TriggeredBy: x.by,
			AuthorRole: x.wf.AuthorRole, OnTimeout: onTimeout}})
	return err
}

// settle ends a path; when none is left the run is final: pending_approval
// while a gate waits, else done or failed.
func (r *Room) settle(runID int64) {
	r.mu.Lock()
	r.live[runID]--
	if r.live[runID] > 0 {
		r.mu.Unlock()
		return
	}
	delete(r.live, runID)
	ctx := r.ctxs[runID]
	failed := r.failed[runID]
	r.mu.Unlock()
	bg := context.Background()
	if ctx == nil || ctx.Err() != nil {
		return // cancelled (or shut down): the cancel recorded the run, or a restart will
	}
	pending, err := r.d.Store.ApprovalsOfRun(bg, runID, "pending")
	if err != nil {
		r.d.Log.Warn("settle workflow", "run", runID, "err", err)
		return
	}
	if len(pending) > 0 {
		if err := r.run.Store().SetStatus(bg, runID, runner.StatusPendingApproval); err != nil {
			r.d.Log.Warn("settle workflow", "run", runID, "err", err)
		}
		return
	}
	status, errText := runner.StatusDone, ""
	if failed {
		status, errText = runner.StatusFailed, "A workflow node failed"
	}
	if err := r.run.Store().Finish(bg, runID, status, nil, r.traceSummary(bg, runID), errText, r.now().Unix()); err != nil {
		r.d.Log.Warn("settle workflow", "run", runID, "err", err)
	}
	r.forget(runID)
}

func (r *Room) forget(runID int64) {
	r.mu.Lock()
	if c := r.graphs[runID]; c != nil {
		c()
	}
	delete(r.graphs, runID)
	delete(r.ctxs, runID)
	delete(r.failed, runID)
	r.mu.Unlock()
}

func (r *Room) traceSummary(ctx context.Context, runID int64) string {
	nodes, err := r.d.Store.Trace(ctx, runID)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, n := range nodes {
		say(&b, "%s (%s): %s", n.NodeID, n.Type, n.Outcome)
		if n.Detail != "" {
			say(&b, " — %s", n.Detail)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// resume continues a workflow after its gate's decision.
func (r *Room) resume(a Approval, decision string) {
	c := a.Context
	run, err := r.run.Store().Get(context.Background(), c.RunID)
	if err != nil || run.FinishedAt != nil {
		return // the run was cancelled or is gone
	}
	if err := r.run.Store().SetStatus(context.Background(), c.RunID, runner.StatusRunning); err != nil {
		r.d.Log.Warn("resume workflow", "err", err)
	}
	nodes := make([]any, len(c.Nodes))
	for i, n := range c.Nodes {
		nodes[i] = n
	}
	edges := make([]any, len(c.Edges))
	for i, e := range c.Edges {
		edges[i] = e
	}
	wf := Automation{ID: c.AutoID, AuthorRole: c.AuthorRole}
	x := r.execution(wf, parseGraph(nodes, edges, ""), c.RunID, c.TriggeredBy)
	next := c.ApprovedNext
	if decision == "denied" {
		next = c.DeniedNext
	}
	tr := x.trace(c.NodeID, "approval_gate", decision)
	x.done(tr, decision, fmt.Sprintf("approval %d", a.ID), nil)
	r.goPath(x, next, nil)
}

// cancelGraph cancels a workflow run; false when it is not a live one.
func (r *Room) cancelGraph(ctx context.Context, runID int64) (bool, error) {
	run, err := r.run.Store().Get(ctx, runID)
	if err != nil || run.FinishedAt != nil || !strings.HasSuffix(run.Trigger, ":graph") {
		return false, nil
	}
	r.mu.Lock()
	c := r.graphs[runID]
	r.mu.Unlock()
	if c != nil {
		c()
	}
	pend, err := r.d.Store.ApprovalsOfRun(ctx, runID, "pending")
	if err != nil {
		return false, err
	}
	sys := "system (run cancelled)"
	for _, p := range pend {
		if _, err := r.d.Store.DecideApproval(ctx, p.ID, "denied", &sys, r.now().Unix()); err != nil {
			return false, err
		}
	}
	if err := r.run.Store().Finish(ctx, runID, runner.StatusCancelled, nil, r.traceSummary(ctx, runID), "", r.now().Unix()); err != nil {
		return false, err
	}
	r.forget(runID)
	return true, nil
}
