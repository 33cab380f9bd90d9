package realms

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
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
	sealed, err := s.Seal([]byte("secret"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(sealed, []byte("aad")); err != nil || string(got) != "secret" {
		t.Fatalf("open = %q %v", got, err)
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
		"wrong key": {newTestSealer(t, 2), sealed, "aad"},
		"short":     {s, sealed[:5], "aad"},
		"empty":     {s, nil, "aad"},
	} {
		if _, err := tc.s.Open(tc.sealed, []byte(tc.aad)); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	if _, err := NewSealer(make([]byte, 16)); err == nil {
		t.Error("16-byte master key accepted")
	}
}

func TestClientSecrets(t *testing.T) {
	s := newTestSealer(t, 1)
	a, _ := GenerateSecret()
	b, _ := GenerateSecret()
	if a == b || !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(a) {
		t.Fatalf("secrets %q %q", a, b)
	}
	now := time.Now()
	sec, err := s.NewSecret(a, now, []byte("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.SecretMatches(&sec, a, now) || s.SecretMatches(&sec, b, now) || s.SecretMatches(nil, a, now) {
		t.Fatal("SecretMatches wrong")
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
	sec.ExpiresAt = now
	if s.SecretMatches(&sec, a, now) {
		t.Fatal("expired secret matches")
	}
	// Another master key yields another digest: a stolen database alone
	// does not let anyone test guesses.
	if newTestSealer(t, 2).SecretMatches(&sec, a, now.Add(-time.Second)) {
		t.Fatal("digest independent of the master key")
	}
}

func TestMasterKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateMasterKey(dir, "")
	if err != nil || len(k1) != 32 {
		t.Fatalf("create: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, MasterKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	k2, err := LoadOrCreateMasterKey(dir, "")
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("reload gave another key")
	}
	want := bytes.Repeat([]byte{7}, 32)
	for _, env := range []string{base64.StdEncoding.EncodeToString(want), base64.RawURLEncoding.EncodeToString(want), hex.EncodeToString(want)} {
		if got, err := LoadOrCreateMasterKey(t.TempDir(), env); err != nil || !bytes.Equal(got, want) {
			t.Errorf("env %q: %v", env, err)
		}
	}
	for _, bad := range []string{"short", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		if _, err := LoadOrCreateMasterKey(t.TempDir(), bad); err == nil {
			t.Errorf("bad env %q accepted", bad)
		}
	}
	corrupt := t.TempDir()
	os.WriteFile(filepath.Join(corrupt, MasterKeyFile), []byte("garbage"), 0o600)
	if _, err := LoadOrCreateMasterKey(corrupt, ""); err == nil {
		t.Error("corrupt key file accepted")
	}
}
