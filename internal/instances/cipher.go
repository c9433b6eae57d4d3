package instances

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Cipher seals the secret values of auth_config before they are stored and
// opens them when read, so that a copy of the database (a backup) carries
// no usable credential.
type Cipher interface {
	Seal(plain string) (string, error)
	Open(sealed string) (string, error)
}

// sealedPrefix marks a sealed value in the database.
const sealedPrefix = "enc:v1:"

// KeyFile is a Cipher with AES-256-GCM under a random key kept in a file
// (created with mode 0600 on first use).
type KeyFile struct {
	Path string

	mu   sync.Mutex
	aead cipher.AEAD
}

// NewKeyFile returns the cipher of the key at path.
func NewKeyFile(path string) *KeyFile { return &KeyFile{Path: path} }

func (k *KeyFile) load() (cipher.AEAD, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.aead != nil {
		return k.aead, nil
	}
	raw, err := os.ReadFile(k.Path)
	var key []byte
	switch {
	case err == nil:
		key, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("instance key %s: not a base64 256-bit key", k.Path)
		}
	case errors.Is(err, os.ErrNotExist):
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("instance key: %w", err)
		}
		if err := writeKey(k.Path, []byte(base64.StdEncoding.EncodeToString(key))); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("instance key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("instance key: %w", err)
	}
	k.aead, err = cipher.NewGCM(block)
	return k.aead, err
}

// writeKey writes a new key file atomically (temp file, fsync, rename).
func writeKey(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".instances-key-*")
	if err != nil {
		return fmt.Errorf("write instance key: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err == nil {
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), path)
		}
		if err != nil {
			return fmt.Errorf("write instance key: %w", err)
		}
		return nil
	}
	_ = f.Close()
	return fmt.Errorf("write instance key: %w", err)
}

// Seal encrypts plain (an empty value stays empty).
func (k *KeyFile) Seal(plain string) (string, error) {
	if plain == "" || strings.HasPrefix(plain, sealedPrefix) {
		return plain, nil
	}
	a, err := k.load()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return sealedPrefix + base64.StdEncoding.EncodeToString(a.Seal(nonce, nonce, []byte(plain), nil)), nil
}

// Open decrypts a sealed value; a value without the prefix is returned as
// is (stored before sealing existed).
func (k *KeyFile) Open(sealed string) (string, error) {
	if !strings.HasPrefix(sealed, sealedPrefix) {
		return sealed, nil
	}
	a, err := k.load()
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(sealed[len(sealedPrefix):])
	if err != nil || len(raw) < a.NonceSize() {
		return "", errors.New("open: malformed sealed value")
	}
	out, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], nil)
	if err != nil {
		return "", errors.New("open: the instance key does not open this value")
	}
	return string(out), nil
}

// sealConfig returns cfg with every secret string sealed (nested maps too).
func sealConfig(c Cipher, cfg map[string]any) (map[string]any, error) {
	if c == nil {
		return cfg, nil
	}
	out := make(map[string]any, len(cfg))
	for key, v := range cfg {
		switch x := v.(type) {
		case string:
			if IsSecret(key) {
				s, err := c.Seal(x)
				if err != nil {
					return nil, err
				}
				out[key] = s
				continue
			}
		case map[string]any:
			m, err := sealConfig(c, x)
			if err != nil {
				return nil, err
			}
			out[key] = m
			continue
		}
		out[key] = v
	}
	return out, nil
}

// openConfig reverses sealConfig; a value that does not open reads as "".
func openConfig(c Cipher, cfg map[string]any) map[string]any {
	if c == nil {
		return cfg
	}
	for key, v := range cfg {
		switch x := v.(type) {
		case string:
			if strings.HasPrefix(x, sealedPrefix) {
				s, err := c.Open(x)
				if err != nil {
					s = ""
				}
				cfg[key] = s
			}
		case map[string]any:
			cfg[key] = openConfig(c, x)
		}
	}
	return cfg
}
