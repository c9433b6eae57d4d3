package collect

import (
	"context"
	"sync"

	"github.com/shirou/gopsutil/v4/cpu"
)

// cpuCollector reports CPU busy percent since the previous collection,
// per core, and the last 20 totals.
type cpuCollector struct {
	mu      sync.Mutex
	prev    []cpu.TimesStat // [0] total, then per core
	history []float64
}

func (*cpuCollector) name() string { return "cpu" }

func (*cpuCollector) defaults(p map[string]any) {
	p["cpu_percent"] = 0.0
	p["cpuPercent"] = 0.0
	p["cpu_per_core"] = []float64{}
	p["cpu_history"] = []float64{}
	p["cpuHistory"] = []float64{}
}

func (c *cpuCollector) update(ctx context.Context, _ *Host, p map[string]any) error {
	total, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return err
	}
	cores, err := cpu.TimesWithContext(ctx, true)
	if err != nil {
		cores = nil
	}
	cur := append(append([]cpu.TimesStat{}, total...), cores...)
	c.mu.Lock()
	defer c.mu.Unlock()
	pct := 0.0
	var per []float64
	if len(c.prev) == len(cur) && len(cur) > 0 {
		pct = round(BusyPercent(c.prev[0], cur[0]), 1)
		per = make([]float64, 0, len(cur)-1)
		for i := 1; i < len(cur); i++ {
			per = append(per, round(BusyPercent(c.prev[i], cur[i]), 1))
		}
	} else {
		per = make([]float64, len(cores))
	}
	c.prev = cur
	c.history = append(c.history, pct)
	if len(c.history) > 20 {
		c.history = c.history[len(c.history)-20:]
	}
	hist := append([]float64(nil), c.history...)
	p["cpu_percent"], p["cpuPercent"] = pct, pct
	p["cpu_per_core"] = per
	p["cpu_history"], p["cpuHistory"] = hist, hist
	return nil
}

// BusyPercent is the non-idle share of the time between two samples.
func BusyPercent(a, b cpu.TimesStat) float64 {
	idle := func(t cpu.TimesStat) float64 { return t.Idle + t.Iowait }
	all := func(t cpu.TimesStat) float64 {
		return t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
	}
	dt := all(b) - all(a)
	if dt <= 0 {
		return 0
	}
	busy := dt - (idle(b) - idle(a))
	return min(max(busy/dt*100, 0), 100)
}
