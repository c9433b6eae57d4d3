package httpx_test

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"

	"github.com/noba-go/noba/internal/httpx"
)

// Issue 11 §9: the terminals' Origin check compares scheme, host and port
// (or takes a configured CORS origin).
func TestOriginAllowedSchemeHostPort(t *testing.T) {
	for _, c := range []struct {
		origin, host string
		tls          bool
		want         bool
	}{
		{"http://noba.lan:8080", "noba.lan:8080", false, true},
		{"http://noba.lan:9999", "noba.lan:8080", false, false},
		{"https://noba.lan:8080", "noba.lan:8080", false, false},
		{"https://noba.lan", "noba.lan", true, true},
		{"https://noba.lan:443", "noba.lan", true, true},
		{"http://noba.lan", "noba.lan", true, false},
		{"http://evil.example", "noba.lan", false, false},
		{"", "noba.lan", false, false},
		{"https://dash.example", "noba.lan", false, true},
		{"http://noba.lan:8080/x", "noba.lan:8080", false, false},
	} {
		req := httptest.NewRequest("GET", "http://"+c.host+"/api/agents/h/terminal", nil)
		req.Host = c.host
		if c.tls {
			req.TLS = &tls.ConnectionState{}
		}
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		if got := httpx.OriginAllowed(req, []string{"https://dash.example"}); got != c.want {
			t.Errorf("origin %q host %q tls %v: %v, want %v", c.origin, c.host, c.tls, got, c.want)
		}
	}
}
