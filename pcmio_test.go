package xphone_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/phonetest"
)

func activeCall(t *testing.T) *phonetest.MockCall {
	t.Helper()
	c := phonetest.NewMockCall()
	if err := c.Accept(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.End(context.Background()) })
	return c
}

func le(samples ...int16) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func TestPCMReader(t *testing.T) {
	frames := [][]int16{{1, -2, 3}, {}, {0x7fff, -0x8000}, {5}}
	var want []byte
	for _, f := range frames {
		want = append(want, le(f...)...)
	}
	for _, size := range []int{1, 2, 3, 5, 64} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c := activeCall(t)
			for _, f := range frames {
				c.InjectPCM(f)
			}
			if err := c.End(context.Background()); err != nil {
				t.Fatal(err)
			}
			r := xphone.NewPCMReader(c)
			var got []byte
			buf := make([]byte, size)
			for {
				n, err := r.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil || n == 0 {
					t.Fatalf("Read: got %d, %v, want progress", n, err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got % x, want % x", got, want)
			}
			if n, err := r.Read(buf); n != 0 || err != io.EOF {
				t.Errorf("after EOF: got %d, %v, want 0, EOF", n, err)
			}
		})
	}
}

func TestPCMReaderBlocksUntilFrame(t *testing.T) {
	c := activeCall(t)
	r := xphone.NewPCMReader(c)
	done := make(chan []byte)
	go func() {
		buf := make([]byte, 16)
		n, _ := r.Read(buf)
		done <- buf[:n]
	}()
	c.InjectPCM([]int16{7, 8})
	if got := <-done; !bytes.Equal(got, le(7, 8)) {
		t.Errorf("got % x, want % x", got, le(7, 8))
	}
}

func TestPCMReaderAllocs(t *testing.T) {
	c := activeCall(t)
	r := xphone.NewPCMReader(c)
	frame := make([]int16, 160)
	buf := make([]byte, 320)
	allocs := testing.AllocsPerRun(200, func() {
		c.InjectPCM(frame)
		if n, err := r.Read(buf); n != 320 || err != nil {
			t.Fatalf("got %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocs per frame, want 0", allocs)
	}
}

func TestPCMWriter(t *testing.T) {
	samples := []int16{1, -1, 300, -300, 0x7fff, -0x8000, 42}
	data := le(samples...)
	tests := []struct {
		name   string
		chunks []int // sizes of the writes
	}{
		{"whole", []int{len(data)}},
		{"bytes", []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"odd", []int{3, 5, 1, 5}},
		{"empty writes", []int{0, 4, 0, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := activeCall(t)
			w := xphone.NewPCMWriter(c)
			rest := data
			for _, n := range tt.chunks {
				got, err := w.Write(rest[:n])
				if got != n || err != nil {
					t.Fatalf("Write(%d bytes): got %d, %v", n, got, err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Errorf("Close: got %v, want nil", err)
			}
			var got []int16
			for _, f := range c.SentPCM() {
				got = append(got, f...)
			}
			if !slices.Equal(got, samples) {
				t.Errorf("got %v, want %v", got, samples)
			}
			if _, err := w.Write(data); !errors.Is(err, xphone.ErrWriterClosed) {
				t.Errorf("Write after Close: got %v, want ErrWriterClosed", err)
			}
		})
	}
}

func TestPCMWriterOddClose(t *testing.T) {
	c := activeCall(t)
	w := xphone.NewPCMWriter(c)
	if n, err := w.Write([]byte{1, 2, 3}); n != 3 || err != nil {
		t.Fatalf("got %d, %v", n, err)
	}
	if err := w.Close(); err != io.ErrUnexpectedEOF {
		t.Errorf("got %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestPCMWriterAfterEnd(t *testing.T) {
	c := activeCall(t)
	w := xphone.NewPCMWriter(c)
	if err := c.SimulateRemoteHangup(); err != nil {
		t.Fatal(err)
	}
	// Fill the queue so that the next Write can only finish by seeing the end.
	for i := 0; i < xphone.ChannelDepth+1; i++ {
		if _, err := w.Write(le(1)); err != nil {
			if !errors.Is(err, xphone.EndRemoteHangup) {
				t.Fatalf("got %v, want EndRemoteHangup", err)
			}
			if _, again := w.Write(le(1)); again != err {
				t.Errorf("got %v, want the same error again", again)
			}
			return
		}
	}
	t.Fatal("got no error after the call ended, want EndRemoteHangup")
}
