package collect

import (
	"context"
	"math"

	"github.com/shirou/gopsutil/v4/mem"
)

// memCollector reports memory and swap from /proc/meminfo.
type memCollector struct{}

func (memCollector) name() string { return "mem" }

func (memCollector) defaults(p map[string]any) {
	p["memory"] = nil
	p["memPercent"] = 0
	p["mem_percent"] = 0.0
	p["swap"] = nil
}

func (memCollector) update(ctx context.Context, _ *Host, p map[string]any) error {
	v, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return err
	}
	used := v.Total - v.Available
	pct := 0.0
	if v.Total > 0 {
		pct = float64(used) / float64(v.Total) * 100
	}
	p["memory"] = map[string]any{"total": v.Total, "available": v.Available, "used": used,
		"percent": round(pct, 1), "text": mib(used) + " / " + mib(v.Total)}
	p["memPercent"] = int(math.Round(pct))
	p["mem_percent"] = round(pct, 1)
	// Swap from the same meminfo (gopsutil's SwapMemory asks the live
	// kernel through sysinfo, which would ignore Root).
	swPct := 0.0
	if v.SwapTotal > 0 {
		swPct = float64(v.SwapTotal-v.SwapFree) / float64(v.SwapTotal) * 100
	}
	p["swap"] = map[string]any{"total": v.SwapTotal, "used": v.SwapTotal - v.SwapFree, "free": v.SwapFree,
		"percent": round(swPct, 1)}
	return nil
}
