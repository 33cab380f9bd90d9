package realms

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestSealer(t *testing.T, fill byte) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := newTestSealer(t, 1)
	for _, plain := range []string{"secret", "", strings.Repeat("x", 4096)} {
		sealed, err := s.Seal([]byte(plain), []byte("aad"))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Open(sealed, []byte("aad")); err != nil || string(got) != plain {
			t.Fatalf("open(seal(%.10q)) = %.10q %v", plain, got, err)
		}
		if plain != "" && bytes.Contains(sealed, []byte(plain)) {
			t.Fatal("plaintext visible in the sealed value")
		}
	}
	sealed, err := s.Seal([]byte("secret"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.Seal([]byte("secret"), []byte("aad"))
	if bytes.Equal(sealed, again) {
		t.Fatal("sealing twice gave the same bytes: nonce reused")
	}
	// A fresh Sealer from the same master key opens it (keys are derived,
	// not random).
	if got, err := newTestSealer(t, 1).Open(sealed, []byte("aad")); err != nil || string(got) != "secret" {
		t.Fatalf("same master key, new Sealer: %q %v", got, err)
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		s      *Sealer
		sealed []byte
		aad    string
	}{
		"tampered":  {s, tampered, "aad"},
		"wrong aad": {s, sealed, "other"},
		"no aad":    {s, sealed, ""},
		"wrong key": {newTestSealer(t, 2), sealed, "aad"},
		"short":     {s, sealed[:5], "aad"},
		"empty":     {s, nil, "aad"},
	} {
		if got, err := tc.s.Open(tc.sealed, []byte(tc.aad)); err == nil || got != nil {
			t.Errorf("%s: opened %q", name, got)
		}
	}
	// Every truncation and every single-bit flip anywhere (version, nonce,
	// ciphertext, tag) fails cleanly, without a panic.
	for i := range len(sealed) {
		if _, err := s.Open(sealed[:i], []byte("aad")); err == nil {
			t.Fatalf("truncated to %d bytes: opened", i)
		}
		for bit := range 8 {
			flipped := append([]byte(nil), sealed...)
			flipped[i] ^= 1 << bit
			if _, err := s.Open(flipped, []byte("aad")); err == nil {
				t.Fatalf("bit %d of byte %d flipped: opened", bit, i)
			}
		}
	}
	if _, err := s.Open(append(append([]byte(nil), sealed...), 0), []byte("aad")); err == nil {
		t.Fatal("extended value opened")
	}
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("%d-byte master key accepted", n)
		}
	}
}

