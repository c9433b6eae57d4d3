package stats

import (
	"net/http"
	"time"

	"github.com/noba-go/noba/internal/httpx"
)

// handleStats answers the latest snapshot from memory.
func (r *Room) handleStats(w http.ResponseWriter, req *http.Request) {
	f := r.ensureLatest(req.Context())
	if f.data == nil {
		httpx.WriteError(w, http.StatusServiceUnavailable, "No stats collected yet")
		return
	}
	v := parseView(req.URL.Query())
	p := r.pulse(f)
	body := r.enriched(f, v.apply(f), p)
	if r.status(p) == "stalled" {
		r.log.Warn("stats collector stalled", "last_collection", f.at.Unix())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// writeTimeout bounds one event write to a slow client.
const writeTimeout = 10 * time.Second

// handleStream is the SSE fan-out: every client waits on the one shared
// frame chain and is woken when a collection publishes; nothing is
// collected per client. A frame is re-sent (with a fresh pulse) when the
// collector has not ticked for 1.5 intervals, and ": ping" keeps idle
// proxies open.
func (r *Room) handleStream(w http.ResponseWriter, req *http.Request) {
	rc := http.NewResponseController(w)
	ctx := req.Context()
	v := parseView(req.URL.Query())
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	send := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	event := func(f *frame) bool {
		p := r.pulse(f)
		if p == 0 && v.empty() {
			return send(f.event) // the shared encoding
		}
		return send(sseMessage(r.enriched(f, v.apply(f), p)))
	}

	f := r.ensureLatest(ctx)
	if f.data != nil && !event(f) {
		return
	}
	resend := time.Duration(float64(r.interval) * 1.5)
	if resend < time.Second {
		resend = time.Second
	}
	stale := time.NewTimer(resend)
	defer stale.Stop()
	ping := time.NewTicker(r.keepAlive)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.next:
			f = r.current()
			if !event(f) {
				return
			}
		case <-stale.C:
			if cur := r.current(); cur.data != nil {
				f = cur
				if !event(f) {
					return
				}
			}
		case <-ping.C:
			if !send([]byte(": ping\n\n")) {
				return
			}
			continue
		}
		if !stale.Stop() {
			select {
			case <-stale.C:
			default:
			}
		}
		stale.Reset(resend)
	}
}
