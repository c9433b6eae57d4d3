package server

import (
	"net/netip"
	"time"

	"github.com/noba-go/noba/internal/cluster"
	"github.com/noba-go/noba/internal/collect"
)

// Option adjusts how the server builds its rooms; tests use it to inject
// fixtures (collectors reading fixture trees, fake clocks...). Each room that
// needs an injection point adds a field to Options and an Option for it.
type Option func(*Options)

// Options are the injection points of New.
type Options struct {
	// SkipBootstrap leaves the user table empty (no first admin).
	SkipBootstrap bool
	// PasswordIterations lowers the PBKDF2 work factor (tests only: the
	// race detector makes 600,000 iterations cost seconds per login).
	PasswordIterations int
	// Now replaces the clock of the rooms that take one (token expiry, audit times).
	Now func() time.Time
	// StatsSource replaces the host collectors of the stats room (fixtures).
	StatsSource collect.Source
	// StatsInterval is the collection period (default 5 s).
	StatsInterval time.Duration
	// AgentOnlineWindow is how recent an agent's last report must be for
	// it to count as online (default 120 s).
	AgentOnlineWindow time.Duration
	// AgentDeployRoot prefixes the paths the SSH deploy installs to, and
	// AgentDeployLoopback lets it use a loopback server URL (tests).
	AgentDeployRoot     string
	AgentDeployLoopback bool
	// AgentHealTrust replaces the healing trust level of alert rules in
	// agent heal policies (tests; the healing room provides it otherwise).
	AgentHealTrust func(ruleID string) string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (NOBA_TRUSTED_PROXIES); setting them turns NOBA_TRUST_PROXY
	// on. NOBA_TRUST_PROXY alone trusts loopback proxies only.
	TrustedProxies []netip.Prefix
	// Limits are the connection limits of Serve (zero fields: defaults).
	Limits Limits
	// Infra holds the injection points of the infra rooms (wire_infra.go).
	Infra InfraOptions
	// Cluster is the node of the replicas this server joins (cluster.go);
	// ClusterURL the PostgreSQL database whose replicas it joins.
	Cluster    *cluster.Node
	ClusterURL string
}

// Limits bound what one client can hold open (issue 11 item 4).
type Limits struct {
	// ReadTimeout and WriteTimeout bound an ordinary request's body and
	// answer (default 30 s and 2 min); uploads and downloads get UploadTimeout (default
	// 10 min); streams (SSE, WebSocket) none.
	ReadTimeout, WriteTimeout, UploadTimeout time.Duration
	// UnauthConnsPerIP caps the connections one address holds open before
	// any request on them authenticated (default 256).
	UnauthConnsPerIP int
}

// WithTrustedProxies sets the trusted reverse proxies.
func WithTrustedProxies(p []netip.Prefix) Option {
	return func(o *Options) { o.TrustedProxies = append([]netip.Prefix(nil), p...) }
}

// WithLimits sets the connection limits.
func WithLimits(l Limits) Option { return func(o *Options) { o.Limits = l } }

// WithPasswordIterations sets the PBKDF2 work factor of new hashes (tests).
func WithPasswordIterations(n int) Option { return func(o *Options) { o.PasswordIterations = n } }

// WithClock makes the rooms that take a clock use now.
func WithClock(now func() time.Time) Option { return func(o *Options) { o.Now = now } }

// WithStatsSource makes the stats room collect from src instead of the host.
func WithStatsSource(src collect.Source) Option { return func(o *Options) { o.StatsSource = src } }

// WithStatsInterval sets the collection period.
func WithStatsInterval(d time.Duration) Option { return func(o *Options) { o.StatsInterval = d } }

// WithAgentOnlineWindow sets how recent an agent report must be for the
// agent to count as online.
func WithAgentOnlineWindow(d time.Duration) Option {
	return func(o *Options) { o.AgentOnlineWindow = d }
}

// WithAgentDeployTarget makes the SSH deploy install below root and accept a
// loopback server URL (tests deploying to this machine).
func WithAgentDeployTarget(root string) Option {
	return func(o *Options) { o.AgentDeployRoot, o.AgentDeployLoopback = root, true }
}

// WithAgentHealTrust sets the trust level agents get for each alert rule.
func WithAgentHealTrust(f func(ruleID string) string) Option {
	return func(o *Options) { o.AgentHealTrust = f }
}
