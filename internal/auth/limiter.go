package auth

import (
	"sync"
	"time"
)

// Limiter is the login rate limiter of spec 10 §2.6, hardened (issue 11
// item 1, §13 S7):
//
//   - Per client address: at most five failures in a 60 s window; the fifth
//     starts a 300 s lockout. An attempt takes its slot before the password
//     is hashed (Reserve), so concurrent attempts cannot all pass the check;
//     a success gives its own slot back but never forgets the address's
//     other failures (an attacker's own account cannot reset the counter).
//   - Per username: after five failures (from any address) each further
//     attempt must wait an exponentially growing delay (1 s, 2 s, 4 s ... at
//     most 60 s) and only one attempt at a time is in flight. The delay never
//     applies to an address the user has logged in from before, so nobody
//     can lock the real admin out; failures are forgotten 15 minutes after
//     the last one or on the user's next success.
type Limiter struct {
	mu      sync.Mutex
	window  time.Duration
	max     int
	lockout time.Duration
	// failures are the recent failures of an address; pending its attempts
	// in flight (reserved, not yet decided).
	failures map[string][]time.Time
	pending  map[string]int
	locked   map[string]time.Time
	users    map[string]*userLimit
	now      func() time.Time
}

// Per-username limits.
const (
	userFree      = 5                // failures before the delay starts
	userMaxDelay  = 60 * time.Second // the delay's ceiling
	userForget    = 15 * time.Minute // failures are forgotten this long after the last one
	userKnownTTL  = 30 * 24 * time.Hour
	userKnownMax  = 16 // addresses remembered per user
	limiterPrune  = 50_000
	busyRetryTime = time.Second
)

type userLimit struct {
	fails    int
	last     time.Time
	next     time.Time // no attempt from an unknown address before this
	inflight bool
	known    map[string]time.Time // addresses of past successes -> when
}

// Ticket is a reserved login attempt; exactly one of Fail, Succeed or
// Release must be called with it.
type Ticket struct {
	ip, user string
	// serial is set when the attempt holds the user's single in-flight slot.
	serial bool
	done   bool
}

// NewLimiter returns the limiter with the reference's numbers.
func NewLimiter(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{window: 60 * time.Second, max: 5, lockout: 300 * time.Second,
		failures: map[string][]time.Time{}, pending: map[string]int{}, locked: map[string]time.Time{},
		users: map[string]*userLimit{}, now: now}
}

// Locked returns the time left in key's lockout (0 when not locked).
func (l *Limiter) Locked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lockedLocked(key, l.now())
}

func (l *Limiter) lockedLocked(key string, now time.Time) time.Duration {
	until, ok := l.locked[key]
	if !ok {
		return 0
	}
	left := until.Sub(now)
	if left <= 0 {
		delete(l.locked, key)
		return 0
	}
	return left
}

// recentLocked drops key's failures older than the window and returns the rest.
func (l *Limiter) recentLocked(key string, now time.Time) []time.Time {
	fs := l.failures[key][:0]
	for _, t := range l.failures[key] {
		if now.Sub(t) < l.window {
			fs = append(fs, t)
		}
	}
	if len(fs) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = fs
	return fs
}

// Reserve takes a slot for one login attempt of user from ip, before any
// password is checked. It answers the ticket, or the time to wait (> 0)
// when the attempt must be refused with 429.
func (l *Limiter) Reserve(ip, user string) (*Ticket, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.failures) > limiterPrune || len(l.users) > limiterPrune {
		l.pruneLocked(now)
	}
	if left := l.lockedLocked(ip, now); left > 0 {
		return nil, left
	}
	fs := l.recentLocked(ip, now)
	if len(fs)+l.pending[ip] >= l.max {
		// Attempts in flight hold the remaining slots: the next one may be free in a moment.
		wait := busyRetryTime
		if len(fs) > 0 {
			if w := l.window - now.Sub(fs[0]); w > wait {
				wait = w
			}
		}
		return nil, wait
	}
	t := &Ticket{ip: ip, user: user}
	if u := l.users[user]; user != "" && u != nil && !u.knows(ip, now) {
		if now.Sub(u.last) >= userForget {
			u.fails, u.next = 0, time.Time{}
		}
		if u.fails >= userFree {
			if u.inflight {
				return nil, busyRetryTime
			}
			if left := u.next.Sub(now); left > 0 {
				return nil, left
			}
			u.inflight, t.serial = true, true
		}
	}
	l.pending[ip]++
	return t, 0
}

