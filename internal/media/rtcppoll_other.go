//go:build !unix

package media

import (
	"net/netip"
	"time"
)

// pollRTCP is false where raw non-blocking reads are not available: the
// session runs an RTCP reader goroutine instead.
const pollRTCP = false

type rtcpPoller struct{}

func newRTCPPoller(*sock) *rtcpPoller { return nil }

func (p *rtcpPoller) next([]byte) ([]byte, netip.AddrPort, time.Time, bool) {
	return nil, netip.AddrPort{}, time.Time{}, false
}
