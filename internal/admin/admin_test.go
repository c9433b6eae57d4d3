package admin_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

func errMsg(t *testing.T, b []byte) string {
	t.Helper()
	var e struct{ Error, Detail string }
	if err := json.Unmarshal(b, &e); err != nil || e.Error != e.Detail {
		t.Fatalf("error body %q", b)
	}
	return e.Error
}

func TestSettingsMaskingAndMaskedRoundTrip(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	viewer := env.Token("viewer")
	body := map[string]any{
		"piholeUrl": "http://192.168.1.53", "piholeToken": "tok-secret-1", "monitoredServices": "nginx,docker",
		"pushoverEnabled": true, "pushoverAppToken": "app-secret-2", "pushoverUserKey": "user-secret-3",
		"llmMaxTokens": 2048, "authentikUrl": "https://auth.local", "unknownKey": "ignored",
	}
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, body); st != 200 {
		t.Fatalf("post: %d %s", st, b)
	}
	for _, tok := range []string{viewer, admin} {
		st, raw := env.Do(http.MethodGet, "/api/settings", tok, nil)
		if st != 200 {
			t.Fatalf("get: %d", st)
		}
		for _, secret := range []string{"tok-secret-1", "app-secret-2", "user-secret-3"} {
			if strings.Contains(string(raw), secret) {
				t.Fatalf("GET /api/settings leaks %q: %s", secret, raw)
			}
		}
		var got map[string]any
		_ = json.Unmarshal(raw, &got)
		if got["piholeToken"] != "***" || got["pushoverAppToken"] != "***" || got["piholeUrl"] != "http://192.168.1.53" {
			t.Fatalf("masking: %v %v %v", got["piholeToken"], got["pushoverAppToken"], got["piholeUrl"])
		}
		// Not secrets (§13 S15): a URL and a number read as themselves.
		if got["authentikUrl"] != "https://auth.local" || got["llmMaxTokens"] != float64(2048) {
			t.Fatalf("false positives masked: %v %v", got["authentikUrl"], got["llmMaxTokens"])
		}
		if _, ok := got["unknownKey"]; ok {
			t.Fatal("unknown key stored")
		}
		notif := got["notifications"].(map[string]any)["pushover"].(map[string]any)
		if notif["app_token"] != "***" || notif["enabled"] != true {
			t.Fatalf("nested notifications not masked: %v", notif)
		}
	}
	// The UI posts back what it got: masks leave the stored secrets alone.
	var got map[string]any
	env.JSON(http.MethodGet, "/api/settings", admin, nil, &got)
	got["monitoredServices"] = "nginx"
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, got); st != 200 {
		t.Fatalf("round trip: %d %s", st, b)
	}
	st := env.Server.Settings.Get()
	if st["piholeToken"] != "tok-secret-1" || st["pushoverAppToken"] != "app-secret-2" || st["monitoredServices"] != "nginx" {
		t.Fatalf("after round trip: piholeToken=%v pushoverAppToken=%v monitoredServices=%v", st["piholeToken"], st["pushoverAppToken"], st["monitoredServices"])
	}
	// Secrets are encrypted at rest.
	raw, _ := os.ReadFile(env.Server.Settings.Path())
	if strings.Contains(string(raw), "tok-secret-1") || !strings.Contains(string(raw), "ENC:") {
		t.Fatalf("config.yaml holds a plaintext secret:\n%s", raw)
	}
	// The changelog lists changes, secrets masked.
	var log []struct {
		Username string `json:"username"`
		Changes  []struct{ Key, Old, New string }
	}
	env.JSON(http.MethodGet, "/api/config/changelog", admin, nil, &log)
	if len(log) != 2 || log[0].Username != "admin" {
		t.Fatalf("changelog = %+v", log)
	}
	for _, c := range log[1].Changes {
		if c.Key == "piholeToken" && (c.New != "***" || c.Old != "***") {
			t.Fatalf("changelog shows a secret: %+v", c)
		}
	}
	if len(log[0].Changes) != 1 || log[0].Changes[0].Key != "monitoredServices" || log[0].Changes[0].Old != "nginx,docker" {
		t.Fatalf("second save changes = %+v", log[0].Changes)
	}
}

func TestSettingsValidation(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	st, b := env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"piholeUrl": "ftp://x", "hassUrl": "javascript://y"})
	want := "Invalid URL scheme 'javascript' for hassUrl — must be http or https; Invalid URL scheme 'ftp' for piholeUrl — must be http or https"
	if st != 400 || errMsg(t, b) != want {
		t.Fatalf("bad schemes: %d %s", st, b)
	}
	if st, b := env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"ldapUrl": "ldaps://dc.local"}); st != 200 {
		t.Fatalf("ldaps rejected: %d %s", st, b)
	}
	if st, _ := env.Do(http.MethodPost, "/api/settings", admin, `["not","an","object"]`); st != 400 {
		t.Fatalf("array body: %d, want 400", st)
	}
	if st, _ := env.Do(http.MethodPost, "/api/settings", admin, `{not json`); st != 400 {
		t.Fatalf("bad json: %d, want 400", st)
	}
	big := strings.Repeat("x", 70<<10)
	if st, _ := env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"bookmarksStr": big}); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("70 KiB body: %d, want 413", st)
	}
}

