package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/xphone-go/xphone"
)

// errHelp is returned by parseOptions after -h printed the flags.
var errHelp = flag.ErrHelp

// options are the flags of register, call, answer and interactive. Their
// names are a contract with scripts: never rename one.
type options struct {
	cmd        string
	target     string // call's <uri>
	server     string
	user, pass string
	transport  string
	codecs     string
	srtp       bool
	stun       string
	mwi        bool
	rtpPorts   string
	play       string
	record     string
	echo       bool
	dtmf       string
	duration   time.Duration
	autoAnswer bool
	listen     string
	json       bool
	log        string
	timeout    time.Duration

	// Derived from the flags by check.
	host     string
	port     int
	codecSet []xphone.Codec
	portMin  int
	portMax  int
}

// flagSet declares every flag on a new FlagSet bound to o.
func (o *options) flagSet(cmd string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.server, "server", "", "SIP server (registrar) as host[:port]")
	fs.StringVar(&o.user, "user", "", "SIP user name")
	fs.StringVar(&o.pass, "pass", "", "SIP password (digest)")
	fs.StringVar(&o.transport, "transport", "udp", "SIP transport: udp, tcp or tls")
	fs.StringVar(&o.codecs, "codecs", "pcmu,pcma,g722", "codecs, most preferred first: pcmu,pcma,g722,opus")
	fs.BoolVar(&o.srtp, "srtp", false, "require SRTP media encryption (SDES; use with --transport tls)")
	fs.StringVar(&o.stun, "stun", "", "STUN server host:port to learn the public address")
	fs.BoolVar(&o.mwi, "mwi", false, "subscribe to the account's voicemail status (RFC 3842) and print it")
	fs.StringVar(&o.rtpPorts, "rtp-ports", "", "local RTP port range, e.g. 10000-20000")
	fs.StringVar(&o.play, "play", "", "WAV file to play into the call (16-bit PCM)")
	fs.StringVar(&o.record, "record", "", "WAV file to record what the peer sends")
	fs.BoolVar(&o.echo, "echo", false, "send the peer's audio back to it")
	fs.StringVar(&o.dtmf, "dtmf", "", "DTMF digits to send once the call is up, e.g. 123#")
	fs.DurationVar(&o.duration, "duration", 0, "call length before hanging up (0: until the peer hangs up, or the --play file ends)")
	fs.BoolVar(&o.autoAnswer, "auto-answer", false, "answer every incoming call (answer: keep serving calls; interactive: no prompt)")
	fs.StringVar(&o.listen, "listen", "", "local SIP address host:port; without --server, take INVITEs directly (no registration)")
	fs.BoolVar(&o.json, "json", false, "print the result and media statistics as JSON on stdout")
	fs.StringVar(&o.log, "log", "", "log level on stderr: debug, info, warn or error")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "wait for registration and for the answer")
	return fs
}

