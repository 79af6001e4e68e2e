package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone"
)

// runUAS answers every call and echoes its audio until ctx ends.
func runUAS(ctx context.Context, ph xphone.Phone, o options) {
	var invites, answered, answerErr, active, ended, framesIn, framesOut, outDropped atomic.Int64
	var late, concealed, lost, inDropped atomic.Int64 // from each call's Stats at its end
	go statsLoop(ctx, o.statsEvery, func() string {
		return fmt.Sprintf("invites=%d answered=%d answer_err=%d active=%d ended=%d frames_in=%d frames_out=%d",
			invites.Load(), answered.Load(), answerErr.Load(), active.Load(), ended.Load(), framesIn.Load(), framesOut.Load())
	})
	var wg sync.WaitGroup
	ph.OnIncoming(func(c xphone.Call) {
		invites.Add(1)
		wg.Add(1)
		// One goroutine per call: it answers, then echoes. Callbacks must
		// return promptly, so Accept does not run here.
		go func() {
			defer wg.Done()
			actx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.Accept(actx)
			cancel()
			if err != nil {
				answerErr.Add(1)
				return
			}
			answered.Add(1)
			active.Add(1)
			defer func() {
				st := c.Stats()
				late.Add(int64(st.PacketsLate))
				concealed.Add(int64(st.FramesConcealed))
				lost.Add(st.PacketsLost)
				inDropped.Add(int64(st.InboundDropped))
				active.Add(-1)
				ended.Add(1)
			}()
			if o.echo == "rtp" {
				echoRTP(c, &framesIn, &framesOut, &outDropped)
				return
			}
			in, out := c.PCMReader(), c.PCMWriter()
			for f := range in { // closed when the call ends
				framesIn.Add(1)
				select {
				case out <- f:
					framesOut.Add(1)
				default:
					outDropped.Add(1) // the send queue is full: the loop is stalled
				}
			}
		}()
	})
	<-ctx.Done()
	done := make(chan struct{})
	go func() {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ph.Disconnect(dctx) // ends the calls, which closes their readers
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		fmt.Fprintln(os.Stderr, "warning: calls did not end within 15 s of shutdown")
	}
	fmt.Fprintf(os.Stderr, "uas done: invites=%d answered=%d answer_err=%d ended=%d frames_in=%d frames_out=%d out_dropped=%d pkts_lost=%d pkts_late=%d concealed=%d in_dropped=%d goroutines=%d %s\n",
		invites.Load(), answered.Load(), answerErr.Load(), ended.Load(), framesIn.Load(), framesOut.Load(), outDropped.Load(),
		lost.Load(), late.Load(), concealed.Load(), inDropped.Load(),
		runtime.NumGoroutine(), memStatus(os.Getpid()))
}

// echoRTP returns each packet as it arrives, before the jitter buffer, with
// our own SSRC: the payload travels back untouched, as diago-load's UAS
// echoes its AudioReader into its AudioWriter.
func echoRTP(c xphone.Call, framesIn, framesOut, outDropped *atomic.Int64) {
	ssrc := rand.Uint32()
	out := c.RTPWriter()
	for p := range c.RTPRawReader() { // closed when the call ends
		framesIn.Add(1)
		p.SSRC = ssrc
		select {
		case out <- p:
			framesOut.Add(1)
		default:
			outDropped.Add(1)
		}
	}
}
