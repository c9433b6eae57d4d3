package automations

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/jobs/runner"
)

type anyOut struct{ Body any }

func out(v any) *anyOut { return &anyOut{Body: v} }

func okStatus() *anyOut { return out(map[string]any{"status": "ok"}) }

func (r *Room) audit(ctx context.Context, action, details string) {
	if r.d.Audit == nil {
		return
	}
	p, _ := authz.From(ctx)
	if len(details) > 512 {
		details = details[:512] + "…"
	}
	r.d.Audit.Record(ctx, action, p.Username, details, httpx.ClientIP(ctx))
}

func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func parseID(name, raw string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpx.Invalid("Invalid %s", name)
	}
	return id, nil
}

// view is an automation as responses show it: secrets masked.
func view(a Automation) Automation {
	a.Config = maskConfig(a.Config)
	return a
}

// --- automations CRUD ---

type listAutoIn struct {
	Type string `query:"type"`
}

func (r *Room) listAutomations(ctx context.Context, in *listAutoIn) (*anyOut, error) {
	as, err := r.d.Store.List(ctx, in.Type)
	if err != nil {
		return nil, err
	}
	for i := range as {
		as[i] = view(as[i])
	}
	return out(as), nil
}

type bodyIn struct {
	Body map[string]any
}

// applyAutomation sets the recognised fields of body on a; it returns
// how many it saw.
func applyAutomation(a *Automation, body map[string]any) (int, error) {
	seen := 0
	if v, ok := body["name"]; ok {
		seen++
		s, _ := v.(string)
		if strings.TrimSpace(s) == "" {
			return seen, httpx.Invalid("Name is required")
		}
		if err := httpx.CheckPrintable("Name", s); err != nil {
			return seen, err
		}
		a.Name = strings.TrimSpace(s)
	}
	if v, ok := body["type"]; ok {
		seen++
		s, _ := v.(string)
		if !knownType(s) {
			return seen, httpx.Invalid("Type must be one of: %s", strings.Join(Types, ", "))
		}
		a.Type = s
	}
	if v, ok := body["config"]; ok {
		seen++
		m, isObj := v.(map[string]any)
		if v != nil && !isObj {
			return seen, httpx.Invalid("Config must be a JSON object")
		}
		if m == nil {
			m = map[string]any{}
		}
		a.Config = m
	}
	if v, ok := body["schedule"]; ok {
		seen++
		switch s := v.(type) {
		case nil:
			a.Schedule = nil
		case string:
			if strings.TrimSpace(s) == "" {
				a.Schedule = nil
			} else {
				if err := validSchedule(s); err != nil {
					return seen, err
				}
				t := strings.TrimSpace(s)
				a.Schedule = &t
			}
		default:
			return seen, httpx.Invalid("Schedule must be a cron expression string")
		}
	}
	if v, ok := body["enabled"]; ok {
		seen++
		b, isBool := v.(bool)
		if !isBool {
			return seen, httpx.Invalid("Enabled must be true or false")
		}
		a.Enabled = b
	}
	return seen, nil
}

// checkWrite validates a's config and that role may write it.
func (r *Room) checkWrite(a Automation, role authz.Role) error {
	if err := validateConfig(a.Type, a.Config); err != nil {
		return err
	}
	if q := requiredRole(a.Type, a.Config, r.remediator()); !q.allows(role) {
		return httpx.Forbidden("%s", q.reason)
	}
	return nil
}

