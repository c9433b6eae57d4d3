//go:build linux

package metrics

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/noba-go/noba/internal/wire"
)

type otherState struct{} //nolint:unused // used by the non-Linux collector

type cpuTimes struct{ idle, total uint64 }

func statfs(path string) (FS, error) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(path, &s); err != nil {
		return FS{}, err
	}
	bs := uint64(s.Bsize) //nolint:gosec // block sizes are positive
	return FS{Total: s.Blocks * bs, Free: s.Bfree * bs, Avail: s.Bavail * bs}, nil
}

// Collect reads the report's host fields. A source that cannot be read
// leaves its fields at zero (the documented fallback), never a guess.
func (c *Collector) Collect(ctx context.Context) wire.Metrics {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := wire.Metrics{Platform: Platform(), Arch: Arch(), Temperatures: map[string]float64{},
		Disks: []wire.Disk{}, TopProcesses: []wire.Process{}}
	now := c.Now()
	c.cpu(&m)
	c.mem(&m)
	c.loadAndUptime(&m)
	c.net(&m)
	if ctx.Err() == nil {
		c.disks(&m)
	}
	c.temps(&m)
	if ctx.Err() == nil {
		c.procs(&m, now)
	}
	c.prevAt = now
	return m
}

func (c *Collector) cpu(m *wire.Metrics) {
	b, err := c.sys.ReadFile("/proc/stat")
	m.CPUCount = 0
	if err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			f := strings.Fields(string(line))
			if len(f) < 5 || !strings.HasPrefix(f[0], "cpu") {
				continue
			}
			if f[0] != "cpu" {
				m.CPUCount++
				continue
			}
			var t cpuTimes
			for i, v := range f[1:] {
				n, _ := strconv.ParseUint(v, 10, 64)
				if i >= 8 { // guest and guest_nice are inside user and nice
					break
				}
				t.total += n
				if i == 3 || i == 4 { // idle, iowait
					t.idle += n
				}
			}
			if c.prevCPU.total > 0 && t.total > c.prevCPU.total {
				busy := 1 - float64(t.idle-c.prevCPU.idle)/float64(t.total-c.prevCPU.total)
				m.CPUPercent = round1(min(max(busy*100, 0), 100))
			}
			c.prevCPU = t
		}
	}
	if m.CPUCount == 0 {
		m.CPUCount = max(c.NumCPU(), 1)
	}
}

func (c *Collector) mem(m *wire.Metrics) {
	b, err := c.sys.ReadFile("/proc/meminfo")
	if err != nil {
		return
	}
	var total, avail, free uint64
	hasAvail := false
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "MemTotal":
			total = n * 1024
		case "MemAvailable":
			avail, hasAvail = n*1024, true
		case "MemFree":
			free = n * 1024
		}
	}
	if !hasAvail {
		avail = free
	}
	if total == 0 || avail > total {
		return
	}
	m.MemTotal, m.MemUsed = int64(total), int64(total-avail) //nolint:gosec // memory sizes fit
	m.MemPercent = round1(float64(total-avail) / float64(total) * 100)
}

func (c *Collector) loadAndUptime(m *wire.Metrics) {
	if b, err := c.sys.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.Load1, _ = strconv.ParseFloat(f[0], 64)
			m.Load5, _ = strconv.ParseFloat(f[1], 64)
			m.Load15, _ = strconv.ParseFloat(f[2], 64)
		}
	}
	if b, err := c.sys.ReadFile("/proc/uptime"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			v, _ := strconv.ParseFloat(f[0], 64)
			m.UptimeS = int64(v)
		}
	}
}

// net sums the byte counters of every interface but lo.
func (c *Collector) net(m *wire.Metrics) {
	b, err := c.sys.ReadFile("/proc/net/dev")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 9 {
			continue
		}
		rx, _ := strconv.ParseInt(f[0], 10, 64)
		tx, _ := strconv.ParseInt(f[8], 10, 64)
		m.NetBytesRecv += rx
		m.NetBytesSent += tx
	}
}

