// Package sysroot is the host a noba-agent acts on: the root below which
// it reads /proc, /sys and /etc, and the way it runs programs. Production
// uses "/" and real processes; tests point Root at a fixture tree and
// replace Runner and LookPath, so that every command handler runs in a
// test without touching the machine.
package sysroot

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// OutputCap is the cap of each captured output stream of a program.
const OutputCap = 64 << 10

// Result is the outcome of running a program.
type Result struct {
	Stdout, Stderr string
	// Code is the exit code (-1 when it did not run or timed out).
	Code     int
	Err      error
	TimedOut bool
}

// Runner runs argv (no shell) with a timeout, capturing capped output.
type Runner interface {
	Run(ctx context.Context, timeout time.Duration, argv ...string) Result
}

// Sys is the host: Root ("/" or "" for the machine), Runner (nil: real
// processes) and LookPath (nil: exec.LookPath).
type Sys struct {
	Root     string
	Runner   Runner
	LookPath func(string) (string, error)
	// SetProcGroup prepares real commands (process groups on Unix).
	SetProcGroup func(*exec.Cmd)
}

// Path maps an absolute host path below the root.
func (s *Sys) Path(abs string) string {
	if s.Root == "" || s.Root == "/" {
		return abs
	}
	return filepath.Join(s.Root, abs)
}

// ReadFile reads a host file below the root.
func (s *Sys) ReadFile(abs string) ([]byte, error) { return os.ReadFile(s.Path(abs)) }

// Open opens a host file below the root.
func (s *Sys) Open(abs string) (*os.File, error) { return os.Open(s.Path(abs)) }

// Stat stats a host path below the root.
func (s *Sys) Stat(abs string) (fs.FileInfo, error) { return os.Stat(s.Path(abs)) }

// ReadDir lists a host directory below the root.
func (s *Sys) ReadDir(abs string) ([]fs.DirEntry, error) { return os.ReadDir(s.Path(abs)) }

// Have reports whether a program is available.
func (s *Sys) Have(name string) bool {
	_, err := s.Look(name)
	return err == nil
}

// Look finds a program.
func (s *Sys) Look(name string) (string, error) {
	if s.LookPath != nil {
		return s.LookPath(name)
	}
	return exec.LookPath(name)
}

// Run runs argv through the Runner (a real process by default).
func (s *Sys) Run(ctx context.Context, timeout time.Duration, argv ...string) Result {
	if len(argv) == 0 {
		return Result{Code: -1, Err: errors.New("empty command")}
	}
	if s.Runner != nil {
		return s.Runner.Run(ctx, timeout, argv...)
	}
	return s.exec(ctx, timeout, argv...)
}

func (s *Sys) exec(ctx context.Context, timeout time.Duration, argv ...string) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	so, se := &capBuf{limit: OutputCap}, &capBuf{limit: OutputCap}
	cmd.Stdout, cmd.Stderr = so, se
	if s.SetProcGroup != nil {
		s.SetProcGroup(cmd)
	}
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	out := Result{Stdout: so.String(), Stderr: se.String()}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		out.TimedOut, out.Code = true, -1
		out.Err = timeoutError(timeout)
		return out
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		out.Code = ee.ExitCode()
	case err != nil:
		out.Err, out.Code = err, -1
	}
	return out
}

type timeoutError time.Duration

func (t timeoutError) Error() string {
	return "Timeout after " + itoa(int(time.Duration(t).Seconds())) + "s"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

type capBuf struct {
	buf   bytes.Buffer
	limit int
}

func (c *capBuf) Write(p []byte) (int, error) {
	if room := c.limit - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capBuf) String() string { return c.buf.String() }

// Fake is a Runner for tests: it answers each program (argv[0]) with a
// canned Result and records every call.
type Fake struct {
	mu      sync.Mutex
	Answers map[string]Result
	Calls   [][]string
}

// Run implements Runner.
func (f *Fake) Run(_ context.Context, _ time.Duration, argv ...string) Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, append([]string(nil), argv...))
	prog := filepath.Base(argv[0])
	if r, ok := f.Answers[prog]; ok {
		return r
	}
	return Result{Code: 127, Stderr: prog + ": not found"}
}

// Called returns the recorded calls.
func (f *Fake) Called() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.Calls...)
}

// LookIn returns a LookPath that finds exactly the named programs.
func LookIn(names ...string) func(string) (string, error) {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	return func(n string) (string, error) {
		if set[filepath.Base(n)] {
			return "/usr/bin/" + filepath.Base(n), nil
		}
		return "", exec.ErrNotFound
	}
}
