package rclone_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/integrations/rclone"
)

func client(t *testing.T) (*rclone.Client, string) {
	t.Helper()
	if _, err := exec.LookPath("rclone"); err != nil {
		t.Skip("rclone not installed")
	}
	dir := t.TempDir()
	return &rclone.Client{Config: filepath.Join(dir, "rclone.conf")}, dir
}

// TestRemoteLifecycle drives the real rclone: create an alias remote, list
// it, list its top level, delete it.
func TestRemoteLifecycle(t *testing.T) {
	c, dir := client(t)
	ctx := context.Background()
	target := filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(target, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, "nas", "alias", map[string]string{"remote": target}); err != nil {
		t.Fatal(err)
	}
	names, err := c.List(ctx)
	if err != nil || !reflect.DeepEqual(names, []string{"nas"}) {
		t.Fatalf("List = %v, %v; want [nas]", names, err)
	}
	if err := c.Test(ctx, "nas"); err != nil {
		t.Errorf("Test(nas) = %v", err)
	}
	err = c.Test(ctx, "missing")
	var ee *rclone.ExitError
	if !errors.As(err, &ee) || !strings.Contains(rclone.FirstError(ee.Stderr), "didn't find section") {
		t.Errorf("Test(missing) = %v, want an ExitError naming the missing section", err)
	}
	if err := c.Delete(ctx, "nas"); err != nil {
		t.Fatal(err)
	}
	if names, _ := c.List(ctx); len(names) != 0 {
		t.Errorf("after delete: %v", names)
	}
	err = c.Create(ctx, "bad", "nosuchbackend", nil)
	if !errors.As(err, &ee) || !strings.Contains(rclone.FirstError(ee.Stderr), "nosuchbackend") {
		t.Errorf("Create(nosuchbackend) = %v", err)
	}
}

func TestMissingBinary(t *testing.T) {
	c := &rclone.Client{Bin: "rclone-not-here"}
	if _, err := c.List(context.Background()); !errors.Is(err, rclone.ErrNotInstalled) {
		t.Errorf("List = %v, want ErrNotInstalled", err)
	}
}

func TestTimeout(t *testing.T) {
	c, _ := client(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.List(ctx); !errors.Is(err, rclone.ErrTimeout) {
		t.Errorf("List on a finished context = %v, want ErrTimeout", err)
	}
}

func TestValidation(t *testing.T) {
	for _, tc := range []struct{ k, v, want string }{
		{"remote", "/tmp/x", ""}, {"bad key", "x", "Invalid parameter key: bad key"},
		{"pass", "a;rm -rf /", "Invalid parameter value for pass"}, {"url", "https://a.example:443/x", ""},
	} {
		if got := rclone.ValidParam(tc.k, tc.v); got != tc.want {
			t.Errorf("ValidParam(%q,%q) = %q, want %q", tc.k, tc.v, got, tc.want)
		}
	}
	if rclone.NameRE.MatchString("-x") || !rclone.NameRE.MatchString("gdrive.backup_1") {
		t.Error("NameRE")
	}
	if got := rclone.FirstError("2026/01/01 10:00:00 NOTICE: config not found\n2026/01/01 10:00:00 Failed to lsd: boom\n"); got != "Failed to lsd: boom" {
		t.Errorf("FirstError = %q", got)
	}
}
