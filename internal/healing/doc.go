// Package healing is the self-healing room (router 13, spec 30 §6): the
// heal pipeline (correlation, dependency suppression, maintenance windows,
// trust governor with circuit breaker, planning, execution through agents
// or locally, settle, tri-state verification, automatic rollback,
// escalation), the 55 remediation actions with their fallback chains,
// the ledger and learning (effectiveness, suggestions, trust promotion
// suggestions, co-failure discovery), dry-run simulation and the chaos
// scenarios.
//
// Decisions where the spec is silent: the dependency graph is configured
// with the healingDependencies setting (a YAML list of {target, type,
// depends_on, site}) and synced into dependency_graph; a suppressed event
// is recorded as a ledger row with action_type "suppressed" and
// dependency_root/suppressed_by filled; a queue maintenance window holds
// events and re-injects them when the window ends; live chaos runs go
// through an isolated pipeline (chaos_live.go). The pipeline does not act
// on a metric condition while the collector snapshot is older than twice
// its interval (a stale_metrics ledger row); it re-checks the condition
// right before every action and records one that no longer holds as
// resolved_externally; it dispatches by §6.22 requirement(risk, trust),
// with the chain's last step reached by escalation also needing approval;
// heal approvals undecided within ApprovalTimeout (1 h) are auto-denied
// (ledger detail auto_denied, the queued approval closed as denied; one
// approved in the same instant still runs nothing); process
// actions without a pid act on the process named as the target (none is
// guessed for system). The instance-based actions (dns_cache_clear,
// servarr_queue_cleanup, media_library_scan) look the integration
// instance up server-side (Instances) and call its platform's documented
// API (Pi-hole v6/v5 restartdns, AdGuard Home cache_clear, the *arr
// queue/bulk delete of failed items, Plex section refresh, Jellyfin/Emby
// Library/Refresh); driver_rollback refuses with its reason, since no
// supported OS has an unattended driver rollback. Events arrive through
// the alerts room's Heal seam (alert rules with an action, built-in
// threshold alerts; processed in the background), the bus
// (events.HealSignals: the intelligence room's 15-minute predictions and
// anomalies) and the hourly health-score triggers of the learning cycle
// (HealthScores: the monitoring room's last /api/health-score).
package healing
