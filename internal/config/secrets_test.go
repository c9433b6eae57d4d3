package config_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/config"
)

// nestedYAML holds secrets at every depth the schema knows, and one the
// schema does not (a hand-written channel).
const nestedYAML = `web:
  customActions:
    - id: a1
      name: Restart
      url: https://127.0.0.1:9/hook?token=ca-secret
      headers:
        X-Api-Key: ca-header
  alertRules:
    - id: r1
      condition: cpu_percent > 90
      action:
        type: webhook
        target: http://127.0.0.1:9/heal
        headers:
          Authorization: Bearer rule-secret
  cameraFeeds:
    - name: door
      url: rtsp://cam:cam-pass@127.0.0.1:554/stream
  radarIps: 127.0.0.1
  socialProviders:
    github:
      clientId: gh-id
      clientSecret: gh-secret
  handWritten: kept
notifications:
  webhook:
    enabled: true
    url: https://hook:url-pass@127.0.0.1:9/in
    headers:
      Authorization: Bearer wh-secret
    secret: sign-secret
  email:
    enabled: true
    smtp_server: 127.0.0.1:25
    username: mail
    password: smtp-secret
  matrix:
    access_token: mx-secret
    room: ops
`

var nestedSecrets = []string{"ca-secret", "ca-header", "rule-secret", "cam-pass", "gh-secret", "url-pass", "wh-secret",
	"sign-secret", "smtp-secret", "mx-secret"}

func leaks(t *testing.T, what string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	for _, s := range nestedSecrets {
		if strings.Contains(string(b), s) {
			t.Errorf("%s shows %q: %s", what, s, b)
		}
	}
}

// TestNestedSecretsMaskedBySchema: GET /api/settings (Masked) shows no
// nested secret: webhook headers, URL credentials, custom-action URLs.
func TestNestedSecretsMaskedBySchema(t *testing.T) {
	st, _ := open(t)
	if err := st.Restore([]byte(nestedYAML)); err != nil {
		t.Fatal(err)
	}
	m := st.Masked()
	leaks(t, "Masked", m)
	cam := m["cameraFeeds"].([]any)[0].(map[string]any)
	if cam["url"] != "rtsp://cam:***@127.0.0.1:554/stream" || cam["name"] != "door" {
		t.Errorf("camera feed masked as %v", cam)
	}
	wh := m["notifications"].(map[string]any)["webhook"].(map[string]any)
	if wh["headers"].(map[string]any)["Authorization"] != config.Mask || wh["url"] != "https://hook:***@127.0.0.1:9/in" {
		t.Errorf("webhook masked as %v", wh)
	}
	if ca := m["customActions"].([]any)[0].(map[string]any); ca["url"] != config.Mask || ca["name"] != "Restart" {
		t.Errorf("custom action masked as %v", ca)
	}
	if m["radarIps"] != "127.0.0.1" {
		t.Errorf("plain value masked: %v", m["radarIps"])
	}
	// The server itself reads every secret.
	v := st.Current()
	if v.Notifications.Webhook.Headers["Authorization"] != "Bearer wh-secret" || v.Notifications.Email.Password != "smtp-secret" ||
		v.SocialProviders["github"].ClientSecret != "gh-secret" || v.CustomActions[0].URL != "https://127.0.0.1:9/hook?token=ca-secret" {
		t.Errorf("typed read lost secrets: %+v", v.Notifications)
	}
}