func (r *Room) createAutomation(ctx context.Context, in *bodyIn) (*anyOut, error) {
	p := authz.Must(ctx)
	body := in.Body
	if body == nil {
		body = map[string]any{}
	}
	now := r.now().Unix()
	a := Automation{ID: newID(6), Config: map[string]any{}, Enabled: true, CreatedAt: now, UpdatedAt: now,
		AuthorRole: string(p.Role), CreatedBy: p.Username}
	if n, _ := body["name"].(string); strings.TrimSpace(n) == "" {
		return nil, httpx.Invalid("Name is required")
	} else if err := httpx.CheckPrintable("Name", n); err != nil {
		return nil, err
	}
	if _, ok := body["type"]; !ok {
		return nil, httpx.Invalid("Type must be one of: %s", strings.Join(Types, ", "))
	}
	if _, err := applyAutomation(&a, body); err != nil {
		return nil, err
	}
	if err := r.checkWrite(a, p.Role); err != nil {
		return nil, err
	}
	if err := r.d.Store.Create(ctx, a); err != nil {
		return nil, err
	}
	r.audit(ctx, "automation_create", fmt.Sprintf("Created '%s' (%s)", a.Name, a.Type))
	return out(map[string]any{"id": a.ID, "status": "ok"}), nil
}

type autoBodyIn struct {
	AutoID string `path:"auto_id"`
	Body   map[string]any
}

func (r *Room) updateAutomation(ctx context.Context, in *autoBodyIn) (*anyOut, error) {
	p := authz.Must(ctx)
	old, err := r.d.Store.Get(ctx, in.AutoID)
	if err != nil {
		return nil, err
	}
	a := old
	if v, ok := in.Body["type"]; ok {
		if s, _ := v.(string); !knownType(s) {
			return nil, httpx.Invalid("Invalid type")
		}
	}
	n, err := applyAutomation(&a, in.Body)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, httpx.Invalid("Nothing to update: send name, type, config, schedule or enabled")
	}
	keepSecrets(a.Config, old.Config)
	if err := r.checkWrite(a, p.Role); err != nil {
		return nil, err
	}
	a.UpdatedAt, a.AuthorRole = r.now().Unix(), string(p.Role)
	if err := r.d.Store.Update(ctx, a); err != nil {
		return nil, err
	}
	r.audit(ctx, "automation_update", fmt.Sprintf("Updated '%s'", a.ID))
	return okStatus(), nil
}

type autoIn struct {
	AutoID string `path:"auto_id"`
}

func (r *Room) deleteAutomation(ctx context.Context, in *autoIn) (*anyOut, error) {
	a, err := r.d.Store.Get(ctx, in.AutoID)
	if err != nil {
		return nil, err
	}
	if err := r.d.Store.Delete(ctx, a.ID); err != nil {
		return nil, err
	}
	r.audit(ctx, "automation_delete", fmt.Sprintf("Deleted '%s'", a.Name))
	return okStatus(), nil
}

// plain adapts a handler of a route whose body is optional (empty or not
// JSON at all) to the mux: a 64 KiB body cap, JSON answer or error body.
func (r *Room) plain(h func(ctx context.Context, req *http.Request, body []byte) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, httpx.DefaultMaxBody))
		if err != nil {
			httpx.WriteError(w, http.StatusRequestEntityTooLarge, "Request body too large")
			return
		}
		res, err := h(req.Context(), req, body)
		if err != nil {
			st, msg := httpx.Status(err)
			if st >= 500 {
				r.d.Log.Error("handler failed", "path", req.URL.Path, "err", err)
			}
			httpx.WriteError(w, st, msg)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, res)
	})
}

// startResponse is the response of a run or trigger (spec 30 §1.14).
func startResponse(s started) map[string]any {
	switch {
	case s.Graph:
		return map[string]any{"success": true, "run_id": s.RunID, "workflow": true, "graph": true}
	case s.Workflow:
		return map[string]any{"success": true, "run_id": nil, "workflow": true, "steps": s.Steps, "mode": s.Mode}
	}
	return map[string]any{"success": true, "run_id": s.RunID}
}

