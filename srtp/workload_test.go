package srtp

import (
	"bytes"
	"testing"
)

// TestWorkload checks the benchmark workloads: pion/srtp's protected packets
// are reproduced byte for byte and unprotect back.
func TestWorkload(t *testing.T) {
	plain, prot := readHex(t, "pcmu-packet.hex"), readHex(t, "srtp-pcmu-packet.hex")
	got, err := workloadContext(t).EncryptRTP(nil, plain)
	if err != nil || !bytes.Equal(got, prot) {
		t.Errorf("EncryptRTP: got %x, %v, want %x", got, err, prot)
	}
	if got := protectedRun(t, ProfileAES128CMSHA1_80, 1)[0]; !bytes.Equal(got, prot) {
		t.Errorf("protectedRun[0]: got %x, want %x", got, prot)
	}
	got, err = workloadContext(t).DecryptRTP(nil, prot)
	if err != nil || !bytes.Equal(got, plain) {
		t.Errorf("DecryptRTP: got %x, %v, want %x", got, err, plain)
	}
	rplain, rprot := readHex(t, "rtcp-sr-sdes.hex"), readHex(t, "srtcp-sr-sdes.hex")
	got, err = workloadContext(t).EncryptRTCP(nil, rplain)
	if err != nil || !bytes.Equal(got, rprot) {
		t.Errorf("EncryptRTCP: got %x, %v, want %x", got, err, rprot)
	}
	got, err = workloadContext(t).DecryptRTCP(nil, rprot)
	if err != nil || !bytes.Equal(got, rplain) {
		t.Errorf("DecryptRTCP: got %x, %v, want %x", got, err, rplain)
	}
}
