package dialoginfo

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseVectors(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Info
	}{
		{"rfc4235-trying.xml", Info{Entity: "sip:alice@example.com", Full: true, Dialogs: []Dialog{
			{ID: "as7d900as8", CallID: "a84b4c76e66710", LocalTag: "1928301774", Direction: "initiator", State: Trying}}}},
		{"rfc4235-confirmed.xml", Info{Entity: "sip:alice@example.com", Version: 1, Dialogs: []Dialog{
			{ID: "as7d900as8", CallID: "a84b4c76e66710", LocalTag: "1928301774", RemoteTag: "456887766",
				Direction: "initiator", State: Confirmed, Remote: "sip:bob@example.org"}}}},
		{"idle.xml", Info{Entity: "sip:1002@pbx.example.com", Version: 2, Full: true}},
		{"asterisk-ringing.xml", Info{Entity: "sip:1002@pbx.example.com", Version: 5, Full: true, Dialogs: []Dialog{
			{ID: "1002", Direction: "recipient", State: Early, Remote: "sip:1001@pbx.example.com"}}}},
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
			t.Errorf("%s:\n got %+v\nwant %+v", tc.file, got, tc.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	head := `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" `
	for _, in := range []string{
		"",
		"not xml",
		head + `state="full" entity="sip:a@b"/>`,
		head + `version="x" state="full" entity="sip:a@b"/>`,
		head + `version="1" state="both" entity="sip:a@b"/>`,
		head + `version="1" state="full"/>`,
		head + `version="1" state="full" entity="sip:a@b"><dialog><state>early</state></dialog></dialog-info>`,
		head + `version="1" state="full" entity="sip:a@b"><dialog id="1"><state>on-fire</state></dialog></dialog-info>`,
		head + `version="1" state="full" entity="sip:a@b"><dialog id="1" direction="sideways"><state>early</state></dialog></dialog-info>`,
		head + `version="1" state="full" entity="sip:a@b">` + strings.Repeat(`<dialog id="1"><state>early</state></dialog>`, MaxDialogs+1) + `</dialog-info>`,
		`<other version="1" state="full" entity="sip:a@b"/>`,
	} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%.60q): got %v, want ErrSyntax", in, err)
		}
	}
	if _, err := Parse(make([]byte, MaxBody+1)); !errors.Is(err, ErrSyntax) {
		t.Errorf("over-long document: got %v", err)
	}
}

// FuzzParse: Parse never panics, and a document it accepts comes back the
// same through AppendTo.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := Parse(body)
		if err != nil {
			return
		}
		out, err := info.AppendTo(nil)
		if err != nil {
			t.Fatalf("AppendTo(%+v): %v", info, err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(AppendTo(%+v)) = %v\n%s", info, err, out)
		}
		if !reflect.DeepEqual(again, info) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, info)
		}
	})
}
