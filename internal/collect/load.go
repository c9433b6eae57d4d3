package collect

import (
	"context"
	"fmt"
	"os"

	"github.com/shirou/gopsutil/v4/load"
)

// loadCollector reports the load averages from /proc/loadavg.
type loadCollector struct{}

func (loadCollector) name() string { return "load" }

func (loadCollector) defaults(p map[string]any) {
	p["load"] = []float64{}
	p["loadavg"] = "--"
}

func (loadCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	if _, err := os.Stat(h.path("proc/loadavg")); err != nil {
		return err // no syscall fallback: it would describe another machine than Root
	}
	a, err := load.AvgWithContext(ctx)
	if err != nil {
		return err
	}
	p["load"] = []float64{round(a.Load1, 2), round(a.Load5, 2), round(a.Load15, 2)}
	p["loadavg"] = fmt.Sprintf("%.2f %.2f %.2f", a.Load1, a.Load5, a.Load15)
	return nil
}
