package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

func TestHealthHeadersAndNotFound(t *testing.T) {
	env := servertest.New(t)
	resp := env.Request(http.MethodGet, "/api/health", "", nil, nil)
	var h struct {
		Status  string `json:"status"`
		Version string `json:"version"`
		UptimeS *int64 `json:"uptime_s"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || h.Status != "ok" || h.Version != config.Version || h.UptimeS == nil {
		t.Fatalf("health: %d %+v", resp.StatusCode, h)
	}
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP = %q", csp)
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent without TLS")
	}
	st, b := env.Do(http.MethodGet, "/api/no-such-route", "", nil)
	if st != 404 || !strings.Contains(string(b), `"error":"API route not found"`) || !strings.Contains(string(b), `"detail":"API route not found"`) {
		t.Fatalf("unknown route: %d %s", st, b)
	}
	st, b = env.Do(http.MethodDelete, "/api/health", "", nil)
	if st != 405 || !strings.Contains(string(b), "Method Not Allowed") {
		t.Fatalf("wrong method: %d %s", st, b)
	}
	st, b = env.Do(http.MethodPost, "/api/login", "", `{"username": `)
	if st != 400 || !strings.Contains(string(b), "Invalid JSON") {
		t.Fatalf("bad json: %d %s", st, b)
	}
	st, b = env.Do(http.MethodPost, "/api/login", "", map[string]any{"username": 5, "password": "x"})
	if st != 400 {
		t.Fatalf("wrong type: %d %s", st, b)
	}
}

func TestRouteList(t *testing.T) {
	env := servertest.New(t)
	var routes []string
	if st := env.JSON(http.MethodGet, "/api/routes", env.Token("viewer"), nil, &routes); st != 200 {
		t.Fatalf("routes: %d", st)
	}
	has := map[string]bool{}
	for _, r := range routes {
		has[r] = true
	}
	for _, want := range []string{"GET /api/health", "POST /api/login", "GET /api/stats", "DELETE /api/admin/api-keys/{key_id}"} {
		if !has[want] {
			t.Errorf("route list lacks %q", want)
		}
	}
	if has["GET /api/no-such"] {
		t.Error("invented route")
	}
}

func TestDocsOnlyWhenEnabled(t *testing.T) {
	env := servertest.New(t)
	for _, p := range []string{"/api/openapi.json", "/api/docs", "/api/redoc", "/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/redoc.standalone.js"} {
		if st, _ := env.Do(http.MethodGet, p, "", nil); st != 200 {
			t.Errorf("%s: %d", p, st)
		}
	}
	_, b := env.Do(http.MethodGet, "/api/docs", "", nil)
	if strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
		t.Errorf("docs page loads from another origin:\n%s", b)
	}
	off := servertest.NewWith(t, servertest.Setup{Config: []servertest.Config{func(c *config.Config) { c.OpenAPI = false }}})
	for _, p := range []string{"/api/openapi.json", "/api/docs", "/api/redoc"} {
		if st, _ := off.Do(http.MethodGet, p, "", nil); st != 404 {
			t.Errorf("%s without NOBA_OPENAPI: %d, want 404", p, st)
		}
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestGracefulShutdown runs the real Serve loop, cancels it as SIGTERM
// would, and checks it stops within 10 s with system_start/stop audited.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := config.FromEnv(func(k string) string {
		return map[string]string{"NOBA_DATA_DIR": dir, "NOBA_ADMIN_PASSWORD": "Admin-pass-1", "NOBA_LISTEN": freePort(t)}[k]
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	url := "http://" + cfg.Listen
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/api/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown took more than 10 s")
	}
	t.Logf("shutdown in %v", time.Since(start))
	var actions []string
	rows, err := s.DB.R.Query(`SELECT action FROM audit ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	rows.Close()
	s.Close()
	if len(actions) < 2 || actions[0] != "system_start" || actions[len(actions)-1] != "system_stop" {
		t.Fatalf("audit actions = %v", actions)
	}
}

// TestTLSAndHSTS serves TLS when SSL_CERT/SSL_KEY are set and then sends HSTS.
func TestTLSAndHSTS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	_ = os.WriteFile(cert, certPEM, 0o600)
	_ = os.WriteFile(key, keyPEM, 0o600)
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"NOBA_DATA_DIR": dir, "NOBA_ADMIN_PASSWORD": "Admin-pass-1", "NOBA_LISTEN": freePort(t), "SSL_CERT": cert, "SSL_KEY": key}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done; s.Close() }()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = c.Get("https://" + cfg.Listen + "/api/health"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("TLS health: %d HSTS=%q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
}
