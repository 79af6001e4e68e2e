//go:build !linux || !(amd64 || arm64)

package media

import (
	"net"
	"syscall"
	"time"
)

// pollRTP is false here: each session runs a reader goroutine (readRTP)
// that blocks on its RTP socket.
const pollRTP = false

type rxBatch struct{}

func newRxBatch() *rxBatch { return nil }

func setupRxPoll(*net.UDPConn) syscall.RawConn { return nil }

func (s *Session) drainRTP(*rxBatch, time.Time) {}
