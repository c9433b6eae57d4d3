package instances_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/instances"
)

// TestHealthJob runs the health job once: enabled instances with a URL are
// probed and recorded, disabled ones and those without a URL are left alone.
func TestHealthJob(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(filepath.Join(t.TempDir(), "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer broken.Close()
	st := instances.NewStore(d, instances.NewKeyFile(filepath.Join(t.TempDir(), "key")))
	now := time.Unix(1_700_000_000, 0)
	for _, in := range []instances.Instance{
		{ID: "up", URL: up.URL, Enabled: true},
		{ID: "broken", URL: broken.URL, Enabled: true},
		{ID: "off", URL: up.URL, Enabled: false},
		{ID: "nourl", Enabled: true},
	} {
		in.Category, in.Platform, in.VerifySSL, in.CreatedAt, in.AuthConfig, in.Tags = "nas", "truenas", true, now.Unix(), map[string]any{}, []string{}
		if err := st.Create(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	r := instances.New(instances.Deps{Store: st, Now: func() time.Time { return now }})
	if len(r.Jobs()) != 1 {
		t.Fatal("no health job")
	}
	if err := r.CheckHealth(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"up": "online", "broken": "offline", "off": "unknown", "nourl": "unknown"}
	for id, w := range want {
		in, err := st.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if in.HealthStatus != w {
			t.Errorf("%s: health %q, want %q", id, in.HealthStatus, w)
		}
	}
	in, _ := st.Get(ctx, "up")
	if in.LastSeen == nil || *in.LastSeen != now.Unix() {
		t.Errorf("up: last_seen %v", in.LastSeen)
	}
	in, _ = st.Get(ctx, "broken")
	if in.HealthError != "HTTP 502" || in.LastSeen != nil {
		t.Errorf("broken: %q last_seen %v", in.HealthError, in.LastSeen)
	}
}

func TestServerSideAccessors(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(filepath.Join(t.TempDir(), "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	st := instances.NewStore(d, instances.NewKeyFile(filepath.Join(t.TempDir(), "key")))
	for _, in := range []instances.Instance{
		{ID: "a", Platform: "truenas", Enabled: true, AuthConfig: map[string]any{"api_key": "k-1"}},
		{ID: "b", Platform: "truenas", Enabled: false, AuthConfig: map[string]any{}},
		{ID: "c", Platform: "proxmox", Enabled: true, AuthConfig: map[string]any{}},
	} {
		in.Category, in.Tags = "x", []string{}
		if err := st.Create(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	r := instances.New(instances.Deps{Store: st})
	in, err := r.Instance(ctx, "a")
	if err != nil || in.AuthConfig["api_key"] != "k-1" {
		t.Errorf("Instance(a) = %v, %v; want the key in the clear", in.AuthConfig, err)
	}
	if _, err := r.Instance(ctx, "zz"); !errors.Is(err, instances.ErrNotFound) {
		t.Errorf("Instance(zz) err = %v", err)
	}
	list, _ := r.Enabled(ctx, "truenas")
	if len(list) != 1 || list[0].ID != "a" {
		t.Errorf("Enabled(truenas) = %v", list)
	}
}
