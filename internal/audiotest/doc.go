// Package audiotest checks that audio which crossed a real call means
// something: it generates test tones, finds which frequency arrived with a
// Goertzel detector, measures continuity (silent, dropped and discontinuous
// 20 ms frames) and reads and writes the 16-bit PCM WAV files that peers such
// as baresip record.
//
// It uses the standard library only and may be imported by any test in the
// module. Nothing in it does I/O except ReadWAV and WriteWAV, which use the
// reader or writer they are given. All functions are safe for concurrent use;
// a ToneGenerator is not (each goroutine uses its own).
package audiotest
