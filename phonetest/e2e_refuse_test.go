package phonetest

import (
	"context"
	"errors"
	"testing"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/sipmsg"
)

// The caller gives up before the callee answers: Dial returns ErrCancelled
// and the callee's ringing call ends as cancelled (the PBX relays the
// CANCEL, RFC 3261 §16.10).
func TestE2ECancel(t *testing.T) {
	pbx := startE2E(t, PBXConfig{})
	alice, bob := e2ePhone(t, e2eConfig(pbx, "alice")), e2ePhone(t, e2eConfig(pbx, "bob"))
	in := listen(bob, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dialed := make(chan error, 1)
	go func() {
		c, err := alice.Dial(ctx, "bob")
		if c != nil {
			_ = c.End(context.Background())
		}
		dialed <- err
	}()
	callee := in.next(t)
	if got, want := callee.State(), xphone.StateRinging; got != want {
		t.Errorf("callee state: got %v, want %v", got, want)
	}
	cancel()
	if err := <-dialed; !errors.Is(err, xphone.ErrCancelled) {
		t.Errorf("Dial: got %v, want ErrCancelled", err)
	}
	callee.waitEnded(t, "callee", xphone.EndCancelled)
}

// Refusals reach the caller as *StatusError matching the sentinel: the
// callee rejecting with 603, the PBX answering 486 for a busy user, and
// 404 for a user the PBX does not know.
func TestE2ERefused(t *testing.T) {
	tests := []struct {
		name     string
		target   string
		code     int
		want     error
		ended    bool // the callee saw the call and it ended rejected
		scripted bool
	}{
		{name: "callee-rejects-603", target: "bob", code: 603, want: xphone.ErrDeclined, ended: true},
		{name: "callee-rejects-486", target: "bob", code: 486, want: xphone.ErrBusy, ended: true},
		{name: "pbx-busy-486", target: "bob", code: 486, want: xphone.ErrBusy, scripted: true},
		{name: "unknown-user-404", target: "nobody", code: 404, want: xphone.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pbx := startE2E(t, PBXConfig{Script: func(user string, _ *sipmsg.Message) *Answer {
				if tt.scripted {
					return &Answer{Code: tt.code}
				}
				return nil
			}})
			alice, bob := e2ePhone(t, e2eConfig(pbx, "alice")), e2ePhone(t, e2eConfig(pbx, "bob"))
			in := listen(bob, func(c xphone.Call) {
				if err := c.Reject(context.Background(), tt.code, ""); err != nil {
					t.Errorf("Reject: %v", err)
				}
			})
			c, err := dial(t, alice, tt.target)
			if c != nil {
				t.Fatalf("Dial: got a call in state %v, want an error", c.State())
			}
			wantStatus(t, err, tt.code, tt.want)
			if tt.ended {
				in.next(t).waitEnded(t, "callee", xphone.EndRejected)
			}
			if n := len(alice.Calls()); n != 0 {
				t.Errorf("caller's calls: got %d, want 0", n)
			}
		})
	}
}

// A 302 chain: the PBX redirects bob to carol and carol to dave; the caller
// follows both redirects and reaches dave, who answers.
func TestE2ERedirectChain(t *testing.T) {
	users := map[string]string{"alice": "alice-pw", "dave": "dave-pw"}
	for u, pw := range e2eUsers {
		users[u] = pw
	}
	// The redirect targets are users at the PBX, the host of the request.
	to := func(req *sipmsg.Message, user string) *Answer {
		u := req.RequestURI
		u.User = user
		return &Answer{Code: 302, Contact: "<" + u.String() + ">"}
	}
	pbx := startE2E(t, PBXConfig{Users: users, Script: func(user string, req *sipmsg.Message) *Answer {
		switch user {
		case "bob":
			return to(req, "carol")
		case "carol":
			return to(req, "dave")
		}
		return nil
	}})
	daveCfg := e2eConfig(pbx, "dave")
	daveCfg.Password = "dave-pw"
	alice, dave := e2ePhone(t, e2eConfig(pbx, "alice")), e2ePhone(t, daveCfg)
	in := listen(dave, func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
	})
	c, err := dial(t, alice, "bob")
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	callee := in.next(t)
	if got, want := c.State(), xphone.StateActive; got != want {
		t.Errorf("caller state: got %v, want %v", got, want)
	}
	sendTone(t, c, 700)
	hearTone(t, "dave", callee, 700)
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	callee.waitEnded(t, "dave", xphone.EndRemoteHangup)
}

// A wrong password: the PBX answers 403 after the digest retry and Connect
// returns a *RegistrationError matching ErrAuthFailed.
func TestE2EAuthFailure(t *testing.T) {
	pbx := startE2E(t, PBXConfig{})
	cfg := e2eConfig(pbx, "alice")
	cfg.Password = "wrong"
	p, err := xphone.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	err = p.Connect(ctx)
	var re *xphone.RegistrationError
	if !errors.As(err, &re) || !errors.Is(err, xphone.ErrAuthFailed) || !errors.Is(err, xphone.ErrRegistrationFailed) {
		t.Fatalf("Connect: got %v, want a *RegistrationError matching ErrAuthFailed", err)
	}
	if re.Code != 403 {
		t.Errorf("RegistrationError.Code: got %v, want 403", re.Code)
	}
	if pbx.Registered("alice") {
		t.Error("the PBX registered alice with a wrong password")
	}
	// A failed Connect leaves the phone disconnected: nothing to stop.
	if err := p.Disconnect(ctx); err != nil && !errors.Is(err, xphone.ErrNotConnected) {
		t.Errorf("Disconnect: got %v, want nil or ErrNotConnected", err)
	}
}
