package pikvm_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/pikvm"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const user, pass = "admin", "kvm-secret-pw"

// fakePiKVM speaks kvmd's API with header authentication.
func fakePiKVM(atxEnabled bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-KVMD-User") != user || r.Header.Get("X-KVMD-Passwd") != pass {
			http.Error(w, `{"ok":false,"result":{"error":"UnauthorizedError","error_msg":"Unauthorized"}}`, http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/api/info":
			_, _ = w.Write([]byte(`{"ok":true,"result":{"hw":{"platform":{"type":"rpi","base":"Raspberry Pi 4 Model B Rev 1.4","serial":"x"},"health":{"temp":{"cpu":47.236},"throttling":{}}},"system":{"kvmd":{"version":"3.291"},"kernel":{}},"meta":{"server":{"host":"pikvm.lan"}},"extras":{}}}`))
		case "/api/atx":
			if atxEnabled {
				_, _ = w.Write([]byte(`{"ok":true,"result":{"enabled":true,"busy":false,"leds":{"power":true,"hdd":false}}}`))
			} else {
				_, _ = w.Write([]byte(`{"ok":true,"result":{"enabled":false,"busy":false,"leds":{"power":false,"hdd":false}}}`))
			}
		default:
			http.NotFound(w, r)
		}
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"pikvmUrl": base, "pikvmUser": user, "pikvmPass": pass}
}

func TestBlock(t *testing.T) {
	p := pikvm.New(provider.NewClient())
	for _, tc := range []struct {
		atx  bool
		want any
	}{{true, true}, {false, nil}} {
		srv := fakePiKVM(tc.atx)
		got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
		providertest.Equal(t, "pikvm block", got, map[string]any{"hostname": "pikvm.lan", "version": "3.291",
			"platform": "Raspberry Pi 4 Model B Rev 1.4", "cpu_temp": 47.2, "atx_power": tc.want, "status": "online"})
		providertest.NoSecret(t, got, pass)
		srv.Close()
	}
	providertest.Equal(t, "no credentials", providertest.Block(t, p, provider.Settings{"pikvmUrl": "http://127.0.0.1:1"},
		time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, pikvm.New(provider.NewClient()), settings)
}
