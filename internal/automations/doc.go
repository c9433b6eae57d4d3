// Package automations serves router 8 of the API reference (spec 30 §1):
// automations of ten types and their CRUD, the job runs of the shared job
// runner (internal/jobs/runner), flat and graph workflows (condition,
// parallel with a real join, approval gates that pause and resume, delay
// and notification nodes, a per-node trace), triggers (cron schedules,
// file-change watch, RSS feeds, signed inbound webhooks, trigger keys),
// approvals with auto-approve timeouts, the remediation action audit,
// templates, playbooks and YAML export/import.
//
// Every entry point (manual run, scheduler, trigger key, webhook receiver,
// file watch, RSS) goes through one dispatcher, so graph workflows run from
// all of them. Automatic triggers skip disabled automations.
//
// Clock: cron schedules are evaluated in the server's local time zone
// (time.Local, i.e. the TZ environment of the process), the same clock as
// the maintenance windows of the alerts room.
//
// Security (spec 30 §8.1): the role an automation needs is derived from its
// config (shell commands, script arguments, high-risk agent commands and
// remediation actions need admin) and checked when it is written and again
// when it runs, against the role of its last writer; secret-named config
// values are never returned; outbound HTTP is bounded in time and size and
// refuses link-local and cloud-metadata addresses at dial time.
package automations
