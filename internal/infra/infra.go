package infra

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/runcmd"
)

// Settings is the typed settings snapshot every room reads (no copy per read).
type Settings = config.Reader

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Stats gives the latest collector snapshot (nil before the first): typed
// metrics, and the /api/stats payload for its integration blocks.
type Stats interface {
	Snapshot() *events.Snapshot
}

// Agents sends commands to agents (the agents room): WebSocket first, else
// the HTTP queue, with a history row.
type Agents interface {
	Send(ctx context.Context, host, cmd string, params map[string]any, by string) (id string, ws bool, err error)
	Online() []string
}

// Deps are what the infrastructure room is built from. Stats and Agents may
// be nil: the room then answers its documented fallbacks.
type Deps struct {
	DB       *db.DB
	Settings Settings
	Audit    Auditor
	Stats    Stats
	Agents   Agents
	Runner   runcmd.Runner
	Log      *slog.Logger
	Now      func() time.Time
	// CORSOrigins are the origins the terminal WebSocket accepts besides the server's own host.
	CORSOrigins []string
	// TerminalIdle ends a terminal session without input for this long (default 15 min).
	TerminalIdle time.Duration
	// Root prefixes /sys paths (tests).
	Root string
	// InCluster is the Kubernetes API address (host:port) when the server
	// runs in a pod (KUBERNETES_SERVICE_HOST/PORT); with the service
	// account token and CA under Root, it is used when k8sUrl is not set.
	InCluster string
	// Kubeconfig is the KUBECONFIG list of kubeconfig files (default
	// ~/.kube/config), used when k8sUrl and k8sToken are not set; before
	// the in-cluster service account.
	Kubeconfig string
	// IsRoot: the server runs as root, so system-scope systemctl runs
	// directly instead of through sudo -n.
	IsRoot bool
}

// Room is the infrastructure room.
type Room struct {
	d     Deps
	store *Store
}

// New builds the infrastructure room.
func New(d Deps) *Room {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Runner == nil {
		d.Runner = runcmd.Exec{}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.TerminalIdle <= 0 {
		d.TerminalIdle = 15 * time.Minute
	}
	return &Room{d: d, store: &Store{db: d.DB}}
}

// settings is the flat settings dict in force, shared by every reader:
// read it, never modify it (no copy per read).
func (r *Room) settings() map[string]any {
	if r.d.Settings == nil {
		return map[string]any{}
	}
	return r.d.Settings.View()
}

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return strings.TrimSpace(v)
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}

func (r *Room) audit(ctx context.Context, action, details string) {
	if r.d.Audit == nil {
		return
	}
	r.d.Audit.Record(ctx, action, authz.Must(ctx).Username, details, httpx.ClientIP(ctx))
}

var ansiRe = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// httpClient builds a client for an integration: TLS verification per
// the verify setting (default on; a path to an existing file is a CA
// bundle; "", 0, false, no turn it off).
func httpClient(verify any, timeout time.Duration) *http.Client {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch v := verify.(type) {
	case bool:
		cfg.InsecureSkipVerify = !v
	case string:
		s := strings.TrimSpace(v)
		switch strings.ToLower(s) {
		case "", "0", "false", "no", "off":
			cfg.InsecureSkipVerify = true
		case "1", "true", "yes", "on":
		default:
			if pem, err := os.ReadFile(s); err == nil {
				pool := x509.NewCertPool()
				pool.AppendCertsFromPEM(pem)
				cfg.RootCAs = pool
			}
		}
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: cfg, Proxy: nil}}
}
