package transport

import "syscall"

// readBuffer returns the receive buffer the socket has, as the caller
// would have asked for it, or 0 when it cannot tell. Linux reports twice
// the size asked for (socket(7)), the doubled half being its bookkeeping.
func readBuffer(l *listener) int {
	rc, err := l.udp.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) {
		v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		if err == nil {
			n = v
		}
	})
	return n / 2
}