func (r *Room) runAutomation(ctx context.Context, req *http.Request, raw []byte) (any, error) {
	p := authz.Must(ctx)
	a, err := r.d.Store.Get(ctx, req.PathValue("auto_id"))
	if err != nil {
		return nil, err
	}
	var body struct {
		Variables map[string]any `json:"variables"`
	}
	_ = json.Unmarshal(raw, &body)
	vars := map[string]any{}
	for k, v := range body.Variables {
		switch v.(type) {
		case string, float64:
			vars[k] = v
		}
	}
	s, err := r.start(ctx, a, origin{trigger: "auto:" + a.Type + ":" + a.Name, by: p.Username, vars: vars})
	if err != nil {
		return nil, err
	}
	switch {
	case s.Graph:
		r.audit(ctx, "automation_run", fmt.Sprintf("Graph workflow '%s' started", a.Name))
	case s.Workflow:
		r.audit(ctx, "automation_run", fmt.Sprintf("Workflow '%s' started (%d steps, %s)", a.Name, s.Steps, s.Mode))
	default:
		r.audit(ctx, "automation_run", fmt.Sprintf("Run '%s' -> run_id=%d", a.Name, *s.RunID))
	}
	return startResponse(s), nil
}

func (r *Room) listTemplates(ctx context.Context, _ *struct{}) (*anyOut, error) {
	return out(templates()), nil
}

func (r *Room) stats(ctx context.Context, _ *struct{}) (*anyOut, error) {
	st, err := r.d.Store.Stats(ctx)
	if err != nil {
		return nil, err
	}
	return out(st), nil
}

// --- trace ---

