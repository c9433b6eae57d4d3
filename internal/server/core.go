package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/httpx"
)

type healthOut struct {
	Body struct {
		Status  string `json:"status"`
		Version string `json:"version"`
		UptimeS int64  `json:"uptime_s"`
	}
}

// mountCore mounts /api/health, the API docs and the catch-alls.
func (s *Server) mountCore(mux *http.ServeMux) {
	httpx.Register(s.Router, httpx.Op(http.MethodGet, "/api/health", authz.Public, "Health check with version and uptime"),
		func(ctx context.Context, _ *struct{}) (*healthOut, error) {
			out := &healthOut{}
			out.Body.Status, out.Body.Version = "ok", config.Version
			out.Body.UptimeS = int64(time.Since(s.Started).Round(time.Second).Seconds())
			return out, nil
		})
	if s.Cfg.OpenAPI {
		s.mountDocs(mux)
	}
	mux.HandleFunc("/api/", s.apiNotFound(mux))
	mux.Handle("/", s.ui())
}

// apiNotFound answers unknown /api paths: 405 when the path exists for
// another method, else 404, both with the JSON error body.
func (s *Server) apiNotFound(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pat := mux.Handler(probe); pat != "" && pat != "/api/" && !strings.HasPrefix(pat, "/ ") && pat != "/" {
				w.Header().Set("Allow", m)
				httpx.WriteError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
				return
			}
		}
		httpx.WriteError(w, http.StatusNotFound, "API route not found")
	}
}
