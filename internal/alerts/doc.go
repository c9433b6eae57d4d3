// Package alerts is NOBA's alert engine (spec 10 §5, §7.14–7.24, §9.2;
// spec 30 §1.10): it serves /api/alert-rules, /api/sla/{rule_id},
// /api/alert-history, /api/notifications and /api/maintenance-windows,
// evaluates the alert rules on every stats snapshot (firing and resolved
// episodes, cooldown, escalation, built-in threshold alerts), suppresses
// them during maintenance windows, and notifies through the channels of
// package notify and in-app notifications.
//
// Other rooms reach it through small interfaces they declare: Active (the
// `alerts` of the stats payload), RaiseExternal/ResolveExternal (alerts
// raised by other rooms, e.g. endpoint monitors), InMaintenance (healing)
// and AddNotification.
package alerts
