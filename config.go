package xphone

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xphone-go/xphone/internal/opus"
	"github.com/xphone-go/xphone/srtp"
)

// Config configures a Phone. The zero value of every field but Username,
// Password and Host selects the default documented on it. A Phone copies
// its Config when it is created and never changes the caller's value or
// the slices and pointers inside it; changing a Config afterwards has no
// effect on the Phone.
//
// Validate reports every problem at once, each wrapping ErrInvalidConfig.
type Config struct {
	// Username is the SIP user (the user part of our address of record)
	// and, unless AuthUsername is set, the digest user name. It is
	// required when registering.
	Username string
	// Password is the digest password (RFC 3261 §22). It may be empty for
	// servers that authenticate by address.
	Password string
	// Host is the registrar and default domain: a host name or an IP
	// address, without scheme or port. Bare numbers given to Dial are
	// sent to it. It may be empty only when ListenAddr is set (trunk or
	// server mode: no registration, INVITEs taken directly).
	Host string
	// Port is the registrar's port. When it is 0 (the default) and Host is
	// a name, the server and port come from Host's DNS SRV records for the
	// transport (_sip._udp, _sip._tcp or _sips._tcp, RFC 3263), and
	// without such records the port is 5060, or 5061 with "tls".
	Port int
	// Resolver looks up host names in DNS (SRV, A, AAAA) for SIP and
	// media. Default net.DefaultResolver.
	Resolver *net.Resolver
	// Transport is "udp", "tcp" or "tls" (case ignored). Default "udp".
	Transport string
	// TLSConfig is used by the "tls" transport. Default: the system
	// roots and ServerName set to Host. It is cloned, never modified.
	TLSConfig *tls.Config
	// AuthUsername is the digest user name when it differs from Username.
	AuthUsername string
	// DisplayName is the display name in our From header.
	DisplayName string
	// OutboundProxy, if set, receives every request (as a preloaded
	// Route with lr, RFC 3261 §8.1.2): "host", "host:port" or a SIP URI.
	// A Service-Route the registrar returns (RFC 3608) is followed on
	// INVITEs either way, after this proxy.
	OutboundProxy string
	// UserAgent is the User-Agent header value. Default "xphone".
	UserAgent string

	// RegisterExpiry is the registration lifetime asked for in Expires.
	// Default 1 hour. The registrar's granted value is refreshed before it
	// lapses. Negative disables registration (IP-authenticated trunks).
	RegisterExpiry time.Duration
	// RegisterRetry is the first delay before retrying a failed
	// registration; each further failure doubles it, with jitter, up to
	// 5 minutes. Default 2 s.
	RegisterRetry time.Duration
	// NATKeepaliveInterval is how often keepalives go to the server: a
	// CRLF ping on UDP, a double CRLF on TCP and TLS (RFC 5626 §4.4.1).
	// Default 25 s. Negative disables them.
	NATKeepaliveInterval time.Duration
	// ListenAddr is the local SIP address, "host:port". Default: an
	// ephemeral port on every interface. Set it to accept INVITEs
	// directly (trunk or server mode).
	ListenAddr string
	// NoContactRewrite keeps our Contact at the local address. By
	// default, when the registrar's answer over UDP shows in its Via
	// (received and rport, RFC 3581 §4) that our requests come from
	// another address (we are behind a NAT), the Phone registers a
	// Contact with that public address instead, removes the old binding,
	// and puts the public address in the Contact of later INVITEs over
	// UDP, as most softphones do. Over TCP and TLS nothing is rewritten:
	// the registrar reaches us over our connection.
	NoContactRewrite bool
	// MaxUDPRequest is the size in bytes above which a request that would
	// go over UDP goes over TCP to the same address instead (RFC 3261
	// §18.1.1; large datagrams are fragmented, and NATs drop fragments).
	// A server that does not take TCP gets it over UDP after all. 0 means
	// 1300; negative keeps every request on UDP.
	MaxUDPRequest int
	// STUNServer, if set, is asked for our public address at Connect
	// (RFC 8489), which is then advertised in SIP and SDP: "host" or
	// "host:port" (default port 3478). If it does not answer, local
	// addresses are used.
	STUNServer string

	// MaxCalls bounds the calls up at once; 0 (the default) means no
	// bound besides the RTP ports. An INVITE beyond it is answered 486
	// Busy Here and Dial fails with ErrMaxCalls; a call that takes
	// another's place (attended transfer, pickup, a transfer the peer
	// asked for) is not refused.
	MaxCalls int
	// RTPPortMin and RTPPortMax bound the local RTP ports, inclusive. RTP
	// uses even ports and RTCP the next odd one (RFC 3550 §11). Default
	// 10000–20000; set both or neither.
	RTPPortMin, RTPPortMax int
	// RTPAddress is the local address media sockets bind to. Default:
	// every IPv4 interface.
	RTPAddress netip.Addr
	// Codecs lists the codecs offered and accepted, most preferred first.
	// Default PCMU, PCMA, G722.
	Codecs []Codec
	// PCMRate fixes the sample rate of PCM frames at the channel API:
	// 8000 or 16000, resampling as needed. Default 0: the codec's rate
	// (Codec.SampleRate).
	PCMRate int
	// JitterMin and JitterMax bound the adaptive delay of the jitter
	// buffer. Defaults 20 ms and 200 ms.
	JitterMin, JitterMax time.Duration
	// MediaTimeout ends a call with EndMediaTimeout when no RTP arrives
	// for this long while media should flow. Default 30 s. Negative
	// disables it.
	MediaTimeout time.Duration
	// SRTP selects media encryption. Default SRTPOff. SRTP keys travel in
	// the SDP (SDES, RFC 4568), so they are only as private as the
	// signalling: use Transport "tls".
	SRTP SRTPMode
	// SRTPSuites are the SDES crypto suites offered and accepted, most
	// preferred first. Default: AES_CM_128_HMAC_SHA1_80, then
	// AES_CM_128_HMAC_SHA1_32 (what most PBXes and phones offer). The
	// AES-256 and AEAD-AES-GCM suites of package srtp may be listed too.
	SRTPSuites []srtp.Profile
	// RefuseSDESOverPlain refuses SDES keys on signalling that is not TLS:
	// Dial with SRTPMandatory fails with an error matching
	// ErrNotAcceptable, SRTPOptional offers plain RTP, and a peer's
	// RTP/SAVP offer is answered 488. Without it such calls work and a
	// warning is logged once per call.
	RefuseSDESOverPlain bool
	// DTMFMode selects how DTMF travels. Default DTMFRFC4733.
	DTMFMode DTMFMode
	// TrimWriteBacklog bounds the latency of a real-time writer: when 1 to
	// 8 frames (or RTP packets) have stayed queued on PCMWriter or
	// RTPWriter for 25 sends in a row, the oldest is dropped (counted in
	// CallStats.OutboundDropped), so that one early write or late wake-up
	// does not delay the rest of the call by 20 ms. A burst written at once
	// drains and loses nothing; a writer that keeps a few frames queued on
	// purpose loses them. Off by default.
	TrimWriteBacklog bool
	// MuteSendsNothing makes Call.Mute stop RTP altogether instead of
	// sending silence (RTCP continues). The peer's media timeout or a NAT
	// binding may then lapse during a long mute.
	MuteSendsNothing bool
	// SessionTimer is the session interval asked for (RFC 4028): the
	// call is refreshed within it and ended if a refresh fails. Default
	// 30 minutes; at least 90 s; negative disables session timers.
	SessionTimer time.Duration
	// Rel100 selects reliable provisional responses (100rel and PRACK,
	// RFC 3262), which some carriers require. Default Rel100Supported.
	Rel100 Rel100Mode
	// RefuseReplaces turns off INVITEs with Replaces (RFC 3891): by
	// default anyone who knows a call's Call-ID and both tags (a busy-lamp
	// subscriber to our line learns them) can take the call over, as
	// attended transfer and call pickup need. With it set, such an INVITE
	// that requires replaces gets 420 and any other rings as a new call.
	RefuseReplaces bool
	// MWI subscribes, from Connect to Disconnect, to the voicemail
	// status (message-summary, RFC 3842) of the account, or of MWIURI
	// when set (a SIP URI or an extension at Host, e.g. "*97"); the
	// subscription is refreshed, made again when the server ends it, and
	// failures go to OnError wrapping ErrMWIFailed. Phone.OnVoicemail
	// gets the status; it also gets unsolicited message-summary NOTIFYs,
	// which some PBXes send to registered phones without MWI set.
	MWI    bool
	MWIURI string

	// Logger receives the Phone's logs: Debug for the happy path, Warn
	// for trouble recovered from. Default slog.Default().
	Logger *slog.Logger
}

