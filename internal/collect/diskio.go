package collect

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
)

// diskIOCollector reports per-disk read/write throughput since the
// previous collection, from /proc/diskstats.
type diskIOCollector struct {
	mu   sync.Mutex
	at   time.Time
	prev map[string]disk.IOCountersStat
}

func (*diskIOCollector) name() string { return "diskio" }

func (*diskIOCollector) defaults(p map[string]any) { p["diskIo"] = []map[string]any{} }

func (c *diskIOCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	cur, err := disk.IOCountersWithContext(ctx)
	if err != nil {
		return err
	}
	now := h.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, dt := c.prev, now.Sub(c.at).Seconds()
	c.prev, c.at = cur, now
	if prev == nil || dt < 0.05 {
		return nil
	}
	names := make([]string, 0, len(cur))
	for n := range cur {
		if strings.HasPrefix(n, "loop") || strings.HasPrefix(n, "ram") || strings.HasPrefix(n, "dm-") {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	out := []map[string]any{}
	for _, n := range names {
		a, ok := prev[n]
		if !ok {
			continue
		}
		b := cur[n]
		out = append(out, map[string]any{"device": n,
			"read_bps":  round(delta(a.ReadBytes, b.ReadBytes)/dt, 1),
			"write_bps": round(delta(a.WriteBytes, b.WriteBytes)/dt, 1)})
	}
	p["diskIo"] = out
	return nil
}
