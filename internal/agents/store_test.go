package agents_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/noba-go/noba/internal/agents"
	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/errs"
)

// countingDialect is SQLite counting the clauses a store asks it for.
type countingDialect struct {
	db.Dialect
	upserts, ignores int
}

func (c *countingDialect) Upsert(keys []string, set ...string) string {
	c.upserts++
	return c.Dialect.Upsert(keys, set...)
}

func (c *countingDialect) Ignore() string { c.ignores++; return c.Dialect.Ignore() }

// TestStoreThroughDialect: the agents store takes its upserts and its
// insert-or-skip from the database's Dialect, keeps first_seen on a
// re-registration, skips a re-queued command id, and reports a missing
// capability manifest as the domain errs.ErrNotFound.
func TestStoreThroughDialect(t *testing.T) {
	d, err := db.Open(filepath.Join(t.TempDir(), "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	cd := &countingDialect{Dialect: db.SQLite}
	d.Dialect = cd
	st := agents.NewStore(d)

	if _, _, err := st.Capabilities(ctx, "h1"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("missing manifest: %v", err)
	}
	if err := st.UpsertAgent(ctx, agents.RegistryRow{Hostname: "h1", IP: "127.0.0.1", FirstSeen: 100, LastSeen: 100}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertAgents(ctx, []agents.RegistryRow{{Hostname: "h1", IP: "127.0.0.2", FirstSeen: 200, LastSeen: 200}}); err != nil {
		t.Fatal(err)
	}
	rows, err := st.ListAgents(ctx)
	if err != nil || len(rows) != 1 || rows[0].FirstSeen != 100 || rows[0].LastSeen != 200 || rows[0].IP != "127.0.0.2" {
		t.Fatalf("registry %+v %v", rows, err)
	}
	for _, by := range []string{"ann", "bob"} {
		if err := st.InsertCommand(ctx, agents.HistoryRow{ID: "c1", Hostname: "h1", CmdType: "ping", QueuedBy: by, QueuedAt: 5}); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := st.CommandHistory(ctx, "h1", 10)
	if err != nil || len(hist) != 1 || hist[0].QueuedBy != "ann" {
		t.Fatalf("history %+v %v", hist, err)
	}
	for i, m := range []string{`{"v":1}`, `{"v":2}`} {
		if err := st.UpsertCapabilities(ctx, "h1", []byte(m), int64(10+i), []byte("[]")); err != nil {
			t.Fatal(err)
		}
	}
	m, probed, err := st.Capabilities(ctx, "h1")
	if err != nil || string(m) != `{"v":2}` || probed != 11 {
		t.Fatalf("capabilities %s %d %v", m, probed, err)
	}
	if cd.upserts != 4 || cd.ignores != 2 {
		t.Fatalf("dialect clauses: %d upserts, %d ignores; want 4 and 2", cd.upserts, cd.ignores)
	}
}
