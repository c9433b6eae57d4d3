package db_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/noba-go/noba/internal/db"
)

func TestPostgresRebind(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT a FROM t WHERE x = ? AND y = ?":      "SELECT a FROM t WHERE x = $1 AND y = $2",
		"SELECT '?' , \"a?\" FROM t WHERE z = ?":     "SELECT '?' , \"a?\" FROM t WHERE z = $1",
		"SELECT 1 -- why?\nFROM t WHERE a IN (?, ?)": "SELECT 1 -- why?\nFROM t WHERE a IN ($1, $2)",
		"INSERT INTO t (a) VALUES ('it''s ?', ?)":    "INSERT INTO t (a) VALUES ('it''s ?', $1)",
	} {
		if got := db.Postgres.Rebind(in); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", in, got, want)
		}
	}
	if got := db.SQLite.Rebind("a = ?"); got != "a = ?" {
		t.Errorf("sqlite rebind changed the query: %q", got)
	}
}

// TestDialectClausesRunOnSQLite: the upsert, ignore and time clauses the
// stores use are valid SQLite and do what they say.
func TestDialectClausesRunOnSQLite(t *testing.T) {
	d, err := db.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	q := d.SQL()
	if q.Name() != "sqlite" {
		t.Fatalf("dialect %s", q.Name())
	}
	if _, err := d.W.ExecContext(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY, n INTEGER NOT NULL, at INTEGER)`); err != nil {
		t.Fatal(err)
	}
	up := `INSERT INTO kv (k, n, at) VALUES (?, ?, ` + q.UnixNow() + `)` + q.Upsert([]string{"k"}, "n = kv.n + excluded.n")
	for range 3 {
		if _, err := d.W.ExecContext(ctx, q.Rebind(up), "a", 2); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.W.ExecContext(ctx, q.Rebind(`INSERT INTO kv (k, n) VALUES (?, ?)`+q.Ignore()), "a", 100); err != nil {
		t.Fatal(err)
	}
	var n, at int64
	if err := d.R.QueryRowContext(ctx, `SELECT n, at FROM kv WHERE k = 'a'`).Scan(&n, &at); err != nil {
		t.Fatal(err)
	}
	if n != 6 || at < 1_700_000_000 {
		t.Fatalf("n=%d at=%d", n, at)
	}
}
