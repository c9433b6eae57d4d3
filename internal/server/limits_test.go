package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// serveReal serves the test server on a real loopback listener through
// Server.Serve (deadlines and the connection cap live there, not in the
// httptest server) and returns its address.
func serveReal(t *testing.T, l server.Limits, opts ...server.Option) (*servertest.Env, string) {
	t.Helper()
	env := servertest.NewWith(t, servertest.Setup{Options: append([]server.Option{server.WithLimits(l)}, opts...)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.Server.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return env, ln.Addr().String()
}

func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", local, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAnswer reads whatever the server sends until it closes the
// connection or within is over; closed reports whether it closed.
func readAnswer(c net.Conn, within time.Duration) (got string, closed bool) {
	_ = c.SetReadDeadline(time.Now().Add(within))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return string(b), false
	}
	return string(b), true
}

// Issue 11 item 4: a body that trickles in is cut by the read deadline; the
// request does not hold its connection (and descriptor) for ever, even with
// a valid agent key on POST /api/agent/report.
func TestSlowBodyIsCutByTheReadDeadline(t *testing.T) {
	env, addr := serveReal(t, server.Limits{ReadTimeout: time.Second})
	const key = "slow-body-agent-key-0123456789"
	if st, b := env.Do(http.MethodPost, "/api/settings", env.Token("admin"), map[string]any{"agentKeys": key}); st != http.StatusOK {
		t.Fatalf("settings: %d %s", st, b)
	}
	for _, head := range []string{
		"POST /api/agent/report HTTP/1.1\r\nHost: x\r\nX-Agent-Key: " + key + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ho",
		"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"us",
	} {
		c := dialFrom(t, "127.0.0.1", addr)
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		if _, closed := readAnswer(c, 8*time.Second); !closed {
			t.Fatalf("%.30s: the server still waits for a body that stopped coming after 8 s (read deadline 1 s)", head)
		}
	}
}

// Issue 11 item 4: once the answer is 401 or 413 the server stops reading
// the body: the answer comes at once and the connection is closed, while
// the client has not finished (nor will finish) sending.
func TestRefusedBodyIsNotRead(t *testing.T) {
	_, addr := serveReal(t, server.Limits{})
	cases := []struct {
		name, head, chunk, want string
	}{
		{"agent report without a key", "POST /api/agent/report HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
			"5\r\n{\"hos\r\n", "HTTP/1.1 401"},
		{"agent report with a wrong key", "POST /api/agent/report HTTP/1.1\r\nHost: x\r\nX-Agent-Key: wrong\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
			"5\r\n{\"hos\r\n", "HTTP/1.1 403"},
		{"admin route without a token", "POST /api/admin/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
			"5\r\n{\"act\r\n", "HTTP/1.1 401"},
		{"login body over the cap", "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
			"11800\r\n{\"username\":\"" + strings.Repeat("a", 0x11800-13) + "\r\n", "HTTP/1.1 413"},
	}
	for _, tc := range cases {
		c := dialFrom(t, "127.0.0.1", addr)
		if _, err := io.WriteString(c, tc.head+tc.chunk); err != nil {
			t.Fatal(err)
		}
		got, closed := readAnswer(c, 5*time.Second)
		if !strings.HasPrefix(got, tc.want) || !closed {
			t.Fatalf("%s: answer %.80q closed=%v; want %s at once and the connection closed", tc.name, got, closed, tc.want)
		}
	}
}

// Issue 11 item 4: one address cannot hold more than the cap of
// connections that never authenticated; other addresses (and /api/health)
// are served, and a connection that authenticated stops counting.
func TestUnauthenticatedConnectionsAreCappedPerAddress(t *testing.T) {
	env, addr := serveReal(t, server.Limits{UnauthConnsPerIP: 8})
	tok := env.Token("admin")
	held := make([]net.Conn, 8)
	for i := range held {
		held[i] = dialFrom(t, "127.0.0.1", addr)
	}
	time.Sleep(200 * time.Millisecond) // let the server accept them
	extra := dialFrom(t, "127.0.0.1", addr)
	if _, closed := readAnswer(extra, 3*time.Second); !closed {
		t.Fatal("a 9th unauthenticated connection from one address was kept open (cap 8)")
	}
	// Another address is served.
	other := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	resp, err := other.Get("http://" + addr + "/api/health")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("health from another address: %v %v", resp, err)
	}
	resp.Body.Close()
	// A held connection authenticates: it no longer counts, so a new one fits.
	if _, err := io.WriteString(held[0], "GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+tok+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(bufio.NewReader(held[0]), nil)
	if err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("authenticated request on a held connection: %v %v", r, err)
	}
	fresh := dialFrom(t, "127.0.0.1", addr)
	if _, err := io.WriteString(fresh, "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := readAnswer(fresh, 5*time.Second)
	if !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Fatalf("new connection after one authenticated: %.60q", got)
	}
}

// Streams are not cut by the ordinary deadlines: an SSE client keeps
// receiving well past the read and write deadlines.
func TestStreamsOutliveTheDeadlines(t *testing.T) {
	if os.Getenv("NOBA_SKIP_SLOW") != "" {
		t.Skip("slow")
	}
	env, addr := serveReal(t, server.Limits{ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond},
		server.WithStatsInterval(200*time.Millisecond))
	tok := env.Token("viewer")
	c := dialFrom(t, "127.0.0.1", addr)
	if _, err := io.WriteString(c, "GET /api/stream?token="+tok+" HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	deadline := time.Now().Add(2500 * time.Millisecond)
	var last time.Time
	for time.Now().Before(deadline) {
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended after %v: %v", time.Since(deadline.Add(-2500*time.Millisecond)), err)
		}
		if strings.TrimSpace(line) != "" {
			last = time.Now()
		}
	}
	if time.Since(last) > time.Second {
		t.Fatalf("nothing in the last second of the stream")
	}
}

// Many agents may share one address (NAT): a connection whose agent key
// held stops counting against the cap of unauthenticated connections.
func TestAgentConnectionsDoNotCountOnceTheKeyHeld(t *testing.T) {
	env, addr := serveReal(t, server.Limits{UnauthConnsPerIP: 4})
	const key = "shared-address-agent-key-0123456789"
	if st, b := env.Do(http.MethodPost, "/api/settings", env.Token("admin"), map[string]any{"agentKeys": key}); st != http.StatusOK {
		t.Fatalf("settings: %d %s", st, b)
	}
	body := `{"hostname":"natted","cpu_percent":1}`
	for i := 0; i < 8; i++ {
		c := dialFrom(t, "127.0.0.1", addr)
		if _, err := io.WriteString(c, "POST /api/agent/report HTTP/1.1\r\nHost: x\r\nX-Agent-Key: "+key+
			"\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || r.StatusCode != http.StatusOK {
			t.Fatalf("agent connection %d (kept open): %v %v", i+1, r, err)
		}
	}
}
