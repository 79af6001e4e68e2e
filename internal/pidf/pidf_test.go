package pidf

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
		want Presence
		open bool
		note string
	}{
		{"rfc3863-example.xml", Presence{Entity: "pres:someone@example.com", Notes: []string{"I'll be in Tokyo next week"},
			Tuples: []Tuple{{ID: "bs35r9", Open: true, Contact: "im:someone@mobilecarrier.net",
				Notes: []string{"Don't Disturb Please!", "Ne derangez pas, s'il vous plait"}}}}, true, "Don't Disturb Please!"},
		{"rpid-away.xml", Presence{Entity: "sip:1002@pbx.example.com", Notes: []string{"Away"},
			Tuples: []Tuple{{ID: "1002", Open: true, Contact: "sip:1002@pbx.example.com"}}}, true, "Away"},
		{"closed.xml", Presence{Entity: "sip:1003@pbx.example.com",
			Tuples: []Tuple{{ID: "t1", Notes: []string{"Offline"}}}}, false, "Offline"},
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
		if got.Open() != tc.open || got.Note() != tc.note {
			t.Errorf("%s: Open %v Note %q, want %v %q", tc.file, got.Open(), got.Note(), tc.open, tc.note)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	head := `<presence xmlns="urn:ietf:params:xml:ns:pidf" `
	for _, in := range []string{
		"",
		"<presence/>",
		head + `entity="sip:a@b"><tuple id="1"><status><basic>maybe</basic></status></tuple></presence>`,
		head + `entity="sip:a@b"><tuple><status><basic>open</basic></status></tuple></presence>`,
		head + `entity="sip:a@b"><tuple id="1"></tuple></presence>`,
		head + `entity="sip:a@b">` + strings.Repeat(`<tuple id="1"><status><basic>open</basic></status></tuple>`, MaxTuples+1) + `</presence>`,
		`<other entity="sip:a@b"/>`,
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
		p, err := Parse(body)
		if err != nil {
			return
		}
		out, err := p.AppendTo(nil)
		if err != nil {
			t.Fatalf("AppendTo(%+v): %v", p, err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(AppendTo(%+v)) = %v\n%s", p, err, out)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip:\n got %+v\nwant %+v\n%s", again, p, out)
		}
	})
}
