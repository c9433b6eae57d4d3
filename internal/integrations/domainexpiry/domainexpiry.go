// Package domainexpiry computes the domainExpiry list of the stats payload
// (spec 10 §4.2) with the whois binary: for every domain of the
// domainList setting (csv) {"domain","expires" (RFC 3339, UTC),"days"} or
// {"domain","error"}: "whois not installed", "Invalid domain", "Could not
// parse expiry" (no expiry line, e.g. an unregistered domain or a registry
// that does not publish it), "Lookup failed" or "Lookup pending". whois
// is slow and rate-limited by registries, so lookups run in the
// background (15 s each, 4 at a time), a cycle waits for them only until
// its own deadline, and results are kept 12 h (failures 1 h).
package domainexpiry

import (
	"bufio"
	"context"
	"math"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// MaxDomains bounds the domains looked up.
const MaxDomains = 50

// Provider computes domainExpiry.
type Provider struct {
	// Bin is the whois binary ("whois", looked up on the PATH).
	Bin string
	// Timeout bounds one whois run.
	Timeout time.Duration
	// TTL and ErrorTTL are the lifetimes of a result and a failure.
	TTL, ErrorTTL time.Duration

	mu       sync.Mutex
	cache    map[string]entry
	inflight map[string]chan struct{}
	sem      chan struct{}
}

type entry struct {
	at   time.Time
	ttl  time.Duration
	item map[string]any
}

// New builds the provider (the HTTP client is not used).
func New(*provider.Client) *Provider {
	return &Provider{Bin: "whois", Timeout: 15 * time.Second, TTL: 12 * time.Hour, ErrorTTL: time.Hour,
		cache: map[string]entry{}, inflight: map[string]chan struct{}{}, sem: make(chan struct{}, 4)}
}

// Key is "domainExpiry".
func (p *Provider) Key() string { return "domainExpiry" }

// List is true: the default is [].
func (p *Provider) List() bool { return true }

// Configured reports whether domainList names a domain.
func (p *Provider) Configured(st provider.Settings) bool {
	return len(domains(st.String("domainList"))) > 0
}

func domains(csv string) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range strings.Split(csv, ",") {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
		if len(out) == MaxDomains {
			break
		}
	}
	return out
}

var validDomain = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$`)

// Fetch returns the items in the configured order, waiting for running
// lookups until shortly before ctx ends.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	ds := domains(st.String("domainList"))
	items := make([]any, len(ds))
	if _, err := exec.LookPath(p.Bin); err != nil {
		for i, d := range ds {
			items[i] = map[string]any{"domain": d, "error": "whois not installed"}
		}
		return items, nil
	}
	var waits []chan struct{}
	for _, d := range ds {
		if !validDomain.MatchString(d) {
			continue
		}
		if _, ok := p.cached(d); !ok {
			waits = append(waits, p.start(d))
		}
	}
	wctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, dl.Add(-200*time.Millisecond))
		defer cancel()
	}
wait:
	for _, ch := range waits {
		select {
		case <-ch:
		case <-wctx.Done():
			break wait
		}
	}
	for i, d := range ds {
		switch it, ok := p.cached(d); {
		case !validDomain.MatchString(d):
			items[i] = map[string]any{"domain": d, "error": "Invalid domain"}
		case ok:
			items[i] = it
		default:
			items[i] = map[string]any{"domain": d, "error": "Lookup pending"}
		}
	}
	return items, nil
}

func (p *Provider) cached(d string) (map[string]any, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.cache[d]
	if !ok || time.Since(e.at) >= e.ttl {
		return nil, false
	}
	return e.item, true
}

// start begins a background lookup of d unless one runs; the channel closes when it is done.
func (p *Provider) start(d string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.inflight[d]; ok {
		return ch
	}
	ch := make(chan struct{})
	p.inflight[d] = ch
	go func() {
		defer close(ch)
		p.sem <- struct{}{}
		item, ok := p.lookup(d)
		<-p.sem
		ttl := p.TTL
		if !ok {
			ttl = p.ErrorTTL
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		now := time.Now()
		for k, e := range p.cache {
			if now.Sub(e.at) >= e.ttl {
				delete(p.cache, k)
			}
		}
		p.cache[d] = entry{at: now, ttl: ttl, item: item}
		delete(p.inflight, d)
	}()
	return ch
}

func (p *Provider) lookup(d string) (map[string]any, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), p.Timeout)
	defer cancel()
	out, err := provider.Command(ctx, 1<<20, p.Bin, d)
	if err != nil && len(out) == 0 {
		return map[string]any{"domain": d, "error": "Lookup failed"}, false
	}
	exp, ok := ParseExpiry(string(out))
	if !ok {
		return map[string]any{"domain": d, "error": "Could not parse expiry"}, false
	}
	days := int(math.Floor(time.Until(exp).Hours() / 24))
	return map[string]any{"domain": d, "expires": exp.UTC().Format(time.RFC3339), "days": days}, true
}

// expiryKeys are the whois field names (lower case) that carry the expiry.
var expiryKeys = map[string]bool{
	"registry expiry date": true, "registrar registration expiration date": true, "expiration date": true,
	"expiry date": true, "expire date": true, "expires": true, "expires on": true, "expiration time": true,
	"paid-till": true, "valid until": true, "domain expiration date": true,
	"record expires on": true, "expiry": true, "renewal date": true, "domain expires": true,
}

var layouts = []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05Z", "2006-01-02T15:04:05",
	"2006-01-02 15:04:05", "2006-01-02 15:04:05 MST", "2006-01-02 15:04:05-07", "2006-01-02", "02-Jan-2006",
	"02-Jan-2006 15:04:05", "2006.01.02", "2006.01.02 15:04:05", "02.01.2006", "02.01.2006 15:04:05", "2006/01/02",
	"January 2 2006", "Mon Jan 2 15:04:05 MST 2006", "02/01/2006"}

// ParseExpiry finds the expiry date in whois output (the first parseable
// line whose field name is a known expiry field).
func ParseExpiry(out string) (time.Time, bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.Trim(strings.TrimSpace(k), "."))
		if !expiryKeys[k] {
			continue
		}
		v = strings.TrimSpace(v)
		if i := strings.Index(v, " ("); i > 0 { // "2026-03-12 (YYYY-MM-DD)"
			v = v[:i]
		}
		for _, l := range layouts {
			if t, err := time.Parse(l, v); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}
