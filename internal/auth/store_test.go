package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/noba-go/noba/internal/auth"
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

func openStoreDB(t *testing.T) (*db.DB, *countingDialect) {
	t.Helper()
	d, err := db.Open(filepath.Join(t.TempDir(), "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := db.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	cd := &countingDialect{Dialect: db.SQLite}
	d.Dialect = cd
	return d, cd
}

// TestStoreDomainErrors: the auth store reports missing rows as
// errs.ErrNotFound and clashes as errs.ErrConflict through its interface
// (the room's own sentinels still match), never a raw SQL error.
func TestStoreDomainErrors(t *testing.T) {
	d, _ := openStoreDB(t)
	st := auth.NewStore(d)
	ctx := context.Background()

	if _, err := st.User(ctx, "nobody"); !errors.Is(err, errs.ErrNotFound) || !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
	if err := st.SetTOTP(ctx, "nobody", "x"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("SetTOTP of a missing user: %v", err)
	}
	if _, err := st.APIKeyByHash(ctx, "nohash"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("missing api key: %v", err)
	}
	if err := st.DeleteAPIKey(ctx, "nokey"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("delete missing api key: %v", err)
	}
	if _, _, err := st.Preferences(ctx, "nobody"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("missing preferences: %v", err)
	}

	u := auth.User{Username: "ann", Hash: "h", Role: "admin"}
	if err := st.AddUser(ctx, u, 1); err != nil {
		t.Fatal(err)
	}
	if err := st.AddUser(ctx, u, 2); !errors.Is(err, errs.ErrConflict) || !errors.Is(err, auth.ErrExists) {
		t.Fatalf("second add: %v", err)
	}
	if err := st.RemoveUser(ctx, "ann"); !errors.Is(err, errs.ErrConflict) || !errors.Is(err, auth.ErrLastAdmin) {
		t.Fatalf("removing the last admin: %v", err)
	}
	k := auth.APIKey{ID: "k1", Name: "ci", Hash: "hash1", Role: "viewer", CreatedAt: 1}
	if err := st.AddAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	k.Hash = "hash2"
	if err := st.AddAPIKey(ctx, k); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("api key id reused: %v", err)
	}
}

// TestStorePreferencesUpsertThroughDialect: saving preferences twice keeps
// one row with the last value, and the upsert clause comes from the
// database's Dialect (the seam a PostgreSQL store uses).
func TestStorePreferencesUpsertThroughDialect(t *testing.T) {
	d, cd := openStoreDB(t)
	st := auth.NewStore(d)
	ctx := context.Background()
	for i, js := range []string{`{"a":1}`, `{"a":2}`} {
		if err := st.SavePreferences(ctx, "ann", js, int64(10+i)); err != nil {
			t.Fatal(err)
		}
	}
	js, at, err := st.Preferences(ctx, "ann")
	if err != nil || js != `{"a":2}` || at != 11 {
		t.Fatalf("preferences %q %d %v", js, at, err)
	}
	if cd.upserts != 2 {
		t.Fatalf("upsert clauses asked of the dialect: %d, want 2", cd.upserts)
	}
}
