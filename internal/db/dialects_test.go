package db_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/db/pgtest"
	"github.com/noba-go/noba/internal/errs"
)

// migrated opens a migrated database of the given dialect ("sqlite" in
// t.TempDir(), "postgres" on a fresh database of NOBA_TEST_PG_URL).
func migrated(t *testing.T, dialect string) *db.DB {
	t.Helper()
	ctx := context.Background()
	var d *db.DB
	var err error
	if dialect == "postgres" {
		d, err = db.OpenURL(ctx, pgtest.NewDatabase(t))
	} else {
		d, err = db.Open(filepath.Join(t.TempDir(), "t.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// both runs f on SQLite and on PostgreSQL (skipped without NOBA_TEST_PG_URL).
func both(t *testing.T, f func(t *testing.T, d *db.DB)) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			d := migrated(t, dialect)
			if d.SQL().Name() != dialect {
				t.Fatalf("dialect %s, want %s", d.SQL().Name(), dialect)
			}
			f(t, d)
		})
	}
}

// columns lists every table's columns, for comparing the two schemas.
func columns(t *testing.T, d *db.DB) map[string][]string {
	t.Helper()
	q := `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version'`
	if d.SQL().Name() == "postgres" {
		q = `SELECT c.table_name, c.column_name FROM information_schema.columns c
			JOIN pg_class k ON k.relname = c.table_name AND NOT k.relispartition
			WHERE c.table_schema = 'public' AND c.table_name <> 'goose_db_version'`
	}
	rows, err := d.R.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var tbl, col string
		if err := rows.Scan(&tbl, &col); err != nil {
			t.Fatal(err)
		}
		out[tbl] = append(out[tbl], col)
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// TestSchemasMatch: every migration of both dialects applies, and they
// give the same tables with the same columns (PostgreSQL's tables that
// mirror SQLite's implicit rowid aside).
func TestSchemasMatch(t *testing.T) {
	lite := columns(t, migrated(t, "sqlite"))
	if len(lite) < 40 {
		t.Fatalf("only %d SQLite tables", len(lite))
	}
	if pgtest.URL() == "" {
		t.Skip("PostgreSQL test: set NOBA_TEST_PG_URL (eval \"$(scripts/pg-up.sh)\") to run it")
	}
	pg := columns(t, migrated(t, "postgres"))
	for tbl, cols := range pg {
		pg[tbl] = slices.DeleteFunc(cols, func(c string) bool { return c == "rowid" })
	}
	for tbl, cols := range lite {
		if !slices.Equal(cols, pg[tbl]) {
			t.Errorf("table %s: sqlite %v, postgres %v", tbl, cols, pg[tbl])
		}
	}
	for tbl := range pg {
		if _, ok := lite[tbl]; !ok {
			t.Errorf("table %s only on postgres", tbl)
		}
	}
}

// TestSeam: the SQL the stores write ("?" placeholders, even beside quoted
// question marks, bools, upserts, RETURNING, the current time) runs alike
// on both dialects, and constraint violations map to the same domain
// errors.
func TestSeam(t *testing.T) {
	both(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := d.SQL()
		var id int64
		err := d.W.QueryRowContext(ctx, `INSERT INTO users (username, hash, role, created_at) VALUES (?, ?, ?, `+q.UnixNow()+`) RETURNING id`,
			"ann", "h?", "admin").Scan(&id)
		if err != nil || id <= 0 {
			t.Fatalf("insert returning: id %d, %v", id, err)
		}
		var name string
		var created int64
		if err := d.R.QueryRowContext(ctx, `SELECT username || '?', created_at FROM users WHERE id = ? AND hash = 'h?'`, id).Scan(&name, &created); err != nil {
			t.Fatal(err)
		}
		if name != "ann?" || created < 1_700_000_000 {
			t.Fatalf("got %q %d", name, created)
		}
		// A Go bool is stored as 1/0 and scans back as a bool.
		if _, err := d.W.ExecContext(ctx, `INSERT INTO user_preferences (username, preferences_json, updated_at) VALUES (?, ?, ?)`, "ann", "{}", true); err != nil {
			t.Fatal(err)
		}
		var b bool
		if err := d.R.QueryRowContext(ctx, `SELECT updated_at FROM user_preferences WHERE username = ?`, "ann").Scan(&b); err != nil || !b {
			t.Fatalf("bool round trip: %v %v", b, err)
		}
		// Upsert and ignore.
		up := `INSERT INTO user_preferences (username, preferences_json, updated_at) VALUES (?, ?, ?)` +
			q.Upsert([]string{"username"}, "preferences_json = excluded.preferences_json", "updated_at = user_preferences.updated_at + excluded.updated_at")
		if _, err := d.W.ExecContext(ctx, up, "ann", `{"a":1}`, 5); err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.ExecContext(ctx, `INSERT INTO user_preferences (username, preferences_json, updated_at) VALUES (?, ?, ?)`+q.Ignore(), "ann", "{}", 100); err != nil {
			t.Fatal(err)
		}
		var prefs string
		var at int64
		if err := d.R.QueryRowContext(ctx, `SELECT preferences_json, updated_at FROM user_preferences WHERE username = ?`, "ann").Scan(&prefs, &at); err != nil {
			t.Fatal(err)
		}
		if prefs != `{"a":1}` || at != 6 {
			t.Fatalf("upsert: %s %d", prefs, at)
		}
		// Unique violation -> errs.ErrConflict, foreign key -> errs.ErrInvalid.
		_, err = d.W.ExecContext(ctx, `INSERT INTO users (username, hash, created_at) VALUES (?, ?, ?)`, "ann", "x", 1)
		if !db.IsUnique(err) || !errors.Is(db.Classify(err, "user exists"), errs.ErrConflict) {
			t.Fatalf("duplicate user: %v", err)
		}
		_, err = d.W.ExecContext(ctx, `INSERT INTO notification_reads (notification_id, username, read_at) VALUES (?, ?, ?)`, 999, "ann", 1)
		if got := db.Classify(err, "no such notification"); !errors.Is(got, errs.ErrInvalid) || errs.Message(got) != "no such notification" {
			t.Fatalf("foreign key: %v", err)
		}
		if db.Classify(nil, "x") != nil {
			t.Fatal("Classify(nil) is not nil")
		}
		// R is read-only on both.
		if _, err := d.R.ExecContext(ctx, `DELETE FROM users`); err == nil {
			t.Fatal("a write through R succeeded")
		}
		// Transactions roll back on error.
		boom := errors.New("boom")
		err = d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE username = ?`, "ann"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("tx returned %v, want the function's error", err)
		}
		var n int
		if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("rolled back tx: %d users, %v", n, err)
		}
	})
}