// Defaults applied by withDefaults.
const (
	defaultTransport     = "udp"
	defaultUserAgent     = "xphone"
	defaultExpiry        = time.Hour
	defaultRetry         = 2 * time.Second
	defaultKeepalive     = 25 * time.Second
	defaultRTPPortMin    = 10000
	defaultRTPPortMax    = 20000
	defaultJitterMin     = 20 * time.Millisecond
	defaultJitterMax     = 200 * time.Millisecond
	defaultMediaTimeout  = 30 * time.Second
	defaultSessionTimer  = 30 * time.Minute
	minSessionTimer      = 90 * time.Second // RFC 4028 §4
	defaultSTUNPort      = "3478"
	maxRegisterRetryBase = 5 * time.Minute
)

func defaultCodecs() []Codec { return []Codec{CodecPCMU, CodecPCMA, CodecG722} }

// Validate reports whether c can configure a Phone. It returns nil or an
// error joining one error per problem (errors.Join), each wrapping
// ErrInvalidConfig. It does no network I/O: names are not resolved.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	registering := c.RegisterExpiry >= 0
	switch {
	case c.Host == "" && c.ListenAddr == "":
		bad("Host is required unless ListenAddr is set")
	case c.Host != "":
		if err := checkHost(c.Host); err != nil {
			bad("Host: %v", err)
		}
		if registering && c.Username == "" {
			bad("Username is required to register (or set RegisterExpiry < 0)")
		}
	}
	for _, f := range []struct{ name, v string }{
		{"Username", c.Username}, {"Password", c.Password}, {"AuthUsername", c.AuthUsername},
		{"DisplayName", c.DisplayName}, {"UserAgent", c.UserAgent},
	} {
		if strings.ContainsAny(f.v, "\r\n\x00") {
			bad("%s contains a line break or NUL", f.name)
		}
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("Port %d out of range 0-65535", c.Port)
	}
	transport := strings.ToLower(c.Transport)
	switch transport {
	case "", "udp", "tcp":
		if c.TLSConfig != nil {
			bad("TLSConfig set but Transport is %q, not \"tls\"", c.transportOrDefault())
		}
	case "tls":
	default:
		bad("Transport %q, want udp, tcp or tls", c.Transport)
	}
	if c.OutboundProxy != "" {
		if err := checkProxy(c.OutboundProxy); err != nil {
			bad("OutboundProxy: %v", err)
		}
	}
	if c.ListenAddr != "" {
		if _, port, err := net.SplitHostPort(c.ListenAddr); err != nil {
			bad("ListenAddr %q: want host:port", c.ListenAddr)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad("ListenAddr %q: bad port", c.ListenAddr)
		}
	}
	if c.STUNServer != "" {
		if err := checkHostPort(c.STUNServer); err != nil {
			bad("STUNServer: %v", err)
		}
	}
	if c.RegisterRetry < 0 {
		bad("RegisterRetry %v is negative", c.RegisterRetry)
	}
	if c.MaxCalls < 0 {
		bad("MaxCalls %d is negative", c.MaxCalls)
	}
	switch {
	case (c.RTPPortMin == 0) != (c.RTPPortMax == 0):
		bad("set both RTPPortMin and RTPPortMax, or neither")
	case c.RTPPortMin < 0 || c.RTPPortMax > 65535:
		bad("RTP ports %d-%d out of range 1-65535", c.RTPPortMin, c.RTPPortMax)
	case c.RTPPortMin > c.RTPPortMax:
		bad("RTPPortMin %d above RTPPortMax %d", c.RTPPortMin, c.RTPPortMax)
	case c.RTPPortMin != 0 && (c.RTPPortMax-c.RTPPortMin < 1 || (c.RTPPortMax-c.RTPPortMin == 1 && c.RTPPortMin%2 == 1)):
		bad("RTP ports %d-%d hold no even/odd pair", c.RTPPortMin, c.RTPPortMax)
	}
	for i, codec := range c.Codecs {
		switch codec {
		case CodecPCMU, CodecPCMA, CodecG722:
		case CodecOpus:
			if !opus.Available() {
				bad("codec opus needs the build tag \"opus\"")
			}
		default:
			bad("unknown codec %q (the names are case sensitive: use ParseCodec)", codec)
		}
		if slices.Contains(c.Codecs[:i], codec) {
			bad("codec %s listed twice", codec)
		}
	}
	if c.PCMRate != 0 && c.PCMRate != 8000 && c.PCMRate != 16000 {
		bad("PCMRate %d, want 0, 8000 or 16000", c.PCMRate)
	}
	if c.JitterMin < 0 || c.JitterMax < 0 {
		bad("negative jitter buffer bound")
	} else if c.JitterMax != 0 && c.JitterMin > c.JitterMax {
		bad("JitterMin %v above JitterMax %v", c.JitterMin, c.JitterMax)
	}
	if c.SRTP > SRTPMandatory {
		bad("unknown SRTP mode %d", c.SRTP)
	}
	for i, p := range c.SRTPSuites {
		if _, err := srtp.ParseProfile(p.String()); err != nil {
			bad("unknown SRTP suite %d", p)
		} else if slices.Contains(c.SRTPSuites[:i], p) {
			bad("SRTP suite %s listed twice", p)
		}
	}
	if c.DTMFMode > DTMFBoth {
		bad("unknown DTMF mode %d", c.DTMFMode)
	}
	if c.Rel100 > Rel100Disabled {
		bad("unknown 100rel mode %d", c.Rel100)
	}
	if c.SessionTimer > 0 && c.SessionTimer < minSessionTimer {
		bad("SessionTimer %v below the 90s minimum of RFC 4028", c.SessionTimer)
	}
	return errors.Join(errs...)
}