func TestConfigRestore(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"monitoredServices": "nginx"})
	before, _ := os.ReadFile(env.Server.Settings.Path())
	bad := []struct{ body, msg string }{
		{"", "Empty body"},
		{"web: [unclosed", "Invalid YAML: "},
		{"- a\n- b\n", "Config must be a YAML mapping"},
		{"web: 5\n", "Config key 'web' must be a mapping"},
		{"\xff\xfe", "Invalid file encoding (expected UTF-8 YAML)"},
	}
	for _, c := range bad {
		st, b := env.Do(http.MethodPost, "/api/config/restore", admin, []byte(c.body))
		if st != 400 || !strings.HasPrefix(errMsg(t, b), c.msg) {
			t.Errorf("%q: %d %s, want 400 %q", c.body, st, b, c.msg)
		}
	}
	st, b := env.Do(http.MethodPost, "/api/config/restore", admin, []byte(strings.Repeat("a: 1\n", 120000)))
	if st != 413 || errMsg(t, b) != "Upload too large (max 512 KB)" {
		t.Errorf("too large: %d %s", st, b)
	}
	after, _ := os.ReadFile(env.Server.Settings.Path())
	if string(after) != string(before) || env.Server.Settings.String("monitoredServices") != "nginx" {
		t.Fatalf("a bad restore changed the config")
	}
	// A good one replaces it, after a backup of the old one.
	if st, b := env.Do(http.MethodPost, "/api/config/restore", admin, []byte("web:\n  monitoredServices: sshd\n")); st != 200 {
		t.Fatalf("restore: %d %s", st, b)
	}
	if env.Server.Settings.String("monitoredServices") != "sshd" {
		t.Fatal("restore not in force")
	}
	var hist struct {
		Versions []struct {
			Filename string `json:"filename"`
			Current  bool   `json:"current"`
		} `json:"versions"`
	}
	env.JSON(http.MethodGet, "/api/backup/config-history", admin, nil, &hist)
	if len(hist.Versions) < 2 || !hist.Versions[0].Current || !strings.HasPrefix(hist.Versions[1].Filename, "config.yaml.bak.") {
		t.Fatalf("history = %+v", hist)
	}
	st, old := env.Do(http.MethodGet, "/api/backup/config-history/"+hist.Versions[1].Filename, admin, nil)
	if st != 200 || string(old) != string(before) {
		t.Fatalf("backup version: %d %q", st, old)
	}
	if st, _ := env.Do(http.MethodGet, "/api/backup/config-history/..%2Fnoba.db", admin, nil); st != 400 {
		t.Fatalf("traversal: %d, want 400", st)
	}
	if st, _ := env.Do(http.MethodGet, "/api/backup/config-history/config.yaml.bak.1", admin, nil); st != 404 {
		t.Fatalf("missing version: %d, want 404", st)
	}
	resp := env.Request(http.MethodGet, "/api/config/backup", admin, nil, nil)
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-yaml" || !strings.Contains(resp.Header.Get("Content-Disposition"), "noba-config-backup.yaml") {
		t.Fatalf("backup: %d %v", resp.StatusCode, resp.Header)
	}
	var audit []map[string]any
	env.JSON(http.MethodGet, "/api/audit?action=config_restore", admin, nil, &audit)
	if len(audit) != 1 {
		t.Fatalf("config_restore audit = %v", audit)
	}
	// At most five backups are kept.
	for i := 0; i < 7; i++ {
		env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"monitoredServices": strings.Repeat("s", i+1)})
	}
	baks, _ := filepath.Glob(env.Server.Settings.Path() + ".bak.*")
	if len(baks) != 5 {
		t.Fatalf("%d backups kept, want 5", len(baks))
	}
}

func TestAuditQuery(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	for i := 0; i < 3; i++ {
		env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": "nobody", "password": "x"})
	}
	var rows []map[string]any
	env.JSON(http.MethodGet, "/api/audit?limit=2", admin, nil, &rows)
	if len(rows) != 2 {
		t.Fatalf("limit=2 gave %d rows", len(rows))
	}
	rows = nil
	env.JSON(http.MethodGet, "/api/audit?user=nobody", admin, nil, &rows)
	if len(rows) != 3 || rows[0]["action"] != "login_failed" || rows[0]["ip"] != "127.0.0.1" {
		t.Fatalf("user filter = %v", rows)
	}
	st, b := env.Do(http.MethodGet, "/api/audit?limit=abc", admin, nil)
	if st != 400 || errMsg(t, b) != "Invalid limit parameter" {
		t.Fatalf("bad limit: %d %s", st, b)
	}
}
