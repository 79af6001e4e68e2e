//go:build !linux

package transport

// ReadBuffer returns 0: outside Linux the granted size is not checked.
func (netUDP) ReadBuffer() int { return 0 }
