package agents

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

type startStreamIn struct {
	Hostname string `path:"hostname"`
	Body     struct {
		Unit     string `json:"unit"`
		Priority string `json:"priority"`
		Lines    *int   `json:"lines"`
		// Path follows a log file instead of the journal (agents without
		// journald); the agent applies its read rules to it.
		Path string `json:"path"`
	}
}

type startStreamOut struct {
	Body struct {
		Status   string `json:"status"`
		StreamID string `json:"stream_id"`
	}
}

// startStream serves POST /api/agents/{hostname}/stream-logs (spec 20 §8).
func (r *Room) startStream(ctx context.Context, in *startStreamIn) (*startStreamOut, error) {
	if err := checkHost(in.Hostname); err != nil {
		return nil, err
	}
	lines := 50
	if in.Body.Lines != nil {
		lines = min(max(*in.Body.Lines, 1), 500)
	}
	params := map[string]any{"lines": lines}
	if u := strings.TrimSpace(in.Body.Unit); u != "" {
		params["unit"] = u
	}
	if p := strings.TrimSpace(in.Body.Priority); p != "" {
		params["priority"] = p
	}
	if p := strings.TrimSpace(in.Body.Path); p != "" {
		params["path"] = p
	}
	if err := wire.ValidateParams(wire.CmdFollowLogs, params); err != nil {
		return nil, httpx.Invalid("%s", err.Error())
	}
	p := authz.Must(ctx)
	id := wire.NewID(8)
	r.hub.mu.Lock()
	a := r.hub.getLocked(in.Hostname)
	if a.streams == nil {
		a.streams = map[string]int64{}
	}
	started := r.now().Unix()
	a.streams[id] = started
	r.hub.mu.Unlock()
	publish(r, ctx, chStream, streamMsg{Host: in.Hostname, ID: id, Started: started})
	r.dispatch(ctx, in.Hostname, wire.CmdFollowLogs, params, p.Username, sendOpts{id: id, record: true})
	unit, _ := params["unit"].(string)
	r.audit(ctx, "agent_stream_logs", p.Username, fmt.Sprintf("host=%s id=%s unit=%s", in.Hostname, id, unit), httpx.ClientIP(ctx))
	out := &startStreamOut{}
	out.Body.Status, out.Body.StreamID = "queued", id
	return out, nil
}

type streamIn struct {
	Hostname string `path:"hostname"`
	CmdID    string `path:"cmd_id"`
	After    string `query:"after"`
}

type pollOut struct {
	Body struct {
		Lines  []any `json:"lines"`
		Cursor int64 `json:"cursor"`
		Active bool  `json:"active"`
	}
}

// pollStream serves GET /api/agents/{hostname}/stream/{cmd_id}: log
// stream lines after the cursor (a sequence number that keeps growing when
// old lines are trimmed), else the streamed lines of a WebSocket exec.
func (r *Room) pollStream(ctx context.Context, in *streamIn) (*pollOut, error) {
	if err := checkHost(in.Hostname); err != nil {
		return nil, err
	}
	if !wire.ValidCommandID(in.CmdID) {
		return nil, httpx.Invalid("Invalid cmd_id")
	}
	after, err := httpx.IntParam("after", in.After, 0, 0, math.MaxInt)
	if err != nil {
		return nil, err
	}
	out := &pollOut{}
	out.Body.Lines = []any{}
	r.hub.mu.Lock()
	defer r.hub.mu.Unlock()
	active := false
	if a := r.hub.agents[in.Hostname]; a != nil {
		_, active = a.streams[in.CmdID]
	}
	if b := r.hub.logs[in.Hostname+"\x00"+in.CmdID]; b != nil {
		first := b.seq - int64(len(b.lines))
		start := max(int64(after), first) - first
		for _, l := range b.lines[start:] {
			out.Body.Lines = append(out.Body.Lines, l)
		}
		out.Body.Cursor, out.Body.Active = b.seq, active
		return out, nil
	}
	if active {
		out.Body.Active = true
		return out, nil
	}
	msgs := r.hub.execs[in.Hostname+"\x00"+in.CmdID]
	start := min(after, len(msgs))
	for _, m := range msgs[start:] {
		out.Body.Lines = append(out.Body.Lines, m)
	}
	out.Body.Cursor, out.Body.Active = int64(len(msgs)), len(msgs) > 0
	return out, nil
}

// stopStream serves DELETE /api/agents/{hostname}/stream-logs/{cmd_id}.
func (r *Room) stopStream(ctx context.Context, in *streamIn) (*queuedOut, error) {
	if err := checkHost(in.Hostname); err != nil {
		return nil, err
	}
	if !wire.ValidCommandID(in.CmdID) {
		return nil, httpx.Invalid("Invalid cmd_id")
	}
	p := authz.Must(ctx)
	r.hub.mu.Lock()
	if a := r.hub.agents[in.Hostname]; a != nil {
		delete(a.streams, in.CmdID)
	}
	delete(r.hub.logs, in.Hostname+"\x00"+in.CmdID)
	r.hub.mu.Unlock()
	publish(r, ctx, chStream, streamMsg{Host: in.Hostname, ID: in.CmdID, Stop: true})
	id, _ := r.dispatch(ctx, in.Hostname, wire.CmdStopStream, map[string]any{"stream_id": in.CmdID}, p.Username, sendOpts{record: true})
	out := &queuedOut{}
	out.Body.Status, out.Body.ID = "queued", id
	return out, nil
}

type streamItem struct {
	StreamID string `json:"stream_id"`
	Started  int64  `json:"started"`
}

type listStreamsOut struct {
	Body struct {
		Streams []streamItem `json:"streams"`
	}
}

func (r *Room) listStreams(ctx context.Context, in *hostIn) (*listStreamsOut, error) {
	if err := checkHost(in.Hostname); err != nil {
		return nil, err
	}
	out := &listStreamsOut{}
	out.Body.Streams = []streamItem{}
	for id, st := range r.hub.streamsOf(in.Hostname) {
		out.Body.Streams = append(out.Body.Streams, streamItem{StreamID: id, Started: st})
	}
	sort.Slice(out.Body.Streams, func(i, j int) bool { return out.Body.Streams[i].Started < out.Body.Streams[j].Started })
	return out, nil
}
