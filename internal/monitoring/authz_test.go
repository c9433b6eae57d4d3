package monitoring_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/monitoring"
	"github.com/noba-go/noba/internal/server/servertest"
)

// TestRouteRoles is the room's route x role table: 401 without a token,
// 403 below the route's role, and neither at or above it.
func TestRouteRoles(t *testing.T) {
	env := servertest.New(t)
	routes := []struct {
		method, path, min string // min: "" public, viewer, operator, admin
	}{
		{http.MethodGet, "/api/uptime", "viewer"},
		{http.MethodGet, "/api/health-score", "viewer"},
		{http.MethodGet, "/status", ""},
		{http.MethodGet, "/api/status/public", ""},
		{http.MethodGet, "/api/status/incidents", ""},
		{http.MethodPost, "/api/status/components", "admin"},
		{http.MethodPut, "/api/status/components/999", "admin"},
		{http.MethodDelete, "/api/status/components/999", "admin"},
		{http.MethodGet, "/api/status/components", "viewer"},
		{http.MethodPost, "/api/status/incidents/create", "admin"},
		{http.MethodPost, "/api/status/incidents/999/update", "admin"},
		{http.MethodPut, "/api/status/incidents/999/resolve", "admin"},
		{http.MethodGet, "/api/endpoints", "viewer"},
		{http.MethodPost, "/api/endpoints", "admin"},
		{http.MethodPut, "/api/endpoints/999", "admin"},
		{http.MethodDelete, "/api/endpoints/999", "admin"},
		{http.MethodPost, "/api/endpoints/999/check", "operator"},
	}
	rank := map[string]int{"": 0, "viewer": 1, "operator": 2, "admin": 3}
	for _, r := range routes {
		for _, role := range []string{"", "viewer", "operator", "admin"} {
			tok := ""
			if role != "" {
				tok = env.Token(role)
			}
			st, b := env.Do(r.method, r.path, tok, map[string]any{})
			switch {
			case rank[role] < rank[r.min] && role == "":
				if st != http.StatusUnauthorized {
					t.Errorf("%s %s without token: %d, want 401", r.method, r.path, st)
				}
			case rank[role] < rank[r.min]:
				if st != http.StatusForbidden {
					t.Errorf("%s %s as %s: %d, want 403", r.method, r.path, role, st)
				}
			default:
				if st == http.StatusUnauthorized || st == http.StatusForbidden || st >= 500 {
					t.Errorf("%s %s as %q: %d %s", r.method, r.path, role, st, b)
				}
			}
		}
	}
}

// TestSelfReference checks that an HTTP monitor pointing at this server's
// own port is skipped, not fetched.
func TestSelfReference(t *testing.T) {
	c := monitoring.NewChecker("18080")
	for _, u := range []string{"http://localhost:18080/api/health", "http://127.0.0.1:18080/", "http://[::1]:18080/"} {
		res := c.Check(context.Background(), monitoring.EndpointMonitor{Type: "http", URL: u, Method: "GET", ExpectedStatus: 200, Timeout: 2})
		if res.Status != monitoring.StatusSkipped || !strings.HasPrefix(res.Error, "Self-referential: ") {
			t.Errorf("%s: %+v, want skipped", u, res)
		}
	}
	res := c.Check(context.Background(), monitoring.EndpointMonitor{Type: "http", URL: "http://127.0.0.1:18081/", Method: "GET", ExpectedStatus: 200, Timeout: 2})
	if res.Status == monitoring.StatusSkipped {
		t.Errorf("other port skipped: %+v", res)
	}
}
