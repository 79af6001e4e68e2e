package stun_test

import (
	"fmt"
	"net/netip"

	"github.com/xphone-go/xphone/stun"
)

// Build a Binding request with a fixed transaction ID, short-term
// MESSAGE-INTEGRITY and FINGERPRINT, then decode and verify it as a server
// would, and answer it.
func Example() {
	id := stun.TransactionID{0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae}
	integrity := stun.NewShortTermIntegrity("VOkJxbRl1RmTxUk/WvJxBt")

	var b stun.Builder
	b.Reset(make([]byte, 0, 128), stun.BindingRequest, id)
	b.AddString(stun.AttrSoftware, "xphone")
	b.AddString(stun.AttrUsername, "evtj:h6vY")
	b.AddIntegrity(integrity)
	b.AddFingerprint()
	req, err := b.Build()
	if err != nil {
		panic(err)
	}
	fmt.Println("built", len(req), "bytes:", stun.Classify(req))

	var m stun.Message
	if err := m.Decode(req); err != nil {
		panic(err)
	}
	user, _ := m.Get(stun.AttrUsername)
	fmt.Printf("%v %x user=%s\n", m.Type, m.TransactionID, user)
	fmt.Println("fingerprint:", m.CheckFingerprint(), "integrity:", m.CheckIntegrity(integrity))
	for _, a := range m.Attributes {
		fmt.Printf("  %v (%d bytes)\n", a.Type, len(a.Value))
	}

	// The answer carries the client's address as the server saw it.
	b.Reset(nil, stun.BindingSuccess, m.TransactionID)
	b.AddXORMappedAddress(netip.MustParseAddrPort("192.0.2.1:32853"))
	b.AddFingerprint()
	resp, _ := b.Build()
	if err := m.Decode(resp); err != nil {
		panic(err)
	}
	addr, err := m.XORMappedAddress()
	fmt.Println(m.Type, addr, err)
	// Output:
	// built 80 bytes: STUN
	// Binding request b7e7a701bc34d686fa87dfae user=evtj:h6vY
	// fingerprint: <nil> integrity: <nil>
	//   SOFTWARE (6 bytes)
	//   USERNAME (9 bytes)
	//   MESSAGE-INTEGRITY (20 bytes)
	//   FINGERPRINT (4 bytes)
	// Binding success response 192.0.2.1:32853 <nil>
}
