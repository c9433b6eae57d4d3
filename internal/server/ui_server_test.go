package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/server/servertest"
)

// TestUIMountedInServer checks, through the real server, that app URLs
// answer the dashboard page (built or placeholder) under the strict CSP,
// and that unknown /api/ paths stay JSON errors, not the app page.
func TestUIMountedInServer(t *testing.T) {
	env := servertest.New(t)
	res := env.Request(http.MethodGet, "/settings/users", "", nil, nil)
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /settings/users: got %d %s, want 200 text/html", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if got := res.Header.Get("Content-Security-Policy"); got != httpx.CSP {
		t.Errorf("CSP %q, want %q", got, httpx.CSP)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache", got)
	}
	status, body := env.Do(http.MethodGet, "/api/no-such-route", "", nil)
	if status != http.StatusNotFound || !strings.Contains(string(body), `"error"`) {
		t.Errorf("GET /api/no-such-route: got %d %s, want the JSON 404", status, body)
	}
}
