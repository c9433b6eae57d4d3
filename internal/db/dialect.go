package db

import (
	"strconv"
	"strings"
)

// Dialect is what differs between the SQL databases a store may run on:
// placeholders, upserts and time. Stores write portable SQL with "?"
// placeholders and go through the dialect for the rest, so that a
// PostgreSQL implementation of DB can pass the same store tests (the
// scale-out issue). Only SQLite is opened today.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Rebind rewrites the "?" placeholders of query (outside quotes) to
	// the dialect's own.
	Rebind(query string) string
	// Upsert is the clause that turns an INSERT into an upsert on the
	// conflict target keys: ON CONFLICT (keys) DO UPDATE SET set...; each
	// set item is "col = expr", where excluded.col is the proposed value.
	Upsert(keys []string, set ...string) string
	// Ignore is the clause that makes an INSERT skip rows that conflict.
	Ignore() string
	// UnixNow is an SQL expression of the current time in Unix seconds.
	UnixNow() string
}

// SQLite is the dialect of the server's database.
var SQLite Dialect = sqliteDialect{}

// Postgres is the PostgreSQL dialect (for the later store implementation).
var Postgres Dialect = postgresDialect{}

type sqliteDialect struct{}

func (sqliteDialect) Name() string                               { return "sqlite" }
func (sqliteDialect) Rebind(q string) string                     { return q }
func (sqliteDialect) Upsert(keys []string, set ...string) string { return upsert(keys, set) }
func (sqliteDialect) Ignore() string                             { return " ON CONFLICT DO NOTHING" }
func (sqliteDialect) UnixNow() string                            { return "CAST(strftime('%s','now') AS INTEGER)" }

type postgresDialect struct{}

func (postgresDialect) Name() string { return "postgres" }

// Rebind numbers the placeholders $1, $2...; "?" inside single-quoted
// strings, double-quoted identifiers and comments is left alone.
func (postgresDialect) Rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				end = len(q) - i
			}
			b.WriteString(q[i : i+end])
			i += end - 1
			continue
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
func (postgresDialect) Upsert(keys []string, set ...string) string { return upsert(keys, set) }
func (postgresDialect) Ignore() string                             { return " ON CONFLICT DO NOTHING" }
func (postgresDialect) UnixNow() string                            { return "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)" }

func upsert(keys, set []string) string {
	if len(set) == 0 {
		return " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO NOTHING"
	}
	return " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// SQL is the dialect of d (SQLite when unset).
func (d *DB) SQL() Dialect {
	if d == nil || d.Dialect == nil {
		return SQLite
	}
	return d.Dialect
}
