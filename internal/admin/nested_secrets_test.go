package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

// TestNestedSecretsNeverLeave (issue 11 item 7): nested secrets — webhook
// Authorization headers, URL credentials, custom-action URLs — never reach
// a viewer, survive a masked round trip, and stay out of the change log,
// the audit and the profile.
func TestNestedSecretsNeverLeave(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")
	secrets := []string{"rule-hdr-secret", "cam-pass-secret", "action-tok-secret", "legacy-hdr-secret"}
	body := map[string]any{
		"alertRules": []any{map[string]any{"id": "r1", "condition": "cpu_percent > 90", "severity": "warning",
			"action": map[string]any{"type": "webhook", "target": "http://127.0.0.1:9/heal",
				"headers": map[string]any{"Authorization": "Bearer rule-hdr-secret"}}}},
		"cameraFeeds":   []any{map[string]any{"name": "door", "url": "rtsp://cam:cam-pass-secret@127.0.0.1:554/s"}},
		"customActions": []any{map[string]any{"id": "a1", "name": "Deploy", "url": "http://127.0.0.1:9/deploy?token=action-tok-secret"}},
		"automations": []any{map[string]any{"id": "w1", "url": "http://127.0.0.1:9/w",
			"headers": map[string]any{"X-Api-Key": "legacy-hdr-secret"}}},
	}
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, body); st != 200 {
		t.Fatalf("post: %d %s", st, b)
	}
	noSecret := func(what string, b []byte) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s shows %q: %s", what, s, b)
			}
		}
	}
	_, raw := env.Do(http.MethodGet, "/api/settings", viewer, nil)
	noSecret("GET /api/settings (viewer)", raw)
	if !strings.Contains(string(raw), "rtsp://cam:***@127.0.0.1:554/s") {
		t.Errorf("camera URL not shown masked: %s", raw)
	}
	// The admin's UI posts back what it read, with one edit.
	var got map[string]any
	env.JSON(http.MethodGet, "/api/settings", admin, nil, &got)
	got["cameraFeeds"].([]any)[0].(map[string]any)["name"] = "front door"
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, got); st != 200 {
		t.Fatalf("round trip: %d %s", st, b)
	}
	cur := env.Server.Settings.Current()
	if cur.AlertRules[0].Action.Headers["Authorization"] != "Bearer rule-hdr-secret" ||
		cur.CameraFeeds[0].(map[string]any)["url"] != "rtsp://cam:cam-pass-secret@127.0.0.1:554/s" ||
		cur.CustomActions[0].URL != "http://127.0.0.1:9/deploy?token=action-tok-secret" ||
		cur.Automations[0].Headers["X-Api-Key"] != "legacy-hdr-secret" {
		t.Errorf("masked round trip overwrote nested secrets: %+v %+v %+v", cur.AlertRules[0].Action, cur.CameraFeeds, cur.CustomActions)
	}
	_, cl := env.Do(http.MethodGet, "/api/config/changelog", admin, nil)
	noSecret("changelog", cl)
	if !strings.Contains(string(cl), "front door") {
		t.Errorf("changelog lacks the edit: %s", cl)
	}
	_, au := env.Do(http.MethodGet, "/api/audit?limit=100", admin, nil)
	noSecret("audit", au)
	_, pr := env.Do(http.MethodGet, "/api/profile", admin, nil)
	noSecret("profile", pr)
}
