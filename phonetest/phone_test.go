package phonetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/xphone-go/xphone"
)

func TestConnectDisconnect(t *testing.T) {
	p := NewMockPhone()
	var events []string
	p.OnRegistered(func() { events = append(events, "registered") })
	p.OnUnregistered(func() { events = append(events, "unregistered") })
	p.OnError(func(err error) { events = append(events, err.Error()) })
	if err := p.Disconnect(bg); !errors.Is(err, xphone.ErrNotConnected) {
		t.Errorf("Disconnect before Connect: got %v, want ErrNotConnected", err)
	}
	if _, err := p.Dial(bg, "1002"); !errors.Is(err, xphone.ErrNotConnected) {
		t.Errorf("Dial before Connect: got %v, want ErrNotConnected", err)
	}
	if err := p.Connect(bg); err != nil || p.State() != xphone.PhoneRegistered {
		t.Fatalf("got %v in %v, want nil in Registered", err, p.State())
	}
	if err := p.Connect(bg); !errors.Is(err, xphone.ErrAlreadyConnected) {
		t.Errorf("second Connect: got %v, want ErrAlreadyConnected", err)
	}
	p.SimulateUnregistered(&xphone.RegistrationError{Code: 503})
	p.SimulateRegistered()
	p.SimulateRegistered() // already registered: no event
	p.SimulateError(errors.New("boom"))
	c, err := p.Dial(bg, "1002")
	if err != nil {
		t.Fatal(err)
	}
	in := p.SimulateIncoming("sip:1003@pbx") // no handler: refused with 480
	if code, _ := in.RejectedWith(); code != 480 || in.EndReason() != xphone.EndRejected {
		t.Errorf("unhandled incoming call: got %d %v, want 480 rejected", code, in.EndReason())
	}
	if got := p.Calls(); len(got) != 1 || got[0] != c {
		t.Errorf("Calls: got %v, want [%v]", got, c)
	}
	if err := p.Disconnect(bg); err != nil {
		t.Fatal(err)
	}
	if c.State() != xphone.StateEnded || c.(*MockCall).EndReason() != xphone.EndLocalHangup {
		t.Errorf("call after Disconnect: got %v, want ended by local hangup", c.State())
	}
	want := []string{"registered", "unregistered", "xphone: registration failed: 503", "registered", "boom", "unregistered"}
	if !slices.Equal(events, want) {
		t.Errorf("got %q, want %q", events, want)
	}
	p.SetConnectError(&xphone.RegistrationError{Code: 403})
	if err := p.Connect(bg); !errors.Is(err, xphone.ErrAuthFailed) || p.State() != xphone.PhoneDisconnected {
		t.Errorf("got %v in %v, want ErrAuthFailed, disconnected", err, p.State())
	}
}

