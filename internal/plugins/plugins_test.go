package plugins_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

type managed struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Version   string         `json:"version"`
	Enabled   bool           `json:"enabled"`
	Error     *string        `json:"error"`
	HasConfig bool           `json:"has_config"`
	LastRun   *int64         `json:"last_run"`
	Data      map[string]any `json:"data"`
}

type errBody struct{ Error, Detail string }

func find(t *testing.T, env *servertest.Env, token, id string) managed {
	t.Helper()
	var list []managed
	if st := env.JSON(http.MethodGet, "/api/plugins/managed", token, nil, &list); st != http.StatusOK {
		t.Fatalf("managed: %d", st)
	}
	for _, m := range list {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("plugin %s not listed: %+v", id, list)
	return managed{}
}

func TestPluginLifecycle(t *testing.T) {
	env := servertest.NewWith(t, servertest.Setup{Jobs: true})
	admin, op, viewer := env.Token("admin"), env.Token("operator"), env.Token("viewer")

	var bundled []struct {
		ID, Filename string
		Bundled      bool
	}
	if st := env.JSON(http.MethodGet, "/api/plugins/bundled", admin, nil, &bundled); st != http.StatusOK || len(bundled) != 2 || !bundled[0].Bundled {
		t.Fatalf("bundled: %d %+v", st, bundled)
	}
	if st, _ := env.Do(http.MethodGet, "/api/plugins/bundled", op, nil); st != http.StatusForbidden {
		t.Fatalf("operator bundled: %d", st)
	}
	var avail []any
	if st := env.JSON(http.MethodGet, "/api/plugins/available", admin, nil, &avail); st != http.StatusOK || len(avail) != 0 {
		t.Fatalf("available without catalog: %d %v", st, avail)
	}

	var e errBody
	for _, c := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"bundled": true}, "Filename required"},
		{map[string]any{"filename": "../evil.sh", "bundled": true}, ""},
		{map[string]any{"filename": "nope.sh", "bundled": true}, "Install failed: no bundled plugin named nope.sh"},
		{map[string]any{"filename": "remote.sh"}, "URL required for remote install"},
		{map[string]any{"filename": "remote.sh", "url": "http://127.0.0.1/x"}, "Install failed: the URL must start with https://"},
		{map[string]any{"filename": "remote.sh", "url": "https://127.0.0.1/x"}, "Install failed: a remote plugin needs its sha256 (64 hex digits) to pin its content"},
	} {
		if st := env.JSON(http.MethodPost, "/api/plugins/install", admin, c.body, &e); st != http.StatusBadRequest || (c.msg != "" && e.Error != c.msg) {
			t.Errorf("install %v: %d %+v", c.body, st, e)
		}
	}
	if st, _ := env.Do(http.MethodPost, "/api/plugins/install", op, map[string]any{"filename": "uptime.sh", "bundled": true}); st != http.StatusForbidden {
		t.Fatalf("operator install: %d", st)
	}
	if st, b := env.Do(http.MethodPost, "/api/plugins/install", admin, map[string]any{"filename": "file-size.sh", "bundled": true}); st != http.StatusOK {
		t.Fatalf("install: %d %s", st, b)
	}
	fi, err := os.Stat(filepath.Join(env.Dir, "plugins", "file-size.sh"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("installed file: %v %v", fi, err)
	}

	// Found by reload, disabled until an admin enables it.
	var rl struct {
		Status string `json:"status"`
		Count  int    `json:"count"`
	}
	if st := env.JSON(http.MethodPost, "/api/plugins/reload", admin, nil, &rl); st != http.StatusOK || rl.Status != "ok" || rl.Count != 0 {
		t.Fatalf("reload: %d %+v", st, rl)
	}
	m := find(t, env, viewer, "file-size")
	if m.Enabled || !m.HasConfig || m.Name != "File size" || m.Version != "1.0.0" || m.Error != nil {
		t.Fatalf("managed after install: %+v", m)
	}

	var cfg struct {
		Config map[string]any            `json:"config"`
		Schema map[string]map[string]any `json:"schema"`
	}
	if st := env.JSON(http.MethodGet, "/api/plugins/file-size/config", admin, nil, &cfg); st != http.StatusOK || cfg.Config["warn_mb"] != float64(100) || cfg.Schema["path"]["type"] != "string" {
		t.Fatalf("config: %d %+v", st, cfg)
	}
	if st := env.JSON(http.MethodGet, "/api/plugins/nope/config", admin, nil, &e); st != http.StatusNotFound || e.Error != "Plugin has no configurable settings" {
		t.Fatalf("config of unknown: %d %+v", st, e)
	}
	if st := env.JSON(http.MethodPost, "/api/plugins/file-size/config", admin, map[string]any{"warn_mb": -1}, &e); st != http.StatusBadRequest || e.Error != "File path is required; Warn above (MB) must be >= 0" {
		t.Fatalf("invalid config: %d %+v", st, e)
	}
	if st := env.JSON(http.MethodPost, "/api/plugins/file-size/config", admin, map[string]any{"path": "/x", "warn_mb": "lots"}, &e); st != http.StatusBadRequest || e.Error != "Warn above (MB) must be a number" {
		t.Fatalf("non-number config: %d %+v", st, e)
	}
	watched := filepath.Join(t.TempDir(), "watched.log")
	if err := os.WriteFile(watched, []byte(strings.Repeat("x", 2048)), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, b := env.Do(http.MethodPost, "/api/plugins/file-size/config", admin, map[string]any{"path": watched, "warn_mb": 0.001}); st != http.StatusOK {
		t.Fatalf("save config: %d %s", st, b)
	}
	if st := env.JSON(http.MethodPost, "/api/plugins/nope/enable", admin, nil, &e); st != http.StatusNotFound || e.Error != "Plugin 'nope' not found" {
		t.Fatalf("enable unknown: %d %+v", st, e)
	}

	// Enabled: the loop runs it at once, with its configuration.
	var tog struct {
		Status  string `json:"status"`
		Plugin  string `json:"plugin"`
		Enabled bool   `json:"enabled"`
	}
	if st := env.JSON(http.MethodPost, "/api/plugins/file-size/enable", admin, nil, &tog); st != http.StatusOK || !tog.Enabled || tog.Plugin != "file-size" {
		t.Fatalf("enable: %d %+v", st, tog)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		m = find(t, env, viewer, "file-size")
		if m.LastRun != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin never ran: %+v", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m.Error != nil || m.Data["bytes"] != float64(2048) || m.Data["path"] != watched || m.Data["over_limit"] != true {
		t.Fatalf("collected: %+v (error %v)", m.Data, m.Error)
	}

	// Disabled: persisted across a reload.
	if st := env.JSON(http.MethodPost, "/api/plugins/file-size/disable", admin, nil, &tog); st != http.StatusOK || tog.Enabled {
		t.Fatalf("disable: %d %+v", st, tog)
	}
	if st := env.JSON(http.MethodPost, "/api/plugins/reload", admin, nil, &rl); st != http.StatusOK || rl.Count != 0 {
		t.Fatalf("reload after disable: %d %+v", st, rl)
	}
	if m = find(t, env, viewer, "file-size"); m.Enabled {
		t.Fatalf("still enabled: %+v", m)
	}
	if st, _ := env.Do(http.MethodPost, "/api/plugins/file-size/enable", viewer, nil); st != http.StatusForbidden {
		t.Fatalf("viewer enable: %d", st)
	}

	var audit []struct{ Action string }
	env.JSON(http.MethodGet, "/api/audit?limit=100", admin, nil, &audit)
	seen := map[string]bool{}
	for _, a := range audit {
		seen[a.Action] = true
	}
	for _, want := range []string{"plugin_install", "plugin_config", "plugin_enable", "plugin_disable", "plugin_reload"} {
		if !seen[want] {
			t.Errorf("audit lacks %s", want)
		}
	}
}

func TestPluginFailures(t *testing.T) {
	env := servertest.NewWith(t, servertest.Setup{Jobs: true, Before: func(dir string) {
		pd := filepath.Join(dir, "plugins")
		_ = os.MkdirAll(pd, 0o755)
		// A plugin whose describe is not JSON, and one whose collect fails.
		_ = os.WriteFile(filepath.Join(pd, "broken.sh"), []byte("#!/bin/sh\necho not json\n"), 0o755)
		_ = os.WriteFile(filepath.Join(pd, "failing.sh"), []byte("#!/bin/sh\nif [ \"$1\" = describe ]; then echo '{\"name\":\"Failing\",\"interval\":1}'; else echo '{\"error\":\"upstream down\"}'; fi\n"), 0o755)
		// One that hangs with a child process: killed with its group at the timeout.
		_ = os.WriteFile(filepath.Join(pd, "hang.sh"), []byte("#!/bin/sh\nif [ \"$1\" = describe ]; then echo '{\"name\":\"Hang\",\"interval\":1}'; exit 0; fi\nsleep 300 &\nwait\n"), 0o755)
		// Not executable: ignored.
		_ = os.WriteFile(filepath.Join(pd, "plain.sh"), []byte("#!/bin/sh\n"), 0o644)
	}})
	admin := env.Token("admin")
	b := find(t, env, admin, "broken")
	if b.Error == nil || !strings.Contains(*b.Error, "describe printed no valid manifest") {
		t.Fatalf("broken: %+v", b)
	}
	var list []managed
	env.JSON(http.MethodGet, "/api/plugins/managed", admin, nil, &list)
	if len(list) != 3 {
		t.Fatalf("managed: %+v", list)
	}
	for _, id := range []string{"failing", "hang"} {
		if st, _ := env.Do(http.MethodPost, "/api/plugins/"+id+"/enable", admin, nil); st != http.StatusOK {
			t.Fatalf("enable %s: %d", id, st)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		f := find(t, env, admin, "failing")
		if f.Error != nil && *f.Error == "upstream down" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("failing plugin error not shown: %+v", f)
		}
		time.Sleep(100 * time.Millisecond)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		hg := find(t, env, admin, "hang")
		if hg.Error != nil && *hg.Error == "collect timed out after 5s" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hanging plugin not timed out: %+v", hg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
