// Package mwi reads and writes message-summary bodies (RFC 3842), the
// voicemail status a server sends in NOTIFY requests of the
// message-summary event package: whether messages wait, the account they
// wait in, and per class of message (voice, fax...) the counts of new and
// old messages, urgent ones apart.
package mwi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ContentType is the media type of a message-summary body.
const ContentType = "application/simple-message-summary"

// MaxBody bounds the bodies Parse reads; a longer one is refused.
const MaxBody = 8 << 10

// maxClasses bounds the message classes one summary may list.
const maxClasses = 16

// Counts are the messages of one class: new and old, and of those how
// many are urgent.
type Counts struct {
	New, Old             int
	NewUrgent, OldUrgent int
}

// Class is the counts of one message class, named as in the body in
// lower case: "voice-message", "fax-message", "pager-message",
// "multimedia-message", "text-message" or "none" (RFC 3458 §6.2).
type Class struct {
	Name string
	Counts
}

// Summary is a message-summary body.
type Summary struct {
	// Waiting is Messages-Waiting: yes.
	Waiting bool
	// Account is the Message-Account URI, "" when absent.
	Account string
	// Classes are the summary lines, in body order, each class once.
	Classes []Class
}

// Voice returns the counts of the voice-message class, zero when the
// summary has none.
func (s Summary) Voice() Counts {
	for _, c := range s.Classes {
		if c.Name == "voice-message" {
			return c.Counts
		}
	}
	return Counts{}
}

// ErrSyntax is returned, wrapped, for a body that is not a message
// summary.
var ErrSyntax = errors.New("mwi: malformed message-summary")

func syntaxError(what string) error { return fmt.Errorf("%w: %s", ErrSyntax, what) }

// Parse reads a message-summary body (RFC 3842 §5.2). Messages-Waiting
// is required; lines it does not know are skipped, and so is everything
// after the first empty line (optional message headers, §5.2).
func Parse(body []byte) (Summary, error) {
	var s Summary
	if len(body) > MaxBody {
		return s, syntaxError("body too long")
	}
	seenWaiting := false
	for rest := string(body); rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return s, syntaxError("line without a colon")
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		switch {
		case name == "messages-waiting":
			switch strings.ToLower(value) {
			case "yes":
				s.Waiting = true
			case "no":
				s.Waiting = false
			default:
				return s, syntaxError("Messages-Waiting is neither yes nor no")
			}
			if seenWaiting {
				return s, syntaxError("Messages-Waiting twice")
			}
			seenWaiting = true
		case name == "message-account":
			if !isAccountURI(value) {
				return s, syntaxError("bad Message-Account")
			}
			s.Account = value
		case isClass(name):
			c, err := parseCounts(value)
			if err != nil {
				return s, err
			}
			for _, have := range s.Classes {
				if have.Name == name {
					return s, syntaxError("class " + name + " twice")
				}
			}
			if len(s.Classes) == maxClasses {
				return s, syntaxError("too many classes")
			}
			s.Classes = append(s.Classes, Class{Name: name, Counts: c})
		}
	}
	if !seenWaiting {
		return s, syntaxError("no Messages-Waiting")
	}
	return s, nil
}

// isAccountURI reports whether v can be the Account-URI of RFC 3842 §5.2:
// a scheme, a colon and URI characters (RFC 3986 §2), nothing else — no
// whitespace, controls or non-ASCII bytes reach the application.
func isAccountURI(v string) bool {
	colon := strings.IndexByte(v, ':')
	if colon < 1 || colon == len(v)-1 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i < colon && (c == '+' || c == '-' || c == '.'):
		case i > colon && strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0:
		case i == colon:
		default:
			return false
		}
	}
	return 'a' <= v[0]|0x20 && v[0]|0x20 <= 'z'
}

// isClass reports whether name is a message-context-class (RFC 3458 §6.2).
func isClass(name string) bool {
	switch name {
	case "voice-message", "fax-message", "pager-message", "multimedia-message", "text-message", "none":
		return true
	}
	return false
}

// parseCounts reads "new/old" with an optional " (new-urgent/old-urgent)".
func parseCounts(v string) (Counts, error) {
	var c Counts
	main, urgent, hasUrgent := strings.Cut(v, "(")
	var err error
	if c.New, c.Old, err = pair(main); err != nil {
		return c, err
	}
	if hasUrgent {
		u, ok := strings.CutSuffix(strings.TrimSpace(urgent), ")")
		if !ok {
			return c, syntaxError("unclosed urgent counts")
		}
		if c.NewUrgent, c.OldUrgent, err = pair(u); err != nil {
			return c, err
		}
	}
	return c, nil
}

// pair reads "a/b" of two counts.
func pair(s string) (a, b int, err error) {
	x, y, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, syntaxError("counts without /")
	}
	if a, err = count(x); err != nil {
		return 0, 0, err
	}
	b, err = count(y)
	return a, b, err
}

// count reads one count: 1 to 9 digits.
func count(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, syntaxError("bad count")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, syntaxError("bad count")
	}
	return n, nil
}

// AppendTo appends s as a message-summary body: Messages-Waiting, then
// Message-Account when set, then a line per class with its urgent counts
// when any is not zero.
func (s Summary) AppendTo(dst []byte) []byte {
	dst = append(dst, "Messages-Waiting: "...)
	if s.Waiting {
		dst = append(dst, "yes\r\n"...)
	} else {
		dst = append(dst, "no\r\n"...)
	}
	if s.Account != "" {
		dst = append(dst, "Message-Account: "...)
		dst = append(dst, s.Account...)
		dst = append(dst, "\r\n"...)
	}
	for _, c := range s.Classes {
		for i, part := range strings.Split(c.Name, "-") {
			if i > 0 {
				dst = append(dst, '-')
			}
			if part != "" {
				dst = append(dst, strings.ToUpper(part[:1])...)
				dst = append(dst, part[1:]...)
			}
		}
		dst = append(dst, ": "...)
		dst = strconv.AppendInt(dst, int64(c.New), 10)
		dst = append(dst, '/')
		dst = strconv.AppendInt(dst, int64(c.Old), 10)
		if c.NewUrgent != 0 || c.OldUrgent != 0 {
			dst = append(dst, " ("...)
			dst = strconv.AppendInt(dst, int64(c.NewUrgent), 10)
			dst = append(dst, '/')
			dst = strconv.AppendInt(dst, int64(c.OldUrgent), 10)
			dst = append(dst, ')')
		}
		dst = append(dst, "\r\n"...)
	}
	return dst
}
