//go:build !linux || !(amd64 || arm64)

package media

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// pollRTP is false here: each session runs a reader goroutine (readRTP)
// that blocks on its RTP socket.
const pollRTP = false

type rxBatch struct{}

type shardIO struct{ rx *rxBatch }

func (sh *shard) watch(*Session)      {}
func (sh *shard) release()            {}
func (sh *shard) unwatch(*Session)    {}
func (sh *shard) readReady(time.Time) {}

func (s *Session) drainRTP(*rxBatch, time.Time) {}

// Sends are not batched here: every datagram is one system call.
func (sh *shard) queueSend(*sock, []byte, netip.AddrPort, *Session, int) bool { return false }
func (sh *shard) queueClose(*sock) bool                                       { return false }
func (sh *shard) submit(time.Time)                                            {}

// startReaders starts the session's reader goroutines: RTP, and RTCP
// where the loop cannot poll it.
func (s *Session) startReaders() {
	s.wg.Add(1)
	go s.readRTP()
	if s.rtcpSock != nil && !pollRTCP {
		s.wg.Add(1)
		go s.readRTCP(s.rtcpSock)
	}
}

// readRTP is the session's reader goroutine: it blocks on the RTP socket,
// runs the receive path on each datagram and exits when the socket closes.
func (s *Session) readRTP() {
	defer s.wg.Done()
	buf := make([]byte, 1500+64)
	for {
		n, from, err := s.rtpSock.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP errors and the like: keep going
		}
		now := time.Now()
		s.loopMu.Lock()
		if s.stopped {
			s.loopMu.Unlock()
			return
		}
		s.l.receive(buf[:n], from, now)
		s.loopMu.Unlock()
	}
}

// readRTCP is the RTCP reader goroutine of a session without rtcp-mux.
func (s *Session) readRTCP(conn *sock) {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.receiveRTCP(buf[:n], from, time.Now())
	}
}
