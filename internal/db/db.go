// Package db opens NOBA's database — SQLite by default (WAL mode, busy
// timeout, foreign keys), PostgreSQL when NOBA_DATABASE_URL names one
// (OpenURL, postgres.go) — and applies the numbered migrations embedded in
// the binary.
//
// Migrations live per dialect: migrations/*.sql are SQLite's (goose
// format, numbered 00001...); migrations/postgres/*.sql are PostgreSQL's,
// with the same numbers (see migrations/postgres/README.md for the recipe).
// Stores write SQL with "?" placeholders (rebound centrally on PostgreSQL)
// and take upserts and time from the Dialect (dialect.go); constraint
// violations become domain errors through Classify (errors.go).
package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB is the database: W is the single writer connection (SQLite admits one
// writer at a time; serialising in the pool avoids busy waits), R a pool of
// readers that WAL lets run beside it.
type DB struct {
	W *sql.DB
	R *sql.DB
	// Dialect is the SQL dialect of W and R (SQLite from Open, Postgres
	// from OpenURL).
	Dialect Dialect

	url string // the PostgreSQL URL (migrations open their own pool)
}

// OpenConfigured opens the database the server is configured with: the
// PostgreSQL server of databaseURL when set, else the SQLite file at path.
func OpenConfigured(ctx context.Context, databaseURL, path string) (*DB, error) {
	if databaseURL != "" {
		return OpenURL(ctx, databaseURL)
	}
	return Open(path)
}

// Open opens (creating if needed) the SQLite file at path.
func Open(path string) (*DB, error) {
	pragmas := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	w, err := sql.Open("sqlite", base+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open db: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.Ping(); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open db %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open db readers: %w", err)
	}
	n := runtime.GOMAXPROCS(0) * 2
	if n < 4 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &DB{W: w, R: r, Dialect: SQLite}, nil
}

// Close closes both pools.
func (d *DB) Close() error {
	err1 := d.R.Close()
	err2 := d.W.Close()
	if err2 != nil {
		return err2
	}
	return err1
}

// Migrate applies every pending migration, each in its own transaction.
// On PostgreSQL the migrations run under goose's advisory-lock session
// locker, so replicas starting together migrate once, one after another.
func Migrate(ctx context.Context, d *DB) error {
	if d.SQL().Name() == "postgres" {
		return migratePostgres(ctx, d.url)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, d.W, sub)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func migratePostgres(ctx context.Context, u string) error {
	sub, err := fs.Sub(migrations, "migrations/postgres")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// A pool of its own: the session locker holds one connection while
	// the migrations run on another (W has only one).
	mdb := stdlib.OpenDB(*cfg)
	defer func() { _ = mdb.Close() }()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, mdb, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Tx runs fn in a write transaction, committing when it returns nil.
func (d *DB) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// MigrationsVersion is a short digest of the embedded migrations of
// dialect ("sqlite" or "postgres"): it changes whenever one is added or
// edited (tests key migrated template databases on it).
func MigrationsVersion(dialect string) string {
	dir := "migrations"
	if dialect == "postgres" {
		dir = "migrations/postgres"
	}
	h := sha256.New()
	ents, _ := fs.Glob(migrations, dir+"/*.sql")
	for _, e := range ents {
		b, _ := migrations.ReadFile(e)
		h.Write([]byte(e))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
