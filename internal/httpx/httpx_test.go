package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/httpx"
)

func TestRecoverAnswers500WithoutInternals(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := httpx.Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("db password is hunter2")
	}), httpx.Recover(log))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/x", nil))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	var body map[string]string
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if body["error"] != "Internal server error" || body["detail"] != "Internal server error" || strings.Contains(rec.Body.String(), "hunter2") {
		t.Fatalf("body %q", rec.Body.String())
	}
	if !strings.Contains(logs.String(), "hunter2") {
		t.Fatal("the panic was not logged")
	}
}

func TestRequestLogRedactsTokens(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := httpx.Chain(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }),
		httpx.ClientIPs(nil), httpx.Logging(log))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet,
		"/api/stream?token=s3cr3t-token&services=nginx&key=agentkey1&api_key=apikey22&apikey=apikey33&secret=sec44", nil))
	out := logs.String()
	for _, secret := range []string{"s3cr3t-token", "agentkey1", "apikey22", "apikey33", "sec44"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line carries %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "services=nginx") {
		t.Fatalf("log line lost a plain value: %s", out)
	}
}

func TestClientIPTrustedProxies(t *testing.T) {
	var got string
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = httpx.ClientIP(r.Context()) })
	proxies, err := httpx.ParsePrefixes("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := httpx.ParsePrefixes("10.0.0.0/8,not-an-ip"); err == nil {
		t.Fatal("a malformed list was accepted")
	}
	cases := []struct {
		name, peer, xff string
		trusted         bool
		want            string
	}{
		{"no trust: the peer", "10.0.0.9:1234", "203.0.113.7, 10.0.0.1", false, "10.0.0.9"},
		{"trusted chain: the rightmost untrusted hop", "10.0.0.9:1234", " 203.0.113.7 , 10.0.0.1", true, "203.0.113.7"},
		{"a forged leftmost hop is ignored", "10.0.0.9:1234", "1.1.1.1, 198.51.100.4", true, "198.51.100.4"},
		{"an untrusted peer's header is ignored", "198.51.100.9:1234", "10.0.0.1", true, "198.51.100.9"},
		{"a single trusted address", "192.0.2.1:80", "198.51.100.5", true, "198.51.100.5"},
		{"garbage stops the walk", "10.0.0.9:1", "198.51.100.5, junk", true, "10.0.0.9"},
		{"only proxies: the leftmost of them", "10.0.0.9:1", "10.1.1.1, 10.2.2.2", true, "10.1.1.1"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = c.peer
		req.Header.Set("X-Forwarded-For", c.xff)
		var tr []netip.Prefix
		if c.trusted {
			tr = proxies
		}
		httpx.ClientIPs(tr)(h).ServeHTTP(httptest.NewRecorder(), req)
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestStatusTable(t *testing.T) {
	cases := []struct {
		err  error
		code int
		msg  string
	}{
		{httpx.Invalid("bad %s", "x"), 400, "bad x"},
		{httpx.NotFound("gone"), 404, "gone"},
		{httpx.Conflict("dup"), 409, "dup"},
		{httpx.RateLimited("slow"), 429, "slow"},
		{httpx.Unavailable("later"), 503, "later"},
		{errorsNew("sql: connection refused to 10.0.0.1"), 500, "Internal server error"},
	}
	for _, c := range cases {
		code, msg := httpx.Status(c.err)
		if code != c.code || msg != c.msg {
			t.Errorf("%v: got %d %q, want %d %q", c.err, code, msg, c.code, c.msg)
		}
	}
}

type plainErr string

func (e plainErr) Error() string { return string(e) }

func errorsNew(s string) error { return plainErr(s) }
