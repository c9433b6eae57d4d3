package httpx

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Deadlines bound how long one request may take to send its body and to
// receive its answer (issue 11 item 4). The Deadlines middleware sets Read
// and Write on every request; Router.Handle widens them for streams (SSE,
// WebSocket: none) and uploads and downloads (Upload).
type Deadlines struct {
	Read, Write, Upload time.Duration
}

// DefaultDeadlines are the deadlines of a server that sets none.
var DefaultDeadlines = Deadlines{Read: 30 * time.Second, Write: 2 * time.Minute, Upload: 10 * time.Minute}

func (d Deadlines) orDefault() Deadlines {
	if d.Read <= 0 {
		d.Read = DefaultDeadlines.Read
	}
	if d.Write <= 0 {
		d.Write = DefaultDeadlines.Write
	}
	if d.Upload <= 0 {
		d.Upload = DefaultDeadlines.Upload
	}
	return d
}

// Limit is the middleware setting the ordinary deadlines on every request.
func (d Deadlines) Limit() Middleware {
	d = d.orDefault()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			if IsWebSocketHandshake(r) || headerHasToken(r.Header, "Accept", "text/event-stream") {
				// A stream, whichever way its handler was mounted: no deadline
				// (its handler watches the connection itself).
				_ = rc.SetReadDeadline(time.Time{})
				_ = rc.SetWriteDeadline(time.Time{})
			} else {
				now := time.Now()
				_ = rc.SetReadDeadline(now.Add(d.Read))
				_ = rc.SetWriteDeadline(now.Add(d.Write))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// widen gives a plain handler's request the deadlines of its kind: none for
// streams (SSE routes, WebSocket handshakes, whose handlers watch the
// connection themselves), Upload for large bodies and downloads.
func (d Deadlines) widen(w http.ResponseWriter, r *http.Request, stream, long bool) {
	d = d.orDefault()
	rc := http.NewResponseController(w)
	switch {
	case stream:
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
	case long:
		now := time.Now()
		_ = rc.SetReadDeadline(now.Add(d.Upload))
		_ = rc.SetWriteDeadline(now.Add(d.Upload))
	}
}

// StopReadingOnRefusal stops reading a request's body once the answer is
// 401, 403 or 413: the connection is closed after the answer instead of being
// drained, and its read deadline is moved to now so that nothing waits for
// a slow body.
func StopReadingOnRefusal() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			// The handler's Close of the body must not drain it either (huma
			// closes the body before answering 413): what is left is dropped
			// with the connection, or drained by the server after the answer.
			r2 := r.WithContext(r.Context())
			r2.Body = &noDrainBody{ReadCloser: r.Body}
			next.ServeHTTP(&refusalWriter{ResponseWriter: w, rc: http.NewResponseController(w)}, r2)
		})
	}
}

// noDrainBody is a request body whose Close stops further reads without
// reading the rest (the server closes the real body after the answer).
type noDrainBody struct {
	io.ReadCloser
	closed atomic.Bool
}

func (b *noDrainBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.ReadCloser.Read(p)
}

func (b *noDrainBody) Close() error {
	b.closed.Store(true)
	return nil
}

type refusalWriter struct {
	http.ResponseWriter
	rc          *http.ResponseController
	wroteHeader bool
}

func (s *refusalWriter) WriteHeader(code int) {
	if !s.wroteHeader {
		s.wroteHeader = true
		if code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusRequestEntityTooLarge {
			s.Header().Set("Connection", "close")
			_ = s.rc.SetReadDeadline(time.Now())
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *refusalWriter) Write(b []byte) (int, error) {
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

func (s *refusalWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *refusalWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := s.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijack not supported")
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *refusalWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ConnLimiter caps the connections one address holds open before any
// request on them authenticated (issue 11 item 4): a flood of slow or idle
// connections from one address cannot exhaust the server's descriptors.
// A connection stops counting once a request on it passes a user guard
// (MarkAuthenticated) or it is handed to a WebSocket handler (hijacked,
// after the handler checked its credentials).
type ConnLimiter struct {
	max int
	mu  sync.Mutex
	n   map[string]int
	// refused counts connections closed at accept for being over the cap.
	refused atomic.Int64
}

// NewConnLimiter caps unauthenticated connections at max per address.
func NewConnLimiter(max int) *ConnLimiter {
	return &ConnLimiter{max: max, n: map[string]int{}}
}

// Refused returns how many connections were closed for being over the cap.
func (l *ConnLimiter) Refused() int64 { return l.refused.Load() }

// Unauthenticated returns the number of unauthenticated connections of ip.
func (l *ConnLimiter) Unauthenticated(ip string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[ip]
}

// Listener wraps ln: a connection over its address's cap is closed at once.
func (l *ConnLimiter) Listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, l: l}
}

type limitListener struct {
	net.Listener
	l *ConnLimiter
}

func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := c.RemoteAddr().String()
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h
		}
		ll.l.mu.Lock()
		if ll.l.n[ip] >= ll.l.max {
			ll.l.mu.Unlock()
			ll.l.refused.Add(1)
			_ = c.Close()
			continue
		}
		ll.l.n[ip]++
		ll.l.mu.Unlock()
		return &trackedConn{Conn: c, l: ll.l, ip: ip}, nil
	}
}

type trackedConn struct {
	net.Conn
	l        *ConnLimiter
	ip       string
	released atomic.Bool
}

// release stops counting the connection against its address.
func (c *trackedConn) release() {
	if c.released.CompareAndSwap(false, true) {
		c.l.mu.Lock()
		if c.l.n[c.ip] <= 1 {
			delete(c.l.n, c.ip)
		} else {
			c.l.n[c.ip]--
		}
		c.l.mu.Unlock()
	}
}

func (c *trackedConn) Close() error {
	c.release()
	return c.Conn.Close()
}

type connKey struct{}

func tracked(c net.Conn) *trackedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	t, _ := c.(*trackedConn)
	return t
}

// ConnContext is the http.Server hook that lets MarkAuthenticated find the
// request's connection.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if t := tracked(c); t != nil {
		return context.WithValue(ctx, connKey{}, t)
	}
	return ctx
}

// ConnState is the http.Server hook releasing hijacked connections.
func ConnState(c net.Conn, st http.ConnState) {
	if st == http.StateHijacked {
		if t := tracked(c); t != nil {
			t.release()
		}
	}
}

// MarkAuthenticated stops counting the request's connection as unauthenticated.
func MarkAuthenticated(ctx context.Context) {
	if t, ok := ctx.Value(connKey{}).(*trackedConn); ok {
		t.release()
	}
}

// markOnSuccess marks the request's connection authenticated when the
// answer is a success.
type markOnSuccess struct {
	http.ResponseWriter
	ctx  context.Context
	done bool
}

func (m *markOnSuccess) WriteHeader(code int) {
	if !m.done {
		m.done = true
		if code >= 200 && code < 300 {
			MarkAuthenticated(m.ctx)
		}
	}
	m.ResponseWriter.WriteHeader(code)
}

func (m *markOnSuccess) Write(b []byte) (int, error) {
	if !m.done {
		m.WriteHeader(http.StatusOK)
	}
	return m.ResponseWriter.Write(b)
}

func (m *markOnSuccess) Flush() {
	if f, ok := m.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (m *markOnSuccess) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := m.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijack not supported")
}

// Unwrap gives http.ResponseController the underlying writer.
func (m *markOnSuccess) Unwrap() http.ResponseWriter { return m.ResponseWriter }
