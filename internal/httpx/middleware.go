package httpx

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
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

// ClientIP returns the client address recorded by the ClientIPs middleware.
func ClientIP(ctx context.Context) string {
	s, _ := ctx.Value(ipKey{}).(string)
	return s
}

// ClientIPs records the client address: the TCP peer, or the first
// X-Forwarded-For element when trustProxy is set (spec 10 §0.5).
func ClientIPs(trustProxy bool) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := r.RemoteAddr
			if h, _, err := net.SplitHostPort(ip); err == nil {
				ip = h
			}
			if trustProxy {
				if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
					first, _, _ := strings.Cut(xff, ",")
					if f := strings.TrimSpace(first); f != "" {
						ip = f
					}
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ipKey{}, ip)))
		})
	}
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

// RedactQuery returns the request URI with secret query values (token, key)
// replaced, so that logs never carry a credential.
func RedactQuery(u *url.URL) string {
	if u.RawQuery == "" {
		return u.Path
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if lk == "token" || lk == "key" || strings.Contains(lk, "token") || strings.Contains(lk, "password") || lk == "code" {
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
