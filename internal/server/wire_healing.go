package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/noba-go/noba/internal/agents"
	"github.com/noba-go/noba/internal/automations"
	"github.com/noba-go/noba/internal/healing"
	"github.com/noba-go/noba/internal/instances"
)

// healingRooms holds the rooms of self-healing (router 13).
type healingRooms struct {
	healing *healing.Room
}

// wireHealing builds and mounts self-healing (router 13): the agents run
// its actions, the automations room queues its approvals, records its
// action audit and executes approved heals through the healing executor.
func (rs *rooms) wireHealing(_ context.Context, s *Server) error {
	now := s.Opts.Now
	if now == nil {
		now = time.Now
	}
	scriptDir := os.Getenv("NOBA_SCRIPT_DIR")
	if scriptDir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			scriptDir = filepath.Join(home, ".local", "libexec", "noba")
		}
	}
	d := healing.Deps{Store: healing.NewStore(s.DB), Audit: rs.audit, Stats: rs.stats, Settings: s.Settings,
		Log: s.Log.With("room", "healing"), Now: now, ScriptDir: scriptDir, Notify: healNotifier{rs}, Bus: s.Bus}
	if rs.agents != nil {
		d.Agents = healAgents{rs.agents}
	}
	if rs.automations != nil {
		d.Actions = healAudit{rs.automations}
		d.Approvals = healApprovals{rs.automations}
		d.Runner = rs.automations.Runner()
		d.Automations = healAutomations{rs.automations}
	}
	if rs.instances != nil {
		d.Instances = healInstances{rs.instances}
	}
	if rs.monitoring != nil {
		d.Health = rs.monitoring
	}
	room := healing.New(d)
	rs.healing = room
	s.mount(room)
	if rs.automations != nil {
		rs.automations.SetRemediator(healRemediator{room})
	}
	if rs.agents != nil {
		rs.agents.OnHealReport(room.RecordAgentReport)
	}
	if rs.alerts != nil {
		rs.alerts.SetHealer(room)
	}
	s.closers = append(s.closers, func() error {
		room.Wait()
		return nil
	})
	return nil
}

// Healing returns the healing room (tests feed it events).
func (s *Server) Healing() *healing.Room {
	if s.rooms == nil {
		return nil
	}
	return s.rooms.healing
}

type healAgents struct{ a *agents.Room }

func (h healAgents) Run(ctx context.Context, host, cmd string, params map[string]any, by string, t time.Duration) (map[string]any, error) {
	return h.a.Run(ctx, host, cmd, params, by, t)
}

func (h healAgents) Send(ctx context.Context, host, cmd string, params map[string]any, by string) (string, bool, error) {
	return h.a.Send(ctx, host, cmd, params, by)
}

func (h healAgents) Online() []string { return h.a.Online() }

func (h healAgents) Known() []string {
	var out []string
	for _, m := range h.a.AgentList() {
		out = append(out, fmt.Sprint(m["hostname"]))
	}
	return out
}

// healInstances gives the instance-based heal actions an integration
// instance with its credentials and a client honouring its TLS settings.
type healInstances struct{ r *instances.Room }

func (h healInstances) Instance(ctx context.Context, id string) (healing.Instance, error) {
	in, err := h.r.Instance(ctx, id)
	if err != nil {
		return healing.Instance{}, err
	}
	if !in.Enabled {
		return healing.Instance{}, fmt.Errorf("instance %s is disabled", id)
	}
	c, err := instances.TLSOptions{VerifySSL: in.VerifySSL, CABundle: in.CABundle}.HTTPClient(30 * time.Second)
	if err != nil {
		return healing.Instance{}, err
	}
	return healing.Instance{ID: in.ID, Platform: in.Platform, URL: in.URL, Auth: in.AuthConfig, Client: c}, nil
}

type healAudit struct{ a *automations.Room }

func (h healAudit) RecordAction(ctx context.Context, r healing.ActionRecord) {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	_, _ = h.a.RecordAction(ctx, automations.ActionAudit{TriggerType: r.TriggerType, TriggerID: r.TriggerID, ActionType: r.ActionType,
		ActionParams: r.Params, Target: opt(r.Target), Outcome: r.Outcome, DurationS: r.DurationS, Output: opt(r.Output),
		ApprovedBy: opt(r.ApprovedBy), Error: opt(r.Error)})
}

// healAutomations runs the automation and run_playbook heal actions
// through the automations room's dispatcher.
type healAutomations struct{ a *automations.Room }

func (h healAutomations) RunAutomation(ctx context.Context, id string, playbook bool) (healing.AutomationStart, error) {
	a, err := h.a.Automation(ctx, id)
	if err != nil {
		return healing.AutomationStart{}, err
	}
	trigger, by := "remediation", "remediation"
	if playbook {
		if a.Type != "workflow" {
			return healing.AutomationStart{}, fmt.Errorf("Playbook must be a workflow automation (%s is %s)", a.Name, a.Type) //nolint:staticcheck // user-facing message
		}
		trigger, by = "remediation:run_playbook:"+a.ID, "system"
	}
	run, err := h.a.StartAutomation(ctx, id, trigger, by)
	return healing.AutomationStart{Name: a.Name, RunID: run}, err
}

type healApprovals struct{ a *automations.Room }

func (h healApprovals) RequestApproval(ctx context.Context, action string, params map[string]any, target, source, reason string) (int64, error) {
	return h.a.RequestApproval(ctx, automations.ApprovalRequest{AutomationID: "healing", Trigger: reason, TriggerSource: source,
		ActionType: action, ActionParams: params, Target: target, RequestedBy: "healing"})
}

func (h healApprovals) ExpireApproval(ctx context.Context, id int64, reason string) error {
	_, err := h.a.ExpireApproval(ctx, id, reason)
	return err
}

// healRemediator is the automations room's Remediator: approved heals run
// the full execute/verify path with a ledger row; other remediation calls
// run the action.
type healRemediator struct{ r *healing.Room }

func (h healRemediator) Risk(action string) (string, bool) { return h.r.Executor().Risk(action) }

func (h healRemediator) Execute(ctx context.Context, action string, params map[string]any, triggerType, triggerID, target, approvedBy string) automations.ActionResult {
	var res healing.Result
	handled := false
	if triggerType == "approval" {
		res, handled = h.r.ApprovedExecute(ctx, triggerID, approvedBy)
	}
	if !handled {
		res = h.r.Executor().Execute(ctx, action, params, triggerType, triggerID, target, approvedBy)
	}
	return automations.ActionResult{Success: res.Success, Output: res.Output, Error: res.Error}
}

type healNotifier struct{ rs *rooms }

func (n healNotifier) Notify(ctx context.Context, level, title, message string) error {
	if n.rs.alerts == nil {
		return nil
	}
	return n.rs.alerts.AddNotification(ctx, "", level, title, message)
}
