package agents

import (
	"context"
	"net/http"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/jobs"
)

// Routes mounts router 4 (agents). Agent-key routes are plain handlers
// that check the key themselves; WebSockets are plain handlers too.
func (r *Room) Routes(rt *httpx.Router) {
	rt.Handle(httpx.Op(http.MethodPost, "/api/agent/report", authz.Agent, "Receive agent metrics report"), http.HandlerFunc(r.report))
	rt.Handle(httpx.Op(http.MethodGet, "/api/agent/ws", authz.Agent, "Agent WebSocket for real-time comms"), http.HandlerFunc(r.agentWS))
	rt.Handle(httpx.Op(http.MethodGet, "/api/agents/{hostname}/terminal", authz.Operator, "Browser terminal WebSocket"), http.HandlerFunc(r.terminalWS))
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/agents/{hostname}/stream/{cmd_id}", authz.Operator, "Poll log stream lines for command"), r.pollStream)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/agents", authz.Read, "List all agents with metrics"), r.list)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/agents/command-history", authz.Read, "Command execution history"), r.commandHistory)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/agents/{hostname}", authz.Read, "Detailed metrics for an agent"), r.detail)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/agents/bulk-command", authz.Operator, "Send command to multiple agents"), r.bulkCommand)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/agents/{hostname}/command", authz.Operator, "Queue command for an agent"), r.command)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/agents/{hostname}/uninstall", authz.Admin, "Queue agent uninstall command"), r.uninstall)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/agents/{hostname}", authz.Admin, "Remove agent from dashboard"), r.deleteAgent)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/agents/{hostname}/results", authz.Read, "Get command results for agent"), r.results)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/agents/{hostname}/history", authz.Read, "Historical agent metrics"), r.history)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/agents/{hostname}/network-stats", authz.Operator, "Trigger network stats collection"), r.networkStats)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/agents/{hostname}/stream-logs", authz.Operator, "Start live log stream on agent"), r.startStream)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/agents/{hostname}/stream-logs/{cmd_id}", authz.Operator, "Stop a running log stream"), r.stopStream)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/agents/{hostname}/streams", authz.Read, "List active log streams"), r.listStreams)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/sla/summary", authz.Read, "SLA uptime across agents/services"), r.slaSummary)
	rt.Handle(httpx.Op(http.MethodGet, "/api/agent/update", authz.Agent, "Serve the agent binary for self-update"), http.HandlerFunc(r.update))
	rt.Handle(httpx.Op(http.MethodGet, "/api/agent/install-script", authz.Agent, "Generate agent install script"), http.HandlerFunc(r.installScript))
	rt.Handle(httpx.Op(http.MethodPost, "/api/agents/deploy", authz.Admin, "Remote deploy agent via SSH"), http.HandlerFunc(r.deployHTTP))
	rt.Handle(httpx.Op(http.MethodPost, "/api/agents/{hostname}/remote-uninstall", authz.Admin, "Remove an agent from a host over SSH"), http.HandlerFunc(r.remoteUninstall))
	rt.Handle(httpx.Op(http.MethodPost, "/api/agent/file-upload", authz.Agent, "Receive file chunk from agent"), http.HandlerFunc(r.fileUpload))
	rt.Handle(httpx.Op(http.MethodGet, "/api/agent/file-download/{transfer_id}", authz.Agent, "Serve file to agent for push"), http.HandlerFunc(r.fileDownload))
	push := httpx.Op(http.MethodPost, "/api/agents/{hostname}/transfer", authz.Admin, "Initiate file push to agent")
	push.MaxBodyBytes = maxFile + 1
	rt.Handle(push, http.HandlerFunc(r.filePush))
}

// Jobs are the room's background work: the command-queue sweep and the
// transfer cleanup.
func (r *Room) Jobs() []jobs.Job {
	return []jobs.Job{
		jobs.Every("agents-queue-sweep", sweepPeriod, r.SweepQueues),
		jobs.Every("agents-transfer-cleanup", transferSweep, r.SweepTransfers),
		jobs.Every("agents-registry-write", registryFlush, r.FlushRegistry),
		jobs.Every("agents-presence", presenceEvery, r.AnnouncePresence),
		jobs.Func{JobName: "agents-registry-flush", Fn: func(ctx context.Context) error {
			// Reports keep last_seen in memory between registry writes;
			// write what is pending when the server stops.
			<-ctx.Done()
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return r.FlushRegistry(fctx)
		}},
	}
}
