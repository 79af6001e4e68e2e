package sipmsg

import (
	"runtime"
	"testing"

	"github.com/xphone-go/xphone/internal/protos"
)

// TestPROTOS feeds every PROTOS c07-sip INVITE to Parse, Validate, the
// typed accessors and a Reader. None may panic; memory per case is bounded
// (the parser keeps at most one copy of its input, itself bounded by the
// 64 KiB limit); case 0, the valid reference INVITE, must parse.
func TestPROTOS(t *testing.T) {
	all, err := protos.Load("../testdata/vectors/protos/c07-sip-rendered.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	parsed := 0
	var ms runtime.MemStats
	for _, c := range all {
		b := c.Raw
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		m, err := Parse(b)
		if err == nil {
			parsed++
			exercise(m)
		}
		runtime.ReadMemStats(&ms)
		// Bounded memory: a message costs its copy plus small records,
		// never more than a few times the input (and the input is capped).
		if grown := ms.TotalAlloc - before; grown > uint64(8*len(b)+16<<10) {
			t.Errorf("%s: allocated %d bytes for %d input bytes", c.Name, grown, len(b))
		}
		if c.Name == "rendered/0000000.sip" {
			if err != nil {
				t.Fatalf("case 0: got %v, want it parsed", err)
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("case 0: validate: %v", err)
			}
			eq(t, "case 0 call-id", m.CallID(), "protos-0000000@127.0.0.1")
		}
	}
	eq(t, "cases", len(all), protos.Count)
	t.Logf("%d of %d cases parse", parsed, len(all))
}

// exercise calls every accessor; used by tests that only look for panics.
func exercise(m *Message) {
	_ = m.Validate()
	_, _ = m.Via()
	_, _ = m.Vias()
	_, _ = m.From()
	_, _ = m.To()
	_, _ = m.Contacts()
	_, _ = m.CSeq()
	_, _ = m.MaxForwards()
	_, _ = m.ContentLength()
	_, _ = m.ContentType()
	_, _ = m.Route()
	_, _ = m.RecordRoute()
	_, _ = m.Expires()
	_, _ = m.SessionExpires()
	_, _ = m.Event()
	_, _ = m.SubscriptionState()
	_, _ = m.RAck()
	_, _ = m.Replaces()
	_, _ = m.Reasons()
	_, _ = m.RetryAfter()
	_, _ = m.ReferTo()
	_ = m.Supported()
	_ = m.AppendTo(nil)
}
