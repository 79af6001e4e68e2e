package sipmsg

import (
	"go/build"
	"strings"
	"testing"
)

// TestStandardLibraryOnly keeps sipmsg a leaf: it imports only the
// standard library, so it can be used on its own.
func TestStandardLibraryOnly(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
			t.Errorf("got import %q, want standard library only", imp)
		}
	}
}
