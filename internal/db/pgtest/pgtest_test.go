package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/noba-go/noba/internal/db/pgtest"
)

// TestNewDatabase: the database exists and is empty while the test runs,
// and is gone after Drop.
func TestNewDatabase(t *testing.T) {
	u := pgtest.NewDatabase(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	_ = c.Close(ctx)
	if n != 0 {
		t.Fatalf("fresh database has %d tables", n)
	}
	if err := pgtest.Drop(ctx, pgtest.URL(), u); err != nil {
		t.Fatal(err)
	}
	if c, err := pgx.Connect(ctx, u); err == nil {
		_ = c.Close(ctx)
		t.Fatal("database still reachable after Drop")
	}
}

// TestNewMigratedDatabase: databases made in parallel from the template
// each carry the migrated schema and are independent.
func TestNewMigratedDatabase(t *testing.T) {
	for i := range 3 {
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			t.Parallel()
			u := pgtest.NewMigratedDatabase(t)
			ctx := context.Background()
			c, err := pgx.Connect(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			if _, err := c.Exec(ctx, `INSERT INTO users (username, hash, created_at) VALUES ('x', 'h', 1)`); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := c.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("users %d, %v", n, err)
			}
		})
	}
}
