package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/cluster"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/jobs"
)

// Server is the assembled NOBA server.
type Server struct {
	Opts     Options
	Cfg      config.Config
	Log      *slog.Logger
	DB       *db.DB
	Settings *config.Settings
	Bus      *events.Bus
	Router   *httpx.Router
	Jobs     *jobs.Runner
	Handler  http.Handler
	Started  time.Time
	// Cluster is this server's node of the replicas (a single node
	// without peers unless it shares PostgreSQL with others).
	Cluster *cluster.Node

	rooms   *rooms
	closers []func() error
	// conns caps unauthenticated connections per address (set by Serve).
	conns atomic.Pointer[httpx.ConnLimiter]
}

// Conns returns the connection limiter of a serving server (nil before Serve).
func (s *Server) Conns() *httpx.ConnLimiter { return s.conns.Load() }

// Room is what every room offers the server.
type Room interface {
	Routes(rt *httpx.Router)
}

// JobRoom is a room with background work.
type JobRoom interface {
	Jobs() []jobs.Job
}

// roomSchemaNamer is huma's default namer prefixed with the defining
// package's name for the project's own types.
func roomSchemaNamer(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	pkg := t.PkgPath()
	if t.Name() == "" || !strings.HasPrefix(pkg, "github.com/noba-go/noba/") {
		return name
	}
	base := pkg[strings.LastIndex(pkg, "/")+1:]
	if base == "" {
		return name
	}
	return strings.ToUpper(base[:1]) + base[1:] + name
}

// lazyAuth lets the guard be built before the auth room exists.
type lazyAuth struct{ a authz.Authenticator }

func (l *lazyAuth) Authenticate(ctx context.Context, v string, apiKey bool) (authz.Principal, error) {
	if l.a == nil {
		return authz.Principal{}, authz.ErrNoCredentials
	}
	return l.a.Authenticate(ctx, v, apiKey)
}

// AllowAddress forwards the ipWhitelist check of the auth room.
func (l *lazyAuth) AllowAddress(ctx context.Context) bool {
	if g, ok := l.a.(authz.AddressGate); ok {
		return g.AllowAddress(ctx)
	}
	return true
}

// limits are the connection limits with their defaults.
func (o Options) limits() Limits {
	l := o.Limits
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = httpx.DefaultDeadlines.Read
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = httpx.DefaultDeadlines.Write
	}
	if l.UploadTimeout <= 0 {
		l.UploadTimeout = httpx.DefaultDeadlines.Upload
	}
	if l.UnauthConnsPerIP <= 0 {
		l.UnauthConnsPerIP = 256
	}
	return l
}

// trustedProxies are the proxies whose X-Forwarded-For is believed:
// NOBA_TRUSTED_PROXIES, else loopback when NOBA_TRUST_PROXY is on, else none.
func (s *Server) trustedProxies() []netip.Prefix {
	if len(s.Opts.TrustedProxies) > 0 {
		return s.Opts.TrustedProxies
	}
	if s.Cfg.TrustProxy {
		return httpx.LoopbackProxies
	}
	return nil
}

