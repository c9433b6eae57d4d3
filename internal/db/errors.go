package db

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/noba-go/noba/internal/errs"
)

// Violation is the kind of constraint a statement broke.
type Violation int

// The violations Classify tells apart.
const (
	NoViolation Violation = iota
	UniqueViolation
	ForeignKeyViolation
	NotNullViolation
	CheckViolation
)

// ViolationOf reports which constraint err (from either driver) broke.
func ViolationOf(err error) Violation {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return UniqueViolation
		case "23503":
			return ForeignKeyViolation
		case "23502":
			return NotNullViolation
		case "23514":
			return CheckViolation
		}
		return NoViolation
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return UniqueViolation
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return ForeignKeyViolation
		case sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return NotNullViolation
		case sqlite3.SQLITE_CONSTRAINT_CHECK:
			return CheckViolation
		}
	}
	return NoViolation
}

// IsUnique reports whether err is a unique (or primary key) violation.
func IsUnique(err error) bool { return ViolationOf(err) == UniqueViolation }

// Classify maps a constraint violation of either driver to the domain
// error a store returns: a unique violation is errs.Conflict with msg, a
// foreign key, not-null or check violation errs.Invalid with msg. Other
// errors (and nil) are returned unchanged.
func Classify(err error, msg string) error {
	switch ViolationOf(err) {
	case UniqueViolation:
		return errs.Conflict("%s", msg)
	case ForeignKeyViolation, NotNullViolation, CheckViolation:
		return errs.Invalid("%s", msg)
	}
	return err
}
