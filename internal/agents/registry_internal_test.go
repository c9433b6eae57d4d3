package agents

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/wire"
)

func TestRegistryWritesAndFlush(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(filepath.Join(t.TempDir(), "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	st := NewStore(d)
	r, err := New(ctx, Deps{Store: st, DataDir: t.TempDir(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	lastSeen := func() int64 {
		rows, err := st.ListAgents(ctx)
		if err != nil || len(rows) != 1 {
			t.Fatalf("registry: %v %v", rows, err)
		}
		return rows[0].LastSeen
	}
	flush := func() {
		t.Helper()
		if err := r.FlushRegistry(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Reports never write the registry themselves: the registry job
	// writes every changed row in one transaction.
	r.ingestReport(ctx, "h1", "10.0.0.5", &wire.Report{Metrics: wire.Metrics{Hostname: "h1", Platform: "Linux", AgentVersion: "3.1.0"}})
	if rows, _ := st.ListAgents(ctx); len(rows) != 0 {
		t.Fatalf("report wrote the registry: %v", rows)
	}
	flush()
	if got := lastSeen(); got != now.Unix() {
		t.Fatalf("first report: last_seen %d", got)
	}
	now = now.Add(10 * time.Second)
	r.ingestReport(ctx, "h1", "10.0.0.5", &wire.Report{Metrics: wire.Metrics{Hostname: "h1", Platform: "Linux", AgentVersion: "3.1.0"}})
	if got := lastSeen(); got != now.Add(-10*time.Second).Unix() {
		t.Fatalf("report wrote the registry: last_seen %d", got)
	}
	if err := r.FlushRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lastSeen(); got != now.Unix() {
		t.Fatalf("after flush: last_seen %d, want %d", got, now.Unix())
	}
	// A changed version is written by the next flush.
	now = now.Add(5 * time.Second)
	r.ingestReport(ctx, "h1", "10.0.0.5", &wire.Report{Metrics: wire.Metrics{Hostname: "h1", Platform: "Linux", AgentVersion: "3.2.0"}})
	flush()
	rows, _ := st.ListAgents(ctx)
	if rows[0].AgentVersion != "3.2.0" || rows[0].LastSeen != now.Unix() {
		t.Fatalf("changed version: %+v", rows[0])
	}
	// A restarted server seeds its agent map from the registry (offline).
	r2, err := New(ctx, Deps{Store: st, DataDir: t.TempDir(), Now: func() time.Time { return now.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := r2.hub.snapshot("h1")
	if !ok || s.version != "3.2.0" || r2.online(s, r2.now()) {
		t.Fatalf("seeded agent: %+v %v", s, ok)
	}
	if m := r.AgentMetrics(); m["h1"] == nil {
		t.Fatalf("AgentMetrics lacks the online agent: %v", m)
	}
	if m := r2.AgentMetrics(); len(m) != 0 {
		t.Fatalf("AgentMetrics lists offline agents: %v", m)
	}
}
