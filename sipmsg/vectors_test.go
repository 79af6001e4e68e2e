package sipmsg

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

type result[T any] struct {
	v   T
	err error
}

func get[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) ok(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

// Outcomes of a vector.
const (
	accept         = "accept"          // Parse and Validate succeed
	rejectParse    = "reject"          // Parse fails
	rejectValidate = "reject-validate" // Parse succeeds (element may inspect it), Validate fails
)

type vector struct {
	outcome string
	why     string // for rejections and tolerant choices: which rule applies
	check   func(t *testing.T, m *Message)
}

// rfc4475 lists every message of RFC 4475 Appendix A with what this
// package does with it. TestRFC4475 fails if index.tsv names a file this
// table does not cover.
var rfc4475 = map[string]vector{
	"wsinv.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "method", m.Method, "INVITE")
		eq(t, "uri params", string(m.RequestURI.Params), "unknownparam")
		to := get(m.To()).ok(t)
		eq(t, "to user", to.URI.User, "vivekg")
		eq(t, "to tag", to.Tag(), "1918181833n")
		from := get(m.From()).ok(t)
		eq(t, "from display", from.DisplayName(), `J Rosenberg \"`)
		eq(t, "from tag", from.Tag(), "98asjd8")
		eq(t, "max-forwards", get(m.MaxForwards()).ok(t), 68)
		eq(t, "cseq", get(m.CSeq()).ok(t), CSeq{Seq: 9, Method: "INVITE"})
		vias := get(m.Vias()).ok(t)
		eq(t, "vias", len(vias), 3)
		eq(t, "via0 host", vias[0].Host, "192.0.2.2")
		eq(t, "via0 branch", vias[0].Branch(), "390skdjuw")
		eq(t, "via1 transport", vias[1].Transport, "TCP")
		eq(t, "via1 branch", vias[1].Branch(), "z9hG4bK9ikj8")
		eq(t, "via2 host", vias[2].Host, "192.168.255.111")
		eq(t, "subject", m.Get("s"), "")
		eq(t, "subject present", m.Has("Subject"), true)
		eq(t, "unusual", m.Get("UnknownHeaderWithUnusualValue"), ";;,,;;,;")
		eq(t, "unusual values", len(m.Values("UnknownHeaderWithUnusualValue")), 1)
		eq(t, "folded", m.Get("NewFangledHeader"), "newfangled value continued newfangled value")
		eq(t, "body", len(m.Body), 150)
		r := get(m.Route()).ok(t)
		eq(t, "route", r[0].URI.Host, "services.example.com")
	}},
	"intmeth.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "method", m.Method, "!interesting-Method0123456789_*+`.%indeed'~")
		eq(t, "uri user", m.RequestURI.User, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
		eq(t, "uri password", m.RequestURI.Password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
		eq(t, "uri host", m.RequestURI.Host, "example.com")
		eq(t, "cseq", get(m.CSeq()).ok(t).Seq, uint32(139122385))
		to := get(m.To()).ok(t)
		eq(t, "to display", to.DisplayName(), "BEL:\x07 NUL:\x00 DEL:\x7f")
		from := get(m.From()).ok(t)
		eq(t, "from display", from.Display, "token1~` token2'+_ token3*%!.-")
		eq(t, "from tag", from.Tag(), "_token~1'+`*%!-.")
		eq(t, "call-id", m.CallID(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
		eq(t, "via branch", get(m.Via()).ok(t).Branch(), "z9hG4bK-.!%66*_+`'~")
		eq(t, "extension", m.Get("extensionHeader-!.%*+_`'~"), "\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb")
	}},
	"esc01.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "uri user", Unescape(m.RequestURI.User), "sips:user@example.com")
		to := get(m.To()).ok(t)
		eq(t, "to equal", to.URI.Equal(get(ParseURI("sip:user@example.com")).ok(t)), true)
		from := get(m.From()).ok(t)
		eq(t, "from user", Unescape(from.URI.User), "I have spaces")
		c := get(m.Contact()).ok(t)
		eq(t, "contact user", Unescape(c.URI.User), "caller")
		eq(t, "contact lr", c.URI.Params.Has("lr"), false)
		eq(t, "contact name param", c.URI.Equal(get(ParseURI("sip:caller@host5.example.net;lr;name=value%41")).ok(t)), false)
		eq(t, "contact equal", c.URI.Equal(get(ParseURI("sip:caller@host5.example.net;lr;name=value%2541")).ok(t)), true)
		eq(t, "content-type", get(m.ContentType()).ok(t).Subtype, "sdp")
		eq(t, "call-id", m.CallID(), "esc01.239409asdfakjkn23onasd0-3234")
	}},
	"escnull.dat": {accept, "", func(t *testing.T, m *Message) {
		to := get(m.To()).ok(t)
		eq(t, "to user", Unescape(to.URI.User), "null-\x00-null")
		cs := get(m.Contacts()).ok(t)
		eq(t, "contacts", len(cs), 2)
		eq(t, "contact0", Unescape(cs[0].URI.User), "\x00")
		eq(t, "contact1", Unescape(cs[1].URI.User), "\x00\x00")
		eq(t, "content-length", get(m.ContentLength()).ok(t), 0)
	}},
	"esc02.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "method", m.Method, "RE%47IST%45R")
		from := get(m.From()).ok(t)
		eq(t, "display", from.DisplayName(), "%Z%45")
		eq(t, "contacts", len(get(m.Contacts()).ok(t)), 2)
		eq(t, "extension", m.Get("C%6Fntact"), "<sip:alias2@host2.example.com>")
		eq(t, "branch", get(m.Via()).ok(t).Branch(), "z9hG4bK209%fzsnel234")
	}},
	"lwsdisp.dat": {accept, "", func(t *testing.T, m *Message) {
		from := get(m.From()).ok(t)
		eq(t, "display", from.Display, "caller")
		eq(t, "from user", from.URI.User, "caller")
		eq(t, "tag", from.Tag(), "323")
	}},
	"longreq.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "method", m.Method, "INVITE")
		vias := get(m.Vias()).ok(t)
		eq(t, "vias", len(vias), 34)
		eq(t, "to display len", len(get(m.To()).ok(t).DisplayName()) > 100, true)
		eq(t, "from user len", len(get(m.From()).ok(t).URI.User) > 100, true)
		eq(t, "body", len(m.Body), 150)
		eq(t, "cseq", get(m.CSeq()).ok(t).Seq, uint32(3882340))
	}},
	"dblreq.dat": {accept, "RFC 3261 §18.3: octets after Content-Length are discarded", func(t *testing.T, m *Message) {
		eq(t, "method", m.Method, "REGISTER")
		eq(t, "body", len(m.Body), 0)
		eq(t, "call-id", m.CallID(), "dblreq.0ha0isndaksdj99sdfafnl3lk233412")
		eq(t, "contact", get(m.Contact()).ok(t).URI.Host, "host.example.com")
	}},
	"semiuri.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "user", m.RequestURI.User, "user;par=u%40example.net")
		eq(t, "host", m.RequestURI.Host, "example.com")
		eq(t, "params", string(m.RequestURI.Params), "")
		eq(t, "accept", len(m.Values("Accept")), 6)
	}},
	"transports.dat": {accept, "", func(t *testing.T, m *Message) {
		vias := get(m.Vias()).ok(t)
		var got []string
		for _, v := range vias {
			got = append(got, v.Transport)
		}
		eq(t, "transports", strings.Join(got, ","), "UDP,SCTP,TLS,UNKNOWN,TCP")
		eq(t, "host4", vias[3].Host, "t4.example.com")
	}},
	"mpart01.dat": {accept, "", func(t *testing.T, m *Message) {
		ct := get(m.ContentType()).ok(t)
		eq(t, "type", ct.Type+"/"+ct.Subtype, "multipart/mixed")
		eq(t, "boundary", ct.Params.Value("boundary"), "7a9cbec02ceef655")
		eq(t, "body", len(m.Body), get(m.ContentLength()).ok(t))
		eq(t, "binary", bytes.Contains(m.Body, []byte{0}), true)
		rp, _ := get(m.Via()).ok(t).RPort()
		eq(t, "rport", rp, 0)
	}},
	"unreason.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "code", m.StatusCode, 200)
		eq(t, "reason prefix", strings.HasPrefix(m.Reason, "= 2**3 * 5**2 "), true)
		eq(t, "reason utf8", strings.Contains(m.Reason, "\xd0\xbd\xd0\xbe"), true)
		eq(t, "to tag", get(m.To()).ok(t).Tag(), "2229")
		eq(t, "body", len(m.Body), 154)
	}},
	"noreason.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "code", m.StatusCode, 100)
		eq(t, "reason", m.Reason, "")
		eq(t, "to tag", get(m.To()).ok(t).Tag(), "902jndnke3")
	}},
	"badinv01.dat":   {rejectValidate, "Via has empty parameters (';;,;,,'), RFC 3261 §25.1", nil},
	"clerr.dat":      {rejectParse, "Content-Length larger than the datagram, RFC 3261 §18.3", nil},
	"ncl.dat":        {rejectParse, "negative Content-Length is not 1*DIGIT", nil},
	"scalar02.dat":   {rejectParse, "CSeq number does not fit in 32 bits", nil},
	"scalarlg.dat":   {rejectParse, "CSeq number does not fit in 32 bits", nil},
	"quotbal.dat":    {rejectValidate, "unterminated quoted display name in To", nil},
	"ltgtruri.dat":   {rejectParse, "Request-URI must not be enclosed in <>", nil},
	"lwsruri.dat":    {rejectParse, "whitespace inside the Request-URI", nil},
	"lwsstart.dat":   {rejectParse, "tolerant choice: extra SP on the Request-Line is rejected (RFC 4475 §3.1.2.9 allows it)", nil},
	"trws.dat":       {rejectParse, "tolerant choice: trailing SP on the Request-Line is rejected (RFC 4475 §3.1.2.10 allows it)", nil},
	"escruri.dat":    {rejectParse, "tolerant choice: headers in a Request-URI are rejected (RFC 3261 §19.1.1, RFC 4475 §3.1.2.11)", nil},
	"regbadct.dat":   {rejectValidate, "tolerant choice: addr-spec with '?' must be in <> (RFC 3261 §20); brackets are not inferred", nil},
	"badaspec.dat":   {rejectValidate, "tolerant choice: spaces inside <> are not ignored (RFC 4475 §3.1.2.14)", nil},
	"baddn.dat":      {rejectParse, "tolerant choice: the file has no empty line ending the headers (see README); the unquoted non-token display names would fail Validate too", nil},
	"badvers.dat":    {rejectParse, "SIP/7.0: ErrUnsupportedVersion, answer 505", nil},
	"mismatch01.dat": {rejectParse, "CSeq method differs from the request method, RFC 3261 §8.1.1.5", nil},
	"mismatch02.dat": {rejectParse, "CSeq method differs from the request method, RFC 3261 §8.1.1.5", nil},
	"bigcode.dat":    {rejectParse, "status code is not 3 digits", nil},
	"baddate.dat": {accept, "tolerant choice: Date is not interpreted, so 'EST' is ignored (RFC 4475 §3.1.2.12)", func(t *testing.T, m *Message) {
		eq(t, "date", m.Get("Date"), "Fri, 01 Jan 2010 16:00:00 EST")
		eq(t, "values", len(m.Values("Date")), 1)
	}},
	"badbranch.dat": {accept, "transaction layer decides; parser keeps the bare cookie", func(t *testing.T, m *Message) {
		eq(t, "branch", get(m.Via()).ok(t).Branch(), "z9hG4bK")
	}},
	"insuf.dat": {rejectValidate, "no Call-ID, From or To: 400 (RFC 3261 §8.1.1)", nil},
	"unkscm.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "scheme", m.RequestURI.Scheme, "nobodyKnowsThisScheme")
		eq(t, "opaque", m.RequestURI.Opaque, "totallyopaquecontent")
		eq(t, "is sip", m.RequestURI.IsSIP(), false)
	}},
	"novelsc.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "scheme", m.RequestURI.Scheme, "soap.beep")
		eq(t, "opaque", m.RequestURI.Opaque, "//192.0.2.103:3002")
	}},
	"unksm2.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "to scheme", get(m.To()).ok(t).URI.Scheme, "isbn")
		eq(t, "from", get(m.From()).ok(t).URI.Opaque, "//www.example.com")
		eq(t, "contact", get(m.Contact()).ok(t).URI.Opaque, "John_Smith")
	}},
	"bext01.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "require", strings.Join(m.Require(), "|"), "nothingSupportsThis|nothingSupportsThisEither")
		eq(t, "proxy-require", len(m.Values("Proxy-Require")), 2)
		eq(t, "has", m.HasToken("Require", "nothingsupportsthiseither"), true)
	}},
	"invut.dat": {accept, "", func(t *testing.T, m *Message) {
		ct := get(m.ContentType()).ok(t)
		eq(t, "type", ct.Type+"/"+ct.Subtype, "application/unknownformat")
		eq(t, "body", len(m.Body), get(m.ContentLength()).ok(t))
	}},
	"regaut01.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "authorization", m.Get("Authorization"), "NoOneKnowsThisScheme opaque-data=here")
		eq(t, "content-length", get(m.ContentLength()).ok(t), 0)
	}},
	"multi01.dat": {rejectValidate, "several Call-ID/To/From/CSeq/Max-Forwards: 400 (RFC 4475 §3.3.8)", nil},
	"mcl01.dat":   {rejectParse, "several Content-Length values (RFC 4475 §3.3.9)", nil},
	"bcast.dat": {accept, "", func(t *testing.T, m *Message) {
		vias := get(m.Vias()).ok(t)
		eq(t, "via1 host", vias[1].Host, "255.255.255.255")
		eq(t, "code", m.StatusCode, 200)
	}},
	"zeromf.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "max-forwards", get(m.MaxForwards()).ok(t), 0)
	}},
	"cparam01.dat": {accept, "", func(t *testing.T, m *Message) {
		c := get(m.Contact()).ok(t)
		eq(t, "uri params", string(c.URI.Params), "")
		eq(t, "header param", c.Params.Has("unknownparam"), true)
	}},
	"cparam02.dat": {accept, "", func(t *testing.T, m *Message) {
		c := get(m.Contact()).ok(t)
		eq(t, "uri params", string(c.URI.Params), "unknownparam")
		eq(t, "header params", string(c.Params), "")
	}},
	"regescrt.dat": {accept, "", func(t *testing.T, m *Message) {
		c := get(m.Contact()).ok(t)
		eq(t, "headers", c.URI.Headers, "Route=%3Csip:sip.example.com%3E")
		eq(t, "round trip", c.String(), "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>")
	}},
	"sdp01.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "accept", m.Get("Accept"), "text/nobodyKnowsThis")
		eq(t, "body", len(m.Body), get(m.ContentLength()).ok(t))
	}},
	"inv2543.dat": {accept, "RFC 2543 peer: no branch, no From tag, no Max-Forwards", func(t *testing.T, m *Message) {
		v := get(m.Via()).ok(t)
		eq(t, "branch", v.Branch(), "")
		eq(t, "from tag", get(m.From()).ok(t).Tag(), "")
		_, err := m.MaxForwards()
		eq(t, "max-forwards", err, ErrMissingHeader)
		eq(t, "record-route maddr", get(m.RecordRoute()).ok(t)[0].URI.Params.Value("maddr"), "ss1.example.com")
	}},
	"test.dat": {rejectParse, "unreferenced by RFC 4475; its Request-Line has no SIP-Version", nil},
}

