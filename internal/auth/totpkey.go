package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/fernet/fernet-go"
)

// totpPrefix marks a sealed TOTP secret in the users table (spec 10 §13
// S13: TOTP secrets are not stored in plain text). Plain secrets (imported
// from users.conf, or written before) are still read, and sealed at start.
const totpPrefix = "ENC:"

// loadLegacyTOTPKey reads the key that sealed TOTP secrets before they
// moved to the master key (spec 10 §13 S13). A missing file is no error
// (nil key): a new installation never had one, and none is created.
func loadLegacyTOTPKey(path string) (*fernet.Key, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("legacy TOTP key: %w", err)
	}
	k, err := fernet.DecodeKey(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("legacy TOTP key %s: %w", path, err)
	}
	return k, nil
}

// sealTOTP returns the secret as stored.
func (r *Room) sealTOTP(secret string) (string, error) {
	if secret == "" || r.totpKey == nil || strings.HasPrefix(secret, totpPrefix) {
		return secret, nil
	}
	tok, err := fernet.EncryptAndSign([]byte(secret), r.totpKey)
	if err != nil {
		return "", fmt.Errorf("seal TOTP secret: %w", err)
	}
	return totpPrefix + string(tok), nil
}

// openTOTP returns the usable secret of a stored one ("" when it cannot be
// opened: the user then cannot pass 2FA until an admin resets it), and
// whether it is sealed with the master key (false for plain secrets and
// those of the legacy key, which are to be sealed again).
func (r *Room) openTOTP(stored string) (string, bool) {
	if !strings.HasPrefix(stored, totpPrefix) {
		return stored, false
	}
	tok := []byte(stored[len(totpPrefix):])
	if r.totpKey != nil {
		if msg := fernet.VerifyAndDecrypt(tok, 0, []*fernet.Key{r.totpKey}); msg != nil {
			return string(msg), true
		}
	}
	if r.legacyTOTPKey != nil {
		if msg := fernet.VerifyAndDecrypt(tok, 0, []*fernet.Key{r.legacyTOTPKey}); msg != nil {
			return string(msg), false
		}
	}
	return "", false
}

// resealTOTP stores again with the master key a secret that is plain or
// sealed with the legacy key; it returns whether it did.
func (r *Room) resealTOTP(ctx context.Context, username, stored string) (bool, error) {
	if stored == "" || r.totpKey == nil {
		return false, nil
	}
	secret, current := r.openTOTP(stored)
	if current || secret == "" {
		return false, nil // sealed already, or no key opens it (left for an admin to reset)
	}
	sealed, err := r.sealTOTP(secret)
	if err != nil {
		return false, err
	}
	if err := r.d.Store.SetTOTP(ctx, username, sealed); err != nil {
		return false, fmt.Errorf("reseal TOTP secret of %s: %w", username, err)
	}
	return true, nil
}
