package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/alerts"
	"github.com/noba-go/noba/internal/alerts/internal/smtptest"
	"github.com/noba-go/noba/internal/alerts/notify"
	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// fixture is a collector whose CPU the test moves.
type fixture struct{ cpu atomic.Uint64 }

func (f *fixture) set(v float64) { f.cpu.Store(math.Float64bits(v)) }

func (f *fixture) source() collect.Source {
	return collect.SourceFunc(func(context.Context) (map[string]any, error) {
		return map[string]any{"hostname": "fixture", "cpuPercent": math.Float64frombits(f.cpu.Load()), "memPercent": 20,
			"disks": []any{map[string]any{"mount": "/", "percent": 40}}, "cpuTemp": "45°C"}, nil
	})
}

// hookRecorder is an httptest webhook receiver.
type hookRecorder struct {
	mu    sync.Mutex
	got   []notify.WebhookPayload
	taken map[int]bool
}

func newHook(t *testing.T) (*hookRecorder, *httptest.Server) {
	h := &hookRecorder{taken: map[int]bool{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.WebhookPayload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.got = append(h.got, p)
		h.mu.Unlock()
	}))
	t.Cleanup(hs.Close)
	return h, hs
}

// events lists the events received for ruleID.
func (h *hookRecorder) events(ruleID string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, p := range h.got {
		if p.RuleID == ruleID {
			out = append(out, p.Event)
		}
	}
	return out
}

// wait returns the next not yet returned payload for ruleID and event.
func (h *hookRecorder) wait(t *testing.T, ruleID, event string) notify.WebhookPayload {
	t.Helper()
	var found notify.WebhookPayload
	eventually(t, event+" webhook for "+ruleID, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for i, p := range h.got {
			if p.RuleID == ruleID && p.Event == event && !h.taken[i] {
				h.taken[i], found = true, p
				return true
			}
		}
		return false
	})
	return found
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func notifyConfig(smtp *smtptest.Server, hookURL string) string {
	return fmt.Sprintf(`notifications:
  email:
    enabled: true
    smtp_server: "%s"
    username: "%s"
    password: "%s"
    from: noba@example.test
    to: ops@example.test
  webhook:
    enabled: true
    url: "%s"
`, smtp.Addr, smtp.User, smtp.Password, hookURL)
}

func history(t *testing.T, env *servertest.Env, ruleID string) []alerts.AlertRecord {
	t.Helper()
	var rows []alerts.AlertRecord
	if st := env.JSON(http.MethodGet, "/api/alert-history?rule_id="+ruleID, env.Token("viewer"), nil, &rows); st != http.StatusOK {
		t.Fatalf("history: %d", st)
	}
	return rows
}

