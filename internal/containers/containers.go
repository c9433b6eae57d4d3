package containers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/runcmd"
)

// Settings is the typed settings snapshot every room reads (no copy per read).
type Settings = config.Reader

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Runs is the job runner (automations room): an image pull becomes a run
// whose output and status /api/runs/{id} shows. Nil: pulls run inline.
type Runs interface {
	Submit(ctx context.Context, trigger, by string, work func(ctx context.Context) (output string, err error)) (int64, error)
}

// Deps are what the containers room is built from.
type Deps struct {
	Settings Settings
	Audit    Auditor
	Log      *slog.Logger
	// Runner runs the compose CLI (docker-compose or docker compose).
	Runner runcmd.Runner
	Runs   Runs
	// DefaultHost is the engine address when the dockerHost setting is
	// empty (the server's DOCKER_HOST); else unix:///var/run/docker.sock.
	DefaultHost string
	// HTTP is the client for TrueNAS (default: 5 s timeout).
	HTTP *http.Client
}

// Room is the containers room.
type Room struct {
	d  Deps
	mu sync.Mutex
	cl *client.Client
	at string // host of cl
}

// New builds the containers room.
func New(d Deps) *Room {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Runner == nil {
		d.Runner = runcmd.Exec{}
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 5 * time.Second}
	}
	return &Room{d: d}
}

// Close releases the engine client.
func (r *Room) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cl != nil {
		err := r.cl.Close()
		r.cl = nil
		return err
	}
	return nil
}

// settings is the flat settings dict in force, shared by every reader:
// read it, never modify it (no copy per read).
func (r *Room) settings() map[string]any {
	if r.d.Settings == nil {
		return map[string]any{}
	}
	return r.d.Settings.View()
}

// typed is the typed settings in force (read only; empty without settings).
func (r *Room) typed() *config.Values {
	if r.d.Settings == nil {
		return &config.Values{}
	}
	return r.d.Settings.Current()
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return strings.TrimSpace(s)
}

// errNoRuntime is the fallback when no engine answers.
var errNoRuntime = httpx.NotFound("No container runtime found")

// Host returns the engine address in use: the dockerHost setting, else the
// default host, else the Docker socket.
func (r *Room) Host() string {
	h := strings.TrimSpace(r.typed().DockerHost)
	if h == "" {
		h = r.d.DefaultHost
	}
	if h == "" {
		h = "unix:///var/run/docker.sock"
	}
	if strings.HasPrefix(h, "/") {
		h = "unix://" + h
	}
	return h
}

// engine returns a client for the configured engine, or errNoRuntime when
// its socket does not exist.
func (r *Room) engine() (*client.Client, error) {
	host := r.Host()
	if p, ok := strings.CutPrefix(host, "unix://"); ok {
		if _, err := os.Stat(p); err != nil {
			return nil, errNoRuntime
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cl != nil && r.at == host {
		return r.cl, nil
	}
	if r.cl != nil {
		_ = r.cl.Close()
		r.cl = nil
	}
	cl, err := client.New(client.WithHost(host))
	if err != nil {
		r.d.Log.Warn("docker client", "host", host, "err", err)
		return nil, errNoRuntime
	}
	r.cl, r.at = cl, host
	return cl, nil
}

// engineErr maps an engine error: a missing container is 404 notFound,
// an unreachable engine 404 "No container runtime found", anything else
// 502 with the engine's message.
func engineErr(err error, notFound string) error {
	switch {
	case err == nil:
		return nil
	case cerrdefs.IsNotFound(err):
		return httpx.NotFound("%s", notFound)
	case client.IsErrConnectionFailed(err):
		return errNoRuntime
	case errors.Is(err, context.DeadlineExceeded):
		return &timeoutErr{}
	}
	return httpx.BadGateway("Container engine error: %s", firstLine(err.Error()))
}

type timeoutErr struct{}

func (*timeoutErr) Error() string { return "timed out" }

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return runcmd.Head(s, 300)
}

// nameRe is the container name rule (spec 20 §14).
var nameRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]{0,252}$`)

func validName(name string) error {
	if !nameRe.MatchString(name) {
		return httpx.Invalid("Invalid container name")
	}
	return nil
}

// ansiRe matches ANSI escape sequences.
var ansiRe = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07`)

// StripANSI removes terminal escape sequences.
func StripANSI(s string) string { return ansiRe.ReplaceAllString(s, "") }

func humanBytes(b float64, si bool) string {
	unit, units := 1024.0, []string{"B", "KiB", "MiB", "GiB", "TiB"}
	if si {
		unit, units = 1000.0, []string{"B", "kB", "MB", "GB", "TB"}
	}
	i := 0
	for b >= unit && i < len(units)-1 {
		b /= unit
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f%s", b, units[i])
	}
	return fmt.Sprintf("%.2f%s", b, units[i])
}
