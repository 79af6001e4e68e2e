package transport

import "syscall"

// ReadBuffer returns the receive buffer the socket has, as the caller
// would have asked for it, or 0 when it cannot tell. Linux reports twice
// the size asked for (socket(7)), the doubled half being its bookkeeping.
func (u netUDP) ReadBuffer() int {
	rc, err := u.c.SyscallConn()
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
