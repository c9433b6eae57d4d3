package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/db"
)

type noAudit struct{ actions []string }

func (a *noAudit) Record(_ context.Context, action, _, _, _ string) {
	a.actions = append(a.actions, action)
}

type noSettings map[string]any

func (s noSettings) Current() *config.Values { return config.Static(s).Current() }
func (s noSettings) View() map[string]any    { return s }
func (s noSettings) Value(k string) any      { return config.Static(s).Value(k) }
func (s noSettings) String(k string) string  { return config.Static(s).String(k) }

// TestRemoteInstall installs over HTTPS (a loopback TLS server) and checks
// the sha256 pin and the size bound; a refused download writes nothing.
func TestRemoteInstall(t *testing.T) {
	script := []byte("#!/bin/sh\n[ \"$1\" = describe ] && echo '{\"name\":\"Remote\"}' || echo '{\"data\":1}'\n")
	sum := sha256.Sum256(script)
	good := hex.EncodeToString(sum[:])
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/remote.sh":
			_, _ = w.Write(script)
		case "/huge.sh":
			_, _ = w.Write([]byte(strings.Repeat("x", 6<<20)))
		case "/catalog.json":
			_, _ = w.Write([]byte(`[{"id":"remote","filename":"remote.sh","url":"` + "https://" + r.Host + `/remote.sh"}]`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	d, err := db.Open(filepath.Join(dir, "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := db.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	audit := &noAudit{}
	r := New(Deps{DB: d, Settings: noSettings{"pluginCatalogUrl": srv.URL + "/catalog.json"}, Audit: audit, Log: slog.Default(),
		Dir: filepath.Join(dir, "plugins"), HTTP: srv.Client()})
	ctx := authz.WithPrincipal(context.Background(), authz.Principal{Username: "admin", Role: authz.AdminRole})

	av, err := r.available(ctx, nil)
	if err != nil || len(av.Body) != 1 {
		t.Fatalf("available: %v %v", av, err)
	}
	in := func(file, url, sha string) *installIn {
		x := &installIn{}
		x.Body.Filename, x.Body.URL, x.Body.SHA256 = file, url, sha
		return x
	}
	for _, c := range []struct {
		in   *installIn
		want string
	}{
		{in("remote.sh", srv.URL+"/remote.sh", strings.Repeat("0", 64)), "Install failed: the download does not match the sha256 given"},
		{in("huge.sh", srv.URL+"/huge.sh", good), "Install failed: plugin larger than 5 MiB"},
		{in("gone.sh", srv.URL+"/gone.sh", good), "Install failed: download answered 404"},
	} {
		if _, err := r.install(ctx, c.in); err == nil || err.Error() != c.want {
			t.Errorf("install %s: %v, want %q", c.in.Body.Filename, err, c.want)
		}
	}
	if des, _ := os.ReadDir(filepath.Join(dir, "plugins")); len(des) != 0 {
		t.Fatalf("refused installs left files: %v", des)
	}
	if _, err := r.install(ctx, in("remote.sh", srv.URL+"/remote.sh", strings.ToUpper(good))); err != nil {
		t.Fatalf("pinned install: %v", err)
	}
	if n, err := r.Reload(ctx); err != nil || n != 0 {
		t.Fatalf("reload: %d %v", n, err)
	}
	if m := r.managed(); len(m) != 1 || m[0].ID != "remote" || m[0].Name != "Remote" || m[0].Enabled {
		t.Fatalf("managed: %+v", m)
	}
	if len(audit.actions) != 1 || audit.actions[0] != "plugin_install" {
		t.Fatalf("audit: %v", audit.actions)
	}
}
