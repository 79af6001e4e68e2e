//go:build interop

package interop

import (
	_ "embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/sipmsg"
)

//go:embed testdata/kamailio.cfg.tmpl
var kamailioCfg string

// kamailio is a running Kamailio registrar/proxy with digest auth: users
// 1001..1005, password "secret", realm 127.0.0.1.
type kamailio struct {
	*peer
	port    int    // UDP and TCP SIP port on 127.0.0.1
	tlsPort int    // TLS SIP port on 127.0.0.1, 0 without TLS
	ctl     string // binrpc control socket for kamcmd
}

// addr returns host:port of the SIP listener.
func (k *kamailio) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(k.port)) }

// kamailioOptions configures startKamailioWith.
type kamailioOptions struct {
	// tls, if set, is called with Kamailio's working directory before the
	// start: it writes tls.cfg there (testdata/kamailio-tls.cfg.tmpl) and
	// the files it names. Kamailio then also listens for TLS (WITH_TLS).
	tls func(dir string)
	// defines are extra preprocessor defines (-A), e.g.
	// SDES_DROP_AEAD_AES_128_GCM.
	defines []string
}

// startKamailio starts Kamailio on a free port and waits until it answers
// OPTIONS over UDP and accepts TCP connections.
func startKamailio(t *testing.T) *kamailio {
	t.Helper()
	return startKamailioWith(t, kamailioOptions{})
}

// startKamailioWith is startKamailio with options.
func startKamailioWith(t *testing.T, o kamailioOptions) *kamailio {
	t.Helper()
	bin := needBinary(t, "kamailio")
	logVersion(t, "kamailio", "kamailio", "-v")
	mods, _ := filepath.Glob("/usr/lib/*/kamailio/modules/tm.so")
	if len(mods) == 0 {
		t.Fatal("kamailio modules directory not found (/usr/lib/*/kamailio/modules)")
	}
	dir := t.TempDir()
	k := &kamailio{port: freePort(t), ctl: filepath.Join(dir, "kamailio_ctl")}
	defs := []string{"-A", "WITH_AUTH"}
	for _, d := range o.defines {
		defs = append(defs, "-A", d)
	}
	if o.tls != nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(mods[0]), "tls.so")); err != nil {
			if inCI {
				t.Fatalf("kamailio tls.so missing (package kamailio-tls-modules, run interop/install.sh): %v", err)
			}
			t.Skipf("kamailio tls.so missing (package kamailio-tls-modules); CI fails here")
		}
		k.tlsPort = freePort(t)
		o.tls(dir)
		defs = append(defs, "-A", "WITH_TLS")
	}
	cfg := filepath.Join(dir, "kamailio.cfg")
	writeFile(t, cfg, expand(t, kamailioCfg, map[string]string{
		"IP": "127.0.0.1", "SIP_PORT": strconv.Itoa(k.port), "TLS_PORT": strconv.Itoa(k.tlsPort),
		"WORKDIR": dir, "MPATH": filepath.Dir(mods[0]) + "/",
	}))
	if out, err := exec.Command(bin, append([]string{"-c", "-f", cfg}, defs...)...).CombinedOutput(); err != nil {
		t.Fatalf("kamailio -c (config check): %v\n%s", err, out)
	}
	// -DD: stay in the foreground with children; -E: log to stderr.
	args := append([]string{"-f", cfg}, defs...)
	args = append(args, "-DD", "-E", "-m", "32", "-M", "8", "-Y", dir, "-w", dir, "-P", filepath.Join(dir, "kamailio.pid"))
	k.peer = startPeer(t, "kamailio", dir, bin, args...)
	k.waitUntil(t, 15*time.Second, "answering OPTIONS", func() error { return optionsPing(k.addr()) })
	k.waitUntil(t, 5*time.Second, "accepting TCP", func() error { return tcpListening(k.addr()) })
	if k.tlsPort != 0 {
		tlsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(k.tlsPort))
		k.waitUntil(t, 5*time.Second, "accepting TLS connections", func() error { return tcpListening(tlsAddr) })
	}
	return k
}

// optionsPing sends one OPTIONS over UDP and waits briefly for a 200.
func optionsPing(addr string) error {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	local := c.LocalAddr().String()
	req := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s\r\n"+
		"From: <sip:ping@127.0.0.1>;tag=%s\r\nTo: <sip:%s>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"+
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", addr, local, token(6), token(4), addr, token(8))
	if _, err := c.Write([]byte(req)); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	m, err := sipmsg.Parse(buf[:n])
	if err != nil {
		return err
	}
	if m.StatusCode != 200 {
		return fmt.Errorf("OPTIONS: got %d %s, want 200", m.StatusCode, m.Reason)
	}
	return nil
}

// kamcmd runs one RPC command against k's control socket.
func (k *kamailio) kamcmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := needBinary(t, "kamcmd")
	out, err := exec.Command(bin, append([]string{"-s", "unix:" + k.ctl}, args...)...).CombinedOutput()
	return string(out), err
}

// registered reports an error unless usrloc holds a binding for aor whose
// contact contains want.
func (k *kamailio) registered(t *testing.T, aor, want string) error {
	out, err := k.kamcmd(t, "ul.dump")
	if err != nil {
		return fmt.Errorf("kamcmd ul.dump: %v: %s", err, out)
	}
	// The dump lists "AoR: 1001" followed by that AoR's contacts.
	i := strings.Index(out, "AoR: "+aor+"\n")
	if i < 0 {
		return fmt.Errorf("no AoR %s in ul.dump:\n%s", aor, out)
	}
	rest := out[i+len("AoR: "+aor):]
	if j := strings.Index(rest, "AoR: "); j >= 0 {
		rest = rest[:j]
	}
	if !strings.Contains(rest, want) {
		return fmt.Errorf("AoR %s has no contact with %q:\n%s", aor, want, rest)
	}
	return nil
}

