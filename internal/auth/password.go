package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/noba-go/noba/internal/httpx"
)

// Iterations is the PBKDF2-HMAC-SHA256 work factor of new hashes. Stored
// hashes below it (and the legacy forms) are upgraded at login.
const Iterations = 600_000

// HashPassword returns "pbkdf2:<iterations>:<salt_hex>:<dk_hex>"; the salt
// is 16 random bytes whose hex text is the PBKDF2 salt (spec 10 §2.1).
func HashPassword(pw string) (string, error) { return HashPasswordIter(pw, Iterations) }

// HashPasswordIter is HashPassword with a given work factor.
func HashPasswordIter(pw string, iters int) (string, error) {
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	sh := hex.EncodeToString(salt[:])
	dk, err := pbkdf2.Key(sha256.New, pw, []byte(sh), iters, 32)
	if err != nil {
		return "", fmt.Errorf("pbkdf2: %w", err)
	}
	return fmt.Sprintf("pbkdf2:%d:%s:%s", iters, sh, hex.EncodeToString(dk)), nil
}

// VerifyPassword checks pw against a stored hash in any of the accepted
// forms; upgrade reports whether the hash should be re-made at login.
func VerifyPassword(stored, pw string) (ok, upgrade bool) {
	return VerifyPasswordIter(stored, pw, Iterations)
}

// VerifyPasswordIter is VerifyPassword against the work factor want.
func VerifyPasswordIter(stored, pw string, want int) (ok, upgrade bool) {
	if stored == "" {
		return false, false
	}
	parts := strings.Split(stored, ":")
	switch {
	case len(parts) == 4 && parts[0] == "pbkdf2":
		iters, err := strconv.Atoi(parts[1])
		if err != nil || iters <= 0 || iters > 10_000_000 {
			return false, false
		}
		return pbkdf2Equal(pw, parts[2], parts[3], iters), iters < want
	case len(parts) == 3 && parts[0] == "pbkdf2":
		return pbkdf2Equal(pw, parts[1], parts[2], 200_000), true
	case len(parts) == 2 && parts[0] != "pbkdf2" && !strings.HasPrefix(stored, "!"):
		sum := sha256.Sum256([]byte(parts[0] + pw))
		want := strings.ToLower(parts[1])
		got := hex.EncodeToString(sum[:])
		return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1, true
	}
	return false, false
}

func pbkdf2Equal(pw, salt, wantHex string, iters int) bool {
	want, err := hex.DecodeString(wantHex)
	if err != nil || len(want) == 0 {
		return false
	}
	dk, err := pbkdf2.Key(sha256.New, pw, []byte(salt), iters, len(want))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(dk, want) == 1
}

const specialChars = "!@#$%^&*()_+-=[]{};':\",./<>?\\|`~"

// CheckPasswordStrength applies the policy of spec 10 §2.2; the first
// failing rule's message is returned as a 400.
func CheckPasswordStrength(pw string, minLen int) error {
	if len([]rune(pw)) < minLen {
		return httpx.Invalid("Password must be at least %d characters", minLen)
	}
	hasUpper, hasDigitOrSpecial := false, false
	for _, r := range pw {
		if r >= 'A' && r <= 'Z' {
			hasUpper = true
		}
		if unicode.IsDigit(r) || strings.ContainsRune(specialChars, r) {
			hasDigitOrSpecial = true
		}
	}
	if !hasUpper {
		return httpx.Invalid("Password must contain at least one uppercase letter")
	}
	if !hasDigitOrSpecial {
		return httpx.Invalid("Password must contain at least one digit or special character")
	}
	return nil
}

// ValidUsername applies the username rule: 1-64 characters, no whitespace, ':', '/' or '\'.
func ValidUsername(u string) bool {
	if u == "" || len([]rune(u)) > 64 {
		return false
	}
	if !utf8.ValidString(u) {
		return false
	}
	for _, r := range u {
		if unicode.IsSpace(r) || r == ':' || r == '/' || r == '\\' || httpx.UnsafeRune(r) {
			return false
		}
	}
	return true
}

// ValidName reports whether a display name (an API key's) is printable
// text: valid UTF-8, at most 100 characters, no control, format or bidi
// override characters (issue 11 item 9).
func ValidName(s string) bool {
	if s == "" || !utf8.ValidString(s) || len([]rune(s)) > 100 {
		return false
	}
	for _, r := range s {
		if httpx.UnsafeRune(r) {
			return false
		}
	}
	return true
}
