package collect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// batteryCollector reports the first battery of /sys/class/power_supply;
// a machine without one is a desktop.
type batteryCollector struct{}

func (batteryCollector) name() string { return "battery" }

func (batteryCollector) defaults(p map[string]any) {
	p["battery"] = map[string]any{"percent": 100, "status": "Desktop", "desktop": true, "timeRemaining": ""}
}

func (batteryCollector) update(_ context.Context, h *Host, p map[string]any) error {
	dirs, _ := filepath.Glob(h.path("sys/class/power_supply/*"))
	sort.Strings(dirs)
	for _, d := range dirs {
		if t, _ := readTrim(filepath.Join(d, "type")); t != "Battery" {
			continue
		}
		attrs := map[string]string{}
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if e.Type().IsRegular() {
				if v, err := readTrim(filepath.Join(d, e.Name())); err == nil {
					attrs[e.Name()] = v
				}
			}
		}
		p["battery"] = ParseBattery(attrs)
		return nil
	}
	return nil
}

// ParseBattery builds the battery object from power_supply attributes.
func ParseBattery(a map[string]string) map[string]any {
	num := func(k string) float64 {
		v, _ := strconv.ParseFloat(a[k], 64)
		return v
	}
	pct := int(num("capacity"))
	status := a["status"]
	if status != "Charging" && status != "Full" {
		status = "Discharging"
	}
	if a["status"] == "Full" {
		status = "Charging"
	}
	now, full := num("energy_now"), num("energy_full")
	rate := num("power_now")
	if now == 0 {
		now, full, rate = num("charge_now"), num("charge_full"), num("current_now")
	}
	remaining := ""
	if rate > 0 {
		var hours float64
		suffix := ""
		if status == "Charging" {
			hours = (full - now) / rate
			suffix = " to full"
		} else {
			hours = now / rate
		}
		if hours > 0 {
			mins := int(hours * 60)
			remaining = fmt.Sprintf("%dh %dm%s", mins/60, mins%60, suffix)
		}
	}
	return map[string]any{"percent": pct, "status": strings.TrimSpace(status), "desktop": false, "timeRemaining": remaining}
}
