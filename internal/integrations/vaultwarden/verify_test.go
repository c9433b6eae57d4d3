package vaultwarden_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/vaultwarden"
)

// TestSelfSignedNeedsVerifySslFalse: a Vaultwarden behind a self-signed
// certificate is offline by default and read with vaultwardenVerifySsl=false
// (the admin login included).
func TestSelfSignedNeedsVerifySslFalse(t *testing.T) {
	f := &fakeVaultwarden{}
	srv := httptest.NewTLSServer(f.handler())
	defer srv.Close()
	p := vaultwarden.New(provider.NewClient())
	providertest.Equal(t, "verified", providertest.Block(t, p, settings(srv.URL), 3*time.Second), provider.Offline())
	st := settings(srv.URL)
	st["vaultwardenVerifySsl"] = false
	got := providertest.Block(t, p, st, 3*time.Second).(map[string]any)
	if got["status"] != "online" || got["users"] != float64(3) {
		t.Errorf("verify_ssl false: %v", got)
	}
}
