//go:build linux

package metrics

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/agent/sysroot"
)

func TestCollectFromFixtureRoot(t *testing.T) {
	root, _ := filepath.Abs("../testdata/root")
	c := New(&sysroot.Sys{Root: root})
	c.Statfs = func(p string) (FS, error) {
		switch strings.TrimPrefix(p, root) {
		case "", "/":
			// df: 1K-blocks 1000, Used 600 (total-free), Avail 350 -> Use% ceil(600/950) = 64%.
			return FS{Total: 1000 << 10, Free: 400 << 10, Avail: 350 << 10}, nil
		case "/srv data":
			return FS{Total: 100 << 20, Free: 100 << 20, Avail: 100 << 20}, nil
		}
		return FS{}, errors.New("no such mount")
	}
	t0 := time.Unix(1_800_000_000, 0)
	c.Now = func() time.Time { return t0 }
	m := c.Collect(context.Background())
	if m.CPUCount != 2 || m.CPUPercent != 0 {
		t.Errorf("cpu: %d %v", m.CPUCount, m.CPUPercent)
	}
	if m.MemTotal != 8000000*1024 || m.MemUsed != 2000000*1024 || m.MemPercent != 25 {
		t.Errorf("mem: %d %d %v", m.MemTotal, m.MemUsed, m.MemPercent)
	}
	if m.Load1 != 0.52 || m.Load15 != 0.58 || m.UptimeS != 265443 {
		t.Errorf("load/uptime: %v %v %d", m.Load1, m.Load15, m.UptimeS)
	}
	if m.NetBytesRecv != 1002000 || m.NetBytesSent != 503000 {
		t.Errorf("net (lo excluded): %d %d", m.NetBytesRecv, m.NetBytesSent)
	}
	if len(m.Disks) != 2 || m.Disks[0].Mount != "/" || m.Disks[0].Percent != 64 || m.Disks[0].Used != 600<<10 ||
		m.Disks[1].Mount != "/srv data" || m.Disks[1].Percent != 0 || m.Disks[1].FSType != "xfs" {
		t.Errorf("disks: %+v", m.Disks)
	}
	if m.Temperatures["x86_pkg_temp"] != 48 || m.Temperatures["coretemp_Package_id_0"] != 51.5 || len(m.Temperatures) != 2 {
		t.Errorf("temperatures: %v", m.Temperatures)
	}
	if len(m.TopProcesses) != 2 || m.TopProcesses[0].Mem == 0 {
		t.Errorf("processes: %+v", m.TopProcesses)
	}
	// A second collection reports CPU since the first.
	t0 = t0.Add(10 * time.Second)
	m = c.Collect(context.Background())
	if m.CPUPercent != 0 || m.TopProcesses[0].CPU != 0 {
		t.Errorf("unchanged counters: %v %+v", m.CPUPercent, m.TopProcesses)
	}
}

// Issue 11 §12: one definition of a disk's percent, the one df prints.
func TestDiskPercentIsDfUse(t *testing.T) {
	for _, c := range []struct {
		used, avail uint64
		want        float64
	}{{600, 350, 64}, {0, 100, 0}, {1, 999, 1}, {100, 0, 100}, {0, 0, 0}, {500, 500, 50}} {
		if got := DiskPercent(c.used, c.avail); got != c.want {
			t.Errorf("DiskPercent(%d, %d) = %v, want %v", c.used, c.avail, got, c.want)
		}
	}
}
