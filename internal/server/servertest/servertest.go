// Package servertest starts the real NOBA server (every room, a real SQLite
// file in a temporary directory) behind httptest for HTTP tests, and hands
// out tokens for each role.
//
// With NOBA_TEST_PG_URL set (eval "$(scripts/pg-up.sh)"), every server
// runs on a fresh PostgreSQL database of its own instead (dropped when the
// test ends), so the same HTTP tests are the store suite of both dialects.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/db/pgtest"
	"github.com/noba-go/noba/internal/server"
)

// AdminUser and AdminPassword are the first admin of every test server.
const (
	AdminUser     = "admin"
	AdminPassword = "Admin-Test-pass1!"
	// UserPassword is the password of the per-role users Token creates.
	UserPassword = "Role-Test-pass1!"
)

// Env is a running test server.
type Env struct {
	T      testing.TB
	Server *server.Server
	HTTP   *httptest.Server
	URL    string
	Dir    string
	Client *http.Client

	mu     sync.Mutex
	tokens map[string]string
	cancel context.CancelFunc
	done   chan struct{}
}

// Config adjusts the server's configuration before it starts.
type Config func(*config.Config)

// Setup bundles what New takes: config edits, server options, and whether
// to run the background jobs.
type Setup struct {
	Config  []Config
	Options []server.Option
	// Jobs runs the server's background jobs while the test runs.
	Jobs bool
	// RealPasswordCost keeps the production PBKDF2 work factor; by default
	// test servers hash with 10,000 iterations (the same code, a lower
	// cost) so that logins under the race detector take milliseconds.
	RealPasswordCost bool
	// Before runs on the fresh data directory before the server starts
	// (to seed files such as users.conf or config.yaml).
	Before func(dir string)
	// BeforeDB runs on the server's migrated database (SQLite in the data
	// directory, or the test's PostgreSQL database) before the server
	// starts, to seed rows; the handle is closed afterwards.
	BeforeDB func(d *db.DB)
}

// New starts a server in a fresh temporary data directory.
func New(t testing.TB) *Env { return NewWith(t, Setup{}) }

// NewWith starts a server with the given setup.
func NewWith(t testing.TB, st Setup) *Env {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.FromEnv(func(k string) string {
		switch k {
		case "NOBA_DATA_DIR":
			return dir
		case "NOBA_ADMIN_USER":
			return AdminUser
		case "NOBA_ADMIN_PASSWORD":
			return AdminPassword
		case "NOBA_LISTEN":
			return "127.0.0.1:0"
		case "NOBA_OPENAPI":
			return "1"
		case "NOBA_AUTHORIZED_KEYS":
			return filepath.Join(dir, "authorized_keys")
		case "HOME":
			return dir
		}
		return ""
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if pgtest.URL() != "" {
		cfg.DatabaseURL = pgtest.NewMigratedDatabase(t)
	}
	if st.Before != nil {
		st.Before(dir)
	}
	if st.BeforeDB != nil {
		d, err := db.OpenConfigured(context.Background(), cfg.DatabaseURL, filepath.Join(dir, "noba.db"))
		if err != nil {
			t.Fatalf("open db: %v", err)
		}
		if err := db.Migrate(context.Background(), d); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		st.BeforeDB(d)
		_ = d.Close()
	}
	for _, f := range st.Config {
		f(&cfg)
	}
	level := slog.LevelWarn
	if os.Getenv("NOBA_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithCancel(context.Background())
	opts := st.Options
	if !st.RealPasswordCost {
		opts = append([]server.Option{server.WithPasswordIterations(10_000)}, opts...)
	}
	s, err := server.New(ctx, cfg, log, opts...)
	if err != nil {
		cancel()
		t.Fatalf("server.New: %v", err)
	}
	hs := httptest.NewServer(s.Handler)
	e := &Env{T: t, Server: s, HTTP: hs, URL: hs.URL, Dir: dir, Client: &http.Client{Timeout: 30 * time.Second},
		tokens: map[string]string{}, cancel: cancel, done: make(chan struct{})}
	if st.Jobs {
		go func() {
			defer close(e.done)
			_ = s.Jobs.Run(ctx)
		}()
	} else {
		close(e.done)
	}
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		cancel()
		<-e.done
		s.Close()
	})
	return e
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Do sends a request; body (if not nil) is sent as JSON, or raw when it is
// a []byte or string. It returns the status and the response body.
func (e *Env) Do(method, path, token string, body any) (int, []byte) {
	e.T.Helper()
	resp := e.Request(method, path, token, body, nil)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// Request sends a request with extra headers and returns the open response.
func (e *Env) Request(method, path, token string, body any, headers map[string]string) *http.Response {
	e.T.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			e.T.Fatalf("marshal: %v", err)
		}
		rd, ct = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.T.Fatalf("request: %v", err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// JSON sends a request and decodes the JSON answer into out (when not nil).
func (e *Env) JSON(method, path, token string, body, out any) int {
	e.T.Helper()
	st, b := e.Do(method, path, token, body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.T.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return st
}

// Login logs in and returns the token, failing the test on any other answer.
func (e *Env) Login(user, password string) string {
	e.T.Helper()
	var out struct {
		Token string `json:"token"`
	}
	st, b := e.Do(http.MethodPost, "/api/login", "", map[string]string{"username": user, "password": password})
	if st != http.StatusOK {
		e.T.Fatalf("login %s: %d %s", user, st, b)
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" {
		e.T.Fatalf("login %s: no token in %s", user, b)
	}
	return out.Token
}

// Token returns a session token for role ("viewer", "operator", "admin"),
// creating a user of that role (named after it) the first time.
func (e *Env) Token(role string) string {
	e.T.Helper()
	e.mu.Lock()
	tok, ok := e.tokens[role]
	e.mu.Unlock()
	if ok {
		return tok
	}
	if role == "admin" {
		tok = e.Login(AdminUser, AdminPassword)
	} else {
		admin := e.Token("admin")
		st, b := e.Do(http.MethodPost, "/api/admin/users", admin, map[string]string{
			"action": "add", "username": "t-" + role, "password": UserPassword, "role": role})
		if st != http.StatusOK && st != http.StatusConflict {
			e.T.Fatalf("add %s user: %d %s", role, st, b)
		}
		tok = e.Login("t-"+role, UserPassword)
	}
	e.mu.Lock()
	e.tokens[role] = tok
	e.mu.Unlock()
	return tok
}
