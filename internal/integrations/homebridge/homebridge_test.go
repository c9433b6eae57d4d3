package homebridge_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/homebridge"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const user, pass = "admin", "hb-secret-pw"

// fakeHomebridge speaks homebridge-config-ui-x: JSON login giving a JWT,
// Bearer-protected /api/accessories.
type fakeHomebridge struct {
	logins atomic.Int32
	token  atomic.Value
}

func (f *fakeHomebridge) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var c struct{ Username, Password string }
		_ = json.NewDecoder(r.Body).Decode(&c)
		if c.Username != user || c.Password != pass {
			http.Error(w, `{"message":"Invalid username or password.","statusCode":401}`, http.StatusUnauthorized)
			return
		}
		tok := "jwt-" + string(rune('a'+f.logins.Add(1)))
		f.token.Store(tok)
		_, _ = w.Write([]byte(`{"access_token":"` + tok + `","token_type":"Bearer","expires_in":28800}`))
	})
	mux.HandleFunc("GET /api/accessories", func(w http.ResponseWriter, r *http.Request) {
		if cur, _ := f.token.Load().(string); r.Header.Get("Authorization") != "Bearer "+cur {
			http.Error(w, `{"statusCode":401,"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`[
			{"uniqueId":"1","serviceName":"Lamp","type":"Lightbulb","humanType":"Lightbulb","values":{"On":1,"Brightness":80}},
			{"uniqueId":"2","serviceName":"Fan","type":"Switch","humanType":"Switch","values":{"On":false}},
			{"uniqueId":"3","serviceName":"Plug","type":"Outlet","humanType":"Outlet","values":{"On":true}},
			{"uniqueId":"4","serviceName":"Temp","type":"TemperatureSensor","humanType":"Temperature Sensor","values":{"CurrentTemperature":21}}]`))
	})
	return mux
}

func settings(base string) provider.Settings {
	return provider.Settings{"homebridgeUrl": base, "homebridgeUser": user, "homebridgePass": pass}
}

func TestBlock(t *testing.T) {
	f := &fakeHomebridge{}
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	p := homebridge.New(provider.NewClient())
	want := map[string]any{"accessories": 4, "on": 2, "types": map[string]any{"Lightbulb": 1, "Switch": 1, "Outlet": 1,
		"Temperature Sensor": 1}, "status": "online"}
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "homebridge block", got, want)
	providertest.NoSecret(t, got, pass, f.token.Load().(string))
	providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	if n := f.logins.Load(); n != 1 {
		t.Errorf("logins after two rounds: got %d, want 1 (token reused)", n)
	}
	f.token.Store("revoked")
	providertest.Equal(t, "after token revocation", providertest.Block(t, p, settings(srv.URL), 3*time.Second), want)
	if n := f.logins.Load(); n != 2 {
		t.Errorf("logins after revocation: got %d, want 2", n)
	}
	wrong := provider.Settings{"homebridgeUrl": srv.URL, "homebridgeUser": user, "homebridgePass": "bad"}
	providertest.Equal(t, "wrong password", providertest.Block(t, p, wrong, 3*time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, homebridge.New(provider.NewClient()), settings)
}
