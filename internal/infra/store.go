package infra

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/httpx"
)

// Device is a network device an agent discovered.
type Device struct {
	ID           int64  `json:"id"`
	IP           string `json:"ip"`
	MAC          string `json:"mac"`
	Hostname     string `json:"hostname"`
	Vendor       string `json:"vendor"`
	OpenPorts    []int  `json:"open_ports"`
	DiscoveredBy string `json:"discovered_by"`
	FirstSeen    int64  `json:"first_seen"`
	LastSeen     int64  `json:"last_seen"`
}

// Store keeps the discovered network devices.
type Store struct{ db *db.DB }

// Devices lists devices, newest last_seen first.
func (s *Store) Devices(ctx context.Context) ([]Device, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, ip, mac, COALESCE(hostname, ''), COALESCE(vendor, ''), open_ports,
		COALESCE(discovered_by, ''), first_seen, last_seen FROM network_devices ORDER BY last_seen DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	out := []Device{}
	for rows.Next() {
		var d Device
		var ports string
		if err := rows.Scan(&d.ID, &d.IP, &d.MAC, &d.Hostname, &d.Vendor, &ports, &d.DiscoveredBy, &d.FirstSeen, &d.LastSeen); err != nil {
			return nil, fmt.Errorf("scan device: %w", err)
		}
		_ = json.Unmarshal([]byte(ports), &d.OpenPorts)
		if d.OpenPorts == nil {
			d.OpenPorts = []int{}
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Upsert stores a device keyed on (ip, mac): a known device keeps its
// hostname, vendor and discoverer when the new value is empty; open ports
// are replaced and last_seen bumped.
func (s *Store) Upsert(ctx context.Context, d Device, now int64) error {
	ports := append([]int(nil), d.OpenPorts...)
	sort.Ints(ports)
	if ports == nil {
		ports = []int{}
	}
	pb, _ := json.Marshal(ports)
	null := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO network_devices (ip, mac, hostname, vendor, open_ports, discovered_by, first_seen, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (ip, mac) DO UPDATE SET
			hostname = COALESCE(excluded.hostname, network_devices.hostname),
			vendor = COALESCE(excluded.vendor, network_devices.vendor),
			discovered_by = COALESCE(excluded.discovered_by, network_devices.discovered_by),
			open_ports = excluded.open_ports, last_seen = excluded.last_seen`,
		d.IP, d.MAC, null(d.Hostname), null(d.Vendor), string(pb), null(d.DiscoveredBy), now, now)
	if err != nil {
		return fmt.Errorf("upsert device: %w", err)
	}
	return nil
}

// Delete removes a device; httpx.ErrNotFound when there is none.
func (s *Store) Delete(ctx context.Context, id int64) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM network_devices WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete device: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return httpx.ErrNotFound
	}
	return nil
}
