package automations

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// ApprovalRequest is what another room (healing) asks approval for.
type ApprovalRequest struct {
	AutomationID  string
	Trigger       string
	TriggerSource string
	ActionType    string
	ActionParams  map[string]any
	Target        string
	RequestedBy   string
	// AutoApproveAfter (seconds) sets the auto-approve time; 0 = never.
	AutoApproveAfter int64
}

// RequestApproval queues an approval (healing's approve trust level).
// Approved, it runs ActionType through the Remediator.
func (r *Room) RequestApproval(ctx context.Context, q ApprovalRequest) (int64, error) {
	src, target, by := q.TriggerSource, q.Target, q.RequestedBy
	a := Approval{AutomationID: q.AutomationID, Trigger: q.Trigger, TriggerSource: &src, ActionType: q.ActionType,
		ActionParams: q.ActionParams, Target: &target, RequestedAt: r.now().Unix(), RequestedBy: &by}
	if q.AutoApproveAfter > 0 {
		t := r.now().Unix() + q.AutoApproveAfter
		a.AutoApproveAt = &t
	}
	return r.d.Store.InsertApproval(ctx, a)
}

// PendingApprovals lists the pending approvals, newest first.
func (r *Room) PendingApprovals(ctx context.Context) ([]Approval, error) {
	return r.d.Store.ListApprovals(ctx, "pending", 500)
}

// RecordAction writes one row of the remediation action audit.
func (r *Room) RecordAction(ctx context.Context, a ActionAudit) (int64, error) {
	if a.Timestamp == 0 {
		a.Timestamp = r.now().Unix()
	}
	return r.d.Store.InsertActionAudit(ctx, a)
}

// Decide approves or denies a pending approval on behalf of p (spec 30
// §1.9 with its fixes): nobody decides their own request, and approvals
// of high-risk actions need an admin. A workflow gate resumes on either
// decision; an approved action runs through the Remediator.
func (r *Room) Decide(ctx context.Context, id int64, decision string, p authz.Principal) error {
	if decision != "approved" && decision != "denied" {
		return httpx.Invalid("decision must be 'approved' or 'denied'")
	}
	a, err := r.d.Store.GetApproval(ctx, id)
	if err != nil {
		return err
	}
	if a.Status != "pending" {
		return httpx.Invalid("Approval already %s", a.Status)
	}
	if a.RequestedBy != nil && *a.RequestedBy == p.Username {
		return httpx.Forbidden("You cannot decide your own approval request")
	}
	if a.Context == nil && p.Role != authz.AdminRole {
		rem := r.remediator()
		risk, ok := "high", false
		if rem != nil {
			risk, ok = rem.Risk(a.ActionType)
		}
		if !ok || risk == "high" {
			return httpx.Forbidden("Approving high-risk action '%s' requires admin role", a.ActionType)
		}
	}
	by := p.Username
	won, err := r.d.Store.DecideApproval(ctx, id, decision, &by, r.now().Unix())
	if err != nil {
		return err
	}
	if !won {
		return fmt.Errorf("approval %d decided concurrently", id)
	}
	a.Status = decision
	r.afterDecision(a, decision, by)
	return nil
}

// afterDecision resumes a workflow or executes an approved action.
func (r *Room) afterDecision(a Approval, decision, by string) {
	if a.Context != nil {
		r.resume(a, decision)
		return
	}
	if decision != "approved" && decision != "auto_approved" {
		return
	}
	r.goBG(func() {
		ctx := context.Background()
		rem := r.remediator()
		res := ActionResult{Error: "Remediation is not available"}
		if rem != nil {
			target := ""
			if a.Target != nil {
				target = *a.Target
			}
			res = rem.Execute(ctx, a.ActionType, a.ActionParams, "approval", fmt.Sprint(a.ID), target, by)
		}
		b, _ := json.Marshal(res)
		if err := r.d.Store.SetApprovalResult(ctx, a.ID, string(b)); err != nil {
			r.d.Log.Warn("approval result", "err", err)
		}
	})
}

// ExpireApproval denies a pending approval its producer stopped waiting
// for (healing's approval timeout): nobody decided it, so decided_by
// stays empty, its result says why, and nothing runs. An approval a user
// decided first is left as it is; denied reports whether this call
// denied it.
func (r *Room) ExpireApproval(ctx context.Context, id int64, reason string) (denied bool, err error) {
	won, err := r.d.Store.DecideApproval(ctx, id, "denied", nil, r.now().Unix())
	if err != nil || !won {
		return false, err
	}
	b, _ := json.Marshal(ActionResult{Error: reason})
	return true, r.d.Store.SetApprovalResult(ctx, id, string(b))
}

// AutoApprove decides every pending approval whose auto-approve time has
// come: auto_approved (or denied when its gate says on_timeout: deny);
// workflows resume, actions run.
func (r *Room) AutoApprove(ctx context.Context) error {
	due, err := r.d.Store.DueApprovals(ctx, r.now().Unix())
	if err != nil {
		return err
	}
	for _, a := range due {
		status := "auto_approved"
		if a.Context != nil && a.Context.OnTimeout == "deny" {
			status = "denied"
		}
		won, err := r.d.Store.DecideApproval(ctx, a.ID, status, nil, r.now().Unix())
		if err != nil {
			return err
		}
		if !won {
			continue
		}
		decision := "approved"
		if status == "denied" {
			decision = "denied"
		}
		if a.Context != nil {
			r.resume(a, decision)
		} else {
			r.afterDecision(a, status, "auto")
		}
	}
	return nil
}

// StartAutomation runs an automation for another room (healing's
// `automation` and `run_playbook` actions) through the same dispatcher as
// every trigger: single types, flat and graph workflows. Disabled
// automations are refused; a full runner queues the job instead of
// failing. It returns the job run id (the workflow-level run of a graph
// workflow, nil for a flat workflow).
func (r *Room) StartAutomation(ctx context.Context, id, trigger, by string) (*int64, error) {
	a, err := r.d.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.Enabled {
		return nil, httpx.Invalid("Automation '%s' is disabled", a.Name)
	}
	s, err := r.start(ctx, a, origin{trigger: trigger, by: by, wait: true})
	if err != nil {
		return nil, err
	}
	return s.RunID, nil
}
