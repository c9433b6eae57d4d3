package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/config"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A wildcard listen address is asked on loopback.
	env := envOf(map[string]string{"NOBA_LISTEN": "0.0.0.0:" + port, "HOME": t.TempDir()})
	if err := healthcheck(ctx, env); err != nil {
		t.Fatalf("healthy server: %v", err)
	}
	if path != "/api/health" {
		t.Fatalf("asked %q, want /api/health", path)
	}
	// PORT alone selects the port too.
	if err := healthcheck(ctx, envOf(map[string]string{"PORT": port, "HOME": t.TempDir()})); err != nil {
		t.Fatalf("PORT=%s: %v", port, err)
	}

	status = http.StatusServiceUnavailable
	if err := healthcheck(ctx, env); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("503 answer: err = %v, want a status 503 error", err)
	}

	srv.Close()
	if err := healthcheck(ctx, env); err == nil {
		t.Fatal("nothing listening: want an error")
	}
	if err := healthcheck(ctx, envOf(map[string]string{"NOBA_LISTEN": "nonsense"})); err == nil {
		t.Fatal("bad NOBA_LISTEN: want an error")
	}
}

func TestHealthURL(t *testing.T) {
	for listen, want := range map[string]string{
		"0.0.0.0:8080":   "http://127.0.0.1:8080/api/health",
		":9000":          "http://127.0.0.1:9000/api/health",
		"[::]:8080":      "http://[::1]:8080/api/health",
		"10.0.0.5:8080":  "http://10.0.0.5:8080/api/health",
		"127.0.0.1:1234": "http://127.0.0.1:1234/api/health",
	} {
		cfg, err := configFor(t, map[string]string{"NOBA_LISTEN": listen})
		if err != nil {
			t.Fatal(err)
		}
		if got := healthURL(cfg); got != want {
			t.Errorf("%s: %s, want %s", listen, got, want)
		}
	}
	cfg, err := configFor(t, map[string]string{"NOBA_LISTEN": "0.0.0.0:8443", "SSL_CERT": "c", "SSL_KEY": "k"})
	if err != nil {
		t.Fatal(err)
	}
	if got := healthURL(cfg); got != "https://127.0.0.1:8443/api/health" {
		t.Errorf("TLS: %s", got)
	}
}

func configFor(t *testing.T, m map[string]string) (config.Config, error) {
	t.Helper()
	m["HOME"] = t.TempDir()
	return config.FromEnv(envOf(m))
}
