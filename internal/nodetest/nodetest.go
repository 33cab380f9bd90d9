package nodetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Require skips t unless node and the npm package pkg (installed in
// testdata/kcadmin) are there, and returns that project's directory. Call
// it before starting servers, so a skip costs nothing.
func Require(t testing.TB, pkg string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs node and the pinned npm package " + pkg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the " + pkg + " test is skipped")
	}
	dir, err := projectDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg))); err != nil {
		t.Skip("the pinned " + pkg + " is not installed: run `make test` " +
			"(or `cd testdata/kcadmin && npm ci --no-audit --no-fund`) first")
	}
	return dir
}

// Flow runs the script of dir with node and env added to the test's
// environment; it must exit 0 and print FLOW OK, else t fails with its
// output.
func Flow(t testing.TB, dir, script string, env ...string) {
	t.Helper()
	cmd := exec.Command("node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "FLOW OK") {
		t.Fatalf("node %s failed: %v\n%s", script, err, out)
	}
}

// projectDir is testdata/kcadmin of the module the test runs in (go test
// runs a package's tests in its directory, at any depth).
func projectDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "kcadmin"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
