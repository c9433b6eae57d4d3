package agent

import (
	"context"
	"math"
	"runtime"
	"strings"

	"github.com/shirou/gopsutil/v4/net"

	"github.com/noba-go/noba/internal/wire"
)

// metrics maps the shared host collector's snapshot (internal/collect) to
// the report fields of the agent protocol (spec 20 §4.1).
func (a *Agent) metrics(ctx context.Context) map[string]any {
	snap, err := a.host.Collect(ctx)
	if err != nil || snap == nil {
		snap = map[string]any{}
	}
	rep := map[string]any{
		"platform":    platformName(),
		"arch":        machineArch(),
		"cpu_percent": round1(wire.FloatOf(snap["cpu_percent"], 0)),
		"cpu_count":   max(runtime.NumCPU(), 1),
		"mem_percent": round1(wire.FloatOf(snap["mem_percent"], 0)),
		"uptime_s":    int64(wire.FloatOf(snap["uptime_s"], 0)),
		"load_1m":     0.0, "load_5m": 0.0, "load_15m": 0.0,
		"mem_total": uint64(0), "mem_used": uint64(0),
		"temperatures":  map[string]any{},
		"top_processes": []any{},
		"disks":         []any{},
	}
	if ld := anyFloats(snap["load"]); len(ld) == 3 {
		rep["load_1m"], rep["load_5m"], rep["load_15m"] = ld[0], ld[1], ld[2]
	}
	if m, ok := snap["memory"].(map[string]any); ok {
		rep["mem_total"] = toUint(m["total"])
		rep["mem_used"] = toUint(m["used"])
	}
	disks := []any{}
	for _, d := range anyMaps(snap["disks"]) {
		total, used := toUint(d["total_bytes"]), toUint(d["used_bytes"])
		pct := 0.0
		if total > 0 {
			pct = round1(float64(used) / float64(total) * 100)
		}
		disks = append(disks, map[string]any{"mount": d["mount"], "total": total, "used": used, "percent": pct, "fstype": d["fstype"]})
	}
	rep["disks"] = disks
	procs := []any{}
	for _, p := range anyMaps(snap["topCpu"]) {
		val, _ := p["val"].(string)
		cpu := wire.FloatOf(parseFloat(strings.TrimSuffix(val, "%")), 0)
		procs = append(procs, map[string]any{"pid": p["pid"], "name": p["name"], "cpu": cpu, "mem": 0.0})
	}
	rep["top_processes"] = procs
	if c, ok := snap["cpuTemp"].(string); ok && strings.HasSuffix(c, "°C") {
		if f := parseFloat(strings.TrimSuffix(c, "°C")); f != nil {
			rep["temperatures"] = map[string]any{"cpu": *f}
		}
	}
	if io, err := net.IOCountersWithContext(ctx, false); err == nil && len(io) > 0 {
		rep["net_bytes_sent"], rep["net_bytes_recv"] = io[0].BytesSent, io[0].BytesRecv
	} else {
		rep["net_bytes_sent"], rep["net_bytes_recv"] = 0, 0
	}
	return rep
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func parseFloat(s string) *float64 {
	var f float64
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if _, err := fmtSscan(s, &f); err != nil {
		return nil
	}
	return &f
}

func toUint(v any) uint64 {
	switch x := v.(type) {
	case uint64:
		return x
	case int64:
		return uint64(max(x, 0))
	case int:
		return uint64(max(x, 0))
	case float64:
		return uint64(max(x, 0))
	}
	return 0
}

func anyFloats(v any) []float64 {
	switch x := v.(type) {
	case []float64:
		return x
	case []any:
		out := make([]float64, 0, len(x))
		for _, e := range x {
			out = append(out, wire.FloatOf(e, 0))
		}
		return out
	}
	return nil
}

func anyMaps(v any) []map[string]any {
	switch x := v.(type) {
	case []map[string]any:
		return x
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// platformName is the OS in uname -s style.
func platformName() string {
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

// machineArch is the architecture in uname -m style.
func machineArch() string {
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
