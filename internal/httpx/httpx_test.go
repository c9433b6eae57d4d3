package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
		httpx.ClientIPs(false), httpx.Logging(log))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/stream?token=s3cr3t-token&services=nginx&key=agentkey1", nil))
	out := logs.String()
	if strings.Contains(out, "s3cr3t-token") || strings.Contains(out, "agentkey1") || !strings.Contains(out, "services=nginx") {
		t.Fatalf("log line: %s", out)
	}
}

func TestClientIPTrustProxy(t *testing.T) {
	var got string
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = httpx.ClientIP(r.Context()) })
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "10.0.0.9:1234"
	req.Header.Set("X-Forwarded-For", " 203.0.113.7 , 10.0.0.1")
	httpx.ClientIPs(false)(h).ServeHTTP(httptest.NewRecorder(), req)
	if got != "10.0.0.9" {
		t.Fatalf("untrusted: %q", got)
	}
	httpx.ClientIPs(true)(h).ServeHTTP(httptest.NewRecorder(), req)
	if got != "203.0.113.7" {
		t.Fatalf("trusted: %q", got)
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
