package agent

import (
	"os"
	"path/filepath"
	"testing"
)

// The agent applies the server's read rules again on the resolved path: a
// harmless-looking symlink to a private key is refused as the key is, and
// a public key stays readable.
func TestReadableResolvedSecrets(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "tls", "site.key")
	if err := os.MkdirAll(filepath.Dir(key), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "notes.txt")
	if err := os.Symlink(key, link); err != nil {
		t.Fatal(err)
	}
	if _, err := readable(link); err == nil {
		t.Error("a symlink to a private key is readable")
	}
	pub := filepath.Join(dir, ".ssh", "id_ed25519.pub")
	if err := os.MkdirAll(filepath.Dir(pub), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, []byte("ssh-ed25519 AAAA"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readable(pub); err != nil {
		t.Errorf("public key refused: %v", err)
	}
}
