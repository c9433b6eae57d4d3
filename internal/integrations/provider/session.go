package provider

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// Sessions caches one login per service and credentials, so that a
// provider logs in once and reuses the session every cycle. The zero value
// is ready to use.
type Sessions[T any] struct {
	mu sync.Mutex
	m  map[string]session[T]
}

type session[T any] struct {
	v       T
	expires time.Time // zero: valid until the service refuses it
}

// SessionKey identifies a session: the base URL and a digest of the
// credentials (so changed credentials log in afresh, and no secret is a key).
func SessionKey(base string, creds ...string) string {
	h := sha256.New()
	for _, c := range creds {
		h.Write([]byte(c))
		h.Write([]byte{0})
	}
	return base + "\x00" + string(h.Sum(nil))
}

// Login makes a new session; a zero expiry means it lasts until refused.
type Login[T any] func(ctx context.Context) (T, time.Time, error)

// WithSession runs use with key's session, logging in first when there is
// none or it has expired. When use fails on a cached session and refused
// says the service no longer accepts it, the session is dropped and use
// runs once more after a fresh login.
func WithSession[T, R any](ctx context.Context, s *Sessions[T], key string, login Login[T], refused func(error) bool, use func(T) (R, error)) (R, error) {
	for attempt := 0; ; attempt++ {
		v, cached, err := s.get(ctx, key, login)
		if err != nil {
			var zero R
			return zero, err
		}
		out, err := use(v)
		if err != nil && cached && attempt == 0 && refused(err) {
			s.forget(key)
			continue
		}
		return out, err
	}
}

func (s *Sessions[T]) get(ctx context.Context, key string, login Login[T]) (T, bool, error) {
	s.mu.Lock()
	e, ok := s.m[key]
	s.mu.Unlock()
	if ok && (e.expires.IsZero() || time.Now().Before(e.expires)) {
		return e.v, true, nil
	}
	v, exp, err := login(ctx)
	if err != nil {
		return v, false, err
	}
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string]session[T]{}
	}
	s.m[key] = session[T]{v: v, expires: exp}
	s.mu.Unlock()
	return v, false, nil
}

func (s *Sessions[T]) forget(key string) {
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
}