func TestKamailioOptions(t *testing.T) {
	k := startKamailio(t)
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			c := dialSIP(t, tr, k.addr())
			m := c.roundTrip(t, request{method: "OPTIONS", uri: "sip:" + k.addr(), headers: []string{
				"From: <sip:probe@127.0.0.1>;tag=" + token(4),
				"To: <sip:" + k.addr() + ">",
				"Call-ID: " + token(10),
				"CSeq: 1 OPTIONS",
			}})
			if m.StatusCode != 200 {
				t.Fatalf("got %d %s, want 200", m.StatusCode, m.Reason)
			}
			if got := m.Get("Server"); got != "interop-kamailio" {
				t.Errorf("got Server %q, want %q", got, "interop-kamailio")
			}
		})
	}
}

// register sends REGISTER for user from c with expires, answering one
// digest challenge with password, and returns the final response and how
// many challenges it saw.
func register(t *testing.T, c *sipClient, k *kamailio, user, password string, expires int) (*sipmsg.Message, int) {
	t.Helper()
	callID, tag := token(10), token(4)
	contact := fmt.Sprintf("<sip:%s@%s;transport=%s>", user, c.hostport(), c.transport)
	uri := "sip:127.0.0.1:" + strconv.Itoa(k.port)
	aor := "sip:" + user + "@127.0.0.1"
	cl := digest.Client{Username: user, Password: password}
	var authz string
	challenges := 0
	for cseq := 1; ; cseq++ {
		h := []string{
			"From: <" + aor + ">;tag=" + tag,
			"To: <" + aor + ">",
			"Call-ID: " + callID,
			fmt.Sprintf("CSeq: %d REGISTER", cseq),
			"Contact: " + contact,
			fmt.Sprintf("Expires: %d", expires),
		}
		if authz != "" {
			h = append(h, "Authorization: "+authz)
		}
		m := c.roundTrip(t, request{method: "REGISTER", uri: uri, headers: h})
		if m.StatusCode != 401 || challenges > 0 {
			return m, challenges
		}
		challenges++
		chal, err := digest.ParseChallenge(m.Get("WWW-Authenticate"))
		if err != nil {
			t.Fatalf("digest.ParseChallenge(%q): %v", m.Get("WWW-Authenticate"), err)
		}
		if chal.Realm != "127.0.0.1" {
			t.Errorf("got realm %q, want %q", chal.Realm, "127.0.0.1")
		}
		cr, err := cl.Authorize(&chal, digest.Request{Method: "REGISTER", URI: uri})
		if err != nil {
			t.Fatalf("digest Authorize: %v", err)
		}
		authz = cr.String()
	}
}

func TestKamailioRegister(t *testing.T) {
	k := startKamailio(t)
	for i, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			user := strconv.Itoa(1001 + i)
			c := dialSIP(t, tr, k.addr())

			m, challenges := register(t, c, k, user, "secret", 60)
			if challenges != 1 || m.StatusCode != 200 {
				t.Fatalf("got %d %s after %d challenge(s), want 200 after 1", m.StatusCode, m.Reason, challenges)
			}
			contacts := m.Values("Contact")
			if len(contacts) != 1 {
				t.Fatalf("got %d Contact values %q, want 1", len(contacts), contacts)
			}
			a, err := sipmsg.ParseAddress(contacts[0])
			if err != nil {
				t.Fatalf("sipmsg.ParseAddress(%q): %v", contacts[0], err)
			}
			if a.URI.User != user || a.URI.Host != "127.0.0.1" || a.URI.Port != c.local.Port {
				t.Errorf("got Contact URI %s, want sip:%s@%s", a.URI, user, c.hostport())
			}
			if exp, _ := a.Params.Get("expires"); exp == "" || exp == "0" {
				t.Errorf("got Contact expires %q, want a positive value", exp)
			}
			if err := k.registered(t, user, c.hostport()); err != nil {
				t.Error(err)
			}

			// Unregister: Expires 0 removes the binding (RFC 3261 §10.2.2).
			m, _ = register(t, c, k, user, "secret", 0)
			if m.StatusCode != 200 {
				t.Fatalf("unregister: got %d %s, want 200", m.StatusCode, m.Reason)
			}
			if got := m.Values("Contact"); len(got) != 0 {
				t.Errorf("unregister: got Contact %q, want none", got)
			}
			if err := k.registered(t, user, c.hostport()); err == nil {
				t.Errorf("binding for %s still in usrloc after unregister", user)
			}
		})
	}
}

func TestKamailioRegisterRejects(t *testing.T) {
	k := startKamailio(t)
	tests := []struct {
		name, user, password string
		want                 int
	}{
		{"wrong password", "1003", "wrong", 401},
		{"unknown user", "9999", "secret", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialSIP(t, "udp", k.addr())
			m, _ := register(t, c, k, tt.user, tt.password, 60)
			if m.StatusCode != tt.want {
				t.Fatalf("got %d %s, want %d", m.StatusCode, m.Reason, tt.want)
			}
		})
	}
}
