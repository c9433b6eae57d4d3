package collect

import (
	"context"
	"strings"

	"github.com/shirou/gopsutil/v4/disk"
)

// diskCollector reports usage of physical filesystems (device under
// /dev/), skipping snap, boot and run mounts.
type diskCollector struct{}

func (diskCollector) name() string { return "disk" }

func (diskCollector) defaults(p map[string]any) { p["disks"] = []map[string]any{} }

// skippedMount reports whether a mount point is left out of "disks".
func skippedMount(m string) bool {
	for _, pre := range []string{"/var/lib/snapd", "/boot", "/run", "/snap"} {
		if m == pre || strings.HasPrefix(m, pre+"/") || (pre != "/run" && strings.HasPrefix(m, pre)) {
			return true
		}
	}
	return false
}

func (diskCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	parts, err := disk.PartitionsWithContext(ctx, true)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	out := []map[string]any{}
	for _, pt := range parts {
		if !strings.HasPrefix(pt.Device, "/dev/") || skippedMount(pt.Mountpoint) || seen[pt.Mountpoint] {
			continue
		}
		seen[pt.Mountpoint] = true
		u, err := h.usage(ctx, pt.Mountpoint)
		if err != nil || u.Total == 0 {
			continue
		}
		pct := dfPercent(u.Used, u.Free)
		out = append(out, map[string]any{
			"mount": pt.Mountpoint, "device": pt.Device, "fstype": pt.Fstype,
			"percent": pct, "barClass": barClass(pct),
			"total": dfSize(u.Total), "used": dfSize(u.Used), "free": dfSize(u.Free),
			"size": mib(u.Total), "used_mib": mib(u.Used),
			"total_bytes": u.Total, "used_bytes": u.Used, "free_bytes": u.Free,
		})
		if len(out) >= 64 {
			break
		}
	}
	p["disks"] = out
	return nil
}

// usage is statfs of a mount point below the root (tests replace statfs).
func (h *Host) usage(ctx context.Context, mount string) (*disk.UsageStat, error) {
	if h.statfs != nil {
		return h.statfs(mount)
	}
	return disk.UsageWithContext(ctx, h.path(mount))
}

// dfPercent is df's Use%: used/(used+available) rounded up to a whole
// percent, the one definition of a disk's percent (the agent's report and
// its disk_usage command use the same, internal/agent/metrics).
func dfPercent(used, avail uint64) int {
	if used+avail == 0 {
		return 0
	}
	return int((used*100 + used + avail - 1) / (used + avail))
}
