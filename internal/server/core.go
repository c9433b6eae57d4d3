package server

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

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
	httpx.Register(s.Router, httpx.Op(http.MethodGet, "/api/routes", authz.Read, "Routes this server implements (for the dashboard)"),
		func(ctx context.Context, _ *struct{}) (*routesOut, error) {
			return &routesOut{Body: s.routeList()}, nil
		})
	if s.Cfg.OpenAPI {
		s.mountDocs(mux)
	}
	mux.HandleFunc("/api/", s.apiNotFound(mux))
	mux.Handle("/", s.ui())
}

type routesOut struct{ Body []string }

// routeList lists "METHOD /path/{param}" for every route in the API
// document, sorted, so that the dashboard can hide what a server lacks
// instead of calling it.
func (s *Server) routeList() []string {
	var out []string
	for path, item := range s.Router.API.OpenAPI().Paths {
		for m, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "DELETE": item.Delete, "PATCH": item.Patch} {
			if op != nil {
				out = append(out, m+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
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
