package collect

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/sensors"
)

// tempCollector reports CPU and GPU temperatures from hwmon (and
// nvidia-smi on the live host). Without sensors the values are null/"N/A".
type tempCollector struct {
	mu     sync.Mutex
	nvAt   time.Time
	nvTemp *float64
}

func (*tempCollector) name() string { return "temp" }

func (*tempCollector) defaults(p map[string]any) {
	p["cpu_temp"], p["gpu_temp"] = nil, nil
	p["cpuTemp"], p["gpuTemp"] = "N/A", "N/A"
}

// cpuChips are the hwmon chip names that measure the CPU, by preference.
var cpuChips = []string{"coretemp", "k10temp", "zenpower", "cpu_thermal", "acpitz", "x86_pkg_temp"}

// CPUTemp picks the CPU temperature from sensor readings: the first
// reading of the most preferred CPU chip.
func CPUTemp(ts []sensors.TemperatureStat) (float64, bool) {
	for _, chip := range cpuChips {
		for _, t := range ts {
			if (t.SensorKey == chip || strings.HasPrefix(t.SensorKey, chip+"_")) && t.Temperature > 0 {
				return t.Temperature, true
			}
		}
	}
	return 0, false
}

func (c *tempCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	ts, _ := sensors.TemperaturesWithContext(ctx) // partial results come with warnings
	if t, ok := CPUTemp(ts); ok {
		p["cpu_temp"] = round(t, 1)
		p["cpuTemp"] = fmt.Sprintf("%d°C", int(t))
	}
	if t, ok := c.gpuTemp(ctx, h); ok {
		p["gpu_temp"] = round(t, 1)
		p["gpuTemp"] = fmt.Sprintf("%d°C", int(t))
	}
	return nil
}

func (c *tempCollector) gpuTemp(ctx context.Context, h *Host) (float64, bool) {
	if h.opts.Root == "/" {
		if t := c.nvidia(ctx); t != nil {
			return *t, true
		}
	}
	files, _ := filepath.Glob(h.path("sys/class/drm/card*/device/hwmon/hwmon*/temp1_input"))
	sort.Strings(files)
	for _, f := range files {
		s, err := readTrim(f)
		if err != nil {
			continue
		}
		if v, err := strconv.ParseFloat(s, 64); err == nil && v > 0 {
			return v / 1000, true
		}
	}
	return 0, false
}

// nvidia asks nvidia-smi (cached 5 s).
func (c *tempCollector) nvidia(ctx context.Context) *float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.nvAt) < 5*time.Second {
		return c.nvTemp
	}
	c.nvAt, c.nvTemp = time.Now(), nil
	bin, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, bin, "--query-gpu=temperature.gpu", "--format=csv,noheader,nounits").Output()
	if err != nil {
		return nil
	}
	line := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	if v, err := strconv.ParseFloat(line, 64); err == nil && !math.IsNaN(v) {
		c.nvTemp = &v
	}
	return c.nvTemp
}
