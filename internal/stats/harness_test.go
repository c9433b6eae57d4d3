package stats

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/db/dbtest"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/httpx"
)

// tokens maps the harness's bearer values to principals.
type tokens map[string]authz.Principal

func (t tokens) Authenticate(_ context.Context, v string, _ bool) (authz.Principal, error) {
	if p, ok := t[v]; ok {
		return p, nil
	}
	return authz.Principal{}, authz.ErrNoCredentials
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// harness is the stats room on a real SQLite file behind the real router
// and guards (tokens "viewer", "admin").
type harness struct {
	room  *Room
	store Store
	db    *db.DB
	clock *clock
	srv   *httptest.Server
	bus   *events.Bus
}

func staticSettings(flat map[string]any) config.Reader { return config.Static(flat) }

func newHarness(tb testing.TB, src collect.Source, mod func(*Deps)) *harness {
	tb.Helper()
	// SQLite, or PostgreSQL when NOBA_TEST_PG_URL is set.
	d := dbtest.Open(tb)
	ctx := context.Background()
	st, err := NewStore(ctx, d)
	if err != nil {
		tb.Fatal(err)
	}
	c := &clock{t: time.Unix(1_750_000_000, 0)}
	bus := events.New()
	deps := Deps{Store: st, Bus: bus, Source: src, Now: c.Now, Interval: 5 * time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Settings: staticSettings(nil)}
	if mod != nil {
		mod(&deps)
	}
	r := New(deps)
	httpx.InstallHumaErrors()
	mux := http.NewServeMux()
	hc := huma.DefaultConfig("test", "1")
	hc.OpenAPIPath, hc.DocsPath, hc.SchemasPath = "", "", ""
	hc.FieldsOptionalByDefault = true
	hc.AllowAdditionalPropertiesByDefault = true
	hc.CreateHooks = nil
	api := humago.New(mux, hc)
	auth := tokens{"viewer": {Username: "vera", Role: authz.ViewerRole, Kind: "session"},
		"admin": {Username: "adam", Role: authz.AdminRole, Kind: "session"}}
	api.UseMiddleware(httpx.HumaGuard(api, auth))
	r.Routes(&httpx.Router{API: api, Mux: mux, Auth: auth, Log: deps.Log})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return &harness{room: r, store: st, db: d, clock: c, srv: srv, bus: bus}
}

func (h *harness) get(tb testing.TB, path, token string) (int, []byte, http.Header) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// fixedSource returns a copy of snap on every collection.
func fixedSource(snap map[string]any) collect.Source {
	return collect.SourceFunc(func(context.Context) (map[string]any, error) {
		c := make(map[string]any, len(snap))
		for k, v := range snap {
			c[k] = v
		}
		return c, nil
	})
}

var errBoom = errors.New("boom")
