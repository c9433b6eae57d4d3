package collect

import (
	"fmt"
	"math"
)

// round rounds v to dp decimals (half away from zero).
func round(v float64, dp int) float64 {
	p := math.Pow(10, float64(dp))
	return math.Round(v*p) / p
}

// HumanRate formats bytes per second like "1.2 MB/s" (spec 10 §4.2 netRx).
func HumanRate(bps float64) string {
	units := []string{"B/s", "KB/s", "MB/s", "GB/s", "TB/s"}
	i := 0
	for bps >= 1024 && i < len(units)-1 {
		bps /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", bps, units[i])
}

// HumanBytes formats a byte count like "12.3MB" (spec 10 §4.6).
func HumanBytes(n float64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%.1f%s", n, units[i])
}

// dfSize formats a size like df -h: "500G", "9.5G", "812M".
func dfSize(n uint64) string {
	units := []string{"B", "K", "M", "G", "T", "P"}
	v := float64(n)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v < 10 && i > 0 {
		return fmt.Sprintf("%.1f%s", v, units[i])
	}
	return fmt.Sprintf("%.0f%s", v, units[i])
}

// mib formats bytes as whole MiB: "7812 MiB".
func mib(n uint64) string { return fmt.Sprintf("%d MiB", n/(1<<20)) }

// UptimeLong formats seconds like Python's timedelta: "3 days, 2:14:05".
func UptimeLong(s uint64) string {
	d := s / 86400
	hms := fmt.Sprintf("%d:%02d:%02d", (s%86400)/3600, (s%3600)/60, s%60)
	switch d {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	}
	return fmt.Sprintf("%d days, %s", d, hms)
}

// UptimeShort formats seconds like "3d 2h 14m" (days omitted when 0).
func UptimeShort(s uint64) string {
	d, h, m := s/86400, (s%86400)/3600, (s%3600)/60
	if d > 0 {
		return fmt.Sprintf("%dd %dh %dm", d, h, m)
	}
	return fmt.Sprintf("%dh %dm", h, m)
}

// barClass is the disk bar colour of spec 10 §4.2.
func barClass(pct int) string {
	switch {
	case pct >= 90:
		return "danger"
	case pct >= 75:
		return "warning"
	}
	return "success"
}