func (r *Room) trace(ctx context.Context, in *autoIn) (*anyOut, error) {
	a, err := r.d.Store.Get(ctx, in.AutoID)
	if err != nil {
		return nil, err
	}
	if a.Type != "workflow" {
		return nil, httpx.Invalid("Not a workflow automation")
	}
	runs, err := r.run.Store().List(ctx, runner.Filter{Limit: 200, TriggerPrefix: "workflow:" + a.ID + ":", WithOutput: true, OutputMax: 500})
	if err != nil {
		return nil, err
	}
	type step struct {
		runner.Run
		Step map[string]any `json:"step"`
	}
	var graphs []runner.Run
	nodeRuns := map[string][]step{}
	var flat []step
	for _, run := range runs {
		rest := strings.TrimPrefix(run.Trigger, "workflow:"+a.ID+":")
		st := step{Run: run, Step: map[string]any{"index": 0, "retry": 0, "mode": "sequential"}}
		switch {
		case rest == "graph":
			graphs = append(graphs, run)
			continue
		case strings.HasPrefix(rest, "node:"):
			st.Step = map[string]any{"node": strings.TrimPrefix(rest, "node:"), "mode": "graph"}
			nodeRuns[st.Step["node"].(string)] = append(nodeRuns[st.Step["node"].(string)], st)
			continue
		case strings.HasPrefix(rest, "parallel"):
			n, _ := strconv.Atoi(strings.TrimPrefix(rest, "parallel"))
			st.Step = map[string]any{"index": n, "retry": 0, "mode": "parallel"}
		case strings.HasPrefix(rest, "step"):
			parts := strings.SplitN(strings.TrimPrefix(rest, "step"), ":retry", 2)
			n, _ := strconv.Atoi(parts[0])
			retry := 0
			if len(parts) == 2 {
				retry, _ = strconv.Atoi(parts[1])
			}
			st.Step = map[string]any{"index": n, "retry": retry, "mode": "sequential"}
		}
		flat = append(flat, st)
	}
	execs := []map[string]any{}
	for _, g := range graphs {
		if len(execs) >= 20 {
			break
		}
		nodes, err := r.d.Store.Trace(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		steps := []step{}
		for _, n := range nodes {
			if n.JobRunID == nil {
				continue
			}
			for _, s := range nodeRuns[n.NodeID] {
				if s.ID == *n.JobRunID {
					steps = append(steps, s)
				}
			}
		}
		execs = append(execs, map[string]any{"run_id": g.ID, "status": g.Status, "triggered_by": g.TriggeredBy,
			"started_at": g.StartedAt, "finished_at": g.FinishedAt, "graph": true, "nodes": nodes, "steps": steps})
	}
	// Flat workflow steps grouped by (triggered_by, started_at div 60).
	idx := map[string]int{}
	for _, s := range flat {
		if len(flat) > 50 {
			break
		}
		key := fmt.Sprintf("%s|%d", s.TriggeredBy, s.StartedAt/60)
		i, ok := idx[key]
		if !ok {
			if len(execs) >= 20 {
				continue
			}
			i = len(execs)
			idx[key] = i
			execs = append(execs, map[string]any{"triggered_by": s.TriggeredBy, "started_at": s.StartedAt, "steps": []step{}})
		}
		execs[i]["steps"] = append(execs[i]["steps"].([]step), s)
	}
	return out(map[string]any{"workflow": a.Name, "executions": execs}), nil
}

func (r *Room) validateWorkflow(ctx context.Context, in *bodyIn) (*anyOut, error) {
	raw, ok := in.Body["steps"].([]any)
	if !ok {
		return nil, httpx.Invalid("Steps must be a list")
	}
	res := []map[string]any{}
	all := true
	for _, v := range raw {
		id := fmt.Sprint(v)
		a, err := r.d.Store.Get(ctx, id)
		if err != nil {
			res = append(res, map[string]any{"id": id, "name": "", "type": "", "valid": false})
			all = false
			continue
		}
		valid := a.Type != "workflow"
		all = all && valid
		res = append(res, map[string]any{"id": id, "name": a.Name, "type": a.Type, "valid": valid})
	}
	return out(map[string]any{"steps": res, "valid": all}), nil
}

// --- playbooks ---

func (r *Room) listPlaybooks(ctx context.Context, _ *struct{}) (*anyOut, error) {
	pbs, err := r.d.Store.Playbooks(ctx, "")
	if err != nil {
		return nil, err
	}
	return out(pbs), nil
}

type playbookIn struct {
	PlaybookID string `path:"playbook_id"`
}

func (r *Room) playbook(ctx context.Context, id string) (Playbook, error) {
	pbs, err := r.d.Store.Playbooks(ctx, id)
	if err != nil {
		return Playbook{}, err
	}
	if len(pbs) == 0 {
		return Playbook{}, httpx.NotFound("Playbook not found")
	}
	return pbs[0], nil
}

func (r *Room) getPlaybook(ctx context.Context, in *playbookIn) (*anyOut, error) {
	p, err := r.playbook(ctx, in.PlaybookID)
	if err != nil {
		return nil, err
	}
	return out(p), nil
}

func (r *Room) installPlaybook(ctx context.Context, req *http.Request, raw []byte) (any, error) {
	pr := authz.Must(ctx)
	pb, err := r.playbook(ctx, req.PathValue("playbook_id"))
	if err != nil {
		return nil, err
	}
	var body map[string]any
	if len(strings.TrimSpace(string(raw))) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, httpx.Invalid("Invalid JSON")
		}
	}
	name := strings.TrimSpace(str(body, "name"))
	if name == "" {
		name = pb.Name
	}
	now := r.now().Unix()
	a := Automation{ID: newID(6), Name: name, Type: "workflow", Config: pb.Config, Enabled: false, CreatedAt: now, UpdatedAt: now,
		AuthorRole: string(pr.Role), CreatedBy: pr.Username}
	if err := r.checkWrite(a, pr.Role); err != nil {
		return nil, err
	}
	if err := r.d.Store.Create(ctx, a); err != nil {
		return nil, err
	}
	r.audit(ctx, "playbook_install", fmt.Sprintf("template=%s auto=%s", pb.ID, a.ID))
	return map[string]any{"id": a.ID, "status": "ok"}, nil
}

// --- runs ---

type listRunsIn struct {
	Limit         string `query:"limit"`
	Status        string `query:"status"`
	AutomationID  string `query:"automation_id"`
	TriggerPrefix string `query:"trigger_prefix"`
}

