package mwi

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseVectors(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Summary
	}{
		{"rfc3842-simple.txt", Summary{Waiting: true, Account: "sip:alice@vmail.example.com",
			Classes: []Class{{"voice-message", Counts{2, 8, 0, 2}}}}},
		{"rfc3842-headers.txt", Summary{Waiting: true, Account: "sip:alice@vmail.example.com",
			Classes: []Class{{"voice-message", Counts{4, 8, 1, 2}}}}},
		{"asterisk.txt", Summary{Waiting: false, Account: "sip:*97@pbx.example.com",
			Classes: []Class{{"voice-message", Counts{0, 3, 0, 0}}}}},
	} {
		body, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(body)
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.file, got, tc.want)
		}
		if v := got.Voice(); v != tc.want.Classes[0].Counts {
			t.Errorf("%s: Voice() = %+v", tc.file, v)
		}
	}
}

func TestParseForms(t *testing.T) {
	good := map[string]Summary{
		"messages-waiting:YES\nfax-message: 1/0\nVOICE-MESSAGE:3/4(1/0)\n": {Waiting: true,
			Classes: []Class{{"fax-message", Counts{1, 0, 0, 0}}, {"voice-message", Counts{3, 4, 1, 0}}}},
		"Messages-Waiting: no\r\nX-Unknown: whatever\r\n": {},
	}
	for in, want := range good {
		got, err := Parse([]byte(in))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q): got %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"",
		"Voice-Message: 1/2\r\n",
		"Messages-Waiting: maybe\r\n",
		"Messages-Waiting: yes\r\nMessages-Waiting: no\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1/x\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1/2 (3/4\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1/1234567890\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1/2\r\nVoice-Message: 1/2\r\n",
		"Messages-Waiting: yes\r\ngarbage\r\n",
		"Messages-Waiting: yes\r\nMessage-Account: sip:a b\r\n",
	} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): got %v, want ErrSyntax", in, err)
		}
	}
	long := make([]byte, MaxBody+1)
	if _, err := Parse(long); err == nil {
		t.Error("Parse of an over-long body: got nil error")
	}
}

func TestAppendTo(t *testing.T) {
	s := Summary{Waiting: true, Account: "sip:alice@vmail.example.com",
		Classes: []Class{{"voice-message", Counts{2, 8, 0, 2}}, {"fax-message", Counts{1, 0, 0, 0}}}}
	want := "Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 2/8 (0/2)\r\nFax-Message: 1/0\r\n"
	if got := string(s.AppendTo(nil)); got != want {
		t.Errorf("AppendTo: got %q, want %q", got, want)
	}
}

// FuzzParse: Parse never panics, and what it accepts comes back the same
// from AppendTo.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Messages-Waiting: no\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := Parse(body)
		if err != nil {
			return
		}
		again, err := Parse(s.AppendTo(nil))
		if err != nil {
			t.Fatalf("Parse(AppendTo(%+v)): %v", s, err)
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip: got %+v, want %+v", again, s)
		}
	})
}

// TestParseAccount: Message-Account is an Account-URI (RFC 3842 §5.2); a
// value with whitespace, controls, non-ASCII bytes or no scheme is refused
// rather than handed to the application.
func TestParseAccount(t *testing.T) {
	for _, tt := range []struct {
		account string
		ok      bool
	}{
		{"sip:alice@vm.example.com", true},
		{"sips:alice@vm.example.com;transport=tcp", true},
		{"tel:+15551234567", true},
		{"sip:test@vm\r)", false},
		{"sip:a\x00b", false},
		{"sip:a\x1bb", false},
		{"sip:a\x7fb", false},
		{"sip:\u2028a", false},
		{"<sip:a>,x", false},
		{"alice@vm", false},
		{"sip:", false},
		{":x", false},
		{"1x:y", false},
	} {
		body := "Messages-Waiting: yes\r\nMessage-Account: " + tt.account + "\r\n"
		s, err := Parse([]byte(body))
		if tt.ok && (err != nil || s.Account != tt.account) {
			t.Errorf("%q: got %q, %v; want it taken", tt.account, s.Account, err)
		}
		if !tt.ok && err == nil {
			t.Errorf("%q: taken as %q, want an error", tt.account, s.Account)
		}
	}
}
