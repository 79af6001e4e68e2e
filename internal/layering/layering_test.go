// Package layering holds one test: that the module's import graph keeps the
// layers of docs/ARCHITECTURE.md, every arrow pointing down, and that nothing
// outside the standard library is imported anywhere.
package layering

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/xphone-go/xphone"

// rank places each package in a layer: a package may import only packages
// of a lower rank, and the public leaf packages (rank 0) only the standard
// library, except for the edges listed in leafEdges.
var rank = map[string]int{
	"sipmsg": 0, "digest": 0, "rtp": 0, "g711": 0, "g722": 0, "stun": 0,
	"srtp": 0, "jitter": 0, "audio/wav": 0,
	"internal/opus": 0, "internal/leakcheck": 0, "internal/audiotest": 0,
	"internal/layering": 0, "interop/internal/netem": 0, "internal/udpsock": 0, "internal/mwi": 0, "internal/dialoginfo": 1, "internal/pidf": 1, "internal/xmldoc": 0,

	"internal/transport": 1, "internal/dialog": 1, "internal/sdp": 1, "internal/media": 1,
	"transaction": 2,
	"internal/ua": 3,
	".":           4, // package xphone, the facade
	"phonetest":   5,
	"cmd":         6, "examples": 6, "interop": 6,
}

// leafEdges are the module imports a rank-0 package may have (DESIGN.md:
// srtp and jitter may use rtp).
var leafEdges = map[string][]string{
	"srtp":               {"rtp"},
	"jitter":             {"rtp"},
	"internal/audiotest": {"audio/wav"},
}

// rankOf finds the rank of a package directory relative to the module root:
// its own entry, or that of the nearest listed parent (cmd/xphone → cmd).
func rankOf(dir string) (int, bool) {
	for d := dir; ; d = filepath.Dir(d) {
		if r, ok := rank[filepath.ToSlash(d)]; ok {
			return r, true
		}
		if d == "." || d == "/" {
			return 0, false
		}
	}
}

func TestImportsPointDown(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string][]string{} // package dir -> module-relative imports
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if _, ok := imports[rel]; !ok {
			imports[rel] = nil
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			switch {
			case p == module:
				imports[rel] = append(imports[rel], ".")
			case strings.HasPrefix(p, module+"/"):
				imports[rel] = append(imports[rel], strings.TrimPrefix(p, module+"/"))
			case p == "C":
				// cgo, allowed in build-tagged files (internal/opus).
			default:
				if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
					t.Errorf("%s imports %s: only the standard library is allowed", path, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 5 {
		t.Fatalf("found only %d packages under %s: walking the wrong tree?", len(imports), root)
	}
	for pkg, deps := range imports {
		r, ok := rankOf(pkg)
		if !ok {
			t.Errorf("package %s has no layer: add it to the rank table here and to docs/ARCHITECTURE.md", pkg)
			continue
		}
		for _, dep := range deps {
			dr, ok := rankOf(dep)
			switch {
			case !ok:
				t.Errorf("%s imports %s, which has no layer", pkg, dep)
			case r == 0 && !slices.Contains(leafEdges[pkg], dep):
				t.Errorf("leaf package %s imports %s: leaves use only the standard library", pkg, dep)
			case r != 0 && dr >= r:
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down", pkg, r, dep, dr)
			}
		}
	}
}

func TestGoModHasNoRequire(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "require" {
			t.Fatalf("go.mod has %q: xphone takes no module dependencies", line)
		}
	}
}