func TestClientSecrets(t *testing.T) {
	s := newTestSealer(t, 1)
	seen := map[string]bool{}
	for range 50 {
		a, err := GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		// 32 random bytes, base64url without padding: 43 characters of
		// the URL-safe alphabet.
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(a) {
			t.Fatalf("secret %q", a)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(a); err != nil || len(raw) != 32 {
			t.Fatalf("secret %q decodes to %d bytes, %v", a, len(raw), err)
		}
		if seen[a] {
			t.Fatalf("secret %q generated twice", a)
		}
		seen[a] = true
	}
	a, _ := GenerateSecret()
	b, _ := GenerateSecret()
	now := time.Now()
	sec, err := s.NewSecret(a, now, []byte("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if !sec.CreatedAt.Equal(now) || !sec.ExpiresAt.IsZero() {
		t.Fatalf("secret times: %+v", sec)
	}
	for name, tc := range map[string]struct {
		presented string
		at        time.Time
		want      bool
	}{
		"match":            {a, now, true},
		"match much later": {a, now.Add(100 * 365 * 24 * time.Hour), true},
		"other secret":     {b, now, false},
		"empty":            {"", now, false},
		"prefix":           {a[:42], now, false},
		"longer":           {a + "x", now, false},
		"other case":       {strings.ToUpper(a), now, strings.ToUpper(a) == a},
	} {
		if got := s.SecretMatches(&sec, tc.presented, tc.at); got != tc.want {
			t.Errorf("%s: SecretMatches = %v", name, got)
		}
	}
	if s.SecretMatches(nil, a, now) || s.SecretMatches(nil, "", now) {
		t.Fatal("nil secret matches")
	}
	if bytes.Contains(sec.Sealed, []byte(a)) || bytes.Contains(sec.Digest, []byte(a)) {
		t.Fatal("secret stored in clear")
	}
	if got, err := s.RevealSecret(&sec, []byte("c1")); err != nil || got != a {
		t.Fatalf("reveal = %q %v", got, err)
	}
	if _, err := s.RevealSecret(&sec, []byte("c2")); err == nil {
		t.Fatal("secret opened for another client")
	}
	// Expiry: valid strictly before ExpiresAt.
	rotated := sec
	rotated.ExpiresAt = now.Add(time.Minute)
	for name, tc := range map[string]struct {
		at   time.Time
		want bool
	}{
		"before expiry":    {now.Add(59 * time.Second), true},
		"at expiry":        {now.Add(time.Minute), false},
		"after expiry":     {now.Add(2 * time.Minute), false},
		"long after expiy": {now.Add(24 * time.Hour), false},
	} {
		if got := s.SecretMatches(&rotated, a, tc.at); got != tc.want {
			t.Errorf("%s: SecretMatches = %v", name, got)
		}
	}
	// Another master key yields another digest: a stolen database alone
	// does not let anyone test guesses.
	if newTestSealer(t, 2).SecretMatches(&sec, a, now) {
		t.Fatal("digest independent of the master key")
	}
}

func TestMasterKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateMasterKey(dir, "")
	if err != nil || len(k1) != 32 {
		t.Fatalf("create: %d bytes, %v", len(k1), err)
	}
	path := filepath.Join(dir, MasterKeyFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st, err)
	}
	k2, err := LoadOrCreateMasterKey(dir, "")
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("reload gave another key")
	}
	if k3, _ := LoadOrCreateMasterKey(t.TempDir(), ""); bytes.Equal(k1, k3) {
		t.Fatal("two data directories got the same key")
	}
	// No temporary files are left behind.
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("data dir holds %v", entries)
	}

	want := bytes.Repeat([]byte{7}, 32)
	want[0], want[31] = 0xfb, 0xff // base64 '+' '/' and '-' '_' territory
	for name, env := range map[string]string{
		"base64":       base64.StdEncoding.EncodeToString(want),
		"base64 raw":   base64.RawStdEncoding.EncodeToString(want),
		"base64url":    base64.RawURLEncoding.EncodeToString(want),
		"hex":          hex.EncodeToString(want),
		"HEX":          strings.ToUpper(hex.EncodeToString(want)),
		"with newline": base64.StdEncoding.EncodeToString(want) + "\n",
	} {
		envDir := t.TempDir()
		if got, err := LoadOrCreateMasterKey(envDir, env); err != nil || !bytes.Equal(got, want) {
			t.Errorf("env %s %q: %x %v", name, env, got, err)
		}
		if _, err := os.Stat(filepath.Join(envDir, MasterKeyFile)); !os.IsNotExist(err) {
			t.Errorf("env %s: a key file was written (%v)", name, err)
		}
	}
	// The environment wins over an existing file.
	if got, err := LoadOrCreateMasterKey(dir, hex.EncodeToString(want)); err != nil || !bytes.Equal(got, want) {
		t.Errorf("env over file: %x %v", got, err)
	}
	for _, bad := range []string{
		"short",
		base64.StdEncoding.EncodeToString(make([]byte, 16)),
		base64.StdEncoding.EncodeToString(make([]byte, 33)),
		hex.EncodeToString(make([]byte, 31)),
		strings.Repeat("z", 64), // 64 characters, but neither hex nor 32 bytes of base64
		"!!!!",
	} {
		if k, err := LoadOrCreateMasterKey(t.TempDir(), bad); err == nil {
			t.Errorf("bad env %q accepted as %x", bad, k)
		}
	}
	for name, content := range map[string]string{
		"garbage":   "garbage",
		"empty":     "",
		"short key": base64.StdEncoding.EncodeToString(make([]byte, 16)),
	} {
		corrupt := t.TempDir()
		if err := os.WriteFile(filepath.Join(corrupt, MasterKeyFile), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateMasterKey(corrupt, ""); err == nil {
			t.Errorf("%s key file accepted", name)
		}
		// ... and not silently replaced by a new key.
		if b, _ := os.ReadFile(filepath.Join(corrupt, MasterKeyFile)); string(b) != content {
			t.Errorf("%s key file rewritten", name)
		}
	}
	if _, err := LoadOrCreateMasterKey(filepath.Join(t.TempDir(), "missing", "dir"), ""); err == nil {
		t.Error("key created in a directory that does not exist")
	}
}

// Every Open failure wraps ErrUnseal and says which kind it is.
func TestOpenErrors(t *testing.T) {
	s := newTestSealer(t, 1)
	sealed, err := s.Seal([]byte("v"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	badVersion := append([]byte(nil), sealed...)
	badVersion[0] = 9
	for name, tc := range map[string]struct {
		sealed []byte
		want   string
	}{
		"short":     {sealed[:3], "too short"},
		"version":   {badVersion, "unknown format version 9"},
		"wrong aad": {sealed, "authentication failed"},
		"nil":       {nil, "too short"},
	} {
		aad := []byte("aad")
		if name == "wrong aad" {
			aad = []byte("other")
		}
		_, err := s.Open(tc.sealed, aad)
		if !errors.Is(err, ErrUnseal) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Several processes starting at once on a fresh data directory end up with
// one key: the file is linked into place, never renamed over another.
func TestMasterKeyConcurrentCreate(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = LoadOrCreateMasterKey(dir, "") })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("start %d: %x %v; start 0 got %x", i, keys[i], errs[i], keys[0])
		}
	}
	onDisk, err := LoadOrCreateMasterKey(dir, "")
	if err != nil || !bytes.Equal(onDisk, keys[0]) {
		t.Fatalf("key on disk differs: %v", err)
	}
}

func TestMasterKeyFileEdgeCases(t *testing.T) {
	// A key file readable by others is used, not refused (documented).
	dir := t.TempDir()
	want := bytes.Repeat([]byte{9}, 32)
	path := filepath.Join(dir, MasterKeyFile)
	if err := os.WriteFile(path, []byte(hex.EncodeToString(want)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadOrCreateMasterKey(dir, ""); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("0644 key file: %x %v", got, err)
	}
	// A dangling symlink in the key's place is an error, not a loop and not
	// a key written somewhere unexpected.
	dangling := t.TempDir()
	if err := os.Symlink(filepath.Join(dangling, "nowhere"), filepath.Join(dangling, MasterKeyFile)); err != nil {
		t.Skip(err)
	}
	if _, err := LoadOrCreateMasterKey(dangling, ""); err == nil {
		t.Fatal("dangling symlink accepted")
	}
	if _, err := os.Stat(filepath.Join(dangling, "nowhere")); !os.IsNotExist(err) {
		t.Fatalf("key written through the symlink: %v", err)
	}
}