func (c *Config) transportOrDefault() string {
	if c.Transport == "" {
		return defaultTransport
	}
	return strings.ToLower(c.Transport)
}

// withDefaults returns a copy of c with every zero field set to its
// default. The copy shares nothing mutable with c: Codecs and SRTPSuites
// are copied and TLSConfig cloned. Durations documented as "negative disables" stay
// negative. It does not validate.
func (c *Config) withDefaults() Config {
	d := *c
	d.Transport = c.transportOrDefault()
	d.SRTPSuites = slices.Clone(c.SRTPSuites)
	if d.TLSConfig != nil {
		d.TLSConfig = d.TLSConfig.Clone()
	} else if d.Transport == "tls" {
		d.TLSConfig = &tls.Config{ServerName: d.Host, MinVersion: tls.VersionTLS12}
	}
	if d.TLSConfig != nil && d.TLSConfig.ServerName == "" && !d.TLSConfig.InsecureSkipVerify {
		d.TLSConfig.ServerName = d.Host
	}
	if d.AuthUsername == "" {
		d.AuthUsername = d.Username
	}
	if d.UserAgent == "" {
		d.UserAgent = defaultUserAgent
	}
	if d.RegisterExpiry == 0 {
		d.RegisterExpiry = defaultExpiry
	}
	if d.RegisterRetry == 0 {
		d.RegisterRetry = defaultRetry
	}
	d.RegisterRetry = min(d.RegisterRetry, maxRegisterRetryBase)
	if d.NATKeepaliveInterval == 0 {
		d.NATKeepaliveInterval = defaultKeepalive
	}
	if d.STUNServer != "" {
		if _, _, err := net.SplitHostPort(d.STUNServer); err != nil {
			d.STUNServer = net.JoinHostPort(strings.Trim(d.STUNServer, "[]"), defaultSTUNPort)
		}
	}
	if d.RTPPortMin == 0 && d.RTPPortMax == 0 {
		d.RTPPortMin, d.RTPPortMax = defaultRTPPortMin, defaultRTPPortMax
	}
	if !d.RTPAddress.IsValid() {
		d.RTPAddress = netip.IPv4Unspecified()
	}
	if len(d.Codecs) == 0 {
		d.Codecs = defaultCodecs()
	} else {
		d.Codecs = slices.Clone(d.Codecs)
	}
	if d.JitterMin == 0 {
		d.JitterMin = defaultJitterMin
		if d.JitterMax != 0 {
			d.JitterMin = min(d.JitterMin, d.JitterMax)
		}
	}
	if d.JitterMax == 0 {
		d.JitterMax = max(defaultJitterMax, d.JitterMin)
	}
	if d.MediaTimeout == 0 {
		d.MediaTimeout = defaultMediaTimeout
	}
	if d.SRTP == 0 {
		d.SRTP = SRTPOff
	}
	if d.DTMFMode == 0 {
		d.DTMFMode = DTMFRFC4733
	}
	if d.SessionTimer == 0 {
		d.SessionTimer = defaultSessionTimer
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return d
}

// checkHost accepts a host name or IP address without scheme or port.
func checkHost(h string) error {
	lower := strings.ToLower(h)
	switch {
	case strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:"):
		return fmt.Errorf("%q is a URI; want a host name or IP address", h)
	case strings.ContainsAny(h, " \t\r\n/@;?<>\"\x00"):
		return fmt.Errorf("%q is not a host name or IP address", h)
	}
	if _, _, err := net.SplitHostPort(h); err == nil {
		return fmt.Errorf("%q includes a port; set Port instead", h)
	}
	if strings.Contains(h, ":") {
		if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err != nil {
			return fmt.Errorf("%q is not a host name or IP address", h)
		}
	}
	return nil
}

// checkHostPort accepts "host" or "host:port".
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return checkHost(s)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("%q: bad port", s)
	}
	return checkHost(host)
}

