package xphone

import (
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/xphone-go/xphone/srtp"
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	base := func(edit func(*Config)) Config {
		c := Config{Username: "1001", Password: "secret", Host: "pbx.example.com"}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error, one per problem; none means valid
	}{
		{"minimal", base(nil), nil},
		{"ipv4 host", base(func(c *Config) { c.Host = "192.0.2.1" }), nil},
		{"ipv6 host", base(func(c *Config) { c.Host = "2001:db8::1" }), nil},
		{"listen only", Config{ListenAddr: "127.0.0.1:5080"}, nil},
		{"no registration", Config{Host: "trunk.example.com", RegisterExpiry: -1}, nil},
		{"tls", base(func(c *Config) { c.Transport = "TLS"; c.TLSConfig = &tls.Config{} }), nil},
		{"everything", base(func(c *Config) {
			c.Port, c.Transport, c.OutboundProxy = 5080, "tcp", "sip:proxy.example.com:5070;lr"
			c.RTPPortMin, c.RTPPortMax, c.Codecs = 20000, 20001, []Codec{CodecG722, CodecPCMU}
			c.PCMRate, c.JitterMin, c.JitterMax = 16000, 40*time.Millisecond, 40*time.Millisecond
			c.SRTP, c.DTMFMode, c.SessionTimer = SRTPMandatory, DTMFBoth, 90*time.Second
			c.STUNServer, c.ListenAddr = "stun.example.com:3478", "[::]:5060"
		}), nil},
		{"empty", Config{}, []string{"Host is required"}},
		{"no username", base(func(c *Config) { c.Username = "" }), []string{"Username is required"}},
		{"host is URI", base(func(c *Config) { c.Host = "sip:pbx.example.com" }), []string{"is a URI"}},
		{"host with port", base(func(c *Config) { c.Host = "pbx.example.com:5060" }), []string{"set Port"}},
		{"host with space", base(func(c *Config) { c.Host = "pbx example" }), []string{"not a host name"}},
		{"header injection", base(func(c *Config) { c.DisplayName = "A\r\nVia: x" }), []string{"DisplayName contains a line break"}},
		{"port", base(func(c *Config) { c.Port = 70000 }), []string{"Port 70000"}},
		{"transport", base(func(c *Config) { c.Transport = "sctp" }), []string{`Transport "sctp"`}},
		{"tls config without tls", base(func(c *Config) { c.TLSConfig = &tls.Config{} }), []string{"TLSConfig set"}},
		{"proxy", base(func(c *Config) { c.OutboundProxy = "proxy:x" }), []string{"OutboundProxy"}},
		{"listen", base(func(c *Config) { c.ListenAddr = "5060" }), []string{"ListenAddr"}},
		{"stun", base(func(c *Config) { c.STUNServer = "stun:0" }), []string{"STUNServer"}},
		{"retry", base(func(c *Config) { c.RegisterRetry = -time.Second }), []string{"RegisterRetry"}},
		{"max calls", base(func(c *Config) { c.MaxCalls = -1 }), []string{"MaxCalls"}},
		{"one port bound", base(func(c *Config) { c.RTPPortMin = 10000 }), []string{"set both"}},
		{"ports reversed", base(func(c *Config) { c.RTPPortMin, c.RTPPortMax = 20000, 10000 }), []string{"above RTPPortMax"}},
		{"ports too high", base(func(c *Config) { c.RTPPortMin, c.RTPPortMax = 10000, 70000 }), []string{"out of range"}},
		{"no even pair", base(func(c *Config) { c.RTPPortMin, c.RTPPortMax = 10001, 10002 }), []string{"no even/odd pair"}},
		{"codec case", base(func(c *Config) { c.Codecs = []Codec{"pcmu"} }), []string{"unknown codec"}},
		{"codec twice", base(func(c *Config) { c.Codecs = []Codec{CodecPCMA, CodecPCMA} }), []string{"listed twice"}},
		{"pcm rate", base(func(c *Config) { c.PCMRate = 44100 }), []string{"PCMRate"}},
		{"jitter", base(func(c *Config) { c.JitterMin, c.JitterMax = time.Second, time.Millisecond }), []string{"JitterMin"}},
		{"negative jitter", base(func(c *Config) { c.JitterMin = -1 }), []string{"negative jitter"}},
		{"srtp", base(func(c *Config) { c.SRTP = 9 }), []string{"SRTP mode"}},
		{"dtmf", base(func(c *Config) { c.DTMFMode = 9 }), []string{"DTMF mode"}},
		{"rel100", base(func(c *Config) { c.Rel100 = 3 }), []string{"100rel mode"}},
		{"srtp suite", base(func(c *Config) { c.SRTPSuites = []srtp.Profile{99} }), []string{"unknown SRTP suite"}},
		{"srtp suite twice", base(func(c *Config) { c.SRTPSuites = []srtp.Profile{srtp.ProfileAEADAES128GCM, srtp.ProfileAEADAES128GCM} }), []string{"listed twice"}},
		{"session timer", base(func(c *Config) { c.SessionTimer = time.Minute }), []string{"90s minimum"}},
		{"two problems", base(func(c *Config) { c.Port = -1; c.Transport = "x" }), []string{"Port -1", `Transport "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want an error wrapping ErrInvalidConfig", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems %q, want %d", len(lines), lines, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], "xphone: invalid config: ") || !strings.Contains(lines[i], w) {
					t.Errorf("problem %d: got %q, want it to contain %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	tests := []struct {
		name  string
		cfg   Config
		check func(d Config) string
	}{
		{"zero", Config{Host: "h"}, func(d Config) string {
			want := Config{Host: "h", Transport: "udp", UserAgent: "xphone",
				RegisterExpiry: time.Hour, RegisterRetry: 2 * time.Second, NATKeepaliveInterval: 25 * time.Second,
				RTPPortMin: 10000, RTPPortMax: 20000, RTPAddress: netip.IPv4Unspecified(),
				JitterMin: 20 * time.Millisecond, JitterMax: 200 * time.Millisecond, MediaTimeout: 30 * time.Second,
				SRTP: SRTPOff, DTMFMode: DTMFRFC4733, SessionTimer: 30 * time.Minute}
			d.Logger, d.Codecs = nil, nil
			if !reflect.DeepEqual(d, want) {
				return fmt.Sprintf("got %+v, want %+v", d, want)
			}
			return ""
		}},
		{"codecs", Config{Host: "h"}, func(d Config) string {
			return check(len(d.Codecs) == 3 && d.Codecs[0] == CodecPCMU && d.Codecs[2] == CodecG722, "default codecs %v", d.Codecs)
		}},
		{"logger", Config{Host: "h"}, func(d Config) string {
			return check(d.Logger == slog.Default(), "logger %v, want slog.Default()", d.Logger)
		}},
		{"own logger", Config{Host: "h", Logger: logger}, func(d Config) string {
			return check(d.Logger == logger, "logger %v, want the given one", d.Logger)
		}},
		{"tls server name; port from SRV or 5061", Config{Host: "h", Transport: "tls"}, func(d Config) string {
			return check(d.Port == 0 && d.TLSConfig != nil && d.TLSConfig.ServerName == "h", "port %d tls %v", d.Port, d.TLSConfig)
		}},
		{"auth username", Config{Host: "h", Username: "u"}, func(d Config) string {
			return check(d.AuthUsername == "u", "AuthUsername %q, want u", d.AuthUsername)
		}},
		{"negative kept", Config{Host: "h", RegisterExpiry: -1, MediaTimeout: -1, NATKeepaliveInterval: -1, SessionTimer: -1}, func(d Config) string {
			return check(d.RegisterExpiry < 0 && d.MediaTimeout < 0 && d.NATKeepaliveInterval < 0 && d.SessionTimer < 0, "negative durations changed: %+v", d)
		}},
		{"jitter max only", Config{Host: "h", JitterMax: 10 * time.Millisecond}, func(d Config) string {
			return check(d.JitterMin == 10*time.Millisecond, "JitterMin %v, want 10ms", d.JitterMin)
		}},
		{"jitter min only", Config{Host: "h", JitterMin: 300 * time.Millisecond}, func(d Config) string {
			return check(d.JitterMax == 300*time.Millisecond, "JitterMax %v, want 300ms", d.JitterMax)
		}},
		{"stun port", Config{Host: "h", STUNServer: "stun.example.com"}, func(d Config) string {
			return check(d.STUNServer == "stun.example.com:3478", "STUNServer %q", d.STUNServer)
		}},
		{"retry capped", Config{Host: "h", RegisterRetry: time.Hour}, func(d Config) string {
			return check(d.RegisterRetry == 5*time.Minute, "RegisterRetry %v, want 5m", d.RegisterRetry)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := tt.check(tt.cfg.withDefaults()); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func check(ok bool, format string, args ...any) string {
	if ok {
		return ""
	}
	return fmt.Sprintf(format, args...)
}

func TestConfigDefaultsDoNotAlias(t *testing.T) {
	codecs := []Codec{CodecPCMA}
	tc := &tls.Config{}
	c := Config{Host: "h", Transport: "tls", Codecs: codecs, TLSConfig: tc}
	d := c.withDefaults()
	d.Codecs[0] = CodecG722
	d.TLSConfig.ServerName = "other"
	if codecs[0] != CodecPCMA {
		t.Errorf("got caller's codec %s, want PCMA", codecs[0])
	}
	if tc.ServerName != "" {
		t.Errorf("got caller's ServerName %q, want empty", tc.ServerName)
	}
	if c.Port != 0 || c.Transport != "tls" {
		t.Errorf("got caller's config changed: port %d transport %q", c.Port, c.Transport)
	}
}
