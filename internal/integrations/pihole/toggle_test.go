package pihole_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/pihole"
	"github.com/noba-go/noba/internal/integrations/provider"
)

func TestToggleBase(t *testing.T) {
	for in, want := range map[string]string{"192.168.1.2/admin/": "http://192.168.1.2", "https://pi.hole/admin": "https://pi.hole"} {
		if got, err := pihole.ToggleBase(in); err != nil || got != want {
			t.Errorf("ToggleBase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestToggleTimeout: a Pi-hole that never answers fails within the context's bound.
func TestToggleTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client going away
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := pihole.Toggle(ctx, provider.NewClient(), srv.URL, "pw", true, 0)
	if provider.Class(err) != "timeout" || time.Since(start) > 3*time.Second {
		t.Errorf("err = %v (class %s) after %v, want a timeout", err, provider.Class(err), time.Since(start))
	}
	var ae *pihole.AuthError
	if errors.As(err, &ae) {
		t.Error("a timeout reported as an auth failure")
	}
}
