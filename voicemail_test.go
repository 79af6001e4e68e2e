package xphone

import (
	"errors"
	"testing"

	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/internal/ua"
)

func TestVoicemailStatus(t *testing.T) {
	s := mwi.Summary{Waiting: true, Account: "sip:a@vm", Classes: []mwi.Class{
		{Name: "fax-message", Counts: mwi.Counts{New: 9}},
		{Name: "voice-message", Counts: mwi.Counts{New: 2, Old: 8, NewUrgent: 1, OldUrgent: 2}},
	}}
	want := VoicemailStatus{Waiting: true, Account: "sip:a@vm", New: 2, Old: 8, NewUrgent: 1, OldUrgent: 2}
	if got := voicemailStatus(s); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestConvertMWIError: a refused subscription reaches OnError as
// ErrMWIFailed, with the status when there is one.
func TestConvertMWIError(t *testing.T) {
	err := convertErr(errors.Join(ua.ErrMWIRefused, &ua.StatusError{Code: 489, Reason: "Bad Event"}))
	var se *StatusError
	if !errors.Is(err, ErrMWIFailed) || !errors.As(err, &se) || se.Code != 489 {
		t.Errorf("with a status: got %v, want ErrMWIFailed and a 489 StatusError", err)
	}
	err = convertErr(errors.Join(ua.ErrMWIRefused, errors.New("ua: the server ended it: rejected")))
	if !errors.Is(err, ErrMWIFailed) || err.Error() != "xphone: voicemail subscription failed: ua: the server ended it: rejected" {
		t.Errorf("without: got %q", err)
	}
}
