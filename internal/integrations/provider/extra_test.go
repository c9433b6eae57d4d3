package provider

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := Cache{TTL: time.Minute, now: func() time.Time { return now }}
	k := CacheKey("http://x", "secret")
	if strings.Contains(k, "secret") {
		t.Errorf("key keeps the secret readable: %s", k)
	}
	if _, ok := c.Get(k); ok {
		t.Error("empty cache hit")
	}
	c.Put(k, "block")
	if v, ok := c.Get(k); !ok || v != "block" {
		t.Errorf("fresh entry: %v %v", v, ok)
	}
	now = now.Add(time.Minute)
	if _, ok := c.Get(k); ok {
		t.Error("entry served at its TTL")
	}
	off := Cache{}
	off.Put(k, "x")
	if _, ok := off.Get(k); ok {
		t.Error("zero TTL cached")
	}
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := context.Background()
	if out, err := Command(ctx, 100, script("ok", `echo "$1-$2"`), "a", "b c"); err != nil || string(out) != "a-b c\n" {
		t.Errorf("ok: %q %v", out, err)
	}
	if _, err := Command(ctx, 100, filepath.Join(dir, "absent")); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("absent: %v", err)
	}
	if _, err := Command(ctx, 100, script("fail", "echo 'bad thing' >&2; exit 3")); err == nil || !strings.Contains(err.Error(), "bad thing") {
		t.Errorf("fail: %v", err)
	}
	if _, err := Command(ctx, 10, script("big", "echo 0123456789abcdef")); err == nil {
		t.Error("oversized output accepted")
	}
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := Command(tctx, 10, script("slow", "exec sleep 10")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow: %v", err)
	}
}
