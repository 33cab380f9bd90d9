package console

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPKCEFallbackSHA256MatchesGo runs the console's own SHA-256 (used for
// the PKCE challenge where the browser has no crypto.subtle, on plain http
// off localhost) in node and compares it with crypto/sha256 around every
// padding boundary. A wrong digest would make every such sign-in fail at
// the token endpoint.
func TestPKCEFallbackSHA256MatchesGo(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the console's SHA-256 fallback is not checked")
	}
	src, err := static.ReadFile("static/assets/sha256.js")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sha256.mjs"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	lengths := []int{0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000}
	var ns []string
	for _, n := range lengths {
		ns = append(ns, strconv.Itoa(n))
	}
	script := `import { sha256 } from './sha256.mjs';
for (const n of [` + strings.Join(ns, ",") + `]) {
  const b = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 255);
  console.log(Buffer.from(sha256(b)).toString('hex'));
}
`
	if err := os.WriteFile(filepath.Join(dir, "run.mjs"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "run.mjs")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	if len(got) != len(lengths) {
		t.Fatalf("node printed %q", out)
	}
	for i, n := range lengths {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(j*31 + 7)
		}
		sum := sha256.Sum256(b)
		if want := hex.EncodeToString(sum[:]); got[i] != want {
			t.Errorf("%d bytes: console %s, Go %s", n, got[i], want)
		}
	}
}
