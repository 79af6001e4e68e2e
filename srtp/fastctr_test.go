package srtp

import (
	"bytes"
	"crypto/aes"
	"math/rand/v2"
	"testing"
)

// TestFastCTRMatchesBlockLoop checks the GCM-based keystream against the
// plain block-by-block AES-CM for random keys, counter blocks and lengths.
func TestFastCTRMatchesBlockLoop(t *testing.T) {
	if !fastCTRArch {
		t.Log("no assembly AES-GCM on this architecture: the block loop is used")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, keyLen := range []int{16, 32} {
		key := make([]byte, keyLen)
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		var f fastCTR
		f.init(block)
		if fastCTRArch && f.gcm == nil {
			t.Fatal("fast path not set up")
		}
		for i := 0; i < 200; i++ {
			var iv [16]byte
			for j := range 14 {
				iv[j] = byte(rng.Uint32())
			}
			if i%2 == 1 {
				iv[14] = byte(rng.Uint32()) // mid-packet start
			}
			n := 1 + rng.IntN(512)
			if i < 4 {
				n = []int{1, 16, 511, 512}[i]
			}
			want := make([]byte, n)
			ivRef := iv
			keystream(block, &ivRef, want)
			ks := make([]byte, 512+16)
			ivFast := iv
			if !f.keystream(&ivFast, ks, n) {
				continue
			}
			if !bytes.Equal(ks[:n], want) {
				t.Fatalf("key %d iv %x n %d: fast keystream differs", keyLen, iv, n)
			}
			if n%16 == 0 && ivFast != ivRef {
				t.Fatalf("iv advanced to %x, want %x", ivFast, ivRef)
			}
		}
	}
}

func BenchmarkKeystream(b *testing.B) {
	block, _ := aes.NewCipher(make([]byte, 16))
	var f fastCTR
	f.init(block)
	ks := make([]byte, 512+16)
	b.Run("impl=blockloop", func(b *testing.B) {
		var iv [16]byte
		for b.Loop() {
			iv[15] = 0
			keystream(block, &iv, ks[:160])
		}
	})
	b.Run("impl=gcm", func(b *testing.B) {
		var iv [16]byte
		for b.Loop() {
			iv[15] = 0
			f.keystream(&iv, ks, 160)
		}
	})
}
