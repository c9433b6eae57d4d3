package config_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/noba-go/noba/internal/config"
)

// benchSettings opens a settings file shaped like a busy homelab's: every
// integration configured (secrets encrypted at rest), 30 alert rules, 20
// custom actions, four notification channels.
func benchSettings(b *testing.B) *config.Settings {
	b.Helper()
	dir := b.TempDir()
	st, err := config.OpenSettings(filepath.Join(dir, "config.yaml"), filepath.Join(dir, ".master.key"))
	if err != nil {
		b.Fatal(err)
	}
	p := map[string]any{"monitoredServices": "nginx,sshd,docker", "radarIps": "127.0.0.1,127.0.0.2",
		"gotifyEnabled": true, "gotifyUrl": "http://127.0.0.1:1", "gotifyAppToken": "g-token"}
	for _, k := range []string{"pihole", "plex", "jellyfin", "tautulli", "overseerr", "radarr", "sonarr", "lidarr",
		"readarr", "bazarr", "prowlarr", "truenas", "npm", "authentik", "hass", "gitea", "gitlab", "paperless"} {
		p[k+"Url"] = "http://127.0.0.1:8" + fmt.Sprint(len(k))
	}
	for _, k := range []string{"piholeToken", "plexToken", "jellyfinKey", "tautulliKey", "overseerrKey", "radarrKey",
		"sonarrKey", "lidarrKey", "readarrKey", "bazarrKey", "prowlarrKey", "truenasKey", "npmToken", "authentikToken",
		"hassToken", "giteaToken", "gitlabToken", "paperlessToken", "agentKeys", "llmApiKey"} {
		p[k] = "secret-" + k
	}
	var rules, actions []any
	for i := range 30 {
		rules = append(rules, map[string]any{"id": fmt.Sprintf("r%d", i), "condition": "cpu_percent > 90",
			"severity": "warning", "message": "CPU high", "channels": []any{"gotify"},
			"action": map[string]any{"type": "webhook", "target": "http://127.0.0.1:9/hook", "headers": map[string]any{"Authorization": "Bearer x"}}})
	}
	for i := range 20 {
		actions = append(actions, map[string]any{"id": fmt.Sprintf("a%d", i), "name": "Action", "url": "http://127.0.0.1:9/a", "method": "POST"})
	}
	p["alertRules"], p["customActions"] = rules, actions
	if _, err := st.Update(p); err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkSettingsGet is one full settings read (what every room did per lookup).
func BenchmarkSettingsGet(b *testing.B) {
	st := benchSettings(b)
	b.ReportAllocs()
	for b.Loop() {
		if st.Get()["piholeUrl"] == "" {
			b.Fatal("empty")
		}
	}
}

// BenchmarkSettingsString is one key read through String.
func BenchmarkSettingsString(b *testing.B) {
	st := benchSettings(b)
	b.ReportAllocs()
	for b.Loop() {
		if st.String("piholeToken") == "" {
			b.Fatal("empty")
		}
	}
}

// BenchmarkSettingsCurrent is one typed read (what the rooms moved onto).
func BenchmarkSettingsCurrent(b *testing.B) {
	st := benchSettings(b)
	b.ReportAllocs()
	for b.Loop() {
		if st.Current().PiholeURL == "" {
			b.Fatal("empty")
		}
	}
}

// BenchmarkSettingsView is one flat read through the shared View (what the
// rooms read keys the typed Values leave as free-form lists and maps by).
func BenchmarkSettingsView(b *testing.B) {
	st := benchSettings(b)
	b.ReportAllocs()
	for b.Loop() {
		if st.View()["piholeUrl"] == "" {
			b.Fatal("empty")
		}
	}
}
