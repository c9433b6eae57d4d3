package pikvm_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/pikvm"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

// TestSelfSignedNeedsVerifySslFalse: PiKVM serves HTTPS with a self-signed
// certificate; pikvmVerifySsl=false reads it, the default refuses it.
func TestSelfSignedNeedsVerifySslFalse(t *testing.T) {
	plain := fakePiKVM(true)
	defer plain.Close()
	srv := httptest.NewTLSServer(plain.Config.Handler)
	defer srv.Close()
	p := pikvm.New(provider.NewClient())
	providertest.Equal(t, "verified", providertest.Block(t, p, settings(srv.URL), 3*time.Second), provider.Offline())
	st := settings(srv.URL)
	st["pikvmVerifySsl"] = false
	got := providertest.Block(t, p, st, 3*time.Second).(map[string]any)
	if got["status"] != "online" || got["hostname"] != "pikvm.lan" {
		t.Errorf("verify_ssl false: %v", got)
	}
}
