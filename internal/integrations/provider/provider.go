// Package provider is what every integration of the live stats payload
// shares: the Provider contract, a bounded HTTP client, the result
// conventions of spec 10 §4.4 and the concurrent fan-out that turns the
// configured providers into payload blocks within one global wait.
package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Settings is the flat settings dict (config.Reader.View(): shared, read only).
type Settings map[string]any

// String returns the trimmed string value of key ("" when absent or not a string).
func (s Settings) String(key string) string {
	v, _ := s[key].(string)
	return strings.TrimSpace(v)
}

// Bool returns the boolean value of key, def when absent or not a boolean.
func (s Settings) Bool(key string, def bool) bool {
	switch v := s[key].(type) {
	case bool:
		return v
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			return b
		}
	}
	return def
}

// Provider is one integration: a payload key and a client of the product's API.
type Provider interface {
	// Key is the payload key of the block ("pihole", "plex", ...).
	Key() string
	// List reports whether the key is list-typed (default [] instead of null).
	List() bool
	// Configured reports whether the settings name the integration (its URL is set).
	Configured(st Settings) bool
	// Fetch asks the product for its figures. A nil block with a nil error
	// means "nothing to show" (the key's default).
	Fetch(ctx context.Context, st Settings) (any, error)
}

// ErrUnauthorized marks configuration and authorisation errors (401/403,
// bad URL, missing credentials).
var ErrUnauthorized = errors.New("configuration error")

// StatusError is a non-2xx answer of the product: its code, headers and
// the first bytes of its body (for products that explain refusals there).
type StatusError struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (e *StatusError) Error() string { return fmt.Sprintf("unexpected HTTP status %d", e.Code) }

// Is makes 401 and 403 answers match ErrUnauthorized.
func (e *StatusError) Is(target error) bool {
	return target == ErrUnauthorized && (e.Code == 401 || e.Code == 403)
}

// HasStatus reports whether err is a StatusError with one of the codes.
func HasStatus(err error, codes ...int) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.Code == c {
			return true
		}
	}
	return false
}

// Timeout is the block of an integration that did not finish in time.
func Timeout() map[string]any {
	return map[string]any{"status": "timeout", "error": "Request timed out"}
}

// Unauthorized is the block of an integration with a configuration or
// authorisation error.
func Unauthorized() map[string]any {
	return map[string]any{"status": "unauthorized", "error": "Configuration error"}
}

// Offline is the block of an integration that failed otherwise.
func Offline() map[string]any {
	return map[string]any{"status": "offline", "error": "Connection failed"}
}

// Class names the §4.4 class of an error: "timeout", "unauthorized" or "offline".
func Class(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, ErrUnauthorized):
		return "unauthorized"
	}
	return "offline"
}

// ErrorBlock is the §4.4 object of err.
func ErrorBlock(err error) map[string]any {
	switch Class(err) {
	case "timeout":
		return Timeout()
	case "unauthorized":
		return Unauthorized()
	}
	return Offline()
}

// Empty is the "not configured" value of p: nil, or an empty list.
func Empty(p Provider) any {
	if p.List() {
		return []any{}
	}
	return nil
}

// Report receives the outcome of every configured provider of a round
// (err nil on success); the integrations room logs changes with it.
type Report func(key string, err error)

// Blocks runs every configured provider concurrently and returns one block
// per provider key within wait: unconfigured providers give their default,
// failures the §4.4 objects, and providers still running when wait ends
// the timeout object (their context is cancelled when Blocks returns).
func Blocks(ctx context.Context, ps []Provider, st Settings, wait time.Duration, report Report) map[string]any {
	out := make(map[string]any, len(ps))
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	type result struct {
		key   string
		block any
		err   error
	}
	ch := make(chan result, len(ps)) // buffered: late providers never block
	pending := map[string]bool{}
	for _, p := range ps {
		if !p.Configured(st) {
			out[p.Key()] = Empty(p)
			continue
		}
		pending[p.Key()] = true
		go func(p Provider) {
			block, err := fetch(ctx, p, st)
			ch <- result{p.Key(), block, err}
		}(p)
	}
	for len(pending) > 0 {
		select {
		case r := <-ch:
			delete(pending, r.key)
			switch {
			case r.err != nil:
				out[r.key] = ErrorBlock(r.err)
			case r.block == nil:
				out[r.key] = Empty(byKey(ps, r.key))
			default:
				out[r.key] = r.block
			}
			if report != nil {
				report(r.key, r.err)
			}
		case <-ctx.Done():
			for k := range pending {
				out[k] = Timeout()
				if report != nil {
					report(k, context.DeadlineExceeded)
				}
			}
			return out
		}
	}
	return out
}

func byKey(ps []Provider, key string) Provider {
	for _, p := range ps {
		if p.Key() == key {
			return p
		}
	}
	return nil
}

// fetch runs one provider, turning a panic into an error.
func fetch(ctx context.Context, p Provider, st Settings) (block any, err error) {
	defer func() {
		if v := recover(); v != nil {
			block, err = nil, fmt.Errorf("%s: panic: %v", p.Key(), v)
		}
	}()
	return p.Fetch(ctx, st)
}

// Round1 rounds x to one decimal.
func Round1(x float64) float64 { return math.Round(x*10) / 10 }

// Thousands formats n with comma thousands separators ("1,234").
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
