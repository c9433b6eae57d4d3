package httpx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies middlewares so that the first is the outermost.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

type ipKey struct{}

type proxiedKey struct{}

// FromTrustedProxy reports whether the request's TCP peer is one of the
// trusted reverse proxies (recorded by ClientIPs): only then may its
// X-Forwarded-* headers be believed.
func FromTrustedProxy(ctx context.Context) bool {
	b, _ := ctx.Value(proxiedKey{}).(bool)
	return b
}

// ClientIP returns the client address recorded by the ClientIPs middleware.
func ClientIP(ctx context.Context) string {
	s, _ := ctx.Value(ipKey{}).(string)
	return s
}

// ClientIPs records the client address. X-Forwarded-For is read only when
// the TCP peer is one of the trusted proxies, and then from the right: the
// client is the rightmost address that is not itself a trusted proxy (each
// proxy appends the address it received from, so everything left of that
// hop was written by the client and may be forged). With no trusted
// proxies X-Forwarded-For is ignored.
func ClientIPs(trusted []netip.Prefix) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted)
			ctx := context.WithValue(r.Context(), ipKey{}, ip)
			if len(trusted) > 0 {
				peer := r.RemoteAddr
				if h, _, err := net.SplitHostPort(peer); err == nil {
					peer = h
				}
				if isTrusted(peer, trusted) {
					ctx = context.WithValue(ctx, proxiedKey{}, true)
				}
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// ClientAddr resolves the client address of a request from its TCP peer
// (host:port) and X-Forwarded-For header lines, as ClientIPs does.
func ClientAddr(remote string, xff []string, trusted []netip.Prefix) string {
	ip := remote
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	if len(trusted) == 0 || len(xff) == 0 || !isTrusted(ip, trusted) {
		return ip
	}
	var hops []string
	for _, line := range xff {
		for _, h := range strings.Split(line, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			// A malformed hop: stop at the last address a trusted proxy vouched for.
			return ip
		}
		ip = a.Unmap().String()
		if !isTrusted(ip, trusted) {
			return ip
		}
	}
	return ip
}

func isTrusted(ip string, trusted []netip.Prefix) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// LoopbackProxies are the proxies trusted when NOBA_TRUST_PROXY is set
// without a list: a reverse proxy on the same host.
var LoopbackProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ParsePrefixes reads a comma- or space-separated list of addresses and
// CIDR ranges (NOBA_TRUSTED_PROXIES, ipWhitelist).
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("%q: not an address or CIDR range", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q: not an address or CIDR range", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// statusWriter records the status and size of a response. It keeps
// Flush and Hijack available for SSE and WebSocket handlers.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := s.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijack not supported")
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// RedactQuery returns the request URI with secret query values (token,
// key, api_key, password, secret ...)
// replaced, so that logs never carry a credential.
func RedactQuery(u *url.URL) string {
	if u.RawQuery == "" {
		return u.Path
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if lk == "token" || lk == "code" || strings.Contains(lk, "key") || strings.Contains(lk, "token") ||
			strings.Contains(lk, "password") || strings.Contains(lk, "secret") {
			q[k] = []string{"REDACTED"}
		}
	}
	return u.Path + "?" + q.Encode()
}

// Logging logs one line per request, tokens redacted; 5xx at error level.
func Logging(log *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			st := sw.status
			if st == 0 {
				st = http.StatusOK
			}
			lvl := slog.LevelDebug
			switch {
			case st >= 500:
				lvl = slog.LevelError
			case st >= 400:
				lvl = slog.LevelInfo
			}
			if !log.Enabled(r.Context(), lvl) {
				return
			}
			log.Log(r.Context(), lvl, "request", "method", r.Method, "uri", RedactQuery(r.URL),
				"status", st, "bytes", sw.bytes, "dur_ms", time.Since(start).Milliseconds(), "ip", ClientIP(r.Context()))
		})
	}
}

// Recover answers 500 with the generic body when a handler panics, and logs
// the stack; internals never reach the client.
func Recover(log *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("panic", "uri", RedactQuery(r.URL), "panic", v, "stack", string(debug.Stack()))
					WriteError(w, http.StatusInternalServerError, "Internal server error")
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// CSP is the content security policy of every answer but the API docs.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self' data:; img-src 'self' data: blob:; connect-src 'self' wss: ws:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// DocsCSP is the policy of the embedded API documentation pages, whose
// renderers set inline styles.
const DocsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'"

// Pre-built header values: assigning shared slices under canonical keys
// avoids canonicalising and allocating nine headers on every request
// (net/http never mutates them).
var (
	hvNosniff     = []string{"nosniff"}
	hvDeny        = []string{"DENY"}
	hvXSS         = []string{"0"}
	hvNoReferrer  = []string{"no-referrer"}
	hvCSP         = []string{CSP}
	hvDocsCSP     = []string{DocsCSP}
	hvPermissions = []string{"geolocation=(), microphone=(), camera=()"}
	hvSameOrigin  = []string{"same-origin"}
	hvSameSite    = []string{"same-site"}
	hvHSTS        = []string{"max-age=63072000; includeSubDomains"}
)

// SecurityHeaders sets the headers of spec 10 §0.7 (with Referrer-Policy
// no-referrer) on every answer; HSTS only when serving TLS.
func SecurityHeaders(tls bool) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["X-Content-Type-Options"] = hvNosniff
			h["X-Frame-Options"] = hvDeny
			h["X-Xss-Protection"] = hvXSS
			h["Referrer-Policy"] = hvNoReferrer
			if isDocs(r.URL.Path) {
				h["Content-Security-Policy"] = hvDocsCSP
			} else {
				h["Content-Security-Policy"] = hvCSP
			}
			h["Permissions-Policy"] = hvPermissions
			h["Cross-Origin-Opener-Policy"] = hvSameOrigin
			h["Cross-Origin-Resource-Policy"] = hvSameSite
			if tls {
				h["Strict-Transport-Security"] = hvHSTS
			}
			next.ServeHTTP(w, r)
		})
	}
}

func isDocs(p string) bool {
	return p == "/api/docs" || p == "/api/redoc" || strings.HasPrefix(p, "/api/docs/")
}

// CORS allows the listed origins (credentials allowed; methods GET, POST,
// PUT, DELETE; headers Authorization, Content-Type). None when empty.
func CORS(origins []string) Middleware {
	allowed := map[string]bool{}
	for _, o := range origins {
		if o = strings.TrimSpace(o); o != "" {
			allowed[o] = true
		}
	}
	return func(next http.Handler) http.Handler {
		if len(allowed) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin != "" && allowed[origin] {
				h := w.Header()
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
				h.Add("Vary", "Origin")
				if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
					h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
					h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

var hvNoStore = []string{"no-store"}

// NoStore marks every answer on the given paths (a path ending in "/" is a
// prefix) Cache-Control: no-store, errors included: they carry or refuse
// credentials (tokens, API keys, TOTP secrets).
func NoStore(paths ...string) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, p := range paths {
				if r.URL.Path == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(r.URL.Path, p)) {
					w.Header()["Cache-Control"] = hvNoStore
					break
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
