package cloudflare_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/cloudflare"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const token, zone = "cf-api-token-secret", "023e105f4ecef8ad9ca31a8372d0c353"

// fakeCloudflare speaks Cloudflare's v4 envelope with a Bearer token.
func fakeCloudflare() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}`))
			return
		}
		switch r.URL.Path {
		case "/zones/" + zone:
			_, _ = w.Write([]byte(`{"success":true,"errors":[],"result":{"id":"` + zone + `","name":"example.com","status":"active","paused":false,"plan":{"name":"Free Website"}}}`))
		case "/zones/" + zone + "/dns_records":
			_, _ = w.Write([]byte(`{"success":true,"errors":[],"result":[{"id":"r1"}],"result_info":{"page":1,"per_page":1,"count":1,"total_count":17}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"success":false,"errors":[{"code":7003,"message":"Could not route"}]}`))
		}
	}))
}

func at(base string) (provider.Provider, provider.Settings) {
	p := cloudflare.New(provider.NewClient())
	p.BaseURL = base
	return p, provider.Settings{"cloudflareToken": token, "cloudflareZoneId": zone}
}

func TestBlock(t *testing.T) {
	srv := fakeCloudflare()
	defer srv.Close()
	p, st := at(srv.URL)
	got := providertest.Block(t, p, st, 3*time.Second)
	providertest.Equal(t, "cloudflare block", got, map[string]any{"zone": "example.com", "zone_status": "active",
		"paused": false, "plan": "Free Website", "dns_records": 17, "status": "online"})
	providertest.NoSecret(t, got, token)
	p, _ = at(srv.URL)
	providertest.Equal(t, "no zone id", providertest.Block(t, p, provider.Settings{"cloudflareToken": token}, time.Second),
		provider.Unauthorized())
	providertest.Equal(t, "unknown zone", providertest.Block(t, p,
		provider.Settings{"cloudflareToken": token, "cloudflareZoneId": "nope"}, time.Second), provider.Offline())
}

func TestConventions(t *testing.T) {
	providertest.ConventionsFor(t, at)
}
