package xphone

import "github.com/xphone-go/xphone/internal/mwi"

// VoicemailStatus is the state of a voicemail box, as the server reports
// it in a message-summary NOTIFY (RFC 3842): to Phone.OnVoicemail, for the
// subscription Config.MWI makes, or unsolicited.
type VoicemailStatus struct {
	// Waiting is true when the server says messages wait
	// (Messages-Waiting: yes).
	Waiting bool
	// Account is the mailbox's URI (Message-Account), "" when not given.
	Account string
	// New and Old count the voice messages not heard and heard;
	// NewUrgent and OldUrgent count the urgent ones among them.
	New, Old             int
	NewUrgent, OldUrgent int
}

func voicemailStatus(s mwi.Summary) VoicemailStatus {
	v := s.Voice()
	return VoicemailStatus{Waiting: s.Waiting, Account: s.Account,
		New: v.New, Old: v.Old, NewUrgent: v.NewUrgent, OldUrgent: v.OldUrgent}
}
