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
// On Linux (amd64, arm64) a started Session runs no goroutine of its own.
// Everything is done by a scheduler shared by all sessions of the process:
// one goroutine per GOMAXPROCS (a shard), started with its first session
// and gone with its last, each with one 5 ms ticker. At each tick a shard
// makes one pass:
//
//   - it asks its epoll instance, without waiting, which of its sessions'
//     RTP sockets have data and reads one datagram from each, all in one
//     io_uring submission, round after round until none has more (where
//     io_uring is unavailable, one recvmmsg per socket), and runs the
//     inbound path below on each;
//   - it serves the slot due: a shard spreads its sessions over the four
//     5 ms phases of the frame, so that their packets do not leave in one
//     burst, and visits each session twice per frame on an absolute 20 ms
//     schedule. The receive half applies a pending Update, reads any RTCP
//     waiting on the RTCP socket (with its kernel timestamp, so round-trip
//     times stay exact), plays out one frame and checks the media timeout;
//     half a frame later, the send half sends one frame, DTMF packet or
//     nothing, and an RTCP report when one is due;
//   - it sends what sessions whose application writes have been given
//     since their send half (see Latency);
//   - it submits every datagram the pass queued in one io_uring_enter(2)
//     (udpsock.Ring), and only then lets a closing session close its
//     sockets.
//
// A pass never blocks (channel operations are non-blocking, callbacks
// must not block); no goroutine is started per packet, digit or event.
// If a shard falls more than 5 frames behind, the missed ticks are
// skipped, not burst out.
//
// Elsewhere a session also runs one reader goroutine, blocked on the RTP
// socket without a deadline, that runs the inbound path as datagrams
// arrive; and, without rtcp-mux, a second one that reads RTCP.
//
// # Latency
//
// A received frame is played out when it has waited the jitter buffer's
// target delay since the earliest it could have been played (the receive
// half after it was read), to within half a frame. The target adapts to
// the measured jitter (the 98th percentile of transit times over the last
// 200 packets) between Options.Jitter's MinDelay and MaxDelay, 20 and 200
// ms by default; it starts at InitialDelay, 40 ms. Lowering MinDelay
// trades robustness against network jitter for latency: 20 ms absorbs a
// scheduling hiccup of the peer's sender on a LAN. A raw packet reaches
// RTPRawReader within a pass (5 ms) of its arrival.
//
// A frame the application writes on PCMWriter or RTPWriter goes out at
// the next pass, within 5 ms: as its tick's frame when it comes after the
// send half that waited for it, or early as the next tick's, which then
// sends nothing, so the stream never runs more than one frame ahead of
// the session's clock. An application that echoes raw packets thus adds
// 0-10 ms to the path. PacedPCMWriter's frames leave at the send halves.
// A writer queue that got further ahead (a burst, a stall) is caught up
// by one frame after 25 ticks, or trimmed with Options.TrimBacklog.
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
