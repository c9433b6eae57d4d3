package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/config"
)

func open(t *testing.T) (*config.Settings, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := config.OpenSettings(filepath.Join(dir, "config.yaml"), filepath.Join(dir, ".master.key"))
	if err != nil {
		t.Fatal(err)
	}
	return st, dir
}

func TestInterruptedWriteLeavesPreviousFile(t *testing.T) {
	st, dir := open(t)
	if _, err := st.Update(map[string]any{"monitoredServices": "nginx"}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(st.Path())
	crash := errors.New("power lost")
	st.SetBeforeRename(func(tmp string) error {
		// The new content is fully written to the temp file at this point.
		b, _ := os.ReadFile(tmp)
		if !strings.Contains(string(b), "sshd") {
			t.Errorf("temp file lacks the new content: %s", b)
		}
		return crash
	})
	if _, err := st.Update(map[string]any{"monitoredServices": "sshd"}); !errors.Is(err, crash) {
		t.Fatalf("update: %v, want the interruption", err)
	}
	after, _ := os.ReadFile(st.Path())
	if string(after) != string(before) {
		t.Fatalf("config.yaml changed by an interrupted write:\n%s", after)
	}
	if got := st.String("monitoredServices"); got != "nginx" {
		t.Fatalf("in force: %q, want nginx", got)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".config.yaml.tmp-*"))
	if len(tmps) != 0 {
		t.Fatalf("temp files left: %v", tmps)
	}
	// A reopened store (a restart) reads the previous file too.
	st2, err := config.OpenSettings(st.Path(), filepath.Join(dir, ".master.key"))
	if err != nil || st2.String("monitoredServices") != "nginx" {
		t.Fatalf("after restart: %v %q", err, st2.String("monitoredServices"))
	}
}

func TestSecretsEncryptedAndChannelsMerged(t *testing.T) {
	st, dir := open(t)
	if _, err := st.Update(map[string]any{"gotifyEnabled": true, "gotifyUrl": "http://gotify.local", "gotifyAppToken": "g-secret"}); err != nil {
		t.Fatal(err)
	}
	// §13 F10: updating one field keeps the others.
	if _, err := st.Update(map[string]any{"gotifyUrl": "http://gotify2.local"}); err != nil {
		t.Fatal(err)
	}
	g := st.Get()
	if g["gotifyAppToken"] != "g-secret" || g["gotifyEnabled"] != true || g["gotifyUrl"] != "http://gotify2.local" {
		t.Fatalf("flattened gotify = %v %v %v", g["gotifyAppToken"], g["gotifyEnabled"], g["gotifyUrl"])
	}
	// §13 F21: the nested channel reads decrypted for the senders.
	ch := g["notifications"].(map[string]any)["gotify"].(map[string]any)
	if ch["app_token"] != "g-secret" {
		t.Fatalf("nested app_token = %v", ch["app_token"])
	}
	raw, _ := os.ReadFile(st.Path())
	if strings.Contains(string(raw), "g-secret") {
		t.Fatalf("plaintext secret on disk:\n%s", raw)
	}
	// A restore with nested plaintext secrets reads back; masked output hides them.
	yml := "notifications:\n  telegram:\n    enabled: true\n    bot_token: tg-secret\n    chat_id: '42'\n"
	if err := st.Restore([]byte(yml)); err != nil {
		t.Fatal(err)
	}
	m := st.Masked()["notifications"].(map[string]any)["telegram"].(map[string]any)
	if m["bot_token"] != config.Mask || m["chat_id"] != "42" {
		t.Fatalf("masked telegram = %v", m)
	}
	// An undecryptable value (another host's key) reads as empty, never fails (§13 F8).
	if err := os.WriteFile(filepath.Join(dir, ".master.key"), []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), 0o600); err != nil {
		t.Fatal(err)
	}
	st2, err := config.OpenSettings(st.Path(), filepath.Join(dir, ".master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st2.Update(map[string]any{"piholeToken": "p"}); err != nil {
		t.Fatal(err)
	}
	if got := st2.String("gotifyAppToken"); got != "" {
		t.Fatalf("undecryptable secret read as %q, want empty", got)
	}
	if st2.String("piholeToken") != "p" {
		t.Fatalf("piholeToken = %q", st2.String("piholeToken"))
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"HOST": "127.0.0.1", "PORT": "9090", "NOBA_DATA_DIR": "/tmp/x"}
	c, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil || c.Listen != "127.0.0.1:9090" || c.ConfigPath != "/tmp/x/config.yaml" || c.AuditDays != 90 {
		t.Fatalf("%v %+v", err, c)
	}
	env["NOBA_LISTEN"] = "0.0.0.0:1"
	env["NOBA_AUDIT_DAYS"] = "x"
	if _, err := config.FromEnv(func(k string) string { return env[k] }); err == nil {
		t.Fatal("bad NOBA_AUDIT_DAYS accepted")
	}
	env["NOBA_AUDIT_DAYS"] = "7"
	env["SSL_CERT"] = "/c"
	if _, err := config.FromEnv(func(k string) string { return env[k] }); err == nil {
		t.Fatal("SSL_CERT without SSL_KEY accepted")
	}
}
