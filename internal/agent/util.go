package agent

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/wire"
)

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// capBuffer keeps at most limit bytes and reports whether it overflowed.
type capBuffer struct {
	buf      bytes.Buffer
	limit    int
	overflow bool
	onFull   func()
}

func (c *capBuffer) Write(p []byte) (int, error) {
	room := c.limit - c.buf.Len()
	if room <= 0 {
		if !c.overflow && c.onFull != nil {
			c.onFull()
		}
		c.overflow = true
		return len(p), nil
	}
	if len(p) > room {
		c.buf.Write(p[:room])
		c.overflow = true
		if c.onFull != nil {
			c.onFull()
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

func (c *capBuffer) String() string { return wire.Truncate(c.buf.String(), c.limit) }

// runOut is the outcome of a subprocess.
type runOut struct {
	stdout, stderr string
	code           int
	err            error
	timedOut       bool
}

// run runs argv (no shell) with a timeout on the agent's host, capturing
// capped output.
func (a *Agent) run(ctx context.Context, timeout time.Duration, argv ...string) runOut {
	r := a.sys.Run(ctx, timeout, argv...)
	out := runOut{stdout: wire.Truncate(r.Stdout, wire.OutputCap), stderr: wire.Truncate(r.Stderr, wire.OutputCap),
		code: r.Code, err: r.Err, timedOut: r.TimedOut}
	if r.TimedOut {
		out.err = wire.Messagef("Timeout after %ds", int(timeout.Seconds()))
	}
	return out
}

// have reports whether a program is available on the agent's host.
func (a *Agent) have(name string) bool { return a.sys.Have(name) }

// ok and fail build result fields.
func ok(fields map[string]any) map[string]any {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["status"] = "ok"
	return fields
}

func fail(format string, args ...any) map[string]any {
	return map[string]any{"status": "error", "error": fmt.Sprintf(format, args...)}
}

// statusOf is "ok" for exit code 0, else "error".
func statusOf(r runOut) string {
	if r.err == nil && r.code == 0 {
		return "ok"
	}
	return "error"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
