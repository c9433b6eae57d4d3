// Package certexpiry computes the certExpiry list of the stats payload
// (spec 10 §4.2): for every host of the certHosts setting (csv of host,
// host:port or [v6]:port; port 443 by default) a TLS handshake bounded by
// 5 s (and by the fan-out's wait), giving {"host","expires" (RFC 3339,
// UTC),"days","issuer","verified"} or {"host","error","days":null}.
// The certificate is read without trusting it (self-signed homelab
// certificates have an expiry too); "verified" says whether it chains to
// the system roots for that host name. Results are cached (15 minutes,
// failures 1 minute) so the 5-second cycle does not hammer the hosts.
package certexpiry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// MaxHosts bounds the hosts checked per cycle.
const MaxHosts = 50

// Provider computes certExpiry.
type Provider struct {
	// Timeout bounds one handshake (5 s).
	Timeout time.Duration
	// TTL and ErrorTTL are the cache lifetimes of a result and a failure.
	TTL, ErrorTTL time.Duration
	// Roots verifies the chain (nil: the system roots).
	Roots *x509.CertPool

	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	at   time.Time
	ttl  time.Duration
	item map[string]any
}

// New builds the provider (the HTTP client is not used).
func New(*provider.Client) *Provider {
	return &Provider{Timeout: 5 * time.Second, TTL: 15 * time.Minute, ErrorTTL: time.Minute, cache: map[string]entry{}}
}

// Key is "certExpiry".
func (p *Provider) Key() string { return "certExpiry" }

// List is true: the default is [].
func (p *Provider) List() bool { return true }

// Configured reports whether certHosts names a host.
func (p *Provider) Configured(st provider.Settings) bool {
	return len(hosts(st.String("certHosts"))) > 0
}

func hosts(csv string) []string {
	var out []string
	seen := map[string]bool{}
	for _, h := range strings.Split(csv, ",") {
		h = strings.TrimSpace(h)
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		out = append(out, h)
		if len(out) == MaxHosts {
			break
		}
	}
	return out
}

// target splits a configured entry into the dial address and the server name.
func target(h string) (addr, name string, err error) {
	s := h
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "", "", errors.New("invalid host")
	}
	if host, port, err := net.SplitHostPort(s); err == nil {
		return net.JoinHostPort(host, port), host, nil
	}
	s = strings.Trim(s, "[]")
	return net.JoinHostPort(s, "443"), s, nil
}

// Fetch checks every host concurrently and returns the items in the configured order.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	hs := hosts(st.String("certHosts"))
	items := make([]any, len(hs))
	var wg sync.WaitGroup
	for i, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			items[i] = p.item(ctx, h)
		}()
	}
	wg.Wait()
	return items, nil
}

func (p *Provider) item(ctx context.Context, h string) map[string]any {
	now := time.Now()
	p.mu.Lock()
	if e, ok := p.cache[h]; ok && now.Sub(e.at) < e.ttl {
		p.mu.Unlock()
		return e.item
	}
	p.mu.Unlock()
	timeout := p.Timeout
	if dl, ok := ctx.Deadline(); ok {
		// Leave the fan-out time to collect the error item.
		if left := time.Until(dl) - 200*time.Millisecond; left < timeout {
			timeout = max(left, 10*time.Millisecond)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	item, ok := p.check(cctx, h)
	ttl := p.TTL
	if !ok {
		ttl = p.ErrorTTL
		if ctx.Err() != nil { // the whole fan-out ended: do not remember that
			return item
		}
	}
	p.mu.Lock()
	for k, e := range p.cache {
		if now.Sub(e.at) >= e.ttl {
			delete(p.cache, k)
		}
	}
	p.cache[h] = entry{at: now, ttl: ttl, item: item}
	p.mu.Unlock()
	return item
}

func (p *Provider) check(ctx context.Context, h string) (map[string]any, bool) {
	fail := func(msg string) (map[string]any, bool) {
		return map[string]any{"host": h, "error": msg, "days": nil}, false
	}
	addr, name, err := target(h)
	if err != nil {
		return fail(err.Error())
	}
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: &tls.Config{ServerName: name,
		InsecureSkipVerify: true}} //nolint:gosec // read the expiry of any certificate; trust is reported as "verified"
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fail("Timed out")
		}
		return fail(cleanErr(err))
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return fail("No certificate")
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{DNSName: name, Intermediates: inter, Roots: p.Roots})
	issuer := leaf.Issuer.CommonName
	if issuer == "" && len(leaf.Issuer.Organization) > 0 {
		issuer = leaf.Issuer.Organization[0]
	}
	if issuer == "" {
		issuer = leaf.Issuer.String()
	}
	days := int(math.Floor(time.Until(leaf.NotAfter).Hours() / 24))
	return map[string]any{"host": h, "expires": leaf.NotAfter.UTC().Format(time.RFC3339), "days": days,
		"issuer": issuer, "verified": verr == nil}, true
}

// cleanErr shortens a dial error to its cause ("connection refused").
func cleanErr(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		s = s[i+2:]
	}
	return s
}
