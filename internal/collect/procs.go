package collect

import (
	"context"
	"os"
	"os/user"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/process"
)

// Process is one process of the latest collection. CPU is percent of one
// core since the previous collection; Mem percent of physical memory.
type Process struct {
	PID     int32   `json:"pid"`
	Name    string  `json:"name"`
	User    string  `json:"user"`
	Status  string  `json:"status"`
	CPU     float64 `json:"cpu"`
	Mem     float64 `json:"mem"`
	IOBytes uint64  `json:"io_bytes"`
}

// procCollector samples every process: CPU between collections, memory
// and cumulative I/O; it reports the top five of each.
type procCollector struct {
	mu    sync.Mutex
	at    time.Time
	prev  map[int32]float64 // pid -> cpu seconds
	users map[uint32]string
}

func (*procCollector) name() string { return "procs" }

func (*procCollector) defaults(p map[string]any) {
	p["topCpu"], p["topMem"], p["topIo"] = []map[string]any{}, []map[string]any{}, []map[string]any{}
}

// Processes returns the processes of the latest collection, busiest first.
func (h *Host) Processes() []Process {
	h.pmu.Lock()
	defer h.pmu.Unlock()
	return append([]Process(nil), h.procs...)
}

func (c *procCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	// PIDs come from the root's proc directory (gopsutil's own listing
	// checks them against the live kernel, which a fixture tree is not).
	entries, err := os.ReadDir(h.path("proc"))
	if err != nil {
		return err
	}
	procs := make([]*process.Process, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.ParseInt(e.Name(), 10, 32); err == nil && e.IsDir() {
			procs = append(procs, &process.Process{Pid: int32(pid)})
		}
	}
	var total uint64
	if v, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		total = v.Total
	}
	now := h.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	dt := now.Sub(c.at).Seconds()
	cur := make(map[int32]float64, len(procs))
	list := make([]Process, 0, len(procs))
	for _, pr := range procs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t, err := pr.TimesWithContext(ctx)
		if err != nil {
			continue
		}
		cpuSec := t.User + t.System
		cur[pr.Pid] = cpuSec
		proc := Process{PID: pr.Pid}
		proc.Name, _ = pr.NameWithContext(ctx)
		if prev, ok := c.prev[pr.Pid]; ok && dt > 0 && cpuSec >= prev {
			proc.CPU = round((cpuSec-prev)/dt*100, 1)
		}
		if mi, err := pr.MemoryInfoWithContext(ctx); err == nil && total > 0 {
			proc.Mem = round(float64(mi.RSS)/float64(total)*100, 1)
		}
		if st, err := pr.StatusWithContext(ctx); err == nil && len(st) > 0 {
			proc.Status = st[0]
		}
		if uids, err := pr.UidsWithContext(ctx); err == nil && len(uids) > 0 {
			proc.User = c.username(uids[0])
		}
		if io, err := pr.IOCountersWithContext(ctx); err == nil {
			proc.IOBytes = io.DiskReadBytes + io.DiskWriteBytes
		}
		list = append(list, proc)
	}
	c.prev, c.at = cur, now

	top := func(less func(a, b Process) bool, val func(Process) string, nameLen int) []map[string]any {
		s := append([]Process(nil), list...)
		sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
		out := []map[string]any{}
		for _, pr := range s[:min(5, len(s))] {
			out = append(out, map[string]any{"name": trunc(pr.Name, nameLen), "val": val(pr), "pid": pr.PID})
		}
		return out
	}
	p["topCpu"] = top(func(a, b Process) bool { return a.CPU > b.CPU },
		func(pr Process) string { return strconv.FormatFloat(pr.CPU, 'f', 1, 64) + "%" }, 16)
	p["topMem"] = top(func(a, b Process) bool { return a.Mem > b.Mem },
		func(pr Process) string { return strconv.FormatFloat(pr.Mem, 'f', 1, 64) + "%" }, 16)
	p["topIo"] = top(func(a, b Process) bool { return a.IOBytes > b.IOBytes },
		func(pr Process) string { return HumanBytes(float64(pr.IOBytes)) }, 20)

	sort.SliceStable(list, func(i, j int) bool { return list[i].CPU > list[j].CPU })
	h.pmu.Lock()
	h.procs = list
	h.pmu.Unlock()
	return nil
}

func (c *procCollector) username(uid uint32) string {
	if c.users == nil {
		c.users = map[uint32]string{}
	}
	if n, ok := c.users[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	c.users[uid] = n
	return n
}

// trunc cuts s to at most n runes.
func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
