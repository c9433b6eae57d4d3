package collect

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/host"
)

// systemCollector reports identity: hostname, OS, kernel, uptime, CPU and
// GPU model, the default source address.
type systemCollector struct {
	mu      sync.Mutex
	gpu     string
	gpuTime time.Time
}

func (*systemCollector) name() string { return "system" }

func (*systemCollector) defaults(p map[string]any) {
	p["hostname"] = ""
	p["kernel"] = ""
	p["os"] = ""
	p["uptime"] = "--"
	p["uptime_s"] = 0
	p["defaultIp"] = ""
	p["hwCpu"] = "Unknown CPU"
	p["hwGpu"] = "Unknown GPU"
	p["arch"] = runtime.GOARCH
	p["cpu_cores"] = 0
	p["cpu_governor"] = "unknown"
}

func (c *systemCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	p["hostname"] = h.hostname()
	if k, err := readTrim(h.path("proc/sys/kernel/osrelease")); err == nil {
		p["kernel"] = k
	} else if k, err := host.KernelVersionWithContext(ctx); err == nil && h.opts.Root == "/" {
		p["kernel"] = k
	}
	if f, err := os.Open(h.path("etc/os-release")); err == nil {
		if name, ok := ParseOSRelease(f)["PRETTY_NAME"]; ok {
			p["osName"] = name
			p["os"] = name
		}
		f.Close()
	}
	if g, err := readTrim(h.path("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")); err == nil && g != "" {
		p["cpu_governor"] = g
	}
	if up, err := readUptime(h.path("proc/uptime")); err == nil {
		p["uptime"] = UptimeLong(up)
		p["uptime_s"] = up
	}
	if infos, err := cpu.InfoWithContext(ctx); err == nil && len(infos) > 0 && infos[0].ModelName != "" {
		p["hwCpu"] = infos[0].ModelName
		p["cpu_cores"] = len(infos)
	}
	if h.opts.Root == "/" {
		p["defaultIp"] = DefaultIP()
		p["hwGpu"] = c.gpuName(ctx)
	}
	return nil
}

// gpuName runs lspci (cached 1 h).
func (c *systemCollector) gpuName(ctx context.Context) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gpu != "" && time.Since(c.gpuTime) < time.Hour {
		return c.gpu
	}
	c.gpu, c.gpuTime = "Unknown GPU", time.Now()
	bin, err := exec.LookPath("lspci")
	if err != nil {
		return c.gpu
	}
	out, err := exec.CommandContext(ctx, bin).Output()
	if err != nil {
		return c.gpu
	}
	var gpus []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "VGA") || strings.Contains(l, "3D") {
			if i := strings.Index(l, ": "); i >= 0 {
				gpus = append(gpus, strings.TrimSpace(l[i+2:]))
			}
		}
	}
	if len(gpus) > 0 {
		c.gpu = strings.Join(gpus, ", ")
	}
	return c.gpu
}

// hostname reads the root's hostname, falling back to the OS's.
func (h *Host) hostname() string {
	if s, err := readTrim(h.path("proc/sys/kernel/hostname")); err == nil && s != "" {
		return s
	}
	if h.opts.Root == "/" {
		n, _ := os.Hostname()
		return n
	}
	return ""
}

// DefaultIP is the source address the host would use to reach the
// internet (no packet is sent); "" when there is no route.
func DefaultIP() string {
	c, err := net.Dial("udp", "1.1.1.1:80")
	if err != nil {
		return ""
	}
	defer c.Close()
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
		return a.IP.String()
	}
	return ""
}

// ParseOSRelease parses /etc/os-release (KEY=value, values optionally
// quoted).
func ParseOSRelease(r io.Reader) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `"'`)
		}
		out[k] = v
	}
	return out
}

func readTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// readUptime reads whole seconds from /proc/uptime.
func readUptime(path string) (uint64, error) {
	s, err := readTrim(path)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(strings.Fields(s + " 0")[0], 64)
	if err != nil {
		return 0, err
	}
	return uint64(f), nil
}
