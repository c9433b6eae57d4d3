package nextcloud_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/nextcloud"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const user, pass = "admin", "app-password-abc"

// fakeNextcloud speaks the serverinfo OCS API (basic auth, OCS-APIRequest).
func fakeNextcloud(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Header.Get("OCS-APIRequest") != "true" {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		if r.URL.Path != "/ocs/v2.php/apps/serverinfo/api/v1/info" || r.URL.Query().Get("format") != "json" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"ocs":{"meta":{"status":"ok","statuscode":200},"data":{"nextcloud":{"system":{"version":"29.0.4.1",
			"freespace":53687091200,"cpuload":[0.1,0.2,0.3]},"storage":{"num_users":4,"num_files":123456,"num_storages":5}},
			"server":{"webserver":"nginx"},"activeUsers":{"last5minutes":2,"last1hour":3,"last24hours":4}}}}`))
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"nextcloudUrl": base, "nextcloudUser": user, "nextcloudPass": pass}
}

func TestBlock(t *testing.T) {
	srv := fakeNextcloud(t)
	defer srv.Close()
	got := providertest.Block(t, nextcloud.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "nextcloud block", got, map[string]any{"active_users": 2, "num_users": 4, "num_files": 123456,
		"storage_free_gb": 50.0, "version": "29.0.4.1", "status": "online"})
	providertest.NoSecret(t, got, pass)
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, nextcloud.New(provider.NewClient()), settings)
}
