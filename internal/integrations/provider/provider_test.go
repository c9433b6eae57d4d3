package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/integrations/provider"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := provider.Thousands(n); got != want {
			t.Errorf("Thousands(%d): got %q, want %q", n, got, want)
		}
	}
}

func TestBaseURL(t *testing.T) {
	cases := map[string]string{
		"pi.hole":                     "http://pi.hole",
		" https://nas.lan:443/ ":      "https://nas.lan:443",
		"http://u:p@h/x/?token=abc#f": "http://h/x",
	}
	for in, want := range cases {
		got, err := provider.BaseURL(in)
		if err != nil || got != want {
			t.Errorf("BaseURL(%q): got %q, %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://h", "http://", "javascript:alert(1)"} {
		if _, err := provider.BaseURL(bad); !errors.Is(err, provider.ErrUnauthorized) {
			t.Errorf("BaseURL(%q): got %v, want a configuration error", bad, err)
		}
	}
}

func TestClientBounds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 2048)))
		case "/redirect":
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
		case "/forbidden":
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer srv.Close()
	c := provider.NewClient()
	ctx := context.Background()

	if _, err := c.Do(ctx, provider.Request{URL: srv.URL + "/big", MaxBody: 1024}); err == nil ||
		!strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized body: got %v, want a size error", err)
	}
	if _, err := c.Do(ctx, provider.Request{URL: srv.URL + "/big", MaxBody: 4096}); err != nil {
		t.Errorf("body within bound: got %v", err)
	}
	_, err := c.Do(ctx, provider.Request{URL: srv.URL + "/redirect?auth=s3cret"})
	if !provider.HasStatus(err, http.StatusFound) {
		t.Errorf("redirect: got %v, want the 302 itself (not followed)", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error carries the query: %v", err)
	}
	_, err = c.Do(ctx, provider.Request{URL: srv.URL + "/forbidden"})
	if provider.Class(err) != "unauthorized" {
		t.Errorf("403: got class %q, want unauthorized", provider.Class(err))
	}
	_, err = c.Do(ctx, provider.Request{URL: "http://127.0.0.1:1/x?auth=s3cret"})
	if err == nil || strings.Contains(err.Error(), "s3cret") || provider.Class(err) != "offline" {
		t.Errorf("refused connection: got %v (class %q), want offline without the query", err, provider.Class(err))
	}
}
