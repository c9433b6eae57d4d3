// Package wol sends Wake-on-LAN magic packets: six 0xFF bytes followed by
// the target's MAC address sixteen times, as one UDP datagram to a
// broadcast address (port 9 unless configured otherwise).
package wol

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// DefaultBroadcast is where packets go when no broadcast address is configured.
const DefaultBroadcast = "255.255.255.255:9"

// ErrInvalidMAC means a MAC address is not 12 hex digits.
var ErrInvalidMAC = errors.New("invalid MAC address: expected 12 hex digits such as aa:bb:cc:dd:ee:ff")

// ParseMAC reads a MAC address written with ':', '-' or '.' separators or none.
func ParseMAC(s string) ([]byte, error) {
	s = strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.TrimSpace(s))
	if len(s) != 12 {
		return nil, ErrInvalidMAC
	}
	mac, err := hex.DecodeString(s)
	if err != nil {
		return nil, ErrInvalidMAC
	}
	return mac, nil
}

// MagicPacket builds the 102-byte magic packet for mac.
func MagicPacket(mac []byte) []byte {
	p := make([]byte, 0, 6+16*len(mac))
	for i := 0; i < 6; i++ {
		p = append(p, 0xFF)
	}
	for i := 0; i < 16; i++ {
		p = append(p, mac...)
	}
	return p
}

// Broadcast normalises a configured broadcast address: an IPv4 address with
// an optional port (default 9). Host names are refused (no DNS lookups).
func Broadcast(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DefaultBroadcast, nil
	}
	if ap, err := netip.ParseAddrPort(raw); err == nil && ap.Addr().Is4() && ap.Port() != 0 {
		return ap.String(), nil
	}
	if a, err := netip.ParseAddr(raw); err == nil && a.Is4() {
		return netip.AddrPortFrom(a, 9).String(), nil
	}
	return "", fmt.Errorf("invalid broadcast address %q: expected an IPv4 address with an optional port", raw)
}

// Send sends the magic packet of mac to the broadcast address addr (host:port).
func Send(ctx context.Context, mac []byte, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp4", addr)
	if err != nil {
		return fmt.Errorf("wol: %w", err)
	}
	defer c.Close()
	if _, err := c.Write(MagicPacket(mac)); err != nil {
		return fmt.Errorf("wol: send: %w", err)
	}
	return nil
}
