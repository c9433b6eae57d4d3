package wire

import (
	"strconv"
	"strings"
)

// Lookup returns the numeric metric a condition names below an agent
// (`agent_<host>.<path>`): a top-level number (cpu_percent, load_1m,
// mem_total...), `disks[i].<field>`, `top_processes[i].<field>` or
// `temperatures.<sensor>`. ok is false for anything else.
func (m *Metrics) Lookup(path string) (float64, bool) {
	switch path {
	case "timestamp":
		return float64(m.Timestamp), true
	case "cpu_percent":
		return m.CPUPercent, true
	case "cpu_count":
		return float64(m.CPUCount), true
	case "load_1m":
		return m.Load1, true
	case "load_5m":
		return m.Load5, true
	case "load_15m":
		return m.Load15, true
	case "mem_total":
		return float64(m.MemTotal), true
	case "mem_used":
		return float64(m.MemUsed), true
	case "mem_percent":
		return m.MemPercent, true
	case "net_bytes_sent":
		return float64(m.NetBytesSent), true
	case "net_bytes_recv":
		return float64(m.NetBytesRecv), true
	case "uptime_s":
		return float64(m.UptimeS), true
	}
	if s, ok := strings.CutPrefix(path, "temperatures."); ok {
		v, found := m.Temperatures[s]
		return v, found
	}
	if i, field, ok := indexed(path, "disks"); ok {
		if i >= len(m.Disks) {
			return 0, false
		}
		d := m.Disks[i]
		switch field {
		case "total":
			return float64(d.Total), true
		case "used":
			return float64(d.Used), true
		case "percent":
			return d.Percent, true
		}
		return 0, false
	}
	if i, field, ok := indexed(path, "top_processes"); ok {
		if i >= len(m.TopProcesses) {
			return 0, false
		}
		p := m.TopProcesses[i]
		switch field {
		case "pid":
			return float64(p.PID), true
		case "cpu":
			return p.CPU, true
		case "mem":
			return p.Mem, true
		}
	}
	return 0, false
}

// indexed parses `<list>[i].<field>`.
func indexed(path, list string) (int, string, bool) {
	rest, ok := strings.CutPrefix(path, list+"[")
	if !ok {
		return 0, "", false
	}
	num, field, ok := strings.Cut(rest, "].")
	if !ok {
		return 0, "", false
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 {
		return 0, "", false
	}
	return i, field, true
}

// Series are the numeric series of a report written to the metric
// history (agent_<host> cpu, mem, disk = the first disk, and the rest).
func (m *Metrics) Series() map[string]float64 {
	out := map[string]float64{"cpu": m.CPUPercent, "mem": m.MemPercent, "load_1m": m.Load1, "load_5m": m.Load5,
		"load_15m": m.Load15, "uptime_s": float64(m.UptimeS), "net_bytes_sent": float64(m.NetBytesSent),
		"net_bytes_recv": float64(m.NetBytesRecv), "cpu_count": float64(m.CPUCount)}
	if len(m.Disks) > 0 {
		out["disk"] = m.Disks[0].Percent
	}
	return out
}
