package collect

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/net"
)

// netCollector reports network throughput since the previous collection,
// in total and per physical interface, from /proc/net/dev.
type netCollector struct {
	mu   sync.Mutex
	at   time.Time
	prev map[string]net.IOCountersStat
}

func (*netCollector) name() string { return "net" }

func (*netCollector) defaults(p map[string]any) {
	p["netRx"], p["netTx"] = HumanRate(0), HumanRate(0)
	p["netRxRaw"], p["netTxRaw"] = 0.0, 0.0
	p["net_rx_bytes"], p["net_tx_bytes"] = 0.0, 0.0
	p["netInterfaces"] = []map[string]any{}
}

// virtualIface reports interfaces left out of netInterfaces.
func virtualIface(n string) bool {
	if n == "lo" {
		return true
	}
	for _, pre := range []string{"veth", "br-", "docker", "virbr"} {
		if strings.HasPrefix(n, pre) {
			return true
		}
	}
	return false
}

func (c *netCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	stats, err := net.IOCountersWithContext(ctx, true)
	if err != nil {
		return err
	}
	now := h.now()
	cur := make(map[string]net.IOCountersStat, len(stats))
	for _, s := range stats {
		cur[s.Name] = s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, dt := c.prev, now.Sub(c.at).Seconds()
	c.prev, c.at = cur, now
	if prev == nil || dt < 0.05 {
		return nil
	}
	var rx, tx float64
	ifaces := []map[string]any{}
	names := make([]string, 0, len(cur))
	for n := range cur {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a, ok := prev[n]
		if !ok {
			continue
		}
		b := cur[n]
		r, t := delta(a.BytesRecv, b.BytesRecv)/dt, delta(a.BytesSent, b.BytesSent)/dt
		rx += r
		tx += t
		if !virtualIface(n) {
			ifaces = append(ifaces, map[string]any{"name": n, "rx_bps": round(r, 1), "tx_bps": round(t, 1)})
		}
	}
	rx, tx = round(rx, 1), round(tx, 1)
	p["netRx"], p["netTx"] = HumanRate(rx), HumanRate(tx)
	p["netRxRaw"], p["netTxRaw"] = rx, tx
	p["net_rx_bytes"], p["net_tx_bytes"] = rx, tx
	p["netInterfaces"] = ifaces
	return nil
}

// delta is b-a for counters, 0 when the counter went back (reset).
func delta(a, b uint64) float64 {
	if b < a {
		return 0
	}
	return float64(b - a)
}
