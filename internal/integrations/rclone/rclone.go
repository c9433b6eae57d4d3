// Package rclone manages rclone remotes through the rclone command line:
// `rclone listremotes`, `rclone config create|delete` and `rclone lsd`.
// Every run is bounded in time and output, arguments are passed without a
// shell, and a missing binary is ErrNotInstalled.
package rclone

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

// ErrNotInstalled means rclone is not on the PATH.
var ErrNotInstalled = errors.New("rclone not found")

// ErrTimeout means a run did not finish in time.
var ErrTimeout = errors.New("command timed out")

// ExitError is a run that exited non-zero; Stderr is its (bounded) error output.
type ExitError struct{ Stderr string }

func (e *ExitError) Error() string { return "rclone failed: " + e.Stderr }

// Client runs rclone. The zero value runs "rclone" with its own config file.
type Client struct {
	// Bin is the binary (default "rclone").
	Bin string
	// Config is the config file (--config); empty: rclone's default.
	Config string
}

// NameRE is the pattern of a remote name NOBA creates or deletes.
var NameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// TestNameRE is the pattern of a remote name NOBA tests.
var TestNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9 ._-]{0,63}$`)

var (
	logPrefix = regexp.MustCompile(`^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} `)
	keyRE     = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	valueRE   = regexp.MustCompile(`^[a-zA-Z0-9_./:@=, -]+$`)
)

// ValidParam reports the problem with one config parameter, "" when it is fine.
func ValidParam(k, v string) string {
	if !keyRE.MatchString(k) {
		return "Invalid parameter key: " + k
	}
	if !valueRE.MatchString(v) {
		return "Invalid parameter value for " + k
	}
	return ""
}

func (c *Client) run(ctx context.Context, args ...string) ([]byte, error) {
	bin := c.Bin
	if bin == "" {
		bin = "rclone"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, ErrNotInstalled
	}
	if c.Config != "" {
		args = append([]string{"--config", c.Config}, args...)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var out, errOut limited
	out.max, errOut.max = 1<<20, 16<<10
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Stdin = nil
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ErrTimeout
		}
		return nil, &ExitError{Stderr: strings.TrimSpace(errOut.b.String())}
	}
	return out.b.Bytes(), nil
}

type limited struct {
	b   bytes.Buffer
	max int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// List returns the configured remote names (without the trailing ':'), sorted.
func (c *Client) List(ctx context.Context) ([]string, error) {
	out, err := c.run(ctx, "listremotes")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if n := strings.TrimSuffix(strings.TrimSpace(line), ":"); n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Create creates remote name of type typ with params (validated by the caller).
func (c *Client) Create(ctx context.Context, name, typ string, params map[string]string) error {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := []string{"config", "create", name, typ}
	for _, k := range keys {
		args = append(args, k+"="+params[k])
	}
	args = append(args, "--non-interactive")
	_, err := c.run(ctx, args...)
	return err
}

// Delete deletes remote name.
func (c *Client) Delete(ctx context.Context, name string) error {
	_, err := c.run(ctx, "config", "delete", name)
	return err
}

// Test lists the top level of remote (rclone lsd remote: --max-depth 1).
func (c *Client) Test(ctx context.Context, remote string) error {
	_, err := c.run(ctx, "lsd", remote+":", "--max-depth", "1")
	return err
}

// FirstError is the line of rclone's error output worth showing: the first
// non-blank line not starting with NOTICE, else its first 120 characters.
func FirstError(stderr string) string {
	for _, line := range strings.Split(stderr, "\n") {
		line = logPrefix.ReplaceAllString(strings.TrimSpace(line), "")
		if line != "" && !strings.HasPrefix(line, "NOTICE") && !strings.Contains(line, " NOTICE: ") {
			return line
		}
	}
	if len(stderr) > 120 {
		return stderr[:120]
	}
	return strings.TrimSpace(stderr)
}

// Short bounds s to n bytes for a message.
func Short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// String describes a client for logs.
func (c *Client) String() string { return fmt.Sprintf("rclone(%s)", c.Bin) }
