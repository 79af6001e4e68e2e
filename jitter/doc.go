// Package jitter is an adaptive playout buffer for RTP voice, with loss
// concealment for PCM audio.
//
// A Buffer takes packets as they arrive (Push) and gives back, once per
// frame tick, the frame to play (Pop): the next packet in sequence order,
// Missing when a frame must be concealed, or Silence before playout starts
// and while the sender pauses. Time is passed in on every call; the Buffer
// reads no clock and starts no goroutine, so its behaviour is reproducible.
//
// The Buffer reorders packets, drops duplicates and packets that arrive
// after their playout time, and measures the network jitter as a high
// quantile of packet transit times over a sliding window. Its target delay
// follows that measure between Config.MinDelay and Config.MaxDelay; new
// targets take effect at talkspurt boundaries (a marker bit, RFC 3550
// §5.1, or a silence gap), and within long talkspurts by skipping or
// inserting single frames, which also absorbs a sender clock that runs
// fast or slow. A new SSRC, a sequence-number jump (RFC 3550 Appendix A.1)
// or a timestamp jump resynchronizes it. A gap in timestamps with
// contiguous sequence numbers is a DTX pause, not loss.
//
// Concealer is the hook for frames reported Missing. PCMConcealer is the
// default for codecs without their own concealment (G.711, G.722): pitch
// waveform repetition with fade-out and overlap-add, in the manner of
// ITU-T G.711 Appendix I. Codecs with built-in concealment (Opus) supply
// a Concealer that calls their decoder. Player ties a Buffer, a decoder
// and a Concealer together into a PCM source.
//
// The package imports only the standard library. Adapting an rtp.Packet to
// a Packet takes a struct literal of its header fields and payload.
package jitter
