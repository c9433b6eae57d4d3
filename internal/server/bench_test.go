package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

// BenchmarkChainStats measures GET /api/stats through the whole server
// handler: middleware chain, guard (session lookup), stats handler.
func BenchmarkChainStats(b *testing.B) {
	env := servertest.New(b)
	tok := env.Token("viewer")
	if st, _ := env.Do(http.MethodGet, "/api/stats", tok, nil); st != 200 {
		b.Fatalf("stats: %d", st)
	}
	h := env.Server.Handler
	req := httptest.NewRequest(http.MethodGet, "/api/stats", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkChainHealth is the same for the unauthenticated /api/health.
func BenchmarkChainHealth(b *testing.B) {
	env := servertest.New(b)
	h := env.Server.Handler
	req := httptest.NewRequest(http.MethodGet, "/api/health", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