// TestMaskedRoundTripKeepsNestedSecrets: posting the masked settings back
// changes nothing, and the change log never shows a nested secret.
func TestMaskedRoundTripKeepsNestedSecrets(t *testing.T) {
	st, _ := open(t)
	if err := st.Restore([]byte(nestedYAML)); err != nil {
		t.Fatal(err)
	}
	before := st.Get()
	changes, err := st.Update(st.Masked())
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("posting the masked settings back changed %v", changes)
	}
	after := st.Get()
	for _, k := range []string{"customActions", "alertRules", "cameraFeeds", "socialProviders"} {
		a, _ := json.Marshal(before[k])
		b, _ := json.Marshal(after[k])
		if string(a) != string(b) {
			t.Errorf("%s changed by a masked round trip:\n%s\n%s", k, a, b)
		}
	}
	// An edit beside masked secrets keeps them, and the change log masks them.
	m := st.Masked()
	rules := m["alertRules"].([]any)
	rules[0].(map[string]any)["condition"] = "cpu_percent > 95"
	rules = append(rules, map[string]any{"id": "r2", "condition": "mem_percent > 90",
		"action": map[string]any{"type": "webhook", "headers": map[string]any{"Authorization": "Bearer new-secret"}}})
	feeds := m["cameraFeeds"].([]any)
	feeds[0].(map[string]any)["name"] = "front door"
	changes, err = st.Update(map[string]any{"alertRules": rules, "cameraFeeds": feeds})
	if err != nil {
		t.Fatal(err)
	}
	nestedSecrets = append(nestedSecrets, "new-secret")
	defer func() { nestedSecrets = nestedSecrets[:len(nestedSecrets)-1] }()
	leaks(t, "change log", changes)
	if len(changes) != 2 {
		t.Errorf("changes = %v", changes)
	}
	v := st.Current()
	if v.AlertRules[0].Action.Headers["Authorization"] != "Bearer rule-secret" || v.AlertRules[0].Condition != "cpu_percent > 95" ||
		v.AlertRules[1].Action.Headers["Authorization"] != "Bearer new-secret" {
		t.Errorf("rules after edit: %+v %+v", v.AlertRules[0].Action, v.AlertRules[1].Action)
	}
	if u := v.CameraFeeds[0].(map[string]any)["url"]; u != "rtsp://cam:cam-pass@127.0.0.1:554/stream" {
		t.Errorf("camera URL after edit: %v", u)
	}
	// Secrets are encrypted at rest; the hand-written key survives the saves.
	raw, _ := os.ReadFile(st.Path())
	for _, s := range []string{"rule-secret", "new-secret", "ca-header"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("plaintext %q on disk", s)
		}
	}
	if !strings.Contains(string(raw), "handWritten: kept") {
		t.Errorf("hand-written key lost:\n%s", raw)
	}
}

// TestEmptyConfigKeepsGoodBackups: an empty config.yaml is not saved over
// (which would write defaults and, five saves on, rotate the last good
// backup away) until a backup is restored; the good backup survives.
func TestEmptyConfigKeepsGoodBackups(t *testing.T) {
	st, dir := open(t)
	if _, err := st.Update(map[string]any{"monitoredServices": "nginx"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(map[string]any{"monitoredServices": "sshd"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.Path(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st2, err := config.OpenSettings(st.Path(), filepath.Join(dir, ".master.key"))
	if err != nil {
		t.Fatal(err)
	}
	var good string
	for range 7 {
		_, err := st2.Update(map[string]any{"radarIps": "127.0.0.1"})
		if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "config.yaml is empty") {
			t.Fatalf("save over an empty config.yaml: %v", err)
		}
	}
	for _, v := range st2.History() {
		if b, _ := st2.ReadVersion(v.Filename); strings.Contains(string(b), "nginx") {
			good = v.Filename
		}
	}
	if good == "" {
		t.Fatal("the last good backup (monitoredServices: nginx) was rotated away")
	}
	b, _ := st2.ReadVersion(good)
	if err := st2.Restore(b); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if _, err := st2.Update(map[string]any{"radarIps": fmt.Sprintf("127.0.0.%d", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	if st2.String("monitoredServices") != "nginx" || st2.String("radarIps") != "127.0.0.7" {
		t.Fatalf("after restore and saves: %q %q", st2.String("monitoredServices"), st2.String("radarIps"))
	}
}

// TestStaleTempFilesRemoved: temp files of a crashed write go at start.
func TestStaleTempFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	stale := []string{".config.yaml.tmp-123", ".config.yaml.bak.17.tmp-9", "..master.key.tmp-4"}
	for _, f := range stale {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := config.OpenSettings(filepath.Join(dir, "config.yaml"), filepath.Join(dir, ".master.key")); err != nil {
		t.Fatal(err)
	}
	for _, f := range stale {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s still there", f)
		}
	}
}

func TestMaskURL(t *testing.T) {
	for in, want := range map[string]string{
		"rtsp://u:p@h:554/x":       "rtsp://u:***@h:554/x",
		"https://tok@github.com/a": "https://***@github.com/a",
		"http://h/x?u=a@b":         "http://h/x?u=a@b",
		"plain text":               "plain text",
		"smtp://u:@h":              "smtp://u:@h",
		"http://a:b@c@127.0.0.1/":  "http://a:***@127.0.0.1/",
	} {
		if got := config.MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRemoveStaleTemps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "authorized_keys")
	for _, f := range []string{".authorized_keys.tmp-1", ".authorized_keys.tmp-2", "authorized_keys", ".other.tmp-1"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n := config.RemoveStaleTemps(p); n != 2 {
		t.Fatalf("removed %d, want 2", n)
	}
	if left, _ := os.ReadDir(dir); len(left) != 2 {
		t.Fatalf("left %v, want authorized_keys and .other.tmp-1", left)
	}
}
