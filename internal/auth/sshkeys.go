package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/httpx"
)

// SSHKey is one authorized key as listed.
type SSHKey struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Comment     string `json:"comment"`
	Fingerprint string `json:"fingerprint"`
	SHA256      string `json:"sha256"`
}

func isKeyLine(l string) bool {
	t := strings.TrimSpace(l)
	return t != "" && !strings.HasPrefix(t, "#")
}

// listSSHKeys reads the authorized_keys file; ids index the key lines only
// (one index space for list and delete, §13 S6).
func listSSHKeys(path string) ([]SSHKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return []SSHKey{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read authorized keys: %w", err)
	}
	out := []SSHKey{}
	idx := 0
	for _, l := range strings.Split(string(raw), "\n") {
		if !isKeyLine(l) {
			continue
		}
		k := SSHKey{ID: idx}
		idx++
		fields := strings.Fields(l)
		if len(fields) >= 1 {
			k.Type = fields[0]
		}
		if len(fields) >= 2 {
			fp := fields[1]
			if len(fp) > 20 {
				fp = fp[:20]
			}
			k.Fingerprint = fp + "..."
		}
		if len(fields) >= 3 {
			k.Comment = strings.Join(fields[2:], " ")
		}
		if pk, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(l)); err == nil {
			k.SHA256 = ssh.FingerprintSHA256(pk)
			k.Type = pk.Type()
			k.Comment = comment
		}
		out = append(out, k)
	}
	return out, nil
}

// validateSSHKey accepts exactly one public key line "type base64 [comment]"
// with no options and no CR/LF (§13 S6).
func validateSSHKey(key string) (string, error) {
	key = strings.TrimSpace(key)
	if strings.ContainsAny(key, "\r\n\x00") {
		return "", httpx.Invalid("SSH key must be a single line")
	}
	if !strings.HasPrefix(key, "ssh-") && !strings.HasPrefix(key, "ecdsa-") && !strings.HasPrefix(key, "sk-") {
		return "", httpx.Invalid("Invalid SSH public key")
	}
	pk, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(key))
	if err != nil {
		return "", httpx.Invalid("Invalid SSH public key")
	}
	if len(options) > 0 {
		return "", httpx.Invalid("SSH key contains embedded options which are not allowed")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return "", httpx.Invalid("SSH key must be a single line")
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))
	if comment != "" {
		line += " " + comment
	}
	return line, nil
}

func addSSHKey(path, line string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("ssh dir: %w", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read authorized keys: %w", err)
	}
	s := string(raw)
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return config.WriteFileAtomic(path, []byte(s+line+"\n"), 0o600)
}

func removeSSHKey(path string, id int) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return httpx.NotFound("No authorized_keys file")
	}
	if err != nil {
		return fmt.Errorf("read authorized keys: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	idx, removed := 0, false
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if isKeyLine(l) {
			if idx == id {
				removed = true
				idx++
				continue
			}
			idx++
		}
		out = append(out, l)
	}
	if !removed {
		return httpx.NotFound("Key not found")
	}
	return config.WriteFileAtomic(path, []byte(strings.Join(out, "\n")+"\n"), 0o600)
}
