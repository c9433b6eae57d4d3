package integrations_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/integrations"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

type settings map[string]any

func (s settings) Current() *config.Values { return config.Static(s).Current() }
func (s settings) View() map[string]any    { return s }
func (s settings) Value(k string) any      { return config.Static(s).Value(k) }
func (s settings) String(k string) string  { return config.Static(s).String(k) }

// safeBuffer is a log sink the fan-out goroutines may share.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUnconfigured(t *testing.T) {
	r := integrations.New(integrations.Deps{Settings: settings{}})
	got := r.Blocks(context.Background())
	want := map[string]any{"pihole": nil, "plex": nil, "truenas": nil, "kuma": []any{}, "adguard": nil,
		"jellyfin": nil, "hass": nil, "speedtest": nil, "proxmox": nil, "tautulli": nil, "overseerr": nil,
		"radarr": nil, "sonarr": nil, "lidarr": nil, "readarr": nil, "prowlarr": nil, "qbit": nil,
		"traefik": nil, "npm": nil, "k8s": nil, "gitea": nil, "gitlab": nil, "paperless": nil,
		"unifi": nil, "nextcloud": nil, "scrutiny": nil, "frigate": nil,
		"radarrExtended": nil, "sonarrExtended": nil, "radarrCalendar": []any{}, "sonarrCalendar": []any{},
		"authentik": nil, "n8n": nil, "bazarr": nil, "energy": []any{},
		"omv": nil, "xcpng": nil, "homebridge": nil, "z2m": nil, "esphome": nil, "unifiProtect": nil, "pikvm": nil,
		"vaultwarden": nil, "github": nil, "cloudflare": nil, "weather": nil,
		"certExpiry": []any{}, "devicePresence": []any{}, "domainExpiry": []any{}, "vpn": nil, "tailscale": nil}
	// vpn and tailscale depend on the host, not on settings: only without
	// the tools is their block known to be null.
	for key, bin := range map[string]string{"vpn": "wg", "tailscale": "tailscale"} {
		if _, err := exec.LookPath(bin); err == nil {
			delete(got, key)
			delete(want, key)
		}
	}
	providertest.Equal(t, "blocks", got, want)
}

// TestFanOut: providers run concurrently; the slow ones all yield the
// timeout object when the one global wait ends, the others their blocks.
func TestFanOut(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"entity_id":"light.a","state":"on"}]`))
	}))
	defer fast.Close()

	logs := &safeBuffer{}
	st := settings{"plexUrl": slow.URL, "plexToken": "t", "jellyfinUrl": slow.URL, "jellyfinKey": "k",
		"truenasUrl": slow.URL, "truenasKey": "k", "hassUrl": fast.URL, "hassToken": "tok"}
	r := integrations.New(integrations.Deps{Settings: st, Wait: 400 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(logs, nil))})
	start := time.Now()
	got := r.Blocks(context.Background())
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Blocks took %v with a 400ms wait, want it bounded by the wait", d)
	}
	for _, k := range []string{"plex", "jellyfin", "truenas"} {
		providertest.Equal(t, k, got[k], provider.Timeout())
	}
	if h, _ := got["hass"].(map[string]any); h["status"] != "online" || h["entities"] != 1 {
		t.Errorf("hass: got %v, want the online block", got["hass"])
	}
	if got["pihole"] != nil {
		t.Errorf("pihole: got %v, want null (not configured)", got["pihole"])
	}
	// Failures are logged once per change of outcome, without secrets.
	r.Blocks(context.Background())
	if n := strings.Count(logs.String(), "integration=plex"); n != 1 {
		t.Errorf("plex logged %d times over two failing rounds, want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "tok") {
		t.Errorf("log carries a token:\n%s", logs.String())
	}
}

// TestStatsPayload: a Pi-hole configured through POST /api/settings shows
// up in /api/stats, and no credential appears anywhere in the payload.
func TestStatsPayload(t *testing.T) {
	const password, sid = "pihole-web-password-123", "session-id-456"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"session":{"valid":true,"totp":false,"sid":"` + sid + `","csrf":"c","validity":1800}}`))
	})
	mux.HandleFunc("GET /api/stats/summary", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("sid") != sid {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"queries":{"total":4321,"blocked":321,"percent_blocked":7.43},"gravity":{"domains_being_blocked":98765}}`))
	})
	mux.HandleFunc("GET /api/dns/blocking", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"blocking":"enabled","timer":null}`))
	})
	fake := httptest.NewServer(mux)
	defer fake.Close()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	certHost := strings.TrimPrefix(tlsSrv.URL, "https://")

	src := collect.SourceFunc(func(ctx context.Context) (map[string]any, error) {
		return map[string]any{"cpuPercent": 1.0, "hostname": "test"}, nil
	})
	env := servertest.NewWith(t, servertest.Setup{Jobs: true,
		Options: []server.Option{server.WithStatsInterval(100 * time.Millisecond), server.WithStatsSource(src)}})
	admin := env.Token("admin")
	if code, body := env.Do(http.MethodPost, "/api/settings", admin,
		map[string]any{"piholeUrl": fake.URL, "piholePassword": password, "plexToken": "plex-secret-789",
			"certHosts": certHost}); code != http.StatusOK {
		t.Fatalf("POST /api/settings: got %d %s, want 200", code, body)
	}
	viewer := env.Token("viewer")
	var body []byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		var snap map[string]any
		code := env.JSON(http.MethodGet, "/api/stats", viewer, nil, &snap)
		_, body = env.Do(http.MethodGet, "/api/stats", viewer, nil)
		if code != http.StatusOK {
			t.Fatalf("GET /api/stats: got %d", code)
		}
		if ph, ok := snap["pihole"].(map[string]any); ok && ph["queries"] != nil {
			providertest.Equal(t, "pihole block", ph,
				map[string]any{"queries": 4321, "blocked": 321, "percent": 7.4, "status": "enabled", "domains": "98,765"})
			if snap["plex"] != nil {
				t.Errorf("plex without plexUrl: got %v, want null", snap["plex"])
			}
			certs, _ := snap["certExpiry"].([]any)
			if len(certs) != 1 {
				t.Fatalf("certExpiry: got %v, want one item", snap["certExpiry"])
			}
			if c, _ := certs[0].(map[string]any); c["host"] != certHost || c["issuer"] != "Acme Co" || c["days"] == nil {
				t.Errorf("certExpiry item: got %v", c)
			}
			for _, k := range []string{"devicePresence", "domainExpiry"} {
				providertest.Equal(t, k+" unconfigured", snap[k], []any{})
			}
			for _, k := range []string{"vpn", "tailscale", "omv", "github", "weather"} {
				if _, ok := snap[k]; !ok {
					t.Errorf("payload lacks %q", k)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pihole block never appeared; last pihole value %v", snap["pihole"])
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, secret := range []string{password, sid, "plex-secret-789"} {
		if bytes.Contains(body, []byte(secret)) {
			t.Errorf("/api/stats carries the secret %q", secret)
		}
	}
}
