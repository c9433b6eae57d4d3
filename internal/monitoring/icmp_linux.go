package monitoring

import (
	"net"
	"os"
	"syscall"
)

// openPingSocket opens an unprivileged ICMP datagram socket.
func openPingSocket() (net.PacketConn, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.IPPROTO_ICMP)
	if err != nil {
		return nil, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{}); err != nil {
		_ = syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "icmp-dgram")
	defer f.Close()
	return net.FilePacketConn(f)
}