func TestDial(t *testing.T) {
	tests := []struct {
		name      string
		handler   func(*MockCall) error
		opts      []xphone.DialOption
		wantErr   error
		wantState xphone.CallState
		reason    xphone.EndReason
	}{
		{"default", nil, nil, nil, xphone.StateActive, 0},
		{"busy", func(c *MockCall) error { return &xphone.StatusError{Code: 486, Reason: "Busy Here"} }, nil, xphone.ErrBusy, 0, xphone.EndBusy},
		{"declined", func(c *MockCall) error { return &xphone.StatusError{Code: 603} }, nil, xphone.ErrDeclined, 0, xphone.EndRejected},
		{"timeout", func(c *MockCall) error { return xphone.ErrDialTimeout }, nil, xphone.ErrDialTimeout, 0, xphone.EndTimeout},
		{"ring then answer", func(c *MockCall) error {
			if err := c.SimulateRinging(); err != nil {
				return err
			}
			return c.SimulateAnswer()
		}, nil, nil, xphone.StateActive, 0},
		{"early media returned", (*MockCall).SimulateEarlyMedia, []xphone.DialOption{xphone.WithEarlyMedia()}, nil, xphone.StateEarlyMedia, 0},
		{"early media answered", (*MockCall).SimulateEarlyMedia, nil, nil, xphone.StateActive, 0},
		{"ended in handler", func(c *MockCall) error { return c.SimulateEnd(xphone.EndError) }, nil, xphone.EndError, 0, xphone.EndError},
		{"bad option", nil, []xphone.DialOption{xphone.WithHeader("Via", "x")}, xphone.ErrInvalidConfig, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewMockPhone()
			if err := p.Connect(bg); err != nil {
				t.Fatal(err)
			}
			defer p.Disconnect(bg)
			p.SetDialHandler(tt.handler)
			c, err := p.Dial(bg, "sip:1002@pbx", tt.opts...)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || c != nil {
					t.Fatalf("got %v, %v, want nil, %v", c, err, tt.wantErr)
				}
				if tt.reason != 0 && p.LastCall().EndReason() != tt.reason {
					t.Errorf("got end reason %v, want %v", p.LastCall().EndReason(), tt.reason)
				}
				return
			}
			if err != nil || c.State() != tt.wantState || c.Direction() != xphone.Outbound || c.To() != "sip:1002@pbx" {
				t.Fatalf("got %v in %v, want nil in %v", err, c.State(), tt.wantState)
			}
			if got := p.Dialed(); !slices.Equal(got, []string{"sip:1002@pbx"}) {
				t.Errorf("Dialed: got %v", got)
			}
		})
	}
}

func TestDialRecordsOptions(t *testing.T) {
	p := NewMockPhone()
	_ = p.Connect(bg)
	defer p.Disconnect(bg)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := p.Dial(ctx, "1001"); !errors.Is(err, xphone.ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want ErrCancelled and context.Canceled", err)
	}
	if _, err := p.Dial(bg, "bad target"); !errors.Is(err, xphone.ErrInvalidTarget) {
		t.Errorf("got %v, want ErrInvalidTarget", err)
	}
	c, err := p.Dial(bg, "1001", xphone.WithCodecs(xphone.CodecG722), xphone.WithHeader("X-Campaign", "7"))
	if err != nil {
		t.Fatal(err)
	}
	o := p.LastDialOptions()
	if c.Codec() != xphone.CodecG722 || len(o.Headers) != 1 || o.Headers[0].Value != "7" {
		t.Errorf("got codec %v options %+v", c.Codec(), o)
	}
}

// TestMockVoicemail: SimulateVoicemail reaches OnVoicemail as given.
func TestMockVoicemail(t *testing.T) {
	p := NewMockPhone()
	p.SimulateVoicemail(xphone.VoicemailStatus{Waiting: true}) // no callback yet: nothing happens
	var got []xphone.VoicemailStatus
	p.OnVoicemail(func(s xphone.VoicemailStatus) { got = append(got, s) })
	want := xphone.VoicemailStatus{Waiting: true, Account: "sip:vm@x", New: 3, Old: 1, NewUrgent: 1}
	p.SimulateVoicemail(want)
	if len(got) != 1 || got[0] != want {
		t.Errorf("OnVoicemail: got %+v, want [%+v]", got, want)
	}
}

