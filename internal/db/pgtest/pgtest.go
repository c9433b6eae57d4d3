// Package pgtest gives tests a fresh PostgreSQL database on the server that
// NOBA_TEST_PG_URL names (a superuser URL, as scripts/pg-up.sh prints):
// NewDatabase creates noba_t_<random>, returns its URL and drops it when
// the test ends; NewMigratedDatabase does the same with NOBA's migrations
// applied. Without NOBA_TEST_PG_URL the test is skipped.
//
//	eval "$(scripts/pg-up.sh)"; go test ./internal/...; scripts/pg-down.sh "$NOBA_PG_DIR"
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/noba-go/noba/internal/db"
)

// EnvURL is the environment variable naming the test server.
const EnvURL = "NOBA_TEST_PG_URL"

// URL is the superuser URL of the test server, "" when none is configured.
func URL() string { return os.Getenv(EnvURL) }

// NewDatabase creates an empty database for t and returns its URL; the
// database is dropped (connections closed by force) in t's Cleanup. The
// test is skipped when NOBA_TEST_PG_URL is unset.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := URL()
	if admin == "" {
		t.Skip("PostgreSQL test: set NOBA_TEST_PG_URL (eval \"$(scripts/pg-up.sh)\") to run it")
	}
	u, err := Create(context.Background(), admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := Drop(ctx, admin, u); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return u
}

// NewMigratedDatabase is NewDatabase with NOBA's PostgreSQL migrations
// already applied: the database is a copy of a template migrated once per
// set of migrations (noba_tmpl_<digest>), which takes a fraction of the
// time of migrating each test's database.
func NewMigratedDatabase(t testing.TB) string {
	t.Helper()
	admin := URL()
	if admin == "" {
		t.Skip("PostgreSQL test: set NOBA_TEST_PG_URL (eval \"$(scripts/pg-up.sh)\") to run it")
	}
	ctx := context.Background()
	tmpl, err := template(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	u, err := create(ctx, admin, tmpl)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := Drop(ctx, admin, u); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return u
}

// template makes sure the migrated template database exists (built under
// an advisory lock, since test binaries of several packages run at once)
// and returns its name.
func template(ctx context.Context, admin string) (string, error) {
	name := "noba_tmpl_" + db.MigrationsVersion("postgres")
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", EnvURL, err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock(hashtext('noba_pgtest_template'))`); err != nil {
		return "", err
	}
	defer c.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtext('noba_pgtest_template'))`) //nolint:errcheck // the session ends next
	var exists bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	build := name + "_build"
	if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+build+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := c.Exec(ctx, "CREATE DATABASE "+build); err != nil {
		return "", err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + build
	d, err := db.OpenURL(ctx, u.String())
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx, d)
	_ = d.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := c.Exec(ctx, "ALTER DATABASE "+build+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

// Create makes a new database noba_t_<random> on the server of the
// superuser URL admin and returns the URL of the new database.
func Create(ctx context.Context, admin string) (string, error) { return create(ctx, admin, "") }

func create(ctx context.Context, admin, tmpl string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	name := "noba_t_" + hex.EncodeToString(b[:])
	stmt := "CREATE DATABASE " + name
	if tmpl != "" {
		stmt += " TEMPLATE " + tmpl
	}
	if err := exec(ctx, admin, stmt); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", fmt.Errorf("%s: %w", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// Drop removes the database that dbURL (a URL Create returned) names.
func Drop(ctx context.Context, admin, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	name := pgx.Identifier{u.Path[1:]}.Sanitize()
	if err := exec(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

func exec(ctx context.Context, admin, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect %s: %w", EnvURL, err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	_, err = c.Exec(ctx, sql)
	return err
}
