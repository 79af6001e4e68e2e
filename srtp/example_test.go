package srtp_test

import (
	"bytes"
	"fmt"

	"github.com/xphone-go/xphone/srtp"
)

// A sender and a receiver share a master key from SDES; each direction has
// its own Context. The receiver rejects a replay and a forgery.
func Example() {
	offer, err := srtp.ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")
	if err != nil {
		panic(err)
	}
	sender, _ := offer.NewContext()
	receiver, _ := offer.NewContext()
	defer sender.Close()
	defer receiver.Close()

	rtp := []byte{0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0xde, 0xca, 0xfb, 0xad, 'h', 'e', 'l', 'l', 'o'}
	buf := make([]byte, 0, 1500) // reused per packet: no allocation
	protected, err := sender.EncryptRTP(buf, rtp)
	if err != nil {
		panic(err)
	}
	fmt.Println("protected:", len(protected), "octets")

	plain, err := receiver.DecryptRTP(nil, protected)
	fmt.Println("decrypted:", bytes.Equal(plain, rtp), err)

	_, err = receiver.DecryptRTP(nil, protected)
	fmt.Println("again:", err)

	protected[len(protected)-1] ^= 1
	protected[3]++ // a new sequence number, but a tag that does not match
	_, err = receiver.DecryptRTP(nil, protected)
	fmt.Println("forged:", err)
	// Output:
	// protected: 27 octets
	// decrypted: true <nil>
	// again: srtp: replayed packet
	// forged: srtp: authentication failed
}
