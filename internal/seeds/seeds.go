// Package seeds loads fuzz seed corpora kept in the repository's top-level
// testdata/fuzz/<name>/ so that every package's fuzz targets share one
// reviewed set of inputs.
package seeds

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// Load adds every file of testdata/fuzz/<name> to f as one string input.
func Load(f *testing.F, name string) {
	f.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		f.Fatal("cannot locate the seed corpus")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "fuzz", name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("seed corpus %s: %v", name, err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}
