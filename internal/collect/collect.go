// Package collect gathers host metrics, node_exporter style: one collector
// per file, a registry, parsing separated from reading, the filesystem root
// injectable so tests read fixtures. The server's stats room and the agent
// both use it.
package collect

import (
	"context"

	"github.com/noba-go/noba/internal/events"
)

// Source produces one snapshot: the /api/stats payload as a JSON object
// (keys and shapes of spec 10 §4.2). Consumers treat it as read-only.
type Source interface {
	Collect(ctx context.Context) (map[string]any, error)
}

// SourceFunc adapts a function to a Source (tests feed fixtures this way).
type SourceFunc func(ctx context.Context) (map[string]any, error)

// Collect implements Source.
func (f SourceFunc) Collect(ctx context.Context) (map[string]any, error) { return f(ctx) }

// Number reads a numeric payload value (see events.Number: JSON and Go
// numbers, numeric strings with a unit such as "45°C" or "78%").
func Number(v any) (float64, bool) { return events.Number(v) }