func (r *Room) listRuns(ctx context.Context, in *listRunsIn) (*anyOut, error) {
	limit, err := httpx.IntParam("limit", in.Limit, 50, 1, 500)
	if err != nil {
		return nil, err
	}
	runs, err := r.run.Store().List(ctx, runner.Filter{Limit: limit, Status: in.Status, AutomationID: in.AutomationID,
		TriggerPrefix: in.TriggerPrefix})
	if err != nil {
		return nil, err
	}
	return out(runs), nil
}

type runIn struct {
	RunID string `path:"run_id"`
}

func (r *Room) getRun(ctx context.Context, in *runIn) (*anyOut, error) {
	id, err := parseID("run_id", in.RunID)
	if err != nil {
		return nil, err
	}
	run, err := r.run.Store().Get(ctx, id)
	if err != nil {
		return nil, httpx.NotFound("Run not found")
	}
	if live, ok := r.run.LiveOutput(id); ok {
		run.Output = &live
	}
	if run.Output == nil {
		run.Output = new(string)
	}
	return out(run), nil
}

func (r *Room) cancelRun(ctx context.Context, in *runIn) (*anyOut, error) {
	id, err := parseID("run_id", in.RunID)
	if err != nil {
		return nil, err
	}
	ok := r.run.Cancel(id)
	if !ok {
		if ok, err = r.cancelGraph(ctx, id); err != nil {
			return nil, err
		}
	}
	if !ok {
		return nil, httpx.NotFound("Run not active")
	}
	r.audit(ctx, "job_cancel", fmt.Sprintf("Cancelled run %d", id))
	return out(map[string]any{"success": true}), nil
}

// approveRun approves the pending approvals of a workflow run waiting at
// a gate (status pending_approval), which resumes it.
func (r *Room) approveRun(ctx context.Context, in *runIn) (*anyOut, error) {
	id, err := parseID("run_id", in.RunID)
	if err != nil {
		return nil, err
	}
	run, err := r.run.Store().Get(ctx, id)
	if err != nil {
		return nil, httpx.NotFound("Run not found")
	}
	if run.Status != runner.StatusPendingApproval {
		return nil, httpx.Invalid("Run is not pending approval")
	}
	pend, err := r.d.Store.ApprovalsOfRun(ctx, id, "pending")
	if err != nil {
		return nil, err
	}
	for _, a := range pend {
		if err := r.Decide(ctx, a.ID, "approved", authz.Must(ctx)); err != nil {
			return nil, err
		}
	}
	r.audit(ctx, "run_approve", fmt.Sprintf("Approved run %d", id))
	return okStatus(), nil
}

// --- /api/run, run-status, action-log ---

type runScriptIn struct {
	Body struct {
		Script string `json:"script"`
		Args   any    `json:"args,omitempty"`
	}
}

func (r *Room) runScript(ctx context.Context, in *runScriptIn) (*anyOut, error) {
	p := authz.Must(ctx)
	name := in.Body.Script
	args := scriptArgs(in.Body.Args)
	_, builtin := builtinScripts[name]
	if !builtin && name != "speedtest" && name != "custom" {
		return nil, httpx.Invalid("Unknown or invalid script: %s", name)
	}
	if p.Role != authz.AdminRole && name != "custom" {
		for _, a := range args {
			if !safeArg.MatchString(a) {
				return nil, httpx.Forbidden("Script argument '%s' requires admin role", a)
			}
		}
	}
	cmd := r.builtinCommand(name, args)
	if cmd == nil {
		switch {
		case name == "custom":
			return nil, httpx.Invalid("Unknown or invalid script: custom action '%s' is not configured", strings.Join(args, " "))
		case name == "speedtest":
			return nil, httpx.Unavailable("speedtest-cli is not installed")
		default:
			return nil, httpx.Unavailable("Script '%s' is not installed (%s not found in the script directory)", name, builtinScripts[name])
		}
	}
	id, err := r.run.Submit(ctx, runner.Spec{Trigger: "script:" + name, TriggeredBy: p.Username, Command: cmd})
	if err != nil {
		if isBusy(err) {
			return nil, httpx.Conflict("%s", err.Error())
		}
		return nil, err
	}
	r.audit(ctx, "script_run", fmt.Sprintf("%s %s -> run_id=%d", name, strings.Join(args, " "), id))
	return out(map[string]any{"success": true, "status": "running", "script": name, "run_id": id}), nil
}

