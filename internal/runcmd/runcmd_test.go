package runcmd_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/runcmd"
)

func TestExec(t *testing.T) {
	ctx := context.Background()
	var r runcmd.Exec
	res, err := r.Run(ctx, runcmd.Cmd{Name: "sh", Args: []string{"-c", "echo out; echo err >&2; exit 3"}})
	if err != nil || res.Stdout != "out\n" || res.Stderr != "err\n" || res.ExitCode != 3 {
		t.Errorf("run = %+v, %v", res, err)
	}
	// Arguments are never interpreted by a shell.
	res, err = r.Run(ctx, runcmd.Cmd{Name: "echo", Args: []string{"$(id)", ";", "`id`"}})
	if err != nil || res.Stdout != "$(id) ; `id`\n" {
		t.Errorf("echo = %q, %v", res.Stdout, err)
	}
	if _, err := r.Run(ctx, runcmd.Cmd{Name: "no-such-tool-xyz"}); !errors.Is(err, runcmd.ErrNotFound) {
		t.Errorf("missing tool: %v", err)
	}
	if r.Has("no-such-tool-xyz") || !r.Has("sh") {
		t.Errorf("Has")
	}
	start := time.Now()
	if _, err := r.Run(ctx, runcmd.Cmd{Name: "sleep", Args: []string{"10"}, Timeout: 200 * time.Millisecond}); !errors.Is(err, runcmd.ErrTimeout) {
		t.Errorf("timeout: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("timeout not enforced")
	}
	res, err = r.Run(ctx, runcmd.Cmd{Name: "sh", Args: []string{"-c", "yes | head -c 100000"}, Cap: 1000})
	if err != nil || len(res.Stdout) != 1000 {
		t.Errorf("cap: %d bytes, %v", len(res.Stdout), err)
	}
	res, err = r.Run(ctx, runcmd.Cmd{Name: "sh", Args: []string{"-c", "echo $NOBA_X"}, Env: []string{"NOBA_X=42"}})
	if err != nil || strings.TrimSpace(res.Stdout) != "42" {
		t.Errorf("env: %q %v", res.Stdout, err)
	}
}

func TestRecorded(t *testing.T) {
	r := runcmd.NewRecorded(map[string]runcmd.Result{"systemctl restart -- a": {Stdout: "ok"}})
	r.Fail("smartctl -a", runcmd.ErrTimeout)
	ctx := context.Background()
	if res, err := r.Run(ctx, runcmd.Cmd{Name: "systemctl", Args: []string{"restart", "--", "a"}}); err != nil || res.Stdout != "ok" {
		t.Errorf("recorded: %+v %v", res, err)
	}
	if res, err := r.Run(ctx, runcmd.Cmd{Name: "systemctl", Args: []string{"stop"}}); err != nil || res.ExitCode != 1 {
		t.Errorf("unrecorded: %+v %v", res, err)
	}
	if _, err := r.Run(ctx, runcmd.Cmd{Name: "git"}); !errors.Is(err, runcmd.ErrNotFound) {
		t.Errorf("not installed: %v", err)
	}
	if _, err := r.Run(ctx, runcmd.Cmd{Name: "smartctl", Args: []string{"-a"}}); !errors.Is(err, runcmd.ErrTimeout) {
		t.Errorf("fail: %v", err)
	}
	if got := len(r.Calls()); got != 4 {
		t.Errorf("calls = %d", got)
	}
	if runcmd.Tail("héllo", 4) != "llo" && runcmd.Tail("héllo", 4) != "éllo" {
		t.Errorf("tail = %q", runcmd.Tail("héllo", 4))
	}
}
