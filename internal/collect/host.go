package collect

import (
	"context"
	"log/slog"
	"maps"
	"path/filepath"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/disk"
)

// HostOptions configures a Host. The zero value is usable: it reads the
// live machine ("/"), watches no services and pings no hosts.
type HostOptions struct {
	// Root is the filesystem root the collectors read (/proc, /sys, /etc
	// below it); "" means "/". Tests point it at a fixture tree.
	Root string
	// Services are the systemd units reported in "services".
	Services []string
	// RadarHosts are the IP addresses pinged for "radar".
	RadarHosts []string
	// WANTestIP and LANTestIP are pinged for "netHealth" ("" = not tested).
	WANTestIP, LANTestIP string
	// ContainerSockets are Docker/Podman API sockets tried in order; nil
	// means the usual ones below Root (docker.sock, podman.sock, the
	// user's podman socket).
	ContainerSockets []string
	// Systemctl is the systemctl binary ("" = "systemctl" from PATH).
	Systemctl string
	// Timeout bounds one collection (default 4.5 s, spec 10 §4.1); probes
	// still running then yield their fallback values.
	Timeout time.Duration
	// Log receives collector failures (default slog.Default()).
	Log *slog.Logger
}

// Targets are the parts of HostOptions that may change between
// collections (the stats room takes them from the settings).
type Targets struct {
	Services             []string
	RadarHosts           []string
	WANTestIP, LANTestIP string
}

// Host collects the payload of spec 10 §4.2 from one machine. It keeps the
// counters of the previous collection to report rates. Safe for concurrent
// use; collections are serialised.
type Host struct {
	opts HostOptions
	log  *slog.Logger
	env  common.EnvMap

	tmu     sync.Mutex
	targets Targets

	mu         sync.Mutex // serialises Collect
	collectors []collector

	pmu   sync.Mutex
	procs []Process

	// statfs replaces the statfs call in tests (fixture trees have no
	// real filesystems).
	statfs func(mount string) (*disk.UsageStat, error)
	// clock replaces time.Now in tests.
	clock func() time.Time
}

// collector contributes some keys of the payload. Fallback values for its
// keys are written by defaults before it runs, so a collector that fails
// or times out leaves the documented fallback, never a guess.
type collector interface {
	name() string
	defaults(p map[string]any)
	update(ctx context.Context, h *Host, p map[string]any) error
}

// NewHost returns a collector of the machine (or fixture tree) at opts.Root.
func NewHost(opts HostOptions) *Host {
	if opts.Root == "" {
		opts.Root = "/"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 4500 * time.Millisecond
	}
	if opts.Systemctl == "" {
		opts.Systemctl = "systemctl"
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	h := &Host{opts: opts, log: log.With("component", "collect")}
	h.env = common.EnvMap{
		common.HostProcEnvKey: h.path("proc"),
		common.HostSysEnvKey:  h.path("sys"),
		common.HostEtcEnvKey:  h.path("etc"),
		common.HostVarEnvKey:  h.path("var"),
		common.HostRunEnvKey:  h.path("run"),
		common.HostDevEnvKey:  h.path("dev"),
		common.HostRootEnvKey: opts.Root,
	}
	h.targets = Targets{Services: opts.Services, RadarHosts: opts.RadarHosts, WANTestIP: opts.WANTestIP, LANTestIP: opts.LANTestIP}
	h.collectors = []collector{
		&systemCollector{}, &cpuCollector{}, &memCollector{}, &loadCollector{},
		&diskCollector{}, &diskIOCollector{}, &netCollector{}, &tempCollector{},
		&batteryCollector{}, &procCollector{}, &serviceCollector{}, &containerCollector{},
		&radarCollector{}, &toolCollector{},
	}
	return h
}

// SetTargets replaces the watched services and pinged hosts for the next
// collections.
func (h *Host) SetTargets(t Targets) {
	h.tmu.Lock()
	h.targets = t
	h.tmu.Unlock()
}

func (h *Host) currentTargets() Targets {
	h.tmu.Lock()
	defer h.tmu.Unlock()
	return h.targets
}

// path joins rel below the root.
func (h *Host) path(rel ...string) string {
	return filepath.Join(append([]string{h.opts.Root}, rel...)...)
}

// ctx returns ctx carrying the root for gopsutil.
func (h *Host) gctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, common.EnvKey, h.env)
}

// Collect implements Source: it runs every collector concurrently, waits
// at most the configured timeout, and returns the merged payload. A failing
// collector is logged and leaves its fallback values; Collect itself only
// fails when ctx is done before anything ran.
func (h *Host) Collect(ctx context.Context) (map[string]any, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	gctx := h.gctx(ctx)

	out := map[string]any{}
	for _, c := range h.collectors {
		c.defaults(out)
	}
	type result struct {
		c    collector
		part map[string]any
		err  error
	}
	results := make(chan result, len(h.collectors))
	for _, c := range h.collectors {
		go func() {
			part := map[string]any{}
			c.defaults(part)
			err := safeUpdate(gctx, c, h, part)
			results <- result{c, part, err}
		}()
	}
	for range h.collectors {
		select {
		case r := <-results:
			if r.err != nil {
				h.log.Debug("collector failed", "collector", r.c.name(), "err", r.err)
			}
			maps.Copy(out, r.part)
		case <-ctx.Done():
			// Unfinished collectors keep their fallback values. Their
			// goroutines end with ctx (every probe is bounded by it).
			return out, nil
		}
	}
	return out, nil
}

func safeUpdate(ctx context.Context, c collector, h *Host, p map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError{r}
		}
	}()
	return c.update(ctx, h, p)
}

type panicError struct{ v any }

// Error implements error.
func (p panicError) Error() string { return "collector panic" }

// now is the collection clock (tests step it).
func (h *Host) now() time.Time {
	if h.clock != nil {
		return h.clock()
	}
	return time.Now()
}
