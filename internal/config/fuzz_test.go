package config_test

import (
	"encoding/json"
	"errors"
	"os"
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
	f.Fuzz(func(t *testing.T, data []byte) {
		st, _ := open(t)
		if _, err := st.Update(map[string]any{"radarIps": "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
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
	f.Fuzz(func(t *testing.T, body string) {
		var partial map[string]any
		if json.Unmarshal([]byte(body), &partial) != nil || partial == nil {
			return
		}
		st, _ := open(t)
		if _, err := st.Update(map[string]any{"piholeToken": "pt-secret", "cameraFeeds": []any{map[string]any{"url": "rtsp://u:cam-secret@127.0.0.1/"}},
			"customActions": []any{map[string]any{"id": "a", "url": "http://127.0.0.1/?t=ca-secret"}}}); err != nil {
			t.Fatal(err)
		}
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
