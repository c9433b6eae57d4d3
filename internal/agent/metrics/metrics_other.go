//go:build !linux

package metrics

import (
	"context"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/noba-go/noba/internal/wire"
)

// Windows, macOS and FreeBSD read through gopsutil (no fixture root).

type otherState struct {
	prev []cpu.TimesStat
}

type cpuTimes struct{}

func statfs(path string) (FS, error) {
	u, err := disk.Usage(path)
	if err != nil {
		return FS{}, err
	}
	return FS{Total: u.Total, Free: u.Free, Avail: u.Free}, nil
}

// Collect reads the report's host fields.
func (c *Collector) Collect(ctx context.Context) wire.Metrics {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := wire.Metrics{Platform: Platform(), Arch: Arch(), Temperatures: map[string]float64{},
		Disks: []wire.Disk{}, TopProcesses: []wire.Process{}, CPUCount: max(c.NumCPU(), 1)}
	if t, err := cpu.TimesWithContext(ctx, false); err == nil && len(t) > 0 {
		if len(c.other.prev) > 0 {
			d := func(x cpu.TimesStat) (float64, float64) {
				idle := x.Idle + x.Iowait
				return idle, x.User + x.System + x.Nice + x.Irq + x.Softirq + x.Steal + idle
			}
			i0, t0 := d(c.other.prev[0])
			i1, t1 := d(t[0])
			if t1 > t0 {
				m.CPUPercent = round1((1 - (i1-i0)/(t1-t0)) * 100)
			}
		}
		c.other.prev = t
	}
	if v, err := mem.VirtualMemoryWithContext(ctx); err == nil && v.Total > 0 {
		used := v.Total - v.Available
		m.MemTotal, m.MemUsed = int64(v.Total), int64(used) //nolint:gosec // sizes fit
		m.MemPercent = round1(float64(used) / float64(v.Total) * 100)
	}
	if l, err := load.AvgWithContext(ctx); err == nil {
		m.Load1, m.Load5, m.Load15 = l.Load1, l.Load5, l.Load15
	}
	if up, err := host.UptimeWithContext(ctx); err == nil {
		m.UptimeS = int64(up) //nolint:gosec // uptime fits
	}
	if io, err := net.IOCountersWithContext(ctx, false); err == nil && len(io) > 0 {
		m.NetBytesSent, m.NetBytesRecv = int64(io[0].BytesSent), int64(io[0].BytesRecv) //nolint:gosec // counters fit
	}
	if parts, err := disk.PartitionsWithContext(ctx, false); err == nil {
		for _, p := range parts {
			if !keepMount(p.Mountpoint, p.Fstype) {
				continue
			}
			u, err := disk.UsageWithContext(ctx, p.Mountpoint)
			if err != nil || u.Total == 0 {
				continue
			}
			used := u.Total - u.Free
			m.Disks = append(m.Disks, wire.Disk{Mount: p.Mountpoint, Total: int64(u.Total), Used: int64(used), //nolint:gosec // sizes fit
				Percent: DiskPercent(used, u.Free), FSType: p.Fstype})
		}
	}
	if ps, err := process.ProcessesWithContext(ctx); err == nil {
		var list []wire.Process
		for _, p := range ps {
			cp, err := p.CPUPercentWithContext(ctx)
			if err != nil {
				continue
			}
			n, _ := p.NameWithContext(ctx)
			mp, _ := p.MemoryPercentWithContext(ctx)
			list = append(list, wire.Process{PID: int(p.Pid), Name: wire.Truncate(n, 64), CPU: round1(cp), Mem: round2(float64(mp))})
		}
		m.TopProcesses = topN(list, 5)
	}
	return m
}
