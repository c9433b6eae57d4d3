package omv_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/omv"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const user, pass, sid = "admin", "omv-secret-pw", "omv-session-77"

// fakeOMV speaks OpenMediaVault's /rpc.php: Session.login sets the
// X-OPENMEDIAVAULT-SESSIONID cookie; other calls without it answer the
// RPC error 5001 (HTTP 401 as OMV does).
func fakeOMV(t *testing.T, logouts *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/rpc.php" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Service, Method string
			Params          map[string]any
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("decode: %v", err)
		}
		if req.Service == "Session" && req.Method == "login" {
			if req.Params["username"] != user || req.Params["password"] != pass {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"response":null,"error":{"code":5002,"message":"Incorrect username or password."}}`))
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "X-OPENMEDIAVAULT-SESSIONID", Value: sid})
			_, _ = w.Write([]byte(`{"response":{"authenticated":true,"username":"admin","permissions":{"role":"admin"}},"error":null}`))
			return
		}
		if c, err := r.Cookie("X-OPENMEDIAVAULT-SESSIONID"); err != nil || c.Value != sid {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"response":null,"error":{"code":5001,"message":"Session not authenticated."}}`))
			return
		}
		switch req.Service + "." + req.Method {
		case "System.getInformation":
			_, _ = w.Write([]byte(`{"response":{"ts":1718000000,"hostname":"nas","version":"7.4.2-1 (Sandworm)","cpuModelName":"x","cpuUsage":12.345,"memTotal":8000,"memUsed":2000,"uptime":86400.7,"loadAverage":{"1min":0.1},"configDirty":false,"rebootRequired":true,"pkgUpdatesAvailable":false},"error":null}`))
		case "FileSystemMgmt.enumerateMountedFilesystems":
			_, _ = w.Write([]byte(`{"response":[{"devicefile":"/dev/sda1","label":"data","type":"ext4","percentage":41.26,"size":"1000","available":"600"}],"error":null}`))
		case "Session.logout":
			logouts.Add(1)
			_, _ = w.Write([]byte(`{"response":null,"error":null}`))
		default:
			_, _ = w.Write([]byte(`{"response":null,"error":{"code":9000,"message":"unknown"}}`))
		}
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"omvUrl": base, "omvUser": user, "omvPass": pass}
}

func TestBlock(t *testing.T) {
	var logouts atomic.Int32
	srv := fakeOMV(t, &logouts)
	defer srv.Close()
	p := omv.New(provider.NewClient())
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "omv block", got, map[string]any{"hostname": "nas", "version": "7.4.2-1 (Sandworm)",
		"uptime": 86400, "cpu_percent": 12.3, "mem_percent": 25, "updates": false, "reboot_required": true,
		"status": "online", "filesystems": []any{
			map[string]any{"device": "/dev/sda1", "label": "data", "type": "ext4", "percent": 41.3}}})
	providertest.NoSecret(t, got, pass, sid)
	if logouts.Load() != 1 {
		t.Errorf("logouts: got %d, want 1", logouts.Load())
	}
	wrong := provider.Settings{"omvUrl": srv.URL, "omvUser": user, "omvPass": "bad"}
	providertest.Equal(t, "wrong password", providertest.Block(t, p, wrong, 3*time.Second), provider.Unauthorized())
	providertest.Equal(t, "no credentials", providertest.Block(t, p, provider.Settings{"omvUrl": srv.URL}, time.Second),
		provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, omv.New(provider.NewClient()), settings)
}
