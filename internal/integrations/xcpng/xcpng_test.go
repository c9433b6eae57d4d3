package xcpng_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/xcpng"
)

const user, pass, session = "root", "xapi-secret", "OpaqueRef:8d2c-session"

// fakeXAPI speaks XAPI JSON-RPC 2.0 on /jsonrpc.
func fakeXAPI(t *testing.T, logouts *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/jsonrpc" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Method string `json:"method"`
			Params []any  `json:"params"`
			ID     any    `json:"id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("decode: %v", err)
		}
		answer := func(result string) {
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","result":` + result + `,"id":1}`))
		}
		fail := func(code string) {
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","error":{"code":1,"message":"` + code + `","data":["x"]},"id":1}`))
		}
		if req.Method == "session.login_with_password" {
			if len(req.Params) < 2 || req.Params[0] != user || req.Params[1] != pass {
				fail("SESSION_AUTHENTICATION_FAILED")
				return
			}
			answer(`"` + session + `"`)
			return
		}
		if len(req.Params) < 1 || req.Params[0] != session {
			fail("SESSION_INVALID")
			return
		}
		switch req.Method {
		case "VM.get_all_records":
			answer(`{"OpaqueRef:1":{"name_label":"web","power_state":"Running","is_a_template":false,"is_a_snapshot":false,"is_control_domain":false},
				"OpaqueRef:2":{"name_label":"db","power_state":"Halted","is_a_template":false,"is_a_snapshot":false,"is_control_domain":false},
				"OpaqueRef:3":{"name_label":"Debian 12","power_state":"Halted","is_a_template":true},
				"OpaqueRef:4":{"name_label":"Control domain on host: xcp1","power_state":"Running","is_control_domain":true}}`)
		case "host.get_all_records":
			answer(`{"OpaqueRef:h1":{"name_label":"xcp1"}}`)
		case "session.logout":
			logouts.Add(1)
			answer(`""`)
		default:
			fail("MESSAGE_METHOD_UNKNOWN")
		}
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"xcpngUrl": base, "xcpngUser": user, "xcpngPass": pass}
}

func TestBlock(t *testing.T) {
	var logouts atomic.Int32
	srv := fakeXAPI(t, &logouts)
	defer srv.Close()
	p := xcpng.New(provider.NewClient())
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "xcpng block", got, map[string]any{"hosts": 1, "vms": 2, "running": 1,
		"vmList": []any{map[string]any{"name": "db", "state": "halted"}, map[string]any{"name": "web", "state": "running"}},
		"status": "online"})
	providertest.NoSecret(t, got, pass, session)
	if logouts.Load() != 1 {
		t.Errorf("logouts: got %d, want 1", logouts.Load())
	}
	wrong := provider.Settings{"xcpngUrl": srv.URL, "xcpngUser": user, "xcpngPass": "bad"}
	providertest.Equal(t, "wrong password", providertest.Block(t, p, wrong, 3*time.Second), provider.Unauthorized())
	providertest.Equal(t, "no credentials", providertest.Block(t, p, provider.Settings{"xcpngUrl": srv.URL}, time.Second),
		provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, xcpng.New(provider.NewClient()), settings)
}
