//go:build !linux

package monitoring

import (
	"errors"
	"net"
)

// openPingSocket is only implemented on Linux.
func openPingSocket() (net.PacketConn, error) { return nil, errors.New("no datagram ping sockets") }
