//go:build !linux || !(amd64 || arm64)

package transport

import (
	"context"
	"net"
	"time"
)

// listenUDP binds addr with the net package; its reads need no wake.
func listenUDP(ctx context.Context, addr string, _ time.Duration) (udpSocket, error) {
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	return netUDP{pc.(*net.UDPConn)}, nil
}

// readUDP is one of a UDP listener's reading goroutines.
func (m *Manager) readUDP(l *listener) { m.readNetUDP(l, l.udp.(netUDP).c) }

// reportUnreachable does nothing here: ICMP errors go unseen.
func (m *Manager) reportUnreachable(udpSocket) error { return nil }