// TestMockMessages: SendMessage records what was sent (with the default
// type), fails like the real phone when disconnected, returns the
// scripted error; SimulateMessage reaches OnMessage.
func TestMockMessages(t *testing.T) {
	p := NewMockPhone()
	if err := p.SendMessage(context.Background(), "1002", "", []byte("hi")); !errors.Is(err, xphone.ErrNotConnected) {
		t.Errorf("SendMessage disconnected: got %v, want ErrNotConnected", err)
	}
	if err := p.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.SendMessage(context.Background(), "1002", "", []byte("hi")); err != nil {
		t.Errorf("SendMessage: %v", err)
	}
	p.SetMessageError(&xphone.StatusError{Code: 404})
	if err := p.SendMessage(context.Background(), "sip:x@y", "application/json", []byte("{}")); !errors.Is(err, xphone.ErrNotFound) {
		t.Errorf("SendMessage scripted to fail: got %v, want ErrNotFound", err)
	}
	want := []SentMessage{{"1002", "text/plain;charset=UTF-8", []byte("hi")}, {"sip:x@y", "application/json", []byte("{}")}}
	if got := p.SentMessages(); !reflect.DeepEqual(got, want) {
		t.Errorf("SentMessages: got %+v, want %+v", got, want)
	}
	var got []xphone.Message
	p.OnMessage(func(m xphone.Message) { got = append(got, m) })
	in := xphone.Message{From: "sip:a@x", To: "sip:b@x", ContentType: "text/plain", Body: []byte("yo")}
	p.SimulateMessage(in)
	if len(got) != 1 || !reflect.DeepEqual(got[0], in) {
		t.Errorf("OnMessage: got %+v, want %+v", got, in)
	}
}

// TestMockWatch: Watch records the target, SimulateLine reaches its
// callback (not another line's), stop ends it; Watch needs a connection.
func TestMockWatch(t *testing.T) {
	p := NewMockPhone()
	if _, err := p.Watch("1002", func(xphone.LineStatus) {}); !errors.Is(err, xphone.ErrNotConnected) {
		t.Errorf("Watch disconnected: got %v, want ErrNotConnected", err)
	}
	if err := p.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []xphone.LineStatus
	stop, err := p.Watch("1002", func(s xphone.LineStatus) { got = append(got, s) })
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Watched(); !reflect.DeepEqual(w, []string{"1002"}) {
		t.Errorf("Watched: got %v", w)
	}
	ring := xphone.LineStatus{Target: "1002", State: xphone.LineRinging, Calls: 1, Caller: "sip:1001@x"}
	p.SimulateLine(ring)
	p.SimulateLine(xphone.LineStatus{Target: "1003", State: xphone.LineBusy})
	stop(context.Background())
	p.SimulateLine(xphone.LineStatus{Target: "1002"})
	if len(got) != 1 || got[0] != ring || len(p.Watched()) != 0 {
		t.Errorf("got %+v (watched %v), want only %+v", got, p.Watched(), ring)
	}
}

// TestMockPresence: SimulatePresence reaches WatchPresence's callback
// only, and Watched lists the watch until it stops.
func TestMockPresence(t *testing.T) {
	p := NewMockPhone()
	if err := p.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []xphone.Presence
	stop, err := p.WatchPresence("1003", func(pr xphone.Presence) { got = append(got, pr) })
	if err != nil {
		t.Fatal(err)
	}
	var lines int
	stopLine, _ := p.Watch("1003", func(xphone.LineStatus) { lines++ })
	want := xphone.Presence{Target: "1003", Online: true, Note: "Away"}
	p.SimulatePresence(want)
	if len(got) != 1 || got[0] != want || lines != 0 {
		t.Errorf("got %+v (line reports %d), want only %+v", got, lines, want)
	}
	stop(context.Background())
	stopLine(context.Background())
	if w := p.Watched(); len(w) != 0 {
		t.Errorf("Watched after stop: %v", w)
	}
}

// TestMockSetPresence: SetPresence records what was published, and needs
// a connection.
func TestMockSetPresence(t *testing.T) {
	p := NewMockPhone()
	if err := p.SetPresence(context.Background(), true, "x"); !errors.Is(err, xphone.ErrNotConnected) {
		t.Errorf("SetPresence disconnected: got %v", err)
	}
	if p.Presence() != nil {
		t.Error("Presence before any SetPresence: got non-nil")
	}
	if err := p.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.SetPresence(context.Background(), false, "In a meeting"); err != nil {
		t.Fatal(err)
	}
	if got := p.Presence(); got == nil || *got != (xphone.Presence{Note: "In a meeting"}) {
		t.Errorf("Presence: got %+v", got)
	}
}
