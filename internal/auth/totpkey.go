package auth

import (
	"crypto/rand"
	"encoding/base64"
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

// loadTOTPKey reads the TOTP sealing key at path, creating it (0600,
// exclusively, so that two starts cannot write two keys) when missing.
func loadTOTPKey(path string) (*fernet.Key, error) {
	for range 2 {
		raw, err := os.ReadFile(path)
		if err == nil {
			k, err := fernet.DecodeKey(strings.TrimSpace(string(raw)))
			if err != nil {
				return nil, fmt.Errorf("TOTP key %s: %w", path, err)
			}
			return k, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("TOTP key: %w", err)
		}
		var k fernet.Key
		if _, err := rand.Read(k[:]); err != nil {
			return nil, fmt.Errorf("TOTP key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue // created meanwhile: read it
		}
		if err != nil {
			return nil, fmt.Errorf("TOTP key: %w", err)
		}
		_, werr := f.WriteString(base64.URLEncoding.EncodeToString(k[:]))
		serr := f.Sync()
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = serr
		}
		if werr != nil {
			_ = os.Remove(path)
			return nil, fmt.Errorf("write TOTP key: %w", werr)
		}
		return &k, nil
	}
	return nil, errors.New("TOTP key: could not be created")
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
// opened: the user then cannot pass 2FA until an admin resets it).
func (r *Room) openTOTP(stored string) string {
	if !strings.HasPrefix(stored, totpPrefix) {
		return stored
	}
	if r.totpKey == nil {
		return ""
	}
	msg := fernet.VerifyAndDecrypt([]byte(stored[len(totpPrefix):]), 0, []*fernet.Key{r.totpKey})
	return string(msg)
}
