package reports

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/httpx"
)

// Point is one history bucket; the band fields are set when asked for.
type Point struct {
	Time      int64   `json:"time"`
	Value     float64 `json:"value"`
	UpperBand float64 `json:"upper_band,omitempty"`
	LowerBand float64 `json:"lower_band,omitempty"`
	Anomaly   bool    `json:"anomaly,omitempty"`
}

// History reads metric history (the stats room): buckets of step seconds
// over the last hours, with anomaly bands (spec 10 §6.2) when bands is set.
type History interface {
	Series(ctx context.Context, metric string, hours float64, step int64, bands bool) ([]Point, error)
}

// Settings is the typed settings snapshot every room reads (no copy per read).
type Settings = config.Reader

// Deps are what the reports room is built from.
type Deps struct {
	Settings Settings
	History  History
	Log      *slog.Logger
	DataDir  string
	// Journal runs journalctl (nil: the system binary).
	Journal func(ctx context.Context, args ...string) ([]byte, error)
	HTTP    *http.Client
	Now     func() time.Time
}

// Room is the reports room.
type Room struct{ d Deps }

// New builds the reports room.
func New(d Deps) *Room {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	return &Room{d: d}
}

// Routes mounts the routes.
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/log-viewer", authz.Operator, "Return log file contents by type"), r.logViewer)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/reports/bandwidth", authz.Read, "Bandwidth usage report"), r.bandwidth)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/reports/anomalies", authz.Read, "Anomaly detection summary"), r.anomalies)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/reports/custom", authz.Operator, "Generate custom metric report"), r.custom)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/grafana/dashboard", authz.Read, "Grafana dashboard JSON template"), r.grafana)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/runbooks", authz.Read, "List all runbooks"), r.runbooks)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/runbooks/{runbook_id}", authz.Read, "Get runbook detail"), r.runbook)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/graylog/search", authz.Operator, "Search Graylog log messages"), r.graylog)
}
