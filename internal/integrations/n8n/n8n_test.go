package n8n_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/n8n"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const key = "n8n_api_0123456789"

// fakeN8n speaks n8n's public API v1 (X-N8N-API-KEY).
func fakeN8n(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-N8N-API-KEY") != key {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"unauthorized"}`))
			return
		}
		switch r.URL.Path {
		case "/api/v1/workflows":
			_, _ = w.Write([]byte(`{"data":[{"id":"1","name":"Backup","active":true},{"id":"2","name":"Draft","active":false}],"nextCursor":null}`))
		case "/api/v1/executions":
			_, _ = w.Write([]byte(`{"data":[{"id":"9","status":"error","finished":false,"startedAt":"2026-01-01T10:00:00.000Z"},
				{"id":"8","status":"success","finished":true,"startedAt":"2026-01-01T09:00:00.000Z"},
				{"id":"7","status":"success","finished":true,"startedAt":"2026-01-01T08:00:00.000Z"},
				{"id":"6","status":"success","finished":true,"startedAt":"2026-01-01T07:00:00.000Z"}],"nextCursor":null}`))
		default:
			http.NotFound(w, r)
		}
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"n8nUrl": base, "n8nApiKey": key}
}

func TestBlock(t *testing.T) {
	srv := fakeN8n(t)
	defer srv.Close()
	got := providertest.Block(t, n8n.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "n8n block", got, map[string]any{"workflows": 2, "active_workflows": 1, "recent_executions": 4,
		"failed_executions": 1, "failure_rate": 25.0, "last_execution": "2026-01-01T10:00:00.000Z",
		"workflow_names": []any{"Backup", "Draft"}, "status": "online"})
	providertest.NoSecret(t, got, key)
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, n8n.New(provider.NewClient()), settings)
}
