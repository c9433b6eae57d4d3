package monitoring

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// errICMPUnavailable means neither an unprivileged ping socket nor a raw
// ICMP socket could be opened on this host.
var errICMPUnavailable = errors.New("icmp unavailable")

var icmpSeq atomic.Uint32

// icmpEcho sends one ICMP echo request to ip and waits for its reply until
// ctx ends. It tries an unprivileged datagram ping socket first (allowed by
// net.ipv4.ping_group_range), then a raw socket (root or CAP_NET_RAW).
func icmpEcho(ctx context.Context, ip net.IP) (string, error) {
	conn, method, err := openICMP()
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()

	id := uint16(os.Getpid() & 0xffff)
	seq := uint16(icmpSeq.Add(1))
	payload := []byte("NOBA-ping")
	msg := make([]byte, 8+len(payload))
	msg[0] = 8 // echo request
	binary.BigEndian.PutUint16(msg[4:], id)
	binary.BigEndian.PutUint16(msg[6:], seq)
	copy(msg[8:], payload)
	binary.BigEndian.PutUint16(msg[2:], icmpChecksum(msg))

	var dst net.Addr = &net.IPAddr{IP: ip}
	if method == "icmp" {
		dst = &net.UDPAddr{IP: ip}
	}
	if _, err := conn.WriteTo(msg, dst); err != nil {
		return method, err
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return method, ctx.Err()
			}
			return method, err
		}
		if n < 8 || buf[0] != 0 || binary.BigEndian.Uint16(buf[6:]) != seq {
			continue
		}
		// Datagram sockets rewrite the identifier; raw sockets see every
		// reply, so match the identifier and the source there.
		if method == "icmp-raw" {
			if binary.BigEndian.Uint16(buf[4:]) != id {
				continue
			}
			if a, ok := from.(*net.IPAddr); ok && !a.IP.Equal(ip) {
				continue
			}
		}
		return method, nil
	}
}

func openICMP() (net.PacketConn, string, error) {
	if c, err := openPingSocket(); err == nil {
		return c, "icmp", nil
	}
	if c, err := net.ListenPacket("ip4:icmp", "0.0.0.0"); err == nil {
		return c, "icmp-raw", nil
	}
	return nil, "", errICMPUnavailable
}

func icmpChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
