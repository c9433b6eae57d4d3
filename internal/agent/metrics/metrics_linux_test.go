//go:build linux

package metrics

import (
	"context"
	"errors"
	"fmt"
	"os"
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

// Issue 18 §5: the first report carries each process's CPU average since it
// started (as ps prints it) instead of 0 %, and a small process of a big
// host keeps a memory share (0.03 %) instead of rounding to 0.
func TestProcessSharesOfTheFirstReport(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("proc/uptime", "101.50 180.00\n")
	write("proc/meminfo", "MemTotal:       67108864 kB\nMemAvailable:   33554432 kB\n")
	// 40 s of CPU (3000+1000 ticks) since 1 s after boot; RSS 20 MiB.
	rss := 20 << 20 / os.Getpagesize()
	write("proc/7/stat", fmt.Sprintf("7 (small worker) S 1 7 7 0 -1 4194560 1 1 0 0 3000 1000 0 0 20 0 1 0 100 100000 %d 18446744073709551615\n", rss))
	c := New(&sysroot.Sys{Root: root})
	c.Statfs = func(string) (FS, error) { return FS{}, errors.New("no mounts") }
	t0 := time.Unix(1_800_000_000, 0)
	c.Now = func() time.Time { return t0 }
	m := c.Collect(context.Background())
	if m.UptimeS != 101 || len(m.TopProcesses) != 1 {
		t.Fatalf("uptime %d, processes %+v", m.UptimeS, m.TopProcesses)
	}
	if p := m.TopProcesses[0]; p.Name != "small worker" || p.CPU != 40 || p.Mem != 0.03 {
		t.Errorf("first report: %+v, want cpu 40 (40 s over the 100 s since it started) mem 0.03", p)
	}
	// The next report: the share since the previous one (2 s of CPU in 10 s).
	write("proc/7/stat", fmt.Sprintf("7 (small worker) S 1 7 7 0 -1 4194560 1 1 0 0 3150 1050 0 0 20 0 1 0 100 100000 %d 18446744073709551615\n", rss))
	t0 = t0.Add(10 * time.Second)
	if p := c.Collect(context.Background()).TopProcesses[0]; p.CPU != 20 {
		t.Errorf("second report: %+v, want cpu 20", p)
	}
}
