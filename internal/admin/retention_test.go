package admin_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/jobs"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestAuditRetention: the retention job deletes entries older than NOBA_AUDIT_DAYS.
func TestAuditRetention(t *testing.T) {
	c := &clock{t: time.Now()}
	env := servertest.NewWith(t, servertest.Setup{
		Options: []server.Option{server.WithClock(c.Now)},
		Config:  []servertest.Config{func(cfg *config.Config) { cfg.AuditDays = 10 }},
	})
	env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": "old", "password": "x"})
	c.Add(9 * 24 * time.Hour)
	env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": "recent", "password": "x"})
	c.Add(2 * 24 * time.Hour) // the first entry is now 11 days old, the second 2
	var prune *jobs.Ticker
	for _, j := range env.Server.Jobs.Jobs() {
		if j.Name() == "audit-retention" {
			prune = jobs.Unwrap(j).(*jobs.Ticker)
		}
	}
	if prune == nil {
		t.Fatal("no audit-retention job")
	}
	if err := prune.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	env.JSON(http.MethodGet, "/api/audit?action=login_failed", env.Token("admin"), nil, &rows)
	if len(rows) != 1 || rows[0]["username"] != "recent" {
		t.Fatalf("after retention: %v", rows)
	}
}
