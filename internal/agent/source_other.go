//go:build !linux

package agent

import (
	"context"
	"log/slog"
	"sort"
	"strconv"
	"sync"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/process"
)

// basicSource is a temporary adapter for Windows, macOS and FreeBSD,
// where internal/collect does not build yet (its ping probe is
// Linux-only). It fills the snapshot keys metrics() reads.
type basicSource struct {
	mu   sync.Mutex
	prev []cpu.TimesStat
}

func newSource(_ *slog.Logger) source { return &basicSource{} }

func (b *basicSource) Collect(ctx context.Context) (map[string]any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]any{}
	if t, err := cpu.TimesWithContext(ctx, false); err == nil && len(t) > 0 {
		if len(b.prev) > 0 {
			d := func(x cpu.TimesStat) (float64, float64) {
				idle := x.Idle + x.Iowait
				return idle, x.User + x.System + x.Nice + x.Irq + x.Softirq + x.Steal + idle
			}
			i0, t0 := d(b.prev[0])
			i1, t1 := d(t[0])
			if t1 > t0 {
				out["cpu_percent"] = (1 - (i1-i0)/(t1-t0)) * 100
			}
		}
		b.prev = t
	}
	if v, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		used := v.Total - v.Available
		out["memory"] = map[string]any{"total": v.Total, "used": used}
		if v.Total > 0 {
			out["mem_percent"] = float64(used) / float64(v.Total) * 100
		}
	}
	if l, err := load.AvgWithContext(ctx); err == nil {
		out["load"] = []float64{l.Load1, l.Load5, l.Load15}
	}
	if up, err := host.UptimeWithContext(ctx); err == nil {
		out["uptime_s"] = float64(up)
	}
	disks := []map[string]any{}
	if parts, err := disk.PartitionsWithContext(ctx, false); err == nil {
		for _, p := range parts {
			u, err := disk.UsageWithContext(ctx, p.Mountpoint)
			if err != nil || u.Total == 0 {
				continue
			}
			disks = append(disks, map[string]any{"mount": p.Mountpoint, "fstype": p.Fstype, "total_bytes": u.Total, "used_bytes": u.Used})
		}
	}
	out["disks"] = disks
	top := []map[string]any{}
	if ps, err := process.ProcessesWithContext(ctx); err == nil {
		type pc struct {
			pid  int32
			name string
			cpu  float64
		}
		var list []pc
		for _, p := range ps {
			c, err := p.CPUPercentWithContext(ctx)
			if err != nil {
				continue
			}
			n, _ := p.NameWithContext(ctx)
			list = append(list, pc{p.Pid, n, c})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].cpu > list[j].cpu })
		for _, p := range list[:min(5, len(list))] {
			top = append(top, map[string]any{"pid": p.pid, "name": p.name, "val": strconv.FormatFloat(p.cpu, 'f', 1, 64) + "%"})
		}
	}
	out["topCpu"] = top
	return out, nil
}
