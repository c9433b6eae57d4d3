package monitoring_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// TestHistoryRetention checks that history older than 90 days leaves the
// uptime window and is pruned, with the state-change events.
func TestHistoryRetention(t *testing.T) {
	var offset atomic.Int64 // seconds added to the real clock
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load()) * time.Second) }
	env := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithClock(clock)}})
	viewer := env.Token("viewer")
	env.Token("operator")
	env.Token("admin")

	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	id := createMonitor(t, env, map[string]any{"name": "old", "url": srv.URL})

	offset.Store(-91 * 86400) // 91 days ago: down
	if res := checkNow(t, env, id); res.Status != "down" {
		t.Fatalf("old check: %+v", res)
	}
	offset.Store(0)
	healthy.Store(true)
	if res := checkNow(t, env, id); res.Status != "up" {
		t.Fatalf("new check: %+v", res)
	}
	m := monitors(t, env, viewer)["old"]
	if len(m.History) != 2 || len(m.Events) != 2 {
		t.Fatalf("before prune: %d history rows, %d events", len(m.History), len(m.Events))
	}
	// The 30-day uptime only counts the recent check.
	if m.UptimePercent == nil || *m.UptimePercent != 100 {
		t.Errorf("uptime %v, want 100", m.UptimePercent)
	}
	runJob(t, env, "monitoring.prune")
	m = monitors(t, env, viewer)["old"]
	if len(m.History) != 1 || m.History[0].Status != "up" || len(m.Events) != 1 || m.Events[0].Kind != "recovered" {
		t.Fatalf("after prune: history %+v events %+v", m.History, m.Events)
	}
}