// TestRuleFiresNotifiesCoolsDownResolvesAndCountsInSLA drives real
// evaluation cycles from the fixture collector through the stats room.
func TestRuleFiresNotifiesCoolsDownResolvesAndCountsInSLA(t *testing.T) {
	smtp := smtptest.Start(t, "noba", "smtp-pass")
	hook, hs := newHook(t)
	fx := &fixture{}
	fx.set(10)
	env := servertest.NewWith(t, servertest.Setup{Jobs: true,
		Config:  []servertest.Config{writeConfig(notifyConfig(smtp, hs.URL+"/hook"))},
		Options: []server.Option{server.WithStatsSource(fx.source()), server.WithStatsInterval(200 * time.Millisecond)}})
	admin, viewer := env.Token("admin"), env.Token("viewer")

	// The test endpoint reports every channel's result.
	var tn struct {
		Status, Message string
		Results         []alerts.ChannelResult
	}
	if st := env.JSON(http.MethodPost, "/api/notifications/test", admin, nil, &tn); st != http.StatusOK || tn.Status != "sent" || tn.Message != "Notification sent" || len(tn.Results) != 2 {
		t.Fatalf("test notification: %d %+v", st, tn)
	}
	hook.wait(t, "test", "test")
	<-smtp.C()

	if st, b := env.Do(http.MethodPost, "/api/alert-rules", admin, map[string]any{"id": "cpu", "condition": "cpu_percent > 50",
		"severity": "danger", "message": "CPU above 50", "cooldown": 3600}); st != http.StatusOK {
		t.Fatalf("create rule: %d %s", st, b)
	}

	// Fire: one webhook, one e-mail, the alert in /api/stats and in-app.
	fx.set(60)
	p := hook.wait(t, "cpu", "firing")
	if p.Level != "danger" || p.Message != "CPU above 50" {
		t.Errorf("firing payload: %+v", p)
	}
	select {
	case m := <-smtp.C():
		if !strings.Contains(m.Data, "Subject: NOBA DANGER Alert") || !strings.Contains(m.Data, "NOBA Alert [danger]: CPU above 50") {
			t.Errorf("mail: %q", m.Data)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no e-mail")
	}
	eventually(t, "the alert in /api/stats", func() bool {
		var stats struct{ Alerts []map[string]any }
		env.JSON(http.MethodGet, "/api/stats", viewer, nil, &stats)
		for _, a := range stats.Alerts {
			if a["rule_id"] == "cpu" && a["severity"] == "danger" && a["msg"] == "CPU above 50" {
				return true
			}
		}
		return false
	})
	var inApp struct {
		Notifications []alerts.InAppNotification
		Unread        int `json:"unread_count"`
	}
	env.JSON(http.MethodGet, "/api/notifications", viewer, nil, &inApp)
	if inApp.Unread != 1 || len(inApp.Notifications) != 1 || inApp.Notifications[0].Title != "Alert: cpu" {
		t.Errorf("in-app: %+v", inApp)
	}

	// Still firing for several cycles: the cooldown holds further notices back.
	time.Sleep(1200 * time.Millisecond)
	if ev := hook.events("cpu"); len(ev) != 1 {
		t.Errorf("during cooldown: got events %v, want just [firing]", ev)
	}
	if rows := history(t, env, "cpu"); len(rows) != 1 || rows[0].ResolvedAt != nil {
		t.Fatalf("open episode: %+v", rows)
	}

	// Clear: the episode resolves and a resolved notice goes out.
	fx.set(10)
	hook.wait(t, "cpu", "resolved")
	rows := history(t, env, "cpu")
	if len(rows) != 1 || rows[0].ResolvedAt == nil || *rows[0].ResolvedAt <= rows[0].Timestamp {
		t.Fatalf("resolved episode: %+v", rows)
	}

	// Fires again within the cooldown: a new episode, no new notice.
	fx.set(70)
	eventually(t, "a second episode", func() bool { return len(history(t, env, "cpu")) == 2 })
	time.Sleep(600 * time.Millisecond)
	fx.set(10)
	eventually(t, "the second episode to resolve", func() bool {
		rows := history(t, env, "cpu")
		return len(rows) == 2 && rows[0].ResolvedAt != nil
	})
	if ev := hook.events("cpu"); strings.Join(ev, ",") != "firing,resolved" {
		t.Errorf("events: got %v, want [firing resolved]", ev)
	}

	// SLA: the merged firing time of both episodes.
	rows = history(t, env, "cpu")
	var down int64
	for _, r := range rows {
		down += *r.ResolvedAt - r.Timestamp
	}
	want := math.Round((3600-float64(down))/3600*100*10000) / 10000
	var sla float64
	if st := env.JSON(http.MethodGet, "/api/sla/cpu?window=1", viewer, nil, &sla); st != http.StatusOK || sla != want || down < 1 {
		t.Errorf("sla: got %d %v, want %v (down %d s)", st, sla, want, down)
	}
}

// TestMaintenanceWindowSuppressesFiringRule: while a window is active the
// episode is recorded but nothing is sent; once it ends, the notice goes out.
func TestMaintenanceWindowSuppressesFiringRule(t *testing.T) {
	smtp := smtptest.Start(t, "noba", "smtp-pass")
	hook, hs := newHook(t)
	fx := &fixture{}
	fx.set(10)
	env := servertest.NewWith(t, servertest.Setup{Jobs: true,
		Config:  []servertest.Config{writeConfig(notifyConfig(smtp, hs.URL+"/hook"))},
		Options: []server.Option{server.WithStatsSource(fx.source()), server.WithStatsInterval(200 * time.Millisecond)}})
	admin := env.Token("admin")
	now := time.Now().Unix()
	var w struct{ ID int64 }
	if st := env.JSON(http.MethodPost, "/api/maintenance-windows", admin, map[string]any{"name": "patching",
		"one_off_start": now - 60, "one_off_end": now + 3600}, &w); st != http.StatusOK {
		t.Fatalf("window: %d", st)
	}
	if st, b := env.Do(http.MethodPost, "/api/alert-rules", admin, map[string]any{"id": "hot", "condition": "cpuPercent > 50"}); st != http.StatusOK {
		t.Fatalf("rule: %d %s", st, b)
	}
	fx.set(99) // also over the built-in CPU thresholds, which maintenance skips entirely
	eventually(t, "the episode to be recorded", func() bool { return len(history(t, env, "hot")) == 1 })
	time.Sleep(600 * time.Millisecond)
	if ev := hook.events("hot"); len(ev) != 0 {
		t.Fatalf("notified during maintenance: %v", ev)
	}
	if ev := hook.events("cpu_crit"); len(ev) != 0 {
		t.Fatalf("built-in alert notified during maintenance: %v", ev)
	}
	if len(smtp.Messages()) != 0 {
		t.Fatalf("mail sent during maintenance: %d", len(smtp.Messages()))
	}
	if st, _ := env.Do(http.MethodDelete, fmt.Sprintf("/api/maintenance-windows/%d", w.ID), admin, nil); st != http.StatusOK {
		t.Fatalf("delete window: %d", st)
	}
	hook.wait(t, "hot", "firing")
	hook.wait(t, "cpu_crit", "firing")
}
