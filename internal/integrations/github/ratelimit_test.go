package github_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

// TestRateLimitIsNotUnauthorized: GitHub answers 403 with
// X-RateLimit-Remaining: 0 (primary limit) or a "secondary rate limit"
// message; neither is a bad token.
func TestRateLimitIsNotUnauthorized(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"primary": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", "1717000000")
			http.Error(w, `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`, http.StatusForbidden)
		},
		"secondary": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`, http.StatusForbidden)
		},
		"429": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusTooManyRequests)
		},
	} {
		srv := httptest.NewServer(h)
		p, st := at(srv.URL)
		got := providertest.Block(t, p, st, 3*time.Second).(map[string]any)
		if got["status"] != "rate_limited" || got["rate_remaining"] != float64(0) {
			t.Errorf("%s: %v, want rate_limited", name, got)
		}
		if name == "primary" && got["reset"] != float64(1717000000) {
			t.Errorf("primary reset: %v", got["reset"])
		}
		srv.Close()
	}
	// a plain 403 (token without access) stays unauthorized
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "4999")
		http.Error(w, `{"message":"Forbidden"}`, http.StatusForbidden)
	}))
	defer srv.Close()
	p, st := at(srv.URL)
	providertest.Equal(t, "plain 403", providertest.Block(t, p, st, 3*time.Second), provider.Unauthorized())
}