// New opens the data directory, database and settings, migrates, and builds
// every room. The caller runs it with Run and releases it with Close.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (*Server, error) {
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	d, err := db.OpenConfigured(ctx, cfg.DatabaseURL, filepath.Join(cfg.DataDir, "noba.db"))
	if err != nil {
		return nil, err
	}
	s := &Server{Opts: o, Cfg: cfg, Log: log, DB: d, Bus: events.New(events.WithLog(log.With("part", "events"))), Jobs: jobs.NewRunner(log), Started: time.Now()}
	s.closers = append(s.closers, d.Close)
	if err := db.Migrate(ctx, d); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.openCluster(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.Settings, err = config.OpenSettings(cfg.ConfigPath, filepath.Join(cfg.DataDir, ".master.key"),
		config.WithLog(log.With("part", "settings")))
	// Temp files of an interrupted write of the SSH authorized_keys (the
	// settings' own are removed by OpenSettings).
	if n := config.RemoveStaleTemps(cfg.AuthorizedKeys); n > 0 {
		log.Warn("removed temp files left by an interrupted write", "file", cfg.AuthorizedKeys, "count", n)
	}
	if err != nil {
		log.Error("settings file unreadable; serving defaults until it is fixed or restored", "err", err)
		if s.Settings == nil {
			s.Close()
			return nil, err
		}
	}

	httpx.InstallHumaErrors()
	mux := http.NewServeMux()
	hc := huma.DefaultConfig("NOBA Command Center API", config.Version)
	// Schema names carry the room's name so that two rooms may each have,
	// say, a HistoryRow type without colliding in the OpenAPI document.
	hc.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", roomSchemaNamer)
	hc.OpenAPIPath = ""
	hc.DocsPath = ""
	hc.SchemasPath = ""
	hc.AllowAdditionalPropertiesByDefault = true
	hc.FieldsOptionalByDefault = true
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "Session token or API key"},
	}
	hc.CreateHooks = nil
	api := humago.New(mux, hc)
	auth := &lazyAuth{}
	lim := o.limits()
	deadlines := httpx.Deadlines{Read: lim.ReadTimeout, Write: lim.WriteTimeout, Upload: lim.UploadTimeout}
	api.UseMiddleware(httpx.HumaDeadlines(deadlines))
	api.UseMiddleware(httpx.HumaGuard(api, auth))
	s.Router = &httpx.Router{API: api, Mux: mux, Auth: auth, Log: log, Deadlines: deadlines}

	rs, err := buildRooms(ctx, s)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.rooms = rs
	s.clusterJobs()
	auth.a = rs.auth
	// Spec 10 §13 S13: TOTP secrets sealed at rest with the master key;
	// those of the own .totp.key of earlier versions move to it.
	master, err := s.Settings.MasterKey()
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := rs.auth.SealTOTP(ctx, master, filepath.Join(cfg.DataDir, ".totp.key")); err != nil {
		s.Close()
		return nil, err
	}

	s.mountCore(mux)
	s.Handler = httpx.Chain(mux,
		httpx.Recover(log),
		deadlines.Limit(),
		httpx.StopReadingOnRefusal(),
		httpx.ClientIPs(s.trustedProxies()),
		httpx.Logging(log),
		httpx.SecurityHeaders(cfg.TLS()),
		// Every API answer: besides login tokens, API keys and TOTP
		// secrets, webhook secrets, enrolment keys, settings, exports and
		// users' data must not land in a browser or proxy cache.
		httpx.NoStore("/api/"),
		httpx.CORS(cfg.CORSOrigins),
	)
	return s, nil
}

// Close releases the database and other resources.
func (s *Server) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil {
			s.Log.Warn("close", "err", err)
		}
	}
	s.closers = nil
}

// Run serves HTTP on cfg.Listen and runs the jobs until ctx ends, then shuts
// down gracefully within 10 s.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.Cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.Cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a given listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	lim := s.Opts.limits()
	srv := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Every request gets these; routes that stream or take uploads
		// widen them (httpx.Deadlines).
		ReadTimeout:  lim.ReadTimeout,
		WriteTimeout: lim.WriteTimeout,
		IdleTimeout:  120 * time.Second,
		ErrorLog:     slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
		BaseContext:  func(net.Listener) context.Context { return ctx },
		ConnContext:  httpx.ConnContext,
		ConnState:    httpx.ConnState,
	}
	conns := httpx.NewConnLimiter(lim.UnauthConnsPerIP)
	s.conns.Store(conns)
	ln = conns.Listener(ln)
	if s.Cfg.TLS() {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	s.audit(ctx, "system_start", "Noba v"+config.Version+" starting (Go)")
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	jobsDone := make(chan error, 1)
	go func() { jobsDone <- s.Jobs.Run(jobsCtx) }()

	serveErr := make(chan error, 1)
	go func() {
		var err error
		if s.Cfg.TLS() {
			err = srv.ServeTLS(ln, s.Cfg.CertFile, s.Cfg.KeyFile)
		} else {
			err = srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		serveErr <- err
	}()
	s.Log.Info("listening", "addr", ln.Addr().String(), "tls", s.Cfg.TLS(), "data_dir", s.Cfg.DataDir)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
	}
	s.Log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 9*time.Second)
	defer cancel()
	// Streams (SSE, WebSocket) end with the base context; Shutdown waits for the rest.
	if err := srv.Shutdown(shutCtx); err != nil {
		s.Log.Warn("shutdown", "err", err)
		_ = srv.Close()
	}
	stopJobs()
	select {
	case err := <-jobsDone:
		if err != nil {
			s.Log.Warn("jobs", "err", err)
		}
	case <-shutCtx.Done():
		s.Log.Warn("jobs did not stop in time")
	}
	s.audit(context.Background(), "system_stop", "Server stopping")
	return runErr
}

func (s *Server) audit(ctx context.Context, action, details string) {
	if s.rooms != nil && s.rooms.audit != nil {
		s.rooms.audit.Record(ctx, action, "system", details, "")
	}
}
