package automations

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxResponse caps what an outbound request reads of a response.
const maxResponse = 256 << 10

// blockedPrefixes are refused as destinations of outbound requests:
// link-local (which holds the cloud metadata services), the unspecified
// and multicast ranges, and the metadata addresses outside link-local.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("ff00::/8"),
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud metadata
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS metadata over IPv6
	netip.MustParsePrefix("::/128"),
}

// ErrBlockedAddress is returned when a request would reach a refused address.
var ErrBlockedAddress = errors.New("destination address not allowed")

// blockedIP reports whether ip is a refused destination.
func blockedIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// dialControl checks the address actually dialled (after DNS resolution),
// so a name resolving to a metadata address is refused too.
func dialControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, host)
	}
	if blockedIP(ip) {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, ip)
	}
	return nil
}

// SafeClient is the client of outbound automation requests: an overall
// timeout, no redirects (followRedirects false), no proxy, and the dial-time
// address check.
func SafeClient(timeout time.Duration, followRedirects bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: dialControl}
	tr := &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: timeout,
		MaxIdleConns: 10, IdleConnTimeout: 30 * time.Second}
	c := &http.Client{Timeout: timeout, Transport: tr}
	if !followRedirects {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// readCapped reads at most maxResponse bytes of r and reports truncation.
func readCapped(r io.Reader) (string, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxResponse+1))
	if len(b) > maxResponse {
		return string(b[:maxResponse]), true, err
	}
	return string(b), false, err
}

// validURL reports whether s is an http(s) URL with a host.
func validURL(s string) bool {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return false
	}
	return len(s) > len("https://") || (strings.HasPrefix(s, "http://") && len(s) > len("http://"))
}

// ipLimiter is a fixed-window counter per client address for the public
// endpoints (webhook receiver, trigger).
type ipLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	counts map[string]*ipWindow
}

type ipWindow struct {
	start time.Time
	n     int
}

func newIPLimiter(limit int, window time.Duration) *ipLimiter {
	return &ipLimiter{limit: limit, window: window, counts: map[string]*ipWindow{}}
}

// allow counts one request of ip at now.
func (l *ipLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.counts) > 10000 {
		for k, w := range l.counts {
			if now.Sub(w.start) > l.window {
				delete(l.counts, k)
			}
		}
	}
	w := l.counts[ip]
	if w == nil || now.Sub(w.start) > l.window {
		w = &ipWindow{start: now}
		l.counts[ip] = w
	}
	w.n++
	return w.n <= l.limit
}

// withTimeout bounds ctx by d.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