// parseOptions parses the flags of cmd. Flags may come before or after the
// positional <uri> of call.
func parseOptions(cmd string, args []string, stderr io.Writer) (*options, error) {
	o := &options{cmd: cmd}
	fs := o.flagSet(cmd, stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	switch {
	case cmd == "call" && len(pos) != 1:
		return nil, errors.New("want exactly one target URI, e.g. xphone call sip:1002@pbx.example.com")
	case cmd != "call" && len(pos) != 0:
		return nil, fmt.Errorf("unexpected argument %q", pos[0])
	case cmd == "call":
		o.target = pos[0]
	}
	return o, o.check()
}

// check validates the flags and fills the derived fields.
func (o *options) check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if o.server != "" {
		host, port, err := splitHostPort(o.server)
		if err != nil {
			bad("--server %q: %v", o.server, err)
		}
		o.host, o.port = host, port
	}
	switch {
	case o.cmd == "register" && o.server == "":
		bad("--server is required")
	case o.cmd == "register" && o.user == "":
		bad("--user is required")
	case o.cmd == "answer" && o.server == "" && o.listen == "":
		bad("--server (to register) or --listen (to take INVITEs directly) is required")
	case o.server != "" && o.user == "":
		bad("--user is required with --server")
	}
	switch strings.ToLower(o.transport) {
	case "udp", "tcp", "tls":
	default:
		bad("--transport %q: want udp, tcp or tls", o.transport)
	}
	for _, name := range strings.Split(o.codecs, ",") {
		c, err := xphone.ParseCodec(strings.TrimSpace(name))
		if err != nil {
			bad("--codecs: unknown codec %q: want pcmu, pcma, g722 or opus", name)
			continue
		}
		o.codecSet = append(o.codecSet, c)
	}
	if o.rtpPorts != "" {
		lo, hi, ok := strings.Cut(o.rtpPorts, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if !ok || err1 != nil || err2 != nil || a < 1024 || b > 65535 || a >= b {
			bad("--rtp-ports %q: want MIN-MAX within 1024-65535, e.g. 10000-20000", o.rtpPorts)
		}
		o.portMin, o.portMax = a, b
	}
	if o.stun != "" {
		if _, _, err := splitHostPort(o.stun); err != nil {
			bad("--stun %q: %v", o.stun, err)
		}
	}
	if o.listen != "" {
		if _, err := netip.ParseAddrPort(o.listen); err != nil {
			if _, _, err := net.SplitHostPort(o.listen); err != nil {
				bad("--listen %q: want host:port", o.listen)
			}
		}
	}
	if o.dtmf != "" {
		if err := xphone.ValidateDTMF(o.dtmf); err != nil {
			bad("--dtmf %q: want digits 0-9, *, #, A-D", o.dtmf)
		}
	}
	if o.duration < 0 {
		bad("--duration %v: must not be negative", o.duration)
	}
	if o.timeout <= 0 {
		bad("--timeout %v: must be positive", o.timeout)
	}
	if o.play != "" {
		if _, err := readWAVFile(o.play, 8000); err != nil {
			bad("--play %s: %v", o.play, err)
		}
	}
	if o.echo && o.play != "" {
		bad("--echo and --play both send audio: give one")
	}
	if _, err := newLogger(o.log, io.Discard); err != nil {
		bad("%v", err)
	}
	return errors.Join(errs...)
}

// splitHostPort splits "host[:port]" (IPv6 in brackets); port 0 if absent.
func splitHostPort(s string) (string, int, error) {
	if s == "" {
		return "", 0, errors.New("empty address")
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		// No port: a bare host or a bare IPv6 address.
		h := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		if strings.ContainsAny(h, "[]/ ") {
			return "", 0, fmt.Errorf("want host[:port]")
		}
		return h, 0, nil
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 || host == "" {
		return "", 0, fmt.Errorf("want host[:port] with a port of 1-65535")
	}
	return host, port, nil
}

// config builds the phone's Config from the flags.
func (o *options) config(stderr io.Writer) xphone.Config {
	logger, _ := newLogger(o.log, stderr)
	cfg := xphone.Config{
		Username: o.user, Password: o.pass, Host: o.host, Port: o.port,
		Transport: strings.ToLower(o.transport), ListenAddr: o.listen,
		STUNServer: o.stun, RTPPortMin: o.portMin, RTPPortMax: o.portMax,
		Codecs: o.codecSet, Logger: logger, UserAgent: "xphone-cli",
		MWI: o.mwi,
	}
	if cfg.Username == "" {
		cfg.Username = "xphone"
	}
	if o.srtp {
		cfg.SRTP = xphone.SRTPMandatory
	}
	if o.host == "" {
		cfg.RegisterExpiry = -1
	}
	if ip, err := netip.ParseAddrPort(o.listen); err == nil && ip.Addr().IsLoopback() {
		// Media on the same interface as the signaling.
		cfg.RTPAddress = ip.Addr()
	}
	return cfg
}