func (u *userLimit) knows(ip string, now time.Time) bool {
	at, ok := u.known[ip]
	return ok && now.Sub(at) < userKnownTTL
}

// releaseLocked gives back the ticket's in-flight slots.
func (l *Limiter) releaseLocked(t *Ticket) bool {
	if t == nil || t.done {
		return false
	}
	t.done = true
	if l.pending[t.ip] <= 1 {
		delete(l.pending, t.ip)
	} else {
		l.pending[t.ip]--
	}
	if t.serial {
		if u := l.users[t.user]; u != nil {
			u.inflight = false
		}
	}
	return true
}

// Fail records the ticket's attempt as a failure and reports whether it
// started a lockout of the address.
func (l *Limiter) Fail(t *Ticket) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.releaseLocked(t) {
		return false
	}
	return l.failLocked(t.ip, t.user)
}

// RemoteFail records a failure another replica decided (replicas share
// their login failures; nothing was reserved here).
func (l *Limiter) RemoteFail(ip, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failLocked(ip, user)
}

// RemoteSucceed records a success another replica decided.
func (l *Limiter) RemoteSucceed(ip, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if user != "" {
		l.succeedLocked(ip, user)
	}
}

func (l *Limiter) failLocked(ip, user string) bool {
	now := l.now()
	t := struct{ ip, user string }{ip, user}
	if t.user != "" {
		u := l.users[t.user]
		if u == nil {
			u = &userLimit{}
			l.users[t.user] = u
		}
		if now.Sub(u.last) >= userForget {
			u.fails = 0
		}
		u.fails++
		u.last = now
		if u.fails >= userFree {
			d := time.Second << min(u.fails-userFree, 6)
			u.next = now.Add(min(d, userMaxDelay))
		}
	}
	fs := append(l.recentLocked(t.ip, now), now)
	if len(fs) >= l.max {
		l.locked[t.ip] = now.Add(l.lockout)
		delete(l.failures, t.ip)
		return true
	}
	l.failures[t.ip] = fs
	return false
}

// Succeed records a successful login: the ticket's slot is given back, the
// username's failures are forgotten and the address is remembered as one
// the user logs in from. The address's other failures stay.
func (l *Limiter) Succeed(t *Ticket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.releaseLocked(t) {
		return
	}
	if t.user == "" {
		return
	}
	l.succeedLocked(t.ip, t.user)
}

func (l *Limiter) succeedLocked(ip, user string) {
	now := l.now()
	t := struct{ ip, user string }{ip, user}
	u := l.users[t.user]
	if u == nil {
		u = &userLimit{}
		l.users[t.user] = u
	}
	u.fails, u.next = 0, time.Time{}
	if u.known == nil {
		u.known = map[string]time.Time{}
	}
	if _, ok := u.known[t.ip]; !ok && len(u.known) >= userKnownMax {
		oldest, at := "", now
		for k, v := range u.known {
			if v.Before(at) {
				oldest, at = k, v
			}
		}
		delete(u.known, oldest)
	}
	u.known[t.ip] = now
}

// Release gives the ticket's slot back without deciding (the attempt did
// not get as far as a verdict, e.g. it stopped to ask for a 2FA code).
func (l *Limiter) Release(t *Ticket) {
	l.mu.Lock()
	l.releaseLocked(t)
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
	for name, u := range l.users {
		for ip, at := range u.known {
			if now.Sub(at) >= userKnownTTL {
				delete(u.known, ip)
			}
		}
		if !u.inflight && len(u.known) == 0 && now.Sub(u.last) >= userForget {
			delete(l.users, name)
		}
	}
}
