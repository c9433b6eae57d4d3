package automations

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts router 8 (automations) except the maintenance windows
// (the alerts room serves them), and /api/action-log.
func (r *Room) Routes(rt *httpx.Router) {
	get, post, put, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	httpx.Register(rt, httpx.Op(get, "/api/run-status", authz.Read, "Check if a script is running"), r.runStatus)
	httpx.Register(rt, httpx.Op(get, "/api/action-log", authz.Operator, "Current action log output"), r.actionLog)
	httpx.Register(rt, httpx.Op(post, "/api/run", authz.Operator, "Execute a script asynchronously"), r.runScript)
	httpx.Register(rt, httpx.Op(get, "/api/runs", authz.Read, "List job runs with filters"), r.listRuns)
	httpx.Register(rt, httpx.Op(get, "/api/runs/{run_id}", authz.Read, "Get job run details"), r.getRun)
	httpx.Register(rt, httpx.Op(post, "/api/runs/{run_id}/cancel", authz.Operator, "Cancel an active run"), r.cancelRun)
	httpx.Register(rt, httpx.Op(post, "/api/runs/{run_id}/approve", authz.Admin, "Approve a pending run"), r.approveRun)

	httpx.Register(rt, httpx.Op(get, "/api/automations", authz.Read, "List all automations"), r.listAutomations)
	httpx.Register(rt, httpx.Op(post, "/api/automations", authz.Operator, "Create an automation"), r.createAutomation)
	httpx.Register(rt, httpx.Op(put, "/api/automations/{auto_id}", authz.Operator, "Update an automation"), r.updateAutomation)
	httpx.Register(rt, httpx.Op(del, "/api/automations/{auto_id}", authz.Admin, "Delete an automation"), r.deleteAutomation)
	rt.Handle(httpx.Op(post, "/api/automations/{auto_id}/run", authz.Operator, "Manually trigger automation"), r.plain(r.runAutomation))
	httpx.Register(rt, httpx.Op(get, "/api/automations/templates", authz.Read, "List automation templates"), r.listTemplates)
	httpx.Register(rt, httpx.Op(get, "/api/automations/stats", authz.Read, "Automation execution statistics"), r.stats)
	rt.Handle(httpx.Op(get, "/api/automations/export", authz.Admin, "Export automations as YAML"), http.HandlerFunc(r.export))
	rt.Handle(httpx.Op(post, "/api/automations/import", authz.Admin, "Import automations from YAML"), http.HandlerFunc(r.importYAML))
	rt.Handle(httpx.Op(post, "/api/automations/{auto_id}/trigger", authz.Public, "Trigger via API key or X-Trigger-Key"),
		r.triggerHandler(rt.Auth))
	httpx.Register(rt, httpx.Op(get, "/api/automations/{auto_id}/trace", authz.Read, "Workflow execution trace"), r.trace)
	httpx.Register(rt, httpx.Op(post, "/api/automations/validate-workflow", authz.Operator, "Validate workflow step IDs"), r.validateWorkflow)

	httpx.Register(rt, httpx.Op(get, "/api/playbooks", authz.Read, "List playbook templates"), r.listPlaybooks)
	httpx.Register(rt, httpx.Op(get, "/api/playbooks/{playbook_id}", authz.Read, "Get a playbook template"), r.getPlaybook)
	rt.Handle(httpx.Op(post, "/api/playbooks/{playbook_id}/install", authz.Operator, "Install playbook as workflow"), r.plain(r.installPlaybook))

	httpx.Register(rt, httpx.Op(post, "/api/webhook", authz.Operator, "Trigger a configured webhook"), r.legacyWebhook)
	httpx.Register(rt, httpx.Op(get, "/api/webhooks", authz.Admin, "List webhook receiver endpoints"), r.listWebhooks)
	httpx.Register(rt, httpx.Op(post, "/api/webhooks", authz.Admin, "Create a webhook endpoint"), r.createWebhook)
	httpx.Register(rt, httpx.Op(del, "/api/webhooks/{webhook_id}", authz.Admin, "Delete a webhook endpoint"), r.deleteWebhook)
	rt.Handle(httpx.Op(post, "/api/webhooks/receive/{hook_id}", authz.Public, "Public webhook receiver (HMAC)"), http.HandlerFunc(r.receive))

	httpx.Register(rt, httpx.Op(get, "/api/approvals/count", authz.Read, "Count of pending approvals"), r.approvalCount)
	httpx.Register(rt, httpx.Op(get, "/api/approvals", authz.Read, "List approvals by status"), r.listApprovals)
	httpx.Register(rt, httpx.Op(get, "/api/approvals/{approval_id}", authz.Read, "Get approval details"), r.getApproval)
	httpx.Register(rt, httpx.Op(post, "/api/approvals/{approval_id}/decide", authz.Operator, "Approve or deny a pending action"), r.decide)
	httpx.Register(rt, httpx.Op(get, "/api/action-audit", authz.Read, "Query action audit trail"), r.actionAudit)
}
