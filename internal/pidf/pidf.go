// Package pidf reads and writes presence documents (PIDF, RFC 3863): the
// presence of an entity a server NOTIFYs in the presence event package
// (RFC 3856), as tuples whose basic status is open or closed, with notes.
package pidf

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	"github.com/xphone-go/xphone/internal/xmldoc"
)

// ContentType is the media type of a PIDF document.
const ContentType = "application/pidf+xml"

// MaxBody bounds the documents Parse reads.
const MaxBody = 64 << 10

// MaxTuples bounds the tuples one document may hold.
const MaxTuples = 32

// Presence is a PIDF document.
type Presence struct {
	// Entity is the presentity's URI.
	Entity string
	// Tuples are the document's tuples, in its order.
	Tuples []Tuple
	// Notes are the notes of the presence element itself.
	Notes []string
}

// Tuple is one tuple: a device or service of the presentity.
type Tuple struct {
	ID      string
	Open    bool   // basic status open (else closed)
	Contact string // "" when not given
	Notes   []string
}

// Open reports whether any tuple is open: the presentity can be reached.
func (p Presence) Open() bool {
	for _, t := range p.Tuples {
		if t.Open {
			return true
		}
	}
	return false
}

// Note returns the first note of an open tuple, else of the document,
// else of any tuple; "" when there is none.
func (p Presence) Note() string {
	for _, t := range p.Tuples {
		if t.Open && len(t.Notes) > 0 {
			return t.Notes[0]
		}
	}
	if len(p.Notes) > 0 {
		return p.Notes[0]
	}
	for _, t := range p.Tuples {
		if len(t.Notes) > 0 {
			return t.Notes[0]
		}
	}
	return ""
}

// ErrSyntax is returned, wrapped, for a document that is not PIDF.
var ErrSyntax = errors.New("pidf: malformed presence document")

func syntaxError(what string) error { return fmt.Errorf("%w: %s", ErrSyntax, what) }

type xmlPresence struct {
	XMLName xml.Name   `xml:"presence"`
	Entity  string     `xml:"entity,attr"`
	Tuples  []xmlTuple `xml:"tuple"`
	Notes   []string   `xml:"note"`
}

type xmlTuple struct {
	ID      string   `xml:"id,attr"`
	Basic   string   `xml:"status>basic"`
	Contact string   `xml:"contact,omitempty"`
	Notes   []string `xml:"note"`
}

// Parse reads a PIDF document (RFC 3863 §4): an entity, and tuples with
// an id and a basic status of open or closed. Extensions (RPID and the
// like) are skipped.
func Parse(body []byte) (Presence, error) {
	var p Presence
	if len(body) > MaxBody {
		return p, syntaxError("document too long")
	}
	var x xmlPresence
	if err := xmldoc.Decode(body, &x); err != nil {
		return p, syntaxError(err.Error())
	}
	if x.Entity == "" {
		return p, syntaxError("no entity")
	}
	if len(x.Tuples) > MaxTuples {
		return p, syntaxError("too many tuples")
	}
	p.Entity, p.Notes = x.Entity, trimAll(x.Notes)
	for _, xt := range x.Tuples {
		t := Tuple{ID: xt.ID, Contact: strings.TrimSpace(xt.Contact), Notes: trimAll(xt.Notes)}
		switch strings.TrimSpace(xt.Basic) {
		case "open":
			t.Open = true
		case "closed":
		default:
			return p, syntaxError("basic status is neither open nor closed")
		}
		if t.ID == "" {
			return p, syntaxError("tuple without id")
		}
		p.Tuples = append(p.Tuples, t)
	}
	return p, nil
}

func trimAll(s []string) []string {
	var out []string
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// AppendTo appends p as a PIDF document.
func (p Presence) AppendTo(dst []byte) ([]byte, error) {
	x := xmlPresence{XMLName: xml.Name{Space: "urn:ietf:params:xml:ns:pidf", Local: "presence"}, Entity: p.Entity, Notes: p.Notes}
	for _, t := range p.Tuples {
		basic := "closed"
		if t.Open {
			basic = "open"
		}
		x.Tuples = append(x.Tuples, xmlTuple{ID: t.ID, Basic: basic, Contact: t.Contact, Notes: t.Notes})
	}
	b, err := xml.Marshal(x)
	if err != nil {
		return dst, err
	}
	dst = append(dst, xml.Header...)
	return append(dst, b...), nil
}
