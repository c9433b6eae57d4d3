package instances_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/instances"
	"github.com/noba-go/noba/internal/server/servertest"
)

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	c := instances.NewKeyFile(path)
	s, err := c.Seal("hunter2")
	if err != nil || !strings.HasPrefix(s, "enc:v1:") || strings.Contains(s, "hunter2") {
		t.Fatalf("Seal = %q, %v", s, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	// a second cipher on the same file opens it; another key does not
	if p, err := instances.NewKeyFile(path).Open(s); err != nil || p != "hunter2" {
		t.Errorf("Open = %q, %v", p, err)
	}
	if _, err := instances.NewKeyFile(filepath.Join(t.TempDir(), "other")).Open(s); err == nil {
		t.Error("another key opened the value")
	}
	if p, _ := c.Open("plain"); p != "plain" {
		t.Errorf("unsealed value: %q", p)
	}
}

// TestSecretsSealedAtRest: the database files never hold a credential in
// the clear, and the API still works with the stored (sealed) value.
func TestSecretsSealedAtRest(t *testing.T) {
	env := servertest.New(t)
	const secret = "at-rest-Secret-value-987"
	do(t, env, "POST", "/api/integrations/instances", "admin", map[string]any{"id": "r1", "category": "nas", "platform": "truenas",
		"auth_config": map[string]any{"api_key": secret, "username": "plain-user-visible"}}, http.StatusOK)
	do(t, env, "PATCH", "/api/integrations/instances/r1", "admin", map[string]any{"auth_config": map[string]any{"api_key": "***"}, "site": "x"}, http.StatusOK)
	var all []byte
	if env.Server.DB.SQL().Name() == "postgres" {
		// No files to read: every stored row of the table, as text.
		rows, err := env.Server.DB.R.Query(`SELECT row_to_json(i)::text FROM integration_instances i`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				t.Fatal(err)
			}
			all = append(all, r...)
		}
		_ = rows.Close()
	}
	for _, f := range []string{"noba.db", "noba.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(env.Dir, f))
		all = append(all, b...)
	}
	if !bytes.Contains(all, []byte("plain-user-visible")) {
		t.Fatal("the database files do not hold the instance at all: the check would prove nothing")
	}
	if bytes.Contains(all, []byte(secret)) {
		t.Error("the database holds the API key in the clear")
	}
	if _, err := os.Stat(filepath.Join(env.Dir, ".instances.key")); err != nil {
		t.Errorf("instance key: %v", err)
	}
	// the sealed value survives a masked round trip: an admin reads it masked, not empty
	one := obj(t, do(t, env, "GET", "/api/integrations/instances/r1", "admin", nil, http.StatusOK))
	if one["auth_config"].(map[string]any)["api_key"] != "***" {
		t.Errorf("after patch: %v", one["auth_config"])
	}
}
