package server

import (
	"embed"
	"encoding/json"
	"net/http"

	"github.com/noba-go/noba/internal/httpx"
)

// The API documentation pages (Swagger UI, ReDoc) are embedded: homelabs
// are often offline, so nothing comes from a CDN.
//
//go:embed docs/*.js docs/*.css docs/*.html
var docsFS embed.FS

// mountDocs serves /api/openapi.json, /api/docs and /api/redoc.
func (s *Server) mountDocs(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		b, err := json.Marshal(s.Router.API.OpenAPI())
		if err != nil {
			s.Log.Error("openapi document", "err", err)
			httpx.WriteError(w, http.StatusInternalServerError, "Internal server error")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := docsFS.ReadFile("docs/" + name)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(b)
		}
	}
	mux.HandleFunc("GET /api/docs", page("swagger.html"))
	mux.HandleFunc("GET /api/redoc", page("redoc.html"))
	mux.HandleFunc("GET /api/docs/assets/{file}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		b, err := docsFS.ReadFile("docs/" + name)
		if err != nil {
			httpx.WriteError(w, http.StatusNotFound, "API route not found")
			return
		}
		ct := "application/javascript"
		if len(name) > 4 && name[len(name)-4:] == ".css" {
			ct = "text/css"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(b)
	})
}
