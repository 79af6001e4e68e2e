// Package dialoginfo reads and writes dialog-info documents (RFC 4235):
// the dialogs of a user that a server NOTIFYs in the dialog event
// package, which a busy lamp field shows as idle, ringing or busy.
package dialoginfo

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"

	"github.com/xphone-go/xphone/internal/xmldoc"
)

// ContentType is the media type of a dialog-info document.
const ContentType = "application/dialog-info+xml"

// MaxBody bounds the documents Parse reads.
const MaxBody = 64 << 10

// MaxDialogs bounds the dialogs one document may list.
const MaxDialogs = 64

// The dialog states of RFC 4235 §3.7.1.
const (
	Trying     = "trying"
	Proceeding = "proceeding"
	Early      = "early"
	Confirmed  = "confirmed"
	Terminated = "terminated"
)

// Info is a dialog-info document.
type Info struct {
	// Entity is the URI whose dialogs these are.
	Entity string
	// Version counts the documents of a subscription, from 0.
	Version uint32
	// Full is state="full": Dialogs are all the entity's dialogs; else
	// (partial) they are the ones that changed.
	Full bool
	// Dialogs are the document's dialogs, in its order.
	Dialogs []Dialog
}

// Dialog is one dialog of the entity.
type Dialog struct {
	ID                  string // unique within the document's subscription
	CallID              string // "" when not given
	LocalTag, RemoteTag string
	Direction           string // "initiator", "recipient" or ""
	State               string // one of the state constants
	Event               string // why it ended, for State Terminated ("rejected"...), or ""
	Remote              string // the remote party's identity URI, "" when not given
}

// ErrSyntax is returned, wrapped, for a document that is not dialog-info.
var ErrSyntax = errors.New("dialoginfo: malformed dialog-info")

func syntaxError(what string) error { return fmt.Errorf("%w: %s", ErrSyntax, what) }

type xmlInfo struct {
	XMLName xml.Name    `xml:"dialog-info"`
	Version string      `xml:"version,attr"`
	State   string      `xml:"state,attr"`
	Entity  string      `xml:"entity,attr"`
	Dialogs []xmlDialog `xml:"dialog"`
}

type xmlDialog struct {
	ID        string   `xml:"id,attr"`
	CallID    string   `xml:"call-id,attr,omitempty"`
	LocalTag  string   `xml:"local-tag,attr,omitempty"`
	RemoteTag string   `xml:"remote-tag,attr,omitempty"`
	Direction string   `xml:"direction,attr,omitempty"`
	State     xmlState `xml:"state"`
	Remote    *xmlPeer `xml:"remote,omitempty"`
}

type xmlState struct {
	Event string `xml:"event,attr,omitempty"`
	Value string `xml:",chardata"`
}

type xmlPeer struct {
	Identity string `xml:"identity"`
}

// Parse reads a dialog-info document (RFC 4235 §4). It requires version,
// state (full or partial) and entity on the root, and an id and a known
// state on each dialog; elements it does not know are skipped.
func Parse(body []byte) (Info, error) {
	var info Info
	if len(body) > MaxBody {
		return info, syntaxError("document too long")
	}
	var x xmlInfo
	if err := xmldoc.Decode(body, &x); err != nil {
		return info, syntaxError(err.Error())
	}
	v, err := strconv.ParseUint(x.Version, 10, 32)
	if err != nil {
		return info, syntaxError("bad version")
	}
	switch x.State {
	case "full":
		info.Full = true
	case "partial":
	default:
		return info, syntaxError("state is neither full nor partial")
	}
	if x.Entity == "" {
		return info, syntaxError("no entity")
	}
	if len(x.Dialogs) > MaxDialogs {
		return info, syntaxError("too many dialogs")
	}
	info.Entity, info.Version = x.Entity, uint32(v)
	for _, xd := range x.Dialogs {
		dl := Dialog{ID: xd.ID, CallID: xd.CallID, LocalTag: xd.LocalTag, RemoteTag: xd.RemoteTag,
			Direction: xd.Direction, State: string(bytes.TrimSpace([]byte(xd.State.Value))), Event: xd.State.Event}
		if xd.Remote != nil {
			dl.Remote = string(bytes.TrimSpace([]byte(xd.Remote.Identity)))
		}
		if dl.ID == "" {
			return info, syntaxError("dialog without id")
		}
		switch dl.State {
		case Trying, Proceeding, Early, Confirmed, Terminated:
		default:
			return info, syntaxError("unknown dialog state " + strconv.Quote(dl.State))
		}
		switch dl.Direction {
		case "", "initiator", "recipient":
		default:
			return info, syntaxError("unknown direction")
		}
		info.Dialogs = append(info.Dialogs, dl)
	}
	return info, nil
}

// AppendTo appends info as a dialog-info document.
func (info Info) AppendTo(dst []byte) ([]byte, error) {
	x := xmlInfo{Version: strconv.FormatUint(uint64(info.Version), 10), State: "partial", Entity: info.Entity}
	x.XMLName = xml.Name{Space: "urn:ietf:params:xml:ns:dialog-info", Local: "dialog-info"}
	if info.Full {
		x.State = "full"
	}
	for _, d := range info.Dialogs {
		xd := xmlDialog{ID: d.ID, CallID: d.CallID, LocalTag: d.LocalTag, RemoteTag: d.RemoteTag,
			Direction: d.Direction, State: xmlState{Event: d.Event, Value: d.State}}
		if d.Remote != "" {
			xd.Remote = &xmlPeer{Identity: d.Remote}
		}
		x.Dialogs = append(x.Dialogs, xd)
	}
	b, err := xml.Marshal(x)
	if err != nil {
		return dst, err
	}
	dst = append(dst, xml.Header...)
	return append(dst, b...), nil
}
