// Package dbtest opens a migrated NOBA database for a store test: SQLite
// in t.TempDir() by default, a fresh PostgreSQL database when
// NOBA_TEST_PG_URL is set (see pgtest), so that store tests written
// against it run on both dialects.
package dbtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/db/pgtest"
)

// Open returns a migrated database, closed when the test ends.
func Open(t testing.TB) *db.DB {
	t.Helper()
	var u string
	if pgtest.URL() != "" {
		u = pgtest.NewMigratedDatabase(t)
	}
	return OpenAt(t, u, filepath.Join(t.TempDir(), "noba.db"))
}

// OpenAt opens (and migrates) the database at databaseURL, or the SQLite
// file path when databaseURL is "" — the same choice the server makes.
func OpenAt(t testing.TB, databaseURL, path string) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.OpenConfigured(ctx, databaseURL, path)
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return d
}
