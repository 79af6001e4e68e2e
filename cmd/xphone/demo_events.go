package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/xphone-go/xphone"
)

// The demo's steps beyond calls: voicemail indication (the PBX's box for
// alice, RFC 3842), an instant message (RFC 3428), presence published by
// bob and watched by alice (RFC 3903, RFC 3856), and bob's line watched
// by alice while he takes a call (RFC 4235).

// listen sets the handlers of what s's phone receives outside calls,
// before it registers (so that its REGISTER allows MESSAGE).
func (s *demoSide) listen(p xphone.Phone) {
	s.voicemail = make(chan xphone.VoicemailStatus, 8)
	s.messages = make(chan xphone.Message, 4)
	p.OnVoicemail(func(v xphone.VoicemailStatus) {
		select {
		case s.voicemail <- v:
		default:
		}
	})
	p.OnMessage(func(m xphone.Message) {
		select {
		case s.messages <- m:
		default:
		}
	})
}

// receive waits, until the step's deadline, for a value from ch that
// satisfies ok, and returns it.
func receive[T any](ctx context.Context, ch <-chan T, ok func(T) bool) (T, error) {
	for {
		select {
		case v := <-ch:
			if ok(v) {
				return v, nil
			}
		case <-ctx.Done():
			var zero T
			return zero, errors.New("it did not come")
		}
	}
}

// beyondCalls runs the steps of the demo that are not about a call.
func (d *demo) beyondCalls(ctx context.Context) {
	step := func(name string, f func(ctx context.Context) (string, error)) {
		sctx, cancel := context.WithTimeout(ctx, demoStepWait)
		defer cancel()
		detail, err := f(sctx)
		d.rep.step(name, detail, err)
	}
	step("voicemail (MWI)", func(ctx context.Context) (string, error) {
		d.pbx.SetVoicemail("alice", 2, 5)
		v, err := receive(ctx, d.a.voicemail, func(v xphone.VoicemailStatus) bool { return v.New == 2 })
		return fmt.Sprintf("alice: %d new, %d old messages", v.New, v.Old), err
	})
	step("instant message alice → bob", func(ctx context.Context) (string, error) {
		const text = "the demo says hello"
		if err := d.a.phone.SendMessage(ctx, "bob", "", []byte(text)); err != nil {
			return "", err
		}
		m, err := receive(ctx, d.b.messages, func(m xphone.Message) bool { return string(m.Body) == text })
		return fmt.Sprintf("%q from %s", m.Body, m.From), err
	})
	step("presence bob → alice", func(ctx context.Context) (string, error) {
		got := make(chan xphone.Presence, 8)
		stop, err := d.a.phone.WatchPresence("bob", func(p xphone.Presence) { got <- p })
		if err != nil {
			return "", err
		}
		defer stop(context.Background())
		if _, err := receive(ctx, got, func(p xphone.Presence) bool { return p.Online }); err != nil {
			return "", fmt.Errorf("bob online: %w", err)
		}
		if err := d.b.phone.SetPresence(ctx, false, "Out for lunch"); err != nil {
			return "", err
		}
		p, err := receive(ctx, got, func(p xphone.Presence) bool { return p.Note == "Out for lunch" })
		return fmt.Sprintf("online while registered, then offline: %q", p.Note), err
	})
	step("busy lamp: bob's line", func(ctx context.Context) (string, error) {
		got := make(chan xphone.LineStatus, 16)
		stop, err := d.a.phone.Watch("bob", func(s xphone.LineStatus) { got <- s })
		if err != nil {
			return "", err
		}
		defer stop(context.Background())
		seen := func(want xphone.LineState) error {
			_, err := receive(ctx, got, func(s xphone.LineStatus) bool { return s.State == want })
			if err != nil {
				return fmt.Errorf("bob's line never %v: %w", want, err)
			}
			return nil
		}
		if err := seen(xphone.LineIdle); err != nil {
			return "", err
		}
		// alice calls bob again; bob answers after a moment.
		d.b.phone.OnIncoming(func(c xphone.Call) {
			go func() {
				time.Sleep(200 * time.Millisecond) // ring a little: the lamp shows it
				c.Accept(context.Background())     //nolint:errcheck // the step sees the outcome
			}()
		})
		call, err := d.a.phone.Dial(ctx, "bob")
		if err != nil {
			return "", err
		}
		if err := seen(xphone.LineBusy); err != nil {
			return "", err
		}
		if err := call.End(ctx); err != nil {
			return "", err
		}
		if err := seen(xphone.LineIdle); err != nil {
			return "", err
		}
		return "idle, busy in a call, idle", nil
	})
}
