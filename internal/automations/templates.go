package automations

// Template is a static automation template (spec 30 §1.11).
type Template struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Type        string         `json:"type"`
	Config      map[string]any `json:"config"`
	Schedule    *string        `json:"schedule"`
}

func sp(s string) *string { return &s }

func templates() []Template {
	return []Template{
		{"daily-backup", "Daily NAS Backup", "Run the NAS backup script every night at 03:00", "script",
			map[string]any{"script": "backup", "args": "--verbose"}, sp("0 3 * * *")},
		{"weekly-verify", "Weekly Backup Verify", "Verify backup integrity every Sunday at 06:00", "script",
			map[string]any{"script": "verify"}, sp("0 6 * * 0")},
		{"disk-cleanup", "Disk Sentinel Check", "Check disks for space and health every morning", "script",
			map[string]any{"script": "diskcheck"}, sp("0 7 * * *")},
		{"cloud-sync", "Cloud Backup Sync", "Sync backups to the cloud every 6 hours", "script",
			map[string]any{"script": "cloud"}, sp("0 */6 * * *")},
		{"organize-downloads", "Organize Downloads", "Sort the downloads folder every hour", "script",
			map[string]any{"script": "organize"}, sp("0 * * * *")},
		{"health-webhook", "Health Check Webhook", "Ping a health-check URL every 5 minutes", "webhook",
			map[string]any{"url": "https://example.com/health", "method": "POST"}, sp("*/5 * * * *")},
		{"restart-service", "Restart Service on Failure", "Restart a systemd service", "service",
			map[string]any{"service": "your-service.service", "action": "restart"}, nil},
		{"backup-workflow", "Full Backup Pipeline", "Run backup steps in sequence", "workflow",
			map[string]any{"steps": []any{}, "retries": 1}, sp("0 2 * * *")},
	}
}

func node(id, typ, label string, params map[string]any) map[string]any {
	return map[string]any{"id": id, "type": typ, "label": label, "params": params}
}

func edge(from, to string, cond ...bool) map[string]any {
	e := map[string]any{"from": from, "to": to}
	if len(cond) > 0 {
		e["condition"] = cond[0]
	}
	return e
}

// builtinPlaybooks are the seeded playbook templates (version 1). The
// agent commands are the catalogue's real ones: update_agent and
// system_info (the reference's update and version_check).
func builtinPlaybooks() []Playbook {
	graph := func(nodes []any, edges []any) map[string]any {
		return map[string]any{"entry": "n1", "nodes": nodes, "edges": edges}
	}
	return []Playbook{
		{ID: "update-all-agents", Name: "Update All Agents", Category: "maintenance", Version: 1,
			Description: "Update every online agent, wait, check versions and notify",
			Config: graph([]any{
				node("n1", "agent_command", "Update agents", map[string]any{"cmd_type": "update_agent", "broadcast": true}),
				node("n2", "delay", "Wait 60 s", map[string]any{"seconds": 60}),
				node("n3", "agent_command", "Check versions", map[string]any{"cmd_type": "system_info", "broadcast": true}),
				node("n4", "notify", "Notify", map[string]any{"message": "Agent Updates Complete", "level": "info"}),
			}, []any{edge("n1", "n2"), edge("n2", "n3"), edge("n3", "n4")})},
		{ID: "rolling-dns-restart", Name: "Rolling DNS Restart", Category: "maintenance", Version: 1,
			Description: "Restart the DNS service, wait, check resolution and report",
			Config: graph([]any{
				node("n1", "service", "Restart named", map[string]any{"service": "named.service", "action": "restart"}),
				node("n2", "delay", "Wait 30 s", map[string]any{"seconds": 30}),
				node("n3", "condition", "DNS OK?", map[string]any{"metric": "dns_ok", "operator": "==", "threshold": 1}),
				node("n4", "notify", "Success", map[string]any{"message": "DNS restart succeeded", "level": "info"}),
				node("n5", "notify", "Failure", map[string]any{"message": "DNS restart failed: resolution not OK", "level": "error"}),
			}, []any{edge("n1", "n2"), edge("n2", "n3"), edge("n3", "n4", true), edge("n3", "n5", false)})},
		{ID: "backup-verification", Name: "Backup Verification", Category: "backup", Version: 1,
			Description: "Verify the latest backup and notify",
			Config: graph([]any{
				node("n1", "script", "Verify backup", map[string]any{"script": "backup", "args": "--verify"}),
				node("n2", "delay", "Wait 5 min", map[string]any{"seconds": 300}),
				node("n3", "notify", "Notify", map[string]any{"message": "Backup verification finished", "level": "info"}),
			}, []any{edge("n1", "n2"), edge("n2", "n3")})},
		{ID: "disk-cleanup", Name: "Disk Cleanup", Category: "maintenance", Version: 1,
			Description: "When a disk is above 85 %, find large files, ask for approval, clean up and notify",
			Config: graph([]any{
				node("n1", "condition", "Disk above 85 %?", map[string]any{"metric": "disk_percent", "operator": ">", "threshold": 85}),
				node("n2", "script", "Find large files", map[string]any{"script": "diskcheck", "args": "--find-large"}),
				node("n3", "approval_gate", "Approve cleanup", map[string]any{"message": "Approve disk cleanup?", "timeout_s": 3600}),
				node("n4", "script", "Clean up", map[string]any{"script": "diskcheck", "args": "--cleanup"}),
				node("n5", "notify", "Done", map[string]any{"message": "Disk cleanup finished", "level": "info"}),
				node("n6", "notify", "Disk OK", map[string]any{"message": "Disk OK", "level": "info"}),
			}, []any{edge("n1", "n2", true), edge("n1", "n6", false), edge("n2", "n3"), edge("n3", "n4"), edge("n4", "n5")})},
	}
}