func (r *Room) runStatus(ctx context.Context, _ *struct{}) (*anyOut, error) {
	act := r.run.ActiveRuns()
	if len(act) == 0 {
		return out(map[string]any{"status": "idle"}), nil
	}
	a := act[0]
	script := strings.TrimPrefix(a.Trigger, "script:")
	return out(map[string]any{"status": "running", "script": script, "run_id": a.ID, "trigger": a.Trigger,
		"started": a.Started.Format("2006-01-02T15:04:05.000000")}), nil
}

// actionLog is the output of the latest /api/run script (live while it runs).
func (r *Room) actionLog(ctx context.Context, _ *struct{}) (*anyOut, error) {
	runs, err := r.run.Store().List(ctx, runner.Filter{Limit: 1, TriggerPrefix: "script:", WithOutput: true})
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return out(map[string]any{"content": ""}), nil
	}
	run := runs[0]
	text := ""
	if run.Output != nil {
		text = *run.Output
	}
	if live, ok := r.run.LiveOutput(run.ID); ok {
		text = live
	}
	started := time.Unix(run.StartedAt, 0).Format("15:04:05")
	content := fmt.Sprintf(">> [%s] Initiating: %s\n\n%s", started, strings.TrimPrefix(run.Trigger, "script:"), text)
	if run.FinishedAt != nil {
		content += fmt.Sprintf("\n>> [%s] Finished: %s\n", time.Unix(*run.FinishedAt, 0).Format("15:04:05"), run.Status)
	}
	return out(map[string]any{"content": content}), nil
}

// --- legacy /api/webhook ---

type legacyIn struct {
	Body struct {
		ID string `json:"id"`
	}
}

func (r *Room) legacyWebhook(ctx context.Context, in *legacyIn) (*anyOut, error) {
	var hook map[string]any
	for _, a := range list(r.settings()["automations"]) {
		if m := obj(a); str(m, "id") == in.Body.ID && in.Body.ID != "" {
			hook = m
		}
	}
	if hook == nil {
		return nil, httpx.NotFound("Webhook not found in config")
	}
	if !validURL(str(hook, "url")) {
		return nil, httpx.Invalid("Invalid webhook URL scheme")
	}
	cfg := map[string]any{"url": str(hook, "url"), "method": str(hook, "method"), "headers": hook["headers"], "body": hook["body"]}
	if cfg["method"] == "" {
		cfg["method"] = "POST"
	}
	c, cancel := withTimeout(ctx, 8*time.Second)
	defer cancel()
	var sink strings.Builder
	code := r.httpJob(c, "http", cfg, &sink)
	if code != 0 {
		r.audit(ctx, "webhook", fmt.Sprintf("Webhook %s failed: %s", in.Body.ID, lastLine(sink.String())))
		return nil, httpx.BadGateway("Webhook failed")
	}
	r.audit(ctx, "webhook", fmt.Sprintf("Webhook %s True", in.Body.ID))
	return out(map[string]any{"success": true}), nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// --- webhooks ---

func (r *Room) listWebhooks(ctx context.Context, _ *struct{}) (*anyOut, error) {
	ws, err := r.d.Store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	return out(ws), nil
}

func (r *Room) createWebhook(ctx context.Context, in *bodyIn) (*anyOut, error) {
	name := strings.TrimSpace(str(in.Body, "name"))
	if name == "" {
		return nil, httpx.Invalid("Name is required")
	}
	if err := httpx.CheckPrintable("Name", name); err != nil {
		return nil, err
	}
	var autoID *string
	if id := str(in.Body, "automation_id"); id != "" {
		if _, err := r.d.Store.Get(ctx, id); err != nil {
			return nil, httpx.Invalid("Linked automation not found")
		}
		autoID = &id
	}
	hb := make([]byte, 16)
	_, _ = rand.Read(hb)
	hookID := base64.RawURLEncoding.EncodeToString(hb)
	secret := newID(32)
	id, err := r.d.Store.CreateWebhook(ctx, name, hookID, secret, autoID, r.now().Unix())
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "webhook_create", fmt.Sprintf("Created webhook '%s' (hook_id=%s)", name, hookID))
	return out(map[string]any{"id": id, "hook_id": hookID, "secret": secret, "status": "ok"}), nil
}

