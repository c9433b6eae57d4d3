package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

// Issue 11 item 9, looked for elsewhere: the names and titles users give
// and others read (automations, webhooks, status components and
// incidents on the public page, endpoint monitors, dashboards,
// maintenance windows) refuse control and bidi characters with a 400 and
// store nothing; the same body with a plain name is accepted.
func TestNamesArePrintable(t *testing.T) {
	e := servertest.New(t)
	admin := e.Token("admin")
	for _, c := range []struct {
		path, field string
		body        map[string]any
	}{
		{"/api/automations", "name", map[string]any{"type": "notify", "config": map[string]any{"message": "x"}}},
		{"/api/webhooks", "name", map[string]any{}},
		{"/api/status/components", "name", map[string]any{}},
		{"/api/status/components", "group_name", map[string]any{"name": "web"}},
		{"/api/status/incidents/create", "title", map[string]any{}},
		{"/api/endpoints", "name", map[string]any{"url": "https://example.com"}},
		{"/api/dashboards", "name", map[string]any{"config_json": map[string]any{"cards": []any{}}}},
		{"/api/maintenance-windows", "name", map[string]any{"schedule": "0 3 * * *", "duration_min": 30}},
	} {
		for _, bad := range []string{"invoice\u202egpj.exe", "a\x00b", "line\nbreak", "zero\u200dwidth"} {
			body := map[string]any{c.field: bad}
			for k, v := range c.body {
				body[k] = v
			}
			st, b := e.Do(http.MethodPost, c.path, admin, body)
			if st != http.StatusBadRequest || !strings.Contains(string(b), "printable") {
				t.Errorf("%s %s=%q: %d %s, want 400 printable", c.path, c.field, bad, st, b)
			}
		}
		body := map[string]any{c.field: "plain name ünïcode"}
		for k, v := range c.body {
			body[k] = v
		}
		if st, b := e.Do(http.MethodPost, c.path, admin, body); st != http.StatusOK {
			t.Errorf("%s plain %s: %d %s, want 200", c.path, c.field, st, b)
		}
	}
	// Only the plain ones were stored.
	for _, p := range []string{"/api/automations", "/api/webhooks", "/api/status/components", "/api/endpoints", "/api/dashboards", "/api/maintenance-windows"} {
		_, b := e.Do(http.MethodGet, p, admin, nil)
		for _, bad := range []string{"\u202e", `\u0000`, "\u200d", `line\nbreak`} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s stored %s: %s", p, bad, b)
			}
		}
	}
}

// Issue 11 item 9, looked for elsewhere: not only login answers carry
// Cache-Control: no-store — every API answer does (a new webhook's secret,
// settings, users); the dashboard's files may be cached.
func TestAPIAnswersAreNotStored(t *testing.T) {
	e := servertest.New(t)
	admin := e.Token("admin")
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/api/webhooks"}, {http.MethodGet, "/api/settings"}, {http.MethodGet, "/api/admin/users"},
		{http.MethodGet, "/api/no-such-route"},
	} {
		var body any
		if c.method == http.MethodPost {
			body = map[string]any{"name": "hook"}
		}
		resp := e.Request(c.method, c.path, admin, body, nil)
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s: %d Cache-Control %q, want no-store", c.method, c.path, resp.StatusCode, cc)
		}
	}
}
