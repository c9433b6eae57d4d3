package auth

import (
	"sync"
	"time"
)

// Limiter is the login rate limiter of spec 10 §2.6: per client IP, at most
// five failures in a 60 s window; the fifth starts a 300 s lockout.
type Limiter struct {
	mu       sync.Mutex
	window   time.Duration
	max      int
	lockout  time.Duration
	failures map[string][]time.Time
	locked   map[string]time.Time
	now      func() time.Time
}

// NewLimiter returns the limiter with the reference's numbers.
func NewLimiter(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{window: 60 * time.Second, max: 5, lockout: 300 * time.Second,
		failures: map[string][]time.Time{}, locked: map[string]time.Time{}, now: now}
}

// Locked returns the time left in key's lockout (0 when not locked).
func (l *Limiter) Locked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.locked[key]
	if !ok {
		return 0
	}
	left := until.Sub(l.now())
	if left <= 0 {
		delete(l.locked, key)
		return 0
	}
	return left
}

// Fail records a failure for key and reports whether it started a lockout.
func (l *Limiter) Fail(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.failures) > 50_000 {
		l.pruneLocked(now)
	}
	fs := l.failures[key][:0]
	for _, t := range l.failures[key] {
		if now.Sub(t) < l.window {
			fs = append(fs, t)
		}
	}
	fs = append(fs, now)
	if len(fs) >= l.max {
		l.locked[key] = now.Add(l.lockout)
		delete(l.failures, key)
		return true
	}
	l.failures[key] = fs
	return false
}

// Reset forgets key's failures (not a lockout in force).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.failures, key)
	l.mu.Unlock()
}

// Prune drops stale failures and expired lockouts.
func (l *Limiter) Prune() {
	l.mu.Lock()
	l.pruneLocked(l.now())
	l.mu.Unlock()
}

func (l *Limiter) pruneLocked(now time.Time) {
	for k, fs := range l.failures {
		if len(fs) == 0 || now.Sub(fs[len(fs)-1]) >= l.window {
			delete(l.failures, k)
		}
	}
	for k, until := range l.locked {
		if !until.After(now) {
			delete(l.locked, k)
		}
	}
}
