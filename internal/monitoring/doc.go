// Package monitoring serves router 6 of the API reference: endpoint monitors
// (HTTP(S), TCP, ICMP ping and DNS checks run by one scheduler job, with
// results history and state changes raised as alerts), /api/uptime,
// /api/health-score, and the public status page (components, incidents,
// /api/status/public and the server-rendered /status HTML page).
package monitoring
