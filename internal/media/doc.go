// Package media runs the media of one call: an RTP session (RFC 3550) with
// its RTCP, SRTP (RFC 3711), G.711/G.722/Opus coding, an adaptive jitter
// buffer with loss concealment, RFC 4733 DTMF, and the PCM and RTP
// channels the application reads and writes.
//
// # Life cycle
//
// New binds an even RTP port and the next odd RTCP port from a range (RFC
// 3550 §11), or one port for rtcp-mux (RFC 5761); its address goes into
// SDP. Start applies the negotiated Config (codec, payload types, remote
// address, direction, SRTP keys) and starts the session; Update applies a
// re-INVITE's changes (hold, codec, address, rekey); Close sends an RTCP
// BYE, stops everything and closes the reader channels once.
//
// # Goroutines
//
// A started Session runs exactly one goroutine of its own, its reader: it
// blocks on the RTP socket without a deadline and pushes each datagram
// through the inbound path below into the jitter buffer, under the
// session's lock. Everything paced by the 20 ms clock is done by a
// scheduler shared by all sessions of the process: one goroutine per
// GOMAXPROCS (a shard), started with its first session and gone with its
// last, each with one ticker. A shard spreads its sessions over four
// phases of the frame so that their packets do not leave in one burst,
// and visits each session twice per frame on an absolute schedule: the
// receive half (apply a pending Update, read any RTCP waiting on the RTCP
// socket without blocking, with the kernel's receive timestamp on Linux,
// play out one frame, check the media timeout) and, half a frame later,
// the send half (one frame, DTMF packet or nothing, and an RTCP report
// when due). The half-frame gap means a reply the application writes as
// soon as it reads a frame leaves 10 ms later, not 20. A visit never
// blocks; no goroutine is started per packet, digit or event. Outside
// unix, a session without rtcp-mux runs a second goroutine to read RTCP.
//
// # Inbound
//
// socket → STUN Binding requests answered, foreign datagrams dropped (RFC
// 7983 §7) → SRTP unprotect → RTP parse → telephone-events to OnDTMF, once
// per key press → RTPRawReader tap → jitter buffer → RTPReader tap → decode
// (codec chosen by payload type; resync on a new SSRC or a sequence jump)
// → loss concealment (jitter.PCMConcealer, or Opus's own) → PCMReader.
//
// # Outbound
//
// PCMWriter, PacedPCMWriter or RTPWriter → mute → encode → RTP (random
// SSRC, sequence and timestamp start; timestamp at the codec's RTP clock:
// 8000 Hz for G.722's 16 kHz audio, 48000 Hz for Opus) → SRTP → socket.
// When the application writes nothing, nothing is sent (the timestamp
// keeps advancing, and the next packet carries the marker bit).
//
// # Channels
//
// Frames are mono []int16 of 20 ms at the codec's PCM rate (160 samples at
// 8 kHz for PCMU/PCMA, 320 at 16 kHz for G.722 and Opus). Every channel
// holds ChannelDepth (256) entries; readers drop the oldest on overflow,
// writers the newest, and both are counted in Stats. Reader channels are
// closed exactly once when the session ends. Writer channels are never
// closed by the session: an application that closes one ends that writer
// only.
//
// # Symmetric RTP
//
// With Options.Latch, RTP and RTCP are sent to where the peer's packets
// really come from once a valid (authenticated) packet arrives from
// there, which gets media through NATs that the SDP address does not
// describe.
package media
