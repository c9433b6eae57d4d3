package proxmox_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/proxmox"
)

const tokenValue = "4f9c1e2a-pve-secret"

// pve speaks the Proxmox VE API with API-token authorisation.
func pve(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "PVEAPIToken=root@pam!noba="+tokenValue {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/api2/json/nodes":
			_, _ = w.Write([]byte(`{"data":[{"node":"pve1","status":"online","cpu":0.125,"mem":4294967296,"maxmem":17179869184},
				{"node":"pve2","status":"offline"}]}`))
		case "/api2/json/nodes/pve1/qemu":
			_, _ = w.Write([]byte(`{"data":[{"vmid":100,"name":"web","status":"running","cpu":0.5,"mem":1073741824,"maxmem":2147483648},
				{"vmid":101,"status":"stopped","cpu":0,"mem":0,"maxmem":0}]}`))
		case "/api2/json/nodes/pve1/lxc":
			_, _ = w.Write([]byte(`{"data":[{"vmid":"200","name":"dns","status":"running","cpu":0.01,"mem":100,"maxmem":1000}]}`))
		default:
			t.Errorf("unexpected request %s", r.URL.Path)
			http.NotFound(w, r)
		}
	})
}

func settings(base string) provider.Settings {
	return provider.Settings{"proxmoxUrl": base, "proxmoxUser": "root", "proxmoxTokenName": "noba",
		"proxmoxTokenValue": tokenValue, "proxmoxVerifySsl": false}
}

func TestBlock(t *testing.T) {
	srv := httptest.NewTLSServer(pve(t)) // a self-signed certificate, as PVE ships
	defer srv.Close()
	p := proxmox.New(provider.NewClient())
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "proxmox block", got, map[string]any{
		"nodes": []any{
			map[string]any{"name": "pve1", "status": "online", "cpu": 12.5, "mem_percent": 25.0},
			map[string]any{"name": "pve2", "status": "offline", "cpu": 0.0, "mem_percent": 0.0}},
		"vms": []any{
			map[string]any{"vmid": 100, "name": "web", "type": "qemu", "node": "pve1", "status": "running", "cpu": 50.0, "mem_percent": 50.0},
			map[string]any{"vmid": 101, "name": "qemu-101", "type": "qemu", "node": "pve1", "status": "stopped", "cpu": 0.0, "mem_percent": 0.0},
			map[string]any{"vmid": "200", "name": "dns", "type": "lxc", "node": "pve1", "status": "running", "cpu": 1.0, "mem_percent": 10.0}},
		"status": "online"})
	providertest.NoSecret(t, got, tokenValue)

	// With verification on (the default) the self-signed certificate fails.
	verify := settings(srv.URL)
	delete(verify, "proxmoxVerifySsl")
	providertest.Equal(t, "verified TLS", providertest.Block(t, p, verify, 3*time.Second), provider.Offline())
	// A full token id in proxmoxTokenName needs no user.
	full := provider.Settings{"proxmoxUrl": srv.URL, "proxmoxTokenName": "root@pam!noba", "proxmoxTokenValue": tokenValue,
		"proxmoxVerifySsl": false}
	if got := providertest.Block(t, p, full, 3*time.Second).(map[string]any); got["status"] != "online" {
		t.Errorf("full token id: got %v, want online", got)
	}
	partial := provider.Settings{"proxmoxUrl": srv.URL, "proxmoxUser": "root"}
	providertest.Equal(t, "incomplete token", providertest.Block(t, p, partial, time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, proxmox.New(provider.NewClient()), settings)
}
