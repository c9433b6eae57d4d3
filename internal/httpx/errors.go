// Package httpx is the HTTP layer every room shares: the error vocabulary and
// its one table to statuses, the JSON error body, route registration with a
// guard per route, and the global middleware chain.
package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/noba-go/noba/internal/errs"
)

// The error vocabulary: the domain kinds of internal/errs (the same
// values, so that stores return errs.* without importing HTTP and
// errors.Is matches either name). The boundary maps them to statuses
// through one table.
var (
	ErrInvalid      = errs.ErrInvalid
	ErrNotFound     = errs.ErrNotFound
	ErrConflict     = errs.ErrConflict
	ErrUnauthorized = errs.ErrUnauthorized
	ErrForbidden    = errs.ErrForbidden
	ErrRateLimited  = errs.ErrRateLimited
	ErrTooLarge     = errs.ErrTooLarge
	ErrUnavailable  = errs.ErrUnavailable
	ErrBadGateway   = errs.ErrBadGateway
)

var statusOf = []struct {
	err    error
	status int
}{
	{ErrInvalid, http.StatusBadRequest},
	{ErrNotFound, http.StatusNotFound},
	{ErrConflict, http.StatusConflict},
	{ErrUnauthorized, http.StatusUnauthorized},
	{ErrForbidden, http.StatusForbidden},
	{ErrRateLimited, http.StatusTooManyRequests},
	{ErrTooLarge, http.StatusRequestEntityTooLarge},
	{ErrUnavailable, http.StatusServiceUnavailable},
	{ErrBadGateway, http.StatusBadGateway},
}

// Error is an error with a user-facing message and a kind from the
// vocabulary (errs.Error).
type Error = errs.Error

func newErr(kind error, format string, args ...any) error { return errs.New(kind, format, args...) }

// Invalid is a 400 with the given message.
func Invalid(format string, args ...any) error { return newErr(ErrInvalid, format, args...) }

// NotFound is a 404 with the given message.
func NotFound(format string, args ...any) error { return newErr(ErrNotFound, format, args...) }

// Conflict is a 409 with the given message.
func Conflict(format string, args ...any) error { return newErr(ErrConflict, format, args...) }

// Unauthorized is a 401 with the given message.
func Unauthorized(format string, args ...any) error { return newErr(ErrUnauthorized, format, args...) }

// Forbidden is a 403 with the given message.
func Forbidden(format string, args ...any) error { return newErr(ErrForbidden, format, args...) }

// RateLimited is a 429 with the given message.
func RateLimited(format string, args ...any) error { return newErr(ErrRateLimited, format, args...) }

// TooLarge is a 413 with the given message.
func TooLarge(format string, args ...any) error { return newErr(ErrTooLarge, format, args...) }

// Unavailable is a 503 with the given message.
func Unavailable(format string, args ...any) error { return newErr(ErrUnavailable, format, args...) }

// BadGateway is a 502 with the given message.
func BadGateway(format string, args ...any) error { return newErr(ErrBadGateway, format, args...) }

// Status maps an error to its HTTP status and the message to show. Errors
// outside the vocabulary are 500 with a generic message (never internals).
func Status(err error) (int, string) {
	var se huma.StatusError
	if errors.As(err, &se) {
		return se.GetStatus(), se.Error()
	}
	for _, s := range statusOf {
		if errors.Is(err, s.err) {
			var e *Error
			if errors.As(err, &e) {
				return s.status, e.Msg
			}
			return s.status, err.Error()
		}
	}
	return http.StatusInternalServerError, "Internal server error"
}

// Body is the JSON error body: both keys carry the same message (spec decision 1).
type Body struct {
	status int
	Err    string `json:"error"`
	Detail string `json:"detail"`
}

// NewBody returns the error body for status and msg.
func NewBody(status int, msg string) *Body { return &Body{status: status, Err: msg, Detail: msg} }

func (b *Body) Error() string { return b.Detail }

// GetStatus implements huma.StatusError.
func (b *Body) GetStatus() int { return b.status }

// InstallHumaErrors makes huma produce our error body, with 400 (not 422)
// for malformed input and a readable message assembled from its details.
func InstallHumaErrors() {
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		if status == http.StatusUnprocessableEntity {
			status = http.StatusBadRequest
		}
		if status >= 500 {
			return NewBody(status, "Internal server error")
		}
		var parts []string
		for _, e := range errs {
			if e == nil {
				continue
			}
			var d *huma.ErrorDetail
			if errors.As(e, &d) {
				// "body.password: expected string"; the body as a whole needs no location.
				if loc := strings.TrimPrefix(d.Location, "body."); loc != "" && loc != "body" {
					parts = append(parts, fmt.Sprintf("%s: %s", loc, d.Message))
				} else {
					parts = append(parts, d.Message)
				}
				continue
			}
			parts = append(parts, e.Error())
		}
		if len(parts) > 0 {
			if msg == "" || msg == "validation failed" {
				msg = "Invalid request: " + strings.Join(parts, "; ")
			} else {
				msg = msg + ": " + strings.Join(parts, "; ")
			}
		}
		if msg == "" {
			msg = http.StatusText(status)
		}
		switch {
		case status == http.StatusRequestEntityTooLarge:
			msg = "Request body too large"
		case status == http.StatusBadRequest && (msg == "request body is required" || strings.Contains(msg, "unmarshal") ||
			strings.Contains(msg, "invalid character") || strings.Contains(msg, "unexpected end of JSON")):
			msg = "Invalid JSON"
		}
		return NewBody(status, msg)
	}
}
