package server

import (
	"net/http"
)

// UI is the web dashboard's file system (the built single-page app);
// the web package sets it. Nil serves a short placeholder page.
var UI http.FileSystem

// ui serves the embedded single-page app: assets by path, index.html for
// every other non-API GET.
func (s *Server) ui() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
		_, _ = w.Write([]byte("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>NOBA</title></head><body><h1>NOBA Command Center</h1><p>The API is at <a href=\"/api/health\">/api/health</a>.</p></body></html>"))
	})
}