// parseVector returns the stage reached: "" (accepted), rejectParse or
// rejectValidate, and the error.
func parseVector(b []byte) (*Message, string, error) {
	m, err := Parse(b)
	if err != nil {
		return nil, rejectParse, err
	}
	if err := m.Validate(); err != nil {
		return m, rejectValidate, err
	}
	return m, accept, nil
}

func indexFiles(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var files []string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		files = append(files, strings.Split(sc.Text(), "\t")[0])
	}
	return files
}

func TestRFC4475(t *testing.T) {
	dir := "../testdata/vectors/sip/rfc4475"
	files := indexFiles(t, dir)
	if len(files) != 50 || len(rfc4475) != 50 {
		t.Fatalf("got %d files in index and %d in table, want 50", len(files), len(rfc4475))
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			v, ok := rfc4475[file]
			if !ok {
				t.Fatalf("no expectation for %s", file)
			}
			b, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			m, got, err := parseVector(b)
			if got != v.outcome {
				t.Fatalf("got %s (%v), want %s (%s)", got, err, v.outcome, v.why)
			}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Reason == "" || len(pe.Quote) > maxQuote {
					t.Errorf("got error %#v, want a *ParseError with a reason and a short quote", err)
				}
				t.Logf("%s: %v", v.why, err)
			}
			if v.check != nil {
				v.check(t, m)
				checkRoundTrip(t, m)
			}
		})
	}
	// The version error is one callers branch on (505).
	b, _ := os.ReadFile(filepath.Join(dir, "badvers.dat"))
	if _, err := Parse(b); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("badvers: got %v, want ErrUnsupportedVersion", err)
	}
}

