package z2m_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/z2m"
)

// TestAuthToken: a frontend with auth_token refuses the upgrade (401)
// without ?token=; z2mToken sends it, and it never shows in the block.
func TestAuthToken(t *testing.T) {
	const token = "z2m-frontend-Secret"
	inner := fakeZ2M(t)
	defer inner.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	p := z2m.New(nil)
	providertest.Equal(t, "no token", providertest.Block(t, p, settings(srv.URL), 3*time.Second), provider.Unauthorized())
	st := settings(srv.URL)
	st["z2mToken"] = "wrong"
	providertest.Equal(t, "wrong token", providertest.Block(t, p, st, 3*time.Second), provider.Unauthorized())
	st["z2mToken"] = token
	got := providertest.Block(t, p, st, 3*time.Second).(map[string]any)
	if got["status"] != "online" || got["devices"] != float64(3) {
		t.Errorf("with token: %v", got)
	}
	providertest.NoSecret(t, got, token)
}
