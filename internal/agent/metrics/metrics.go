// Package metrics collects the host fields of an agent report (spec 20
// §4.1) and nothing else: each report reads only what it sends. On Linux
// everything comes from /proc, /sys and statfs below the agent's root, so
// tests run it against fixture trees.
package metrics

import (
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/agent/sysroot"
	"github.com/noba-go/noba/internal/wire"
)

// FS is one filesystem's usage as statfs reports it, in bytes.
type FS struct {
	Total, Free, Avail uint64
}

// Collector collects wire.Metrics; it keeps the counters of the previous
// collection for the CPU percentages. Safe for concurrent use.
type Collector struct {
	sys *sysroot.Sys
	// Statfs reads a mount's usage (tests replace it; nil: the real call).
	Statfs func(path string) (FS, error)
	// NumCPU is the logical CPU count used when /proc/stat has no per-CPU
	// lines (default runtime.NumCPU).
	NumCPU func() int
	// Now is the clock.
	Now func() time.Time

	mu        sync.Mutex
	prevCPU   cpuTimes
	prevProcs map[int]uint64
	prevAt    time.Time
	other     otherState //nolint:unused // the non-Linux collector keeps its state here
}

// New returns a collector of the host sys.
func New(sys *sysroot.Sys) *Collector {
	return &Collector{sys: sys, Statfs: statfs, NumCPU: runtime.NumCPU, Now: time.Now}
}

// DiskPercent is df's Use%: used/(used+available) rounded up to a whole
// percent (used = total - free; available = what an unprivileged user may
// still write). It is the one definition of a disk's percent everywhere.
func DiskPercent(used, avail uint64) float64 {
	if used+avail == 0 {
		return 0
	}
	return math.Ceil(float64(used) * 100 / float64(used+avail))
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// skipFS are the pseudo filesystems a report leaves out (spec 20 §4.1).
var skipFS = map[string]bool{"squashfs": true, "tmpfs": true, "devtmpfs": true, "devfs": true, "overlay": true, "aufs": true,
	"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true, "debugfs": true, "tracefs": true, "securityfs": true,
	"pstore": true, "bpf": true, "fusectl": true, "configfs": true, "hugetlbfs": true, "mqueue": true, "efivarfs": true,
	"fuse.portal": true, "autofs": true, "nsfs": true, "ramfs": true, "binfmt_misc": true, "rpc_pipefs": true}

var skipMount = []string{"/snap/", "/sys/", "/proc/", "/dev/", "/run/"}

// keepMount applies the mount filter of spec 20 §4.1.
func keepMount(mount, fstype string) bool {
	if skipFS[fstype] {
		return false
	}
	for _, p := range skipMount {
		if strings.HasPrefix(mount+"/", p) && mount != "/" {
			return false
		}
	}
	return true
}

// topN keeps the n processes with the most CPU (then memory).
func topN(ps []wire.Process, n int) []wire.Process {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].CPU != ps[j].CPU {
			return ps[i].CPU > ps[j].CPU
		}
		if ps[i].Mem != ps[j].Mem {
			return ps[i].Mem > ps[j].Mem
		}
		return ps[i].PID < ps[j].PID
	})
	if len(ps) > n {
		ps = ps[:n]
	}
	return ps
}

// Platform is the OS in uname -s style.
func Platform() string {
	switch runtime.GOOS {
	case "linux":
		return "Linux"
	case "windows":
		return "Windows"
	case "darwin":
		return "Darwin"
	case "freebsd":
		return "FreeBSD"
	}
	return runtime.GOOS
}

// Arch is the architecture in uname -m style.
func Arch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "arm":
		return "armv7l"
	case "386":
		return "i686"
	}
	return runtime.GOARCH
}