// checkRoundTrip serializes m, parses the result and compares.
func checkRoundTrip(t *testing.T, m *Message) {
	t.Helper()
	out := m.AppendTo(nil)
	m2, err := Parse(out)
	if err != nil {
		t.Fatalf("reparse: %v\n%s", err, out)
	}
	if d := diffMessages(m, m2); d != "" {
		t.Errorf("round trip differs: %s", d)
	}
}

// diffMessages describes the first difference between two messages.
func diffMessages(a, b *Message) string {
	switch {
	case a.Method != b.Method:
		return "method " + a.Method + " / " + b.Method
	case !a.RequestURI.Equal(b.RequestURI) || a.RequestURI.String() != b.RequestURI.String():
		return "request-uri " + a.RequestURI.String() + " / " + b.RequestURI.String()
	case a.StatusCode != b.StatusCode || a.Reason != b.Reason:
		return "status line"
	case !bytes.Equal(a.Body, b.Body):
		return "body"
	case a.NumFields() != b.NumFields():
		return "field count"
	}
	for i := 0; i < a.NumFields(); i++ {
		if a.Field(i) != b.Field(i) {
			return "field " + a.Field(i).Name + ": " + a.Field(i).Value + " / " + b.Field(i).Value
		}
	}
	return ""
}

// rfc5118 lists the IPv6 torture messages (wire/ versions).
var rfc5118 = map[string]vector{
	"ipv6-good.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "ruri host", m.RequestURI.Host, "2001:db8::10")
		eq(t, "via host", get(m.Via()).ok(t).Host, "2001:db8::9:1")
		eq(t, "contact", get(m.Contact()).ok(t).URI.Host, "2001:db8::1")
	}},
	"ipv6-bad.dat": {rejectParse, "IPv6 Request-URI host without [] (RFC 5118 §4.2)", nil},
	"port-ambiguous.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "host", m.RequestURI.Host, "2001:db8::10:5070")
		eq(t, "port", m.RequestURI.Port, 0)
	}},
	"port-unambiguous.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "host", m.RequestURI.Host, "2001:db8::10")
		eq(t, "port", m.RequestURI.Port, 5070)
	}},
	"via-received-param-with-delim.dat": {accept, "", func(t *testing.T, m *Message) {
		v := get(m.Via()).ok(t)
		eq(t, "received", v.Received(), "2001:db8::9:255")
		eq(t, "host", v.Host, "2001:db8::9:1")
	}},
	"via-received-param-no-delim.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "received", get(m.Via()).ok(t).Received(), "2001:db8::9:255")
	}},
	"ipv6-in-sdp.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "sdp", bytes.Contains(m.Body, []byte("c=IN IP6 2001:db8::20")), true)
		eq(t, "body", len(m.Body), get(m.ContentLength()).ok(t))
	}},
	"mult-ip-in-header.dat": {accept, "", func(t *testing.T, m *Message) {
		vias := get(m.Vias()).ok(t)
		eq(t, "vias", len(vias), 3)
		eq(t, "via0", vias[0].Host, "2001:db8::9:1")
		eq(t, "via1", vias[1].Host, "192.0.2.1")
		eq(t, "via2", vias[2].Host, "2001:db8::9:255")
		eq(t, "via2 received", vias[2].Received(), "192.0.2.200")
	}},
	"mult-ip-in-sdp.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "sdp", bytes.Contains(m.Body, []byte("IN IP6")), true)
		eq(t, "body", len(m.Body), get(m.ContentLength()).ok(t))
	}},
	"ipv4-mapped-ipv6.dat": {accept, "", func(t *testing.T, m *Message) {
		v := get(m.Via()).ok(t)
		eq(t, "via", v.Host, "::ffff:192.0.2.10")
		eq(t, "via port", v.Port, 19823)
		eq(t, "contact", get(m.Contact()).ok(t).URI.Host, "::ffff:192.0.2.2")
		eq(t, "contact display", get(m.Contact()).ok(t).DisplayName(), "T. desk phone")
	}},
	"ipv6-bug-abnf-3-colons.dat": {accept, "RFC 5118 §4.10: tolerate the 3-colon form", func(t *testing.T, m *Message) {
		eq(t, "host", m.RequestURI.Host, "2001:db8:::192.0.2.1")
	}},
	"ipv6-correct-abnf-2-colons.dat": {accept, "", func(t *testing.T, m *Message) {
		eq(t, "host", m.RequestURI.Host, "2001:db8::192.0.2.1")
	}},
}

func TestRFC5118(t *testing.T) {
	dir := "../testdata/vectors/sip/rfc5118"
	files := indexFiles(t, dir)
	if len(files) != 12 || len(rfc5118) != 12 {
		t.Fatalf("got %d files in index and %d in table, want 12", len(files), len(rfc5118))
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			v, ok := rfc5118[file]
			if !ok {
				t.Fatalf("no expectation for %s", file)
			}
			b, err := os.ReadFile(filepath.Join(dir, "wire", file))
			if err != nil {
				t.Fatal(err)
			}
			m, got, err := parseVector(b)
			if got != v.outcome {
				t.Fatalf("got %s (%v), want %s (%s)", got, err, v.outcome, v.why)
			}
			if v.check != nil {
				v.check(t, m)
				checkRoundTrip(t, m)
			}
			// The original archive bytes use bare LF and wrong
			// Content-Lengths (see the README): they must be rejected
			// with a reason, never crash.
			orig, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(orig); err == nil {
				t.Errorf("original (bare LF): got no error, want one")
			}
		})
	}
}
