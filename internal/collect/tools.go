package collect

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// toolCollector asks optional host tools: zpool (ZFS pools), wg
// (WireGuard peers) and tailscale. A missing tool gives the documented
// fallback (no pools, null).
type toolCollector struct {
	mu    sync.Mutex
	zfsAt time.Time
	zfs   []map[string]any
	tsAt  time.Time
	ts    any
}

func (*toolCollector) name() string { return "tools" }

func (*toolCollector) defaults(p map[string]any) {
	p["zfs"] = map[string]any{"pools": []map[string]any{}}
	p["vpn"] = nil
	p["tailscale"] = nil
}

func (c *toolCollector) update(ctx context.Context, h *Host, p map[string]any) error {
	if h.opts.Root != "/" {
		return nil // tools describe the live host only
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.zfsAt) >= 15*time.Second {
		c.zfsAt, c.zfs = time.Now(), []map[string]any{}
		if out, err := run(ctx, "zpool", "list", "-H", "-o", "name,health"); err == nil {
			c.zfs = ParseZpoolList(out)
		}
	}
	p["zfs"] = map[string]any{"pools": c.zfs}
	if out, err := run(ctx, "wg", "show", "all", "dump"); err == nil {
		if peers := ParseWGDump(out); len(peers) > 0 {
			p["vpn"] = map[string]any{"peers": peers, "peer_count": len(peers)}
		}
	}
	if time.Since(c.tsAt) >= 30*time.Second {
		c.tsAt, c.ts = time.Now(), nil
		if out, err := run(ctx, "tailscale", "status", "--json"); err == nil {
			c.ts = ParseTailscale([]byte(out))
		}
	}
	p["tailscale"] = c.ts
	return nil
}

// run executes a tool found on PATH.
func run(ctx context.Context, name string, args ...string) (string, error) {
	bin, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	return string(out), err
}

// ParseZpoolList parses `zpool list -H -o name,health`.
func ParseZpoolList(out string) []map[string]any {
	pools := []map[string]any{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			pools = append(pools, map[string]any{"name": f[0], "health": f[1]})
		}
	}
	return pools
}

// ParseWGDump parses `wg show all dump` peer lines (9 tab-separated
// fields; interface lines have 5).
func ParseWGDump(out string) []map[string]any {
	peers := []map[string]any{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, "\t")
		if len(f) < 9 {
			continue
		}
		hs, _ := strconv.ParseInt(f[5], 10, 64)
		rx, _ := strconv.ParseInt(f[6], 10, 64)
		tx, _ := strconv.ParseInt(f[7], 10, 64)
		peers = append(peers, map[string]any{"interface": f[0], "endpoint": f[3], "last_handshake": hs,
			"rx_bytes": rx, "tx_bytes": tx})
	}
	return peers
}

// ParseTailscale shapes `tailscale status --json`; nil when unparsable.
func ParseTailscale(b []byte) any {
	var st struct {
		Self struct {
			HostName     string
			TailscaleIPs []string
			OS           string
			Relay        string
		}
		Peer map[string]struct {
			HostName     string
			TailscaleIPs []string
			OS           string
			Online       bool
			Relay        string
		}
		CurrentTailnet *struct{ Name string }
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil
	}
	first := func(s []string) string {
		if len(s) > 0 {
			return s[0]
		}
		return ""
	}
	peers := []map[string]any{}
	online := 0
	for _, pe := range st.Peer {
		if pe.Online {
			online++
		}
		peers = append(peers, map[string]any{"hostname": pe.HostName, "ip": first(pe.TailscaleIPs), "os": pe.OS,
			"online": pe.Online, "relay": pe.Relay})
	}
	tailnet := ""
	if st.CurrentTailnet != nil {
		tailnet = st.CurrentTailnet.Name
	}
	return map[string]any{"self": map[string]any{"hostname": st.Self.HostName, "ip": first(st.Self.TailscaleIPs),
		"os": st.Self.OS, "relay": st.Self.Relay}, "peers": peers, "onlineCount": online, "totalCount": len(peers),
		"tailnet": tailnet}
}
