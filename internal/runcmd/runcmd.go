// Package runcmd is the one seam through which the infrastructure and
// operations rooms run host tools (systemctl, journalctl, smartctl,
// docker-compose, ...): a program and its arguments, never a shell, with a
// timeout and a cap on the output kept. Tests swap the Exec runner for a
// Recorded one that answers with outputs recorded from the real tools.
package runcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Errors a Runner returns; callers map them to their documented fallbacks.
var (
	// ErrNotFound means the program is not installed.
	ErrNotFound = errors.New("program not found")
	// ErrTimeout means the program ran past its timeout and was killed.
	ErrTimeout = errors.New("timed out")
)

// DefaultCap is the number of bytes kept of each of stdout and stderr.
const DefaultCap = 1 << 20

// Cmd is one program run.
type Cmd struct {
	Name    string
	Args    []string
	Env     []string // added to the server's environment
	Timeout time.Duration
	// Cap bounds the bytes kept of stdout and of stderr (default DefaultCap).
	Cap int
}

// String is the command line, for logs and recorded outputs.
func (c Cmd) String() string {
	return strings.TrimSpace(c.Name + " " + strings.Join(c.Args, " "))
}

// Result is what a program wrote and how it ended. A non-zero exit is a
// Result, not an error.
type Result struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// Runner runs programs.
type Runner interface {
	Run(ctx context.Context, c Cmd) (Result, error)
	// Has reports whether the program can be run.
	Has(name string) bool
}

// Exec runs programs on the host with os/exec.
type Exec struct{}

// Has implements Runner.
func (Exec) Has(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// Run implements Runner.
func (Exec) Run(ctx context.Context, c Cmd) (Result, error) {
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Cap <= 0 {
		c.Cap = DefaultCap
	}
	path, err := exec.LookPath(c.Name)
	if err != nil {
		return Result{ExitCode: -1}, fmt.Errorf("%s: %w", c.Name, ErrNotFound)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, c.Args...)
	if len(c.Env) > 0 {
		cmd.Env = append(os.Environ(), c.Env...)
	}
	cmd.WaitDelay = 2 * time.Second
	var out, errb capped
	out.max, errb.max = c.Cap, c.Cap
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	res := Result{Stdout: out.String(), Stderr: errb.String()}
	if ctx.Err() == context.DeadlineExceeded {
		res.ExitCode = -1
		return res, fmt.Errorf("%s: %w", c.Name, ErrTimeout)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	default:
		res.ExitCode = -1
		return res, fmt.Errorf("run %s: %w", c.Name, err)
	}
	return res, nil
}

// capped keeps the first max bytes written and drops the rest. It does
// not embed bytes.Buffer: io.Copy would use the buffer's ReadFrom and
// bypass the cap.
type capped struct {
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		if len(p) > room {
			c.buf.Write(p[:room])
		} else {
			c.buf.Write(p)
		}
	}
	return len(p), nil
}

func (c *capped) String() string { return c.buf.String() }

// Recorded answers from recorded outputs keyed by the command line
// (Cmd.String()). Commands without a recording are "not found" when their
// program is not in Installed, else exit 1 with "unrecorded" on stderr. It
// keeps the commands it was asked to run.
type Recorded struct {
	mu        sync.Mutex
	Outputs   map[string]Result
	Installed map[string]bool
	Errs      map[string]error
	calls     []Cmd
}

// NewRecorded returns a Recorded runner with the given outputs; every
// program named by a recorded command counts as installed.
func NewRecorded(outputs map[string]Result) *Recorded {
	r := &Recorded{Outputs: map[string]Result{}, Installed: map[string]bool{}, Errs: map[string]error{}}
	for k, v := range outputs {
		r.Set(k, v)
	}
	return r
}

// Set records the output of a command line.
func (r *Recorded) Set(line string, res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Outputs[line] = res
	r.Installed[strings.Fields(line)[0]] = true
}

// Fail makes a command line fail with err (e.g. ErrTimeout).
func (r *Recorded) Fail(line string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Errs[line] = err
	r.Installed[strings.Fields(line)[0]] = true
}

// Has implements Runner.
func (r *Recorded) Has(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Installed[name]
}

// Run implements Runner.
func (r *Recorded) Run(_ context.Context, c Cmd) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	line := c.String()
	if err, ok := r.Errs[line]; ok {
		return Result{ExitCode: -1}, fmt.Errorf("%s: %w", c.Name, err)
	}
	if res, ok := r.Outputs[line]; ok {
		return res, nil
	}
	if !r.Installed[c.Name] {
		return Result{ExitCode: -1}, fmt.Errorf("%s: %w", c.Name, ErrNotFound)
	}
	return Result{ExitCode: 1, Stderr: "unrecorded: " + line}, nil
}

// Calls returns the command lines run so far.
func (r *Recorded) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.calls))
	for _, c := range r.calls {
		out = append(out, c.String())
	}
	return out
}

// Tail returns the last n bytes of s (on a rune boundary).
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	for i := 0; i < len(s) && i < 4; i++ {
		if s[i]&0xC0 != 0x80 {
			return s[i:]
		}
	}
	return s
}

// Head returns the first n bytes of s.
func Head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
