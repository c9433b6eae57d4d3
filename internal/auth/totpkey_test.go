package auth_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fernet/fernet-go"
	"github.com/pquerna/otp/totp"

	"github.com/noba-go/noba/internal/auth"
	"github.com/noba-go/noba/internal/server/servertest"
)

// Spec 10 §13 S13: TOTP secrets are sealed with the master key (the one of
// the secrets in config.yaml), not a key of their own. A new installation
// has no .totp.key; a secret enabled through the API opens with the master
// key.
func TestTOTPSealedWithMasterKey(t *testing.T) {
	env := servertest.New(t)
	if _, err := os.Stat(filepath.Join(env.Dir, ".totp.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a new installation has a TOTP key of its own (stat: %v)", err)
	}
	tok := env.Token("operator")
	var setup struct {
		Secret string `json:"secret"`
	}
	if st := env.JSON(http.MethodPost, "/api/auth/totp/setup", tok, nil, &setup); st != http.StatusOK {
		t.Fatalf("setup: %d", st)
	}
	code, _ := totp.GenerateCode(setup.Secret, time.Now())
	if st, b := env.Do(http.MethodPost, "/api/auth/totp/enable", tok, map[string]string{"secret": setup.Secret, "code": code}); st != http.StatusOK {
		t.Fatalf("enable: %d %s", st, b)
	}
	master := masterKey(t, env)
	if got := openWith(t, storedTOTP(t, env, "t-operator"), master); got != setup.Secret {
		t.Fatalf("the stored secret does not open with the master key (got %q)", got)
	}
}

// Secrets sealed with the legacy .totp.key still work, and move to the
// master key: at start-up, and on first use for one that appears later (a
// restored database).
func TestTOTPLegacyKeyMigrates(t *testing.T) {
	var legacy fernet.Key
	if _, err := rand.Read(legacy[:]); err != nil {
		t.Fatal(err)
	}
	env := servertest.NewWith(t, servertest.Setup{Before: func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, ".totp.key"), []byte(base64.URLEncoding.EncodeToString(legacy[:])), 0o600); err != nil {
			t.Fatal(err)
		}
	}})
	master := masterKey(t, env)
	sealLegacy := func(secret string) string {
		tok, err := fernet.EncryptAndSign([]byte(secret), &legacy)
		if err != nil {
			t.Fatal(err)
		}
		return "ENC:" + string(tok)
	}
	const adminSecret, opSecret = "JBSWY3DPEHPK3PXP", "KRSXG5CTMVRXEZLU"
	env.Token("operator") // creates t-operator

	// First use: a legacy secret written after start-up (a restored
	// database) opens at login and is sealed again with the master key.
	setTOTP(t, env, "admin", sealLegacy(adminSecret))
	code, _ := totp.GenerateCode(adminSecret, time.Now())
	st, b := env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": "admin", "password": servertest.AdminPassword, "totp_code": code})
	if st != http.StatusOK {
		t.Fatalf("login with a code of a legacy-sealed secret: %d %s", st, b)
	}
	if got := openWith(t, storedTOTP(t, env, "admin"), master); got != adminSecret {
		t.Fatalf("after first use the secret does not open with the master key (got %q)", got)
	}

	// Start-up: a fresh room seals every legacy secret with the master key.
	setTOTP(t, env, "t-operator", sealLegacy(opSecret))
	fresh, err := auth.New(context.Background(), auth.Deps{Store: auth.NewStore(env.Server.DB), Settings: env.Server.Settings,
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.SealTOTP(context.Background(), master, filepath.Join(env.Dir, ".totp.key")); err != nil {
		t.Fatal(err)
	}
	stored := storedTOTP(t, env, "t-operator")
	if got := openWith(t, stored, master); got != opSecret {
		t.Fatalf("after start-up the secret does not open with the master key (got %q)", got)
	}
	if got := openWith(t, stored, &legacy); got != "" {
		t.Fatal("the migrated secret is still sealed with the legacy key")
	}
	code, _ = totp.GenerateCode(opSecret, time.Now())
	st, b = env.Do(http.MethodPost, "/api/login", "", map[string]string{"username": "t-operator", "password": servertest.UserPassword, "totp_code": code})
	if st != http.StatusOK {
		t.Fatalf("login with the migrated secret: %d %s", st, b)
	}
}

func masterKey(t *testing.T, env *servertest.Env) *fernet.Key {
	t.Helper()
	k, err := env.Server.Settings.MasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func storedTOTP(t *testing.T, env *servertest.Env, user string) string {
	t.Helper()
	var s string
	if err := env.Server.DB.R.QueryRow(`SELECT totp_secret FROM users WHERE username = ?`, user).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func setTOTP(t *testing.T, env *servertest.Env, user, v string) {
	t.Helper()
	if _, err := env.Server.DB.W.Exec(`UPDATE users SET totp_secret = ? WHERE username = ?`, v, user); err != nil {
		t.Fatal(err)
	}
}

// openWith opens a stored "ENC:" secret with k ("" when k does not open it).
func openWith(t *testing.T, stored string, k *fernet.Key) string {
	t.Helper()
	if !strings.HasPrefix(stored, "ENC:") {
		t.Fatalf("stored secret %q is not sealed", stored)
	}
	return string(fernet.VerifyAndDecrypt([]byte(stored[4:]), 0, []*fernet.Key{k}))
}
