// Package admin serves settings, the config changelog, the audit log,
// config.yaml backup, restore and history, and records every room's audit
// entries; its jobs enforce audit retention and keep hourly config copies.
package admin
