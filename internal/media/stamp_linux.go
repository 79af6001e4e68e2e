package media

import (
	"syscall"
	"time"
	"unsafe"
)

// arrivalTime returns the kernel's receive time of the datagram just read
// from fd (SIOCGSTAMP, socket(7)), so that an RTCP report read at the next
// tick still yields an exact round-trip time. The first call turns
// timestamping on and falls back to the current time.
func arrivalTime(fd uintptr) time.Time {
	var tv syscall.Timeval
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.SIOCGSTAMP, uintptr(unsafe.Pointer(&tv)))
	if errno != 0 {
		return time.Now()
	}
	return time.Unix(int64(tv.Sec), int64(tv.Usec)*1000)
}
