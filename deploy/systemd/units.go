// Package systemd holds the systemd units of the server and the agent
// (noba.service, noba-agent.service): the files users install, and the unit
// the agent install script writes, are these same bytes.
package systemd

import _ "embed"

// AgentUnit is noba-agent.service.
//
//go:embed noba-agent.service
var AgentUnit string

// ServerUnit is noba.service.
//
//go:embed noba.service
var ServerUnit string
