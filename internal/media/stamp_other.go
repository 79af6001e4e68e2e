//go:build unix && !linux

package media

import "time"

// arrivalTime returns the current time: the receive time of a datagram
// read at the next tick, up to one frame late.
func arrivalTime(uintptr) time.Time { return time.Now() }
