package automations

import (
	"context"
	"fmt"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/jobs/runner"
)

// origin is where a start comes from (spec 30 §1.3.3).
type origin struct {
	trigger string // trigger string of single-type runs
	by      string // triggered_by
	// wait queues a single-type run when the runner is full (automatic
	// triggers) instead of answering 409.
	wait bool
	// noRetries ignores a flat workflow's retries (file watch, RSS).
	noRetries bool
	vars      map[string]any
}

// started is what a start reports.
type started struct {
	RunID    *int64
	Workflow bool
	Graph    bool
	Steps    int
	Mode     string
}

// start is the one dispatcher of every entry point: graph workflows,
// flat sequential and parallel workflows and single types alike. The
// automation may only do what its last writer's role allows (checked
// again here, at run time).
func (r *Room) start(ctx context.Context, a Automation, o origin) (started, error) {
	role, _ := authz.ParseRole(a.AuthorRole)
	if q := requiredRole(a.Type, a.Config, r.remediator()); !q.allows(role) {
		return started{}, httpx.Forbidden("%s", q.reason)
	}
	if a.Type == "workflow" {
		if isGraph(a.Config) {
			id, err := r.startGraph(ctx, a, o)
			if err != nil {
				return started{}, err
			}
			return started{RunID: &id, Workflow: true, Graph: true}, nil
		}
		steps := strList(a.Config["steps"])
		if len(steps) == 0 {
			return started{}, httpx.Invalid("Workflow has no steps")
		}
		mode := str(a.Config, "mode")
		if mode != "parallel" {
			mode = "sequential"
		}
		retries := 0
		if v, ok := numeric(a.Config["retries"]); ok && v > 0 && !o.noRetries {
			retries = int(v)
		}
		if mode == "parallel" {
			for i, s := range steps {
				i, s := i, s
				r.goBG(func() { r.runStep(a.ID, s, fmt.Sprintf("workflow:%s:parallel%d", a.ID, i), o.by) })
			}
		} else {
			r.goBG(func() { r.runSequence(a.ID, steps, retries, o.by) })
		}
		return started{Workflow: true, Steps: len(steps), Mode: mode}, nil
	}
	if !knownType(a.Type) {
		return started{}, httpx.Invalid("Unsupported type: %s", a.Type)
	}
	cfg := a.Config
	if len(o.vars) > 0 {
		cfg = substitute(cfg, o.vars)
	}
	sp := r.buildSpec(a.Type, cfg, o.by)
	sp.AutomationID, sp.Trigger, sp.TriggeredBy, sp.Wait = a.ID, o.trigger, o.by, o.wait
	id, err := r.run.Submit(ctx, sp)
	if err != nil {
		if isBusy(err) {
			return started{}, httpx.Conflict("%s", err.Error())
		}
		return started{}, err
	}
	return started{RunID: &id}, nil
}

func isBusy(err error) bool {
	_, ok := err.(*runner.BusyError)
	return ok
}

// runStep runs one flat-workflow step (queued when the runner is full)
// and returns its final status; a missing or nested-workflow step is
// skipped ("skipped").
func (r *Room) runStep(wfID, stepID, trigger, by string) string {
	ctx := context.Background()
	a, err := r.d.Store.Get(ctx, stepID)
	if err != nil || a.Type == "workflow" {
		return "skipped"
	}
	role, _ := authz.ParseRole(a.AuthorRole)
	if q := requiredRole(a.Type, a.Config, r.remediator()); !q.allows(role) {
		r.d.Log.Warn("workflow step refused", "workflow", wfID, "step", stepID, "reason", q.reason)
		return runner.StatusFailed
	}
	sp := r.buildSpec(a.Type, a.Config, by)
	sp.AutomationID, sp.Trigger, sp.TriggeredBy, sp.Wait = a.ID, trigger, by, true
	id, err := r.run.Submit(ctx, sp)
	if err != nil {
		r.d.Log.Warn("workflow step not started", "workflow", wfID, "step", stepID, "err", err)
		return runner.StatusFailed
	}
	st, _ := r.run.Wait(ctx, id)
	return st
}

// runSequence runs steps one after the other; a step that does not end
// done is retried up to retries times, then the chain stops.
func (r *Room) runSequence(wfID string, steps []string, retries int, by string) {
	for i, s := range steps {
		ok := false
		for attempt := 0; attempt <= retries && !ok; attempt++ {
			trig := fmt.Sprintf("workflow:%s:step%d", wfID, i)
			if attempt > 0 {
				trig += fmt.Sprintf(":retry%d", attempt)
			}
			st := r.runStep(wfID, s, trig, by)
			ok = st == runner.StatusDone || st == "skipped"
		}
		if !ok {
			r.d.Log.Info("workflow stopped", "workflow", wfID, "step", i)
			return
		}
	}
}

// substitute replaces {name} placeholders of command, url and args (spec
// 30 §1.5); values in commands are shell-quoted. A template naming an
// unknown variable is left unchanged.
func substitute(cfg map[string]any, vars map[string]any) map[string]any {
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		out[k] = v
	}
	for _, k := range []string{"command", "url", "args"} {
		s, ok := out[k].(string)
		if !ok {
			continue
		}
		if res, ok := format(s, vars, k == "command"); ok {
			out[k] = res
		}
	}
	return out
}

func format(s string, vars map[string]any, quote bool) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return "", false
			}
			name := s[i+1 : i+j]
			v, ok := vars[name]
			if !ok {
				return "", false
			}
			val := fmt.Sprint(v)
			if quote {
				val = "'" + strings.ReplaceAll(val, "'", `'"'"'`) + "'"
			}
			b.WriteString(val)
			i += j
		case c == '}':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