// disks reads the mount table and statfs of each kept mount.
func (c *Collector) disks(m *wire.Metrics) {
	b, err := c.sys.ReadFile("/proc/mounts")
	if err != nil {
		return
	}
	seenDev := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		dev, mount, fstype := f[0], unescape(f[1]), f[2]
		if !keepMount(mount, fstype) {
			continue
		}
		if !strings.HasPrefix(dev, "/dev/") && seenDev[dev] {
			continue
		}
		if strings.HasPrefix(dev, "/dev/") && seenDev[dev] {
			continue // bind mounts of one device
		}
		u, err := c.Statfs(c.sys.Path(mount))
		if err != nil || u.Total == 0 {
			continue
		}
		seenDev[dev] = true
		used := u.Total - u.Free
		m.Disks = append(m.Disks, wire.Disk{Mount: mount, Total: int64(u.Total), Used: int64(used), //nolint:gosec // sizes fit
			Percent: DiskPercent(used, u.Avail), FSType: fstype})
		if len(m.Disks) >= 32 {
			return
		}
	}
}

// unescape decodes the octal escapes of /proc/mounts (\040 = space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// temps reads thermal zones and hwmon sensors (0 < t < 150 °C).
func (c *Collector) temps(m *wire.Metrics) {
	read := func(p string) (string, bool) {
		b, err := c.sys.ReadFile(p)
		return strings.TrimSpace(string(b)), err == nil
	}
	milli := func(p string) (float64, bool) {
		s, ok := read(p)
		if !ok {
			return 0, false
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false
		}
		t := v / 1000
		return round1(t), t > 0 && t < 150
	}
	zones, _ := c.sys.ReadDir("/sys/class/thermal")
	for _, z := range zones {
		if !strings.HasPrefix(z.Name(), "thermal_zone") {
			continue
		}
		dir := "/sys/class/thermal/" + z.Name()
		typ, ok := read(dir + "/type")
		if t, valid := milli(dir + "/temp"); ok && valid && typ != "" {
			m.Temperatures[typ] = t
		}
	}
	mons, _ := c.sys.ReadDir("/sys/class/hwmon")
	for _, h := range mons {
		dir := "/sys/class/hwmon/" + h.Name()
		chip, _ := read(dir + "/name")
		if chip == "" {
			chip = h.Name()
		}
		files, _ := c.sys.ReadDir(dir)
		for _, f := range files {
			n := f.Name()
			if !strings.HasPrefix(n, "temp") || !strings.HasSuffix(n, "_input") {
				continue
			}
			t, valid := milli(dir + "/" + n)
			if !valid {
				continue
			}
			key := chip
			if label, ok := read(dir + "/" + strings.TrimSuffix(n, "_input") + "_label"); ok && label != "" {
				key = chip + "_" + strings.ReplaceAll(label, " ", "_")
			}
			m.Temperatures[key] = t
		}
		if len(m.Temperatures) >= 32 {
			return
		}
	}
}

// procs computes each process's CPU share of one core since the previous
// collection (for a process not seen before, its average since it started,
// as ps prints it, so the first report is not all 0 %) and its share of
// memory to 0.01 % (a 20 MiB process of 64 GiB is 0.03 %, which one
// decimal rounded to 0); the top 5 go into the report.
func (c *Collector) procs(m *wire.Metrics, now time.Time) {
	const clkTck = 100 // USER_HZ on every Linux ABI the agent ships for
	pageSize := uint64(os.Getpagesize())
	ents, err := c.sys.ReadDir("/proc")
	if err != nil {
		return
	}
	cur := make(map[int]uint64, len(ents))
	dt := now.Sub(c.prevAt).Seconds()
	var list []wire.Process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := c.sys.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if lp < 0 || rp < lp {
			continue
		}
		name := s[lp+1 : rp]
		f := strings.Fields(s[rp+1:])
		if len(f) < 22 {
			continue
		}
		ut, _ := strconv.ParseUint(f[11], 10, 64)
		st, _ := strconv.ParseUint(f[12], 10, 64)
		start, _ := strconv.ParseUint(f[19], 10, 64)
		rss, _ := strconv.ParseUint(f[21], 10, 64)
		ticks := ut + st
		cur[pid] = ticks
		p := wire.Process{PID: pid, Name: wire.Truncate(name, 64)}
		if prev, ok := c.prevProcs[pid]; ok && dt > 0 && ticks >= prev {
			p.CPU = round1(float64(ticks-prev) / clkTck / dt * 100)
		} else if !ok {
			if life := float64(m.UptimeS) - float64(start)/clkTck; life >= 1 {
				p.CPU = round1(float64(ticks) / clkTck / life * 100)
			}
		}
		if m.MemTotal > 0 {
			p.Mem = round2(float64(rss*pageSize) / float64(m.MemTotal) * 100)
		}
		list = append(list, p)
	}
	c.prevProcs = cur
	m.TopProcesses = topN(list, 5)
	if m.TopProcesses == nil {
		m.TopProcesses = []wire.Process{}
	}
}
