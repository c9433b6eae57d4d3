package collect

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// radarCollector pings the radar hosts and the WAN/LAN test addresses,
// all concurrently, each capped at 2.5 s.
type radarCollector struct{}

func (radarCollector) name() string { return "radar" }

func (radarCollector) defaults(p map[string]any) {
	p["radar"] = []map[string]any{}
	p["netHealth"] = map[string]any{"wan": "Down", "lan": "Down", "configured": false}
}

// RadarEntry shapes one ping result for the payload.
func RadarEntry(ip string, up bool, ms int) map[string]any {
	st := "Down"
	if up {
		st = "Up"
	} else {
		ms = 0
	}
	return map[string]any{"ip": ip, "host": ip, "status": st, "up": up, "ms": ms, "latency_ms": ms}
}

func (radarCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	t := h.currentTargets()
	type res struct {
		up bool
		ms int
	}
	targets := append(append([]string{}, t.RadarHosts...), t.WANTestIP, t.LANTestIP)
	results := make([]res, len(targets))
	var wg sync.WaitGroup
	for i, ip := range targets {
		if _, err := netip.ParseAddr(ip); err != nil {
			continue // only IP literals are pinged (spec 10 §4.2)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
			defer cancel()
			start := time.Now()
			if err := Ping(c, ip); err == nil {
				results[i] = res{true, max(1, int(time.Since(start).Milliseconds()))}
			}
		}()
	}
	wg.Wait()
	radar := make([]map[string]any, 0, len(t.RadarHosts))
	for i, ip := range t.RadarHosts {
		radar = append(radar, RadarEntry(ip, results[i].up, results[i].ms))
	}
	p["radar"] = radar
	n := len(t.RadarHosts)
	updown := func(r res) string {
		if r.up {
			return "Up"
		}
		return "Down"
	}
	p["netHealth"] = map[string]any{"wan": updown(results[n]), "lan": updown(results[n+1]),
		"configured": t.WANTestIP != "" || t.LANTestIP != ""}
	return nil
}