// checkProxy accepts "host", "host:port" or a sip: or sips: URI.
func checkProxy(s string) error {
	lower := strings.ToLower(s)
	for _, scheme := range []string{"sip:", "sips:"} {
		if strings.HasPrefix(lower, scheme) {
			rest := s[len(scheme):]
			if i := strings.IndexAny(rest, ";?"); i >= 0 {
				rest = rest[:i]
			}
			if i := strings.LastIndexByte(rest, '@'); i >= 0 {
				rest = rest[i+1:]
			}
			return checkHostPort(rest)
		}
	}
	return checkHostPort(s)
}

// Rel100Mode says whether calls use reliable provisional responses
// (RFC 3262): 180 and 183 repeated until the peer confirms them with PRACK.
// The zero value is Rel100Supported.
type Rel100Mode uint8

// The 100rel modes.
const (
	// Rel100Supported offers 100rel when we call (Supported: 100rel) and
	// sends 180/183 reliably to callers that support or require it.
	Rel100Supported Rel100Mode = iota
	// Rel100Required requires 100rel when we call and refuses incoming
	// INVITEs without it (421 Extension Required).
	Rel100Required
	// Rel100Disabled never uses 100rel; incoming INVITEs that require it
	// get 420 Bad Extension.
	Rel100Disabled
)

// String returns "supported", "required" or "disabled".
func (m Rel100Mode) String() string {
	switch m {
	case Rel100Supported:
		return "supported"
	case Rel100Required:
		return "required"
	case Rel100Disabled:
		return "disabled"
	}
	return "Rel100Mode(" + strconv.Itoa(int(m)) + ")"
}
