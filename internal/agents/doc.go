// Package agents serves router 4 of the API (/api/agents/..., /api/agent/...):
// the registry of noba-agent hosts fed by their reports, the agent
// WebSocket, command dispatch with risk tiers, log streams, file transfers
// both ways, the browser terminal bridged to an agent PTY, self-update,
// install script, SSH deploy and the SLA summary.
package agents
