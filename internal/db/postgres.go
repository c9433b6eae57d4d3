package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgresURL reports whether u names a PostgreSQL server
// (postgres:// or postgresql://).
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// OpenURL opens the PostgreSQL database that u names (postgres://...,
// through jackc/pgx). The stores' "?" placeholders are rebound to $n
// centrally, on every query, so the same SQL runs on both dialects; Go
// bools are sent as 0/1, as SQLite stores them (NOBA's flag columns are
// integers in both schemas).
//
// W is a single connection, as on SQLite, so that the stores' writes stay
// serialised within one server; R is a pool whose sessions are read-only
// (SQLite's readers are query_only too), so a write through R fails on
// both dialects alike.
func OpenURL(ctx context.Context, u string) (*DB, error) {
	if !IsPostgresURL(u) {
		return nil, fmt.Errorf("open db: unsupported database URL (want postgres://...)")
	}
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("open db: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "noba"
	}
	w := sql.OpenDB(rebinding{stdlib.GetConnector(*cfg)})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open db %s: %w", redact(cfg), err)
	}
	rc := cfg.Copy()
	rc.RuntimeParams["default_transaction_read_only"] = "on"
	r := sql.OpenDB(rebinding{stdlib.GetConnector(*rc)})
	n := max(runtime.GOMAXPROCS(0)*2, 4)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &DB{W: w, R: r, Dialect: Postgres, url: u}, nil
}

func redact(c *pgx.ConnConfig) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// rebinding wraps pgx's database/sql connector: every query is rebound
// from "?" to $n placeholders and bool arguments become 0/1.
type rebinding struct{ c driver.Connector }

func (r rebinding) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := r.c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{c.(*stdlib.Conn)}, nil
}

func (r rebinding) Driver() driver.Driver { return r.c.Driver() }

// pgConn is a pgx connection whose queries are rebound; the rest of
// *stdlib.Conn's methods (transactions, ping, session reset) are promoted.
type pgConn struct{ *stdlib.Conn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(Postgres.Rebind(query))
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, Postgres.Rebind(query))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, Postgres.Rebind(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, Postgres.Rebind(query), args)
}

// CheckNamedValue sends Go bools as the integers 0 and 1.
func (c *pgConn) CheckNamedValue(v *driver.NamedValue) error {
	switch x := v.Value.(type) {
	case bool:
		v.Value = boolInt(x)
	case *bool:
		if x == nil {
			v.Value = nil
		} else {
			v.Value = boolInt(*x)
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
