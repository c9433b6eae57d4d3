//go:build linux

package agent

import (
	"log/slog"
	"time"

	"github.com/noba-go/noba/internal/collect"
)

// newSource is the shared host collector (internal/collect).
func newSource(log *slog.Logger) source {
	return collect.NewHost(collect.HostOptions{Log: log, Timeout: 4 * time.Second})
}
