package k8s_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/k8s"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const token = "eyJ.k8s.serviceaccount"

// apiServer speaks the Kubernetes core API (Bearer service-account token).
func apiServer(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","code":401}`))
			return
		}
		if r.URL.Path != "/api/v1/pods" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[
			{"metadata":{"name":"a","namespace":"default"},"status":{"phase":"Running"}},
			{"metadata":{"name":"b","namespace":"kube-system"},"status":{"phase":"Running"}},
			{"metadata":{"name":"c","namespace":"default"},"status":{"phase":"Pending"}}]}`))
	})
}

func settings(base string) provider.Settings {
	return provider.Settings{"k8sUrl": base, "k8sToken": token, "k8sVerifySsl": false}
}

func TestBlock(t *testing.T) {
	srv := httptest.NewTLSServer(apiServer(t))
	defer srv.Close()
	p := k8s.New(provider.NewClient())
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "k8s block", got, map[string]any{"pods": 3, "running": 2, "namespaces": 2, "status": "online"})
	providertest.NoSecret(t, got, token)
	verify := provider.Settings{"k8sUrl": srv.URL, "k8sToken": token} // verification on by default
	providertest.Equal(t, "self-signed, verified", providertest.Block(t, p, verify, 3*time.Second), provider.Offline())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, k8s.New(provider.NewClient()), settings)
}
