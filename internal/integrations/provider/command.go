package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// ErrNotInstalled means a tool an integration runs is not on the PATH.
var ErrNotInstalled = errors.New("not installed")

// limitedBuffer keeps at most max bytes and remembers that it overflowed.
type limitedBuffer struct {
	b        bytes.Buffer
	max      int
	overflow bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); len(p) > room {
		l.overflow = true
		l.b.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return l.b.Write(p)
}

// Command runs bin with args (no shell) until ctx ends and returns its
// standard output, bounded by maxOut bytes (a larger output is an error).
// A missing binary is ErrNotInstalled; a non-zero exit an error carrying
// the first line of standard error.
func Command(ctx context.Context, maxOut int, bin string, args ...string) ([]byte, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bin, ErrNotInstalled)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	out := &limitedBuffer{max: maxOut}
	errOut := &limitedBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", bin, ctx.Err())
		}
		line, _, _ := bytes.Cut(bytes.TrimSpace(errOut.b.Bytes()), []byte("\n"))
		return nil, fmt.Errorf("%s: %w: %s", bin, err, line)
	}
	if out.overflow {
		return nil, fmt.Errorf("%s: output larger than %d bytes", bin, maxOut)
	}
	return out.b.Bytes(), nil
}
