package xcpng_test

import (
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/xcpng"
)

// TestSelfSignedNeedsVerifySslFalse: XCP-ng installs a self-signed
// certificate; xcpngVerifySsl=false reads it, the default refuses it.
func TestSelfSignedNeedsVerifySslFalse(t *testing.T) {
	var logouts atomic.Int32
	plain := fakeXAPI(t, &logouts)
	defer plain.Close()
	srv := httptest.NewTLSServer(plain.Config.Handler)
	defer srv.Close()
	p := xcpng.New(provider.NewClient())
	providertest.Equal(t, "verified", providertest.Block(t, p, settings(srv.URL), 3*time.Second), provider.Offline())
	st := settings(srv.URL)
	st["xcpngVerifySsl"] = false
	got := providertest.Block(t, p, st, 3*time.Second).(map[string]any)
	if got["status"] != "online" || got["vms"] != float64(2) || logouts.Load() != 1 {
		t.Errorf("verify_ssl false: %v (logouts %d)", got, logouts.Load())
	}
}
