package wav_test

import (
	"bytes"
	"fmt"
	"io"
	"log"

	"github.com/xphone-go/xphone/audio/wav"
)

// Write 20 ms of 16 kHz audio to a WAVE file, then read it back as
// 8 kHz mono for a G.711 call.
func Example() {
	var file bytes.Buffer // an *os.File gets the real sizes on Close
	w := wav.NewWriter(&file, 16000)
	frame := make([]int16, 320) // 20 ms at 16 kHz
	for i := range frame {
		frame[i] = int16(i * 50)
	}
	if err := w.WriteSamples(frame); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("file bytes:", file.Len())

	r, err := wav.NewReader(bytes.NewReader(file.Bytes()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rate:", r.SampleRate(), "channels:", r.Channels())
	pcm, err := io.ReadAll(r) // 16-bit little-endian mono
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("PCM bytes:", len(pcm))

	samples, err := wav.ReadAll(bytes.NewReader(file.Bytes()), 8000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("samples at 8 kHz:", len(samples))
	// Output:
	// file bytes: 684
	// rate: 16000 channels: 1
	// PCM bytes: 640
	// samples at 8 kHz: 160
}

// A file in a format the package does not decode is refused with a reason.
func ExampleNewReader_unsupported() {
	// The header of an 8 kHz µ-law file.
	hdr := []byte("RIFF\x26\x00\x00\x00WAVEfmt \x12\x00\x00\x00" +
		"\x07\x00\x01\x00\x40\x1f\x00\x00\x40\x1f\x00\x00\x01\x00\x08\x00\x00\x00" +
		"data\x00\x00\x00\x00")
	_, err := wav.NewReader(bytes.NewReader(hdr))
	fmt.Println(err)
	// Output:
	// wav: unsupported format: µ-law
}
