package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/config"
)

// FuzzRestore feeds arbitrary uploads to the config restore decoder: it
// never panics, a refused upload leaves config.yaml as it was, and an
// accepted one reads back without failing.
func FuzzRestore(f *testing.F) {
	f.Add([]byte(nestedYAML))
	f.Add([]byte("web:\n  monitoredServices: nginx\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("web: 3\n"))
	f.Add([]byte("notifications: [1]\n"))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte("a: &x [*x]\n"))
	seeded := fuzzSeed(f, map[string]any{"radarIps": "127.0.0.1"})
	f.Fuzz(func(t *testing.T, data []byte) {
		st := seeded(t)
		before, _ := os.ReadFile(st.Path())
		err := st.Restore(data)
		after, _ := os.ReadFile(st.Path())
		if err != nil {
			if !errors.Is(err, config.ErrInvalid) && !errors.Is(err, config.ErrTooLarge) {
				t.Fatalf("restore error outside the vocabulary: %v", err)
			}
			if string(before) != string(after) {
				t.Fatal("a refused upload changed config.yaml")
			}
			return
		}
		_ = st.Get()
		_ = st.Masked()
		_ = st.Current()
	})
}

// FuzzSettingsImport feeds arbitrary JSON bodies of POST /api/settings
// to Update: it never panics, errors are ErrInvalid, and a secret stored
// before never shows in the masked settings or the change list.
func FuzzSettingsImport(f *testing.F) {
	f.Add(`{"monitoredServices":"nginx","piholeToken":"***"}`)
	f.Add(`{"alertRules":[{"id":"r1","action":{"headers":{"Authorization":"***"}}}]}`)
	f.Add(`{"customActions":[{"id":1,"url":"***"},{"url":"rtsp://a:***@h/"}]}`)
	f.Add(`{"backupRetentionDays":"x"}`)
	f.Add(`{"gotifyUrl":"ftp://x","ldapUrl":"ldap://h"}`)
	f.Add(`{"cameraFeeds":[{"url":"rtsp://u:***@127.0.0.1/"}],"organizeMaxDepth":2.5}`)
	seeded := fuzzSeed(f, map[string]any{"piholeToken": "pt-secret", "cameraFeeds": []any{map[string]any{"url": "rtsp://u:cam-secret@127.0.0.1/"}},
		"customActions": []any{map[string]any{"id": "a", "url": "http://127.0.0.1/?t=ca-secret"}}})
	f.Fuzz(func(t *testing.T, body string) {
		var partial map[string]any
		if json.Unmarshal([]byte(body), &partial) != nil || partial == nil {
			return
		}
		st := seeded(t)
		changes, err := st.Update(partial)
		if err != nil && !errors.Is(err, config.ErrInvalid) {
			t.Fatalf("update error outside the vocabulary: %v", err)
		}
		out, _ := json.Marshal([]any{st.Masked(), changes})
		for _, s := range []string{"pt-secret", "cam-secret", "ca-secret"} {
			if strings.Contains(string(out), s) {
				t.Fatalf("%s shown after %s: %s", s, body, out)
			}
		}
	})
}

// fuzzSeed saves base once through Update and returns a function that
// opens, for each run, a fresh Settings over a copy of the resulting
// config.yaml and master key. Each run then costs an open and the call
// under test, not the seeding writes, a new master key and their fsyncs
// (which made these targets run a few dozen times in 8 s); the files live
// on tmpfs when the host has one, where a sync costs nothing.
func fuzzSeed(f testing.TB, base map[string]any) func(t testing.TB) *config.Settings {
	f.Helper()
	root := f.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "noba-fuzz-"); err == nil {
			root = d
			f.Cleanup(func() { _ = os.RemoveAll(d) })
		}
	}
	seed := filepath.Join(root, "seed")
	st, err := config.OpenSettings(filepath.Join(seed, "config.yaml"), filepath.Join(seed, ".master.key"))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := st.Update(base); err != nil {
		f.Fatal(err)
	}
	cfg, err := os.ReadFile(st.Path())
	if err != nil {
		f.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(seed, ".master.key")) // none when base holds no secret
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		f.Fatal(err)
	}
	return func(t testing.TB) *config.Settings {
		t.Helper()
		dir, err := os.MkdirTemp(root, "run-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), cfg, 0o600); err != nil {
			t.Fatal(err)
		}
		if key != nil {
			if err := os.WriteFile(filepath.Join(dir, ".master.key"), key, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		st, err := config.OpenSettings(filepath.Join(dir, "config.yaml"), filepath.Join(dir, ".master.key"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
}

// BenchmarkSettingsImportRun measures one run of FuzzSettingsImport's
// body on a valid input (the cost that bounds the fuzz targets' speed).
func BenchmarkSettingsImportRun(b *testing.B) {
	seeded := fuzzSeed(b, map[string]any{"piholeToken": "pt-secret"})
	for b.Loop() {
		st := seeded(b)
		changes, err := st.Update(map[string]any{"monitoredServices": "nginx", "piholeToken": "***"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal([]any{st.Masked(), changes}); err != nil {
			b.Fatal(err)
		}
	}
}
