package auth_test

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/auth"
	"github.com/noba-go/noba/internal/server/servertest"
)

func legacyPBKDF2(pw, salt string, iters int) string {
	dk, _ := pbkdf2.Key(sha256.New, pw, []byte(salt), iters, 32)
	return hex.EncodeToString(dk)
}

func TestVerifyPasswordForms(t *testing.T) {
	h, err := auth.HashPassword("Secret-pass1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, fmt.Sprintf("pbkdf2:%d:", auth.Iterations)) || auth.Iterations < 200_000 {
		t.Fatalf("hash %q", h)
	}
	salt := "0123456789abcdef0123456789abcdef"
	sum := sha256.Sum256([]byte("s4lt" + "Secret-pass1"))
	cases := []struct {
		name, stored    string
		ok, wantUpgrade bool
	}{
		{"current", h, true, false},
		{"old iteration count", "pbkdf2:200000:" + salt + ":" + legacyPBKDF2("Secret-pass1", salt, 200000), true, true},
		{"no iteration count", "pbkdf2:" + salt + ":" + legacyPBKDF2("Secret-pass1", salt, 200000), true, true},
		{"salted sha256", "s4lt:" + hex.EncodeToString(sum[:]), true, true},
		{"wrong password", "pbkdf2:200000:" + salt + ":" + legacyPBKDF2("other", salt, 200000), false, false},
		{"bad iterations", "pbkdf2:x:" + salt + ":00", false, false},
		{"oidc placeholder", "!oidc:disabled", false, false},
		{"empty", "", false, false},
	}
	for _, c := range cases {
		ok, up := auth.VerifyPassword(c.stored, "Secret-pass1")
		if ok != c.ok || (ok && up != c.wantUpgrade) {
			t.Errorf("%s: got ok=%v upgrade=%v, want %v %v", c.name, ok, up, c.ok, c.wantUpgrade)
		}
	}
}

// TestUsersConfImportAndUpgrade starts a server whose data directory holds
// the established server's users.conf: its users log in with their old
// hashes, which are upgraded at login.
func TestUsersConfImportAndUpgrade(t *testing.T) {
	salt := "0123456789abcdef0123456789abcdef"
	old := "pbkdf2:" + salt + ":" + legacyPBKDF2("Legacy-pass1", salt, 200000)
	conf := "# users\n\nold:" + old + ":admin:\nviewer1:s4lt:" + func() string {
		s := sha256.Sum256([]byte("s4lt" + "Viewer-pass1"))
		return hex.EncodeToString(s[:])
	}() + ":viewer\n"
	env := servertest.NewWith(t, servertest.Setup{RealPasswordCost: true, Before: func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "users.conf"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
	}})
	tok := env.Login("old", "Legacy-pass1")
	var me map[string]any
	env.JSON(http.MethodGet, "/api/me", tok, nil, &me)
	if me["role"] != "admin" {
		t.Fatalf("me = %v", me)
	}
	var hash string
	if err := env.Server.DB.R.QueryRow(`SELECT hash FROM users WHERE username = 'old'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, fmt.Sprintf("pbkdf2:%d:", auth.Iterations)) {
		t.Fatalf("hash not upgraded: %q", hash)
	}
	env.Login("old", "Legacy-pass1")
	env.Login("viewer1", "Viewer-pass1")
	// The env's own first admin was not created: users came from the file.
	if st, _ := env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": servertest.AdminUser, "password": servertest.AdminPassword}); st != http.StatusUnauthorized {
		t.Fatalf("bootstrap admin exists beside imported users")
	}
}
