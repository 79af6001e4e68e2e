// Command xphone is a command-line phone built on the xphone library: a
// self-contained demo, and register, call and answer against any SIP server,
// with an interactive mode for manual use.
//
// # Demo
//
//	go run ./cmd/xphone demo [--out dir] [--log debug]
//
// starts an in-process PBX (phonetest.PBX: registrar and proxy with digest
// authentication) on loopback, registers alice and bob, calls bob from
// alice with G.722 and SRTP offered, plays a tone and speech-like audio both
// ways and checks what arrived (the tone's frequency by Goertzel, the speech
// by correlation with what was sent), sends DTMF both ways and checks it,
// holds and resumes (then checks audio again), hangs up; then checks alice's
// voicemail indication (the PBX's box), sends bob an instant message, has
// alice watch bob's presence while bob publishes his, and watch bob's line
// (busy lamp) while she calls him again; and unregisters. It
// prints one line per step, "ok" or "FAILED: why", the SIP ladder the PBX
// saw and per-call media statistics, writes what each side heard to
// alice-heard.wav and bob-heard.wav (in --out or a new temporary directory)
// and exits 0 only if every step worked. It takes about five seconds.
//
// # Register, call, answer
//
//	xphone register --server pbx.example.com --user 1001 --pass secret [--duration 1m]
//	xphone call sip:1002@pbx.example.com --server pbx.example.com --user 1001 --pass secret --play hello.wav --record reply.wav
//	xphone answer --server pbx.example.com --user 1002 --pass secret --echo
//	xphone answer --listen 0.0.0.0:5060 --echo                 (no registration: takes INVITEs directly)
//	xphone call sip:echo@127.0.0.1:5060 --listen 127.0.0.1:0 --dtmf 123# --duration 5s --json
//
// The flags, which scripts may rely on (one or two dashes):
//
//	--server host[:port]   registrar; without it, no registration
//	--user, --pass         SIP user and digest password
//	--transport udp|tcp|tls
//	--codecs pcmu,pcma,g722,opus   offered, most preferred first (opus needs the opus build tag)
//	--srtp                 require SRTP (SDES keys travel in SDP: use --transport tls)
//	--stun host:port       learn the public address at start
//	--mwi                  subscribe to the account's voicemail status (RFC 3842) and print it
//	--rtp-ports 10000-20000
//	--play file.wav        play a 16-bit PCM WAV file (any rate, resampled); the call ends after it unless --duration
//	--record file.wav      record what the peer sends, at the codec's rate
//	--echo                 send the peer's audio back
//	--dtmf 123#            send digits once the call is up
//	--duration 5s          hang up after this long (default: when the peer hangs up, or --play ends)
//	--auto-answer          answer: keep answering calls one after another; interactive: answer without asking
//	--listen host:port     local SIP address (port 0: a free port, printed)
//	--json                 the result and media statistics as one JSON object on stdout
//	--log debug            library logs on stderr through log/slog
//	--timeout 30s          wait for registration and for the answer
//
// Progress lines go to stderr, results to stdout.
//
// # Interactive
//
// With no command, or "xphone interactive" with the same flags, xphone reads
// commands from standard input: dial <uri>, answer, reject [code], hold,
// resume, mute, unmute, dtmf <digits>, transfer <uri>, hangup, status, help,
// quit.
//
// # Exit status
//
//	0  everything asked for worked
//	1  a demo step failed, or an unexpected local error
//	2  usage: bad flags or arguments, unreadable --play file
//	3  registration refused or not answered
//	4  the call failed: refused, not answered, dropped, or ended before --play finished
//	5  media failed: no audio from the peer with --echo or --record, DTMF not sent, media timeout, recording not written
package main
