package agents

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/httpx"
)

// Wrong agent keys are limited per client address (issue 11): each address
// has a bucket of keyFailBurst wrong keys, refilled at one per
// keyFailEvery. Every check with a key takes a token before the key is
// compared (so concurrent guesses cannot overtake the count) and a valid
// key gives it back: an agent that knows its key never drains its bucket
// and is never slowed. An empty bucket answers 429 with Retry-After before
// the key is compared, so guessing runs at a few keys a minute instead of
// line speed. The address is the client address of httpx.ClientIP (behind
// a reverse proxy, list it as trusted so that agents are told apart); IPv6
// addresses count per /64, the block one host is given.
const (
	keyFailBurst  = 20
	keyFailEvery  = 3 * time.Second
	keyGuardLimit = 65536 // addresses tracked; beyond, full buckets are swept first
)

type keyGuard struct {
	mu sync.Mutex
	m  map[netip.Prefix]*keyBucket
}

type keyBucket struct {
	tokens float64
	at     time.Time
}

// refill brings b up to now.
func (b *keyBucket) refill(now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = math.Min(keyFailBurst, b.tokens+el.Seconds()/keyFailEvery.Seconds())
	}
	b.at = now
}

// guardKey groups a client address: the address itself, or its /64 for
// IPv6.
func guardKey(req *http.Request) (netip.Prefix, bool) {
	ip := httpx.ClientIP(req.Context())
	if ip == "" {
		ip = req.RemoteAddr
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h
		}
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

// take reserves a token for one key check from req's address. It returns
// a function that gives the token back (call it when the key is valid),
// or, when the bucket is empty, how long until the next token.
func (g *keyGuard) take(req *http.Request, now time.Time) (giveBack func(), retry time.Duration, ok bool) {
	k, known := guardKey(req)
	if !known {
		return func() {}, 0, true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[netip.Prefix]*keyBucket{}
	}
	b := g.m[k]
	if b == nil {
		if len(g.m) >= keyGuardLimit {
			g.sweepLocked(now)
		}
		if len(g.m) >= keyGuardLimit {
			// Too many addresses guessing at once to track: let this one
			// through rather than refuse agents never seen.
			return func() {}, 0, true
		}
		b = &keyBucket{tokens: keyFailBurst, at: now}
		g.m[k] = b
	}
	b.refill(now)
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) * float64(keyFailEvery))
		return nil, wait, false
	}
	b.tokens--
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if b := g.m[k]; b != nil {
			b.tokens = math.Min(keyFailBurst, b.tokens+1)
		}
	}, 0, true
}

// sweepLocked drops the buckets that have refilled (nothing to remember).
func (g *keyGuard) sweepLocked(now time.Time) {
	for k, b := range g.m {
		b.refill(now)
		if b.tokens >= keyFailBurst {
			delete(g.m, k)
		}
	}
}

// retryAfter is the Retry-After value (whole seconds, at least 1) of wait.
func retryAfter(wait time.Duration) string {
	s := int(math.Ceil(wait.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s)
}
