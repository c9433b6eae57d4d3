// Package errs is the domain error vocabulary: the kinds of failure a
// store or a room reports (invalid input, not found, conflict...) with a
// message a user can act on, without knowing about HTTP. internal/httpx
// maps each kind to its status through one table (its ErrNotFound etc.
// are these same values), so stores return errs.* and handlers pass them
// through unchanged.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// The kinds. Wrap them (fmt.Errorf("...: %w", errs.ErrNotFound)) or build
// them with a message through the constructors below.
var (
	ErrInvalid      = errors.New("invalid")
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrRateLimited  = errors.New("rate limited")
	ErrTooLarge     = errors.New("too large")
	ErrUnavailable  = errors.New("unavailable")
	ErrBadGateway   = errors.New("bad gateway")
)

// Error is an error of a kind with a message for the user.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// New returns an error of kind with the formatted message.
func New(kind error, format string, args ...any) error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Kind: kind, Msg: msg}
}

// Invalid is invalid input (HTTP 400).
func Invalid(format string, args ...any) error { return New(ErrInvalid, format, args...) }

// NotFound is a missing thing (HTTP 404).
func NotFound(format string, args ...any) error { return New(ErrNotFound, format, args...) }

// Conflict is a clash with the current state (HTTP 409).
func Conflict(format string, args ...any) error { return New(ErrConflict, format, args...) }

// Unavailable is a dependency that cannot answer now (HTTP 503).
func Unavailable(format string, args ...any) error { return New(ErrUnavailable, format, args...) }

// Message is the user-facing message of err: the Msg of its *Error when
// it has one, else its text.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return err.Error()
}

// UniqueViolation reports whether err is a database's unique-constraint
// failure (SQLite's "UNIQUE constraint failed", PostgreSQL's SQLSTATE
// 23505 "duplicate key value violates unique constraint"), which a store
// reports as ErrConflict.
func UniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "duplicate key value") ||
		strings.Contains(s, "SQLSTATE 23505")
}