type webhookIn struct {
	WebhookID string `path:"webhook_id"`
}

func (r *Room) deleteWebhook(ctx context.Context, in *webhookIn) (*anyOut, error) {
	id, err := parseID("webhook_id", in.WebhookID)
	if err != nil {
		return nil, err
	}
	ok, err := r.d.Store.DeleteWebhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, httpx.NotFound("Webhook not found")
	}
	r.audit(ctx, "webhook_delete", fmt.Sprintf("Deleted webhook id=%d", id))
	return okStatus(), nil
}

// --- approvals ---

func (r *Room) approvalCount(ctx context.Context, _ *struct{}) (*anyOut, error) {
	n, err := r.d.Store.CountPending(ctx)
	if err != nil {
		return nil, err
	}
	return out(map[string]any{"count": n}), nil
}

type listApprovalsIn struct {
	Status string `query:"status"`
	Limit  string `query:"limit"`
}

func (r *Room) listApprovals(ctx context.Context, in *listApprovalsIn) (*anyOut, error) {
	status := in.Status
	if status == "" {
		status = "pending"
	}
	limit, err := httpx.IntParam("limit", in.Limit, 100, 1, 500)
	if err != nil {
		return nil, err
	}
	as, err := r.d.Store.ListApprovals(ctx, status, limit)
	if err != nil {
		return nil, err
	}
	return out(as), nil
}

type approvalIn struct {
	ApprovalID string `path:"approval_id"`
}

func (r *Room) getApproval(ctx context.Context, in *approvalIn) (*anyOut, error) {
	id, err := parseID("approval_id", in.ApprovalID)
	if err != nil {
		return nil, err
	}
	a, err := r.d.Store.GetApproval(ctx, id)
	if err != nil {
		return nil, err
	}
	return out(a), nil
}

type decideIn struct {
	ApprovalID string `path:"approval_id"`
	Body       struct {
		Decision string `json:"decision"`
	}
}

func (r *Room) decide(ctx context.Context, in *decideIn) (*anyOut, error) {
	id, err := parseID("approval_id", in.ApprovalID)
	if err != nil {
		return nil, err
	}
	if err := r.Decide(ctx, id, in.Body.Decision, authz.Must(ctx)); err != nil {
		return nil, err
	}
	r.audit(ctx, "approval_decision", fmt.Sprintf("id=%d decision=%s", id, in.Body.Decision))
	return out(map[string]any{"status": "ok", "decision": in.Body.Decision}), nil
}

type actionAuditIn struct {
	Limit       string `query:"limit"`
	TriggerType string `query:"trigger_type"`
	Outcome     string `query:"outcome"`
}

func (r *Room) actionAudit(ctx context.Context, in *actionAuditIn) (*anyOut, error) {
	limit, err := httpx.IntParam("limit", in.Limit, 100, 1, 500)
	if err != nil {
		return nil, err
	}
	rows, err := r.d.Store.ListActionAudit(ctx, limit, in.TriggerType, in.Outcome)
	if err != nil {
		return nil, err
	}
	return out(rows), nil
}
