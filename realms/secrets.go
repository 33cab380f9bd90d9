package realms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/hkdf"

	"github.com/gatehouse/gatehouse/store"
)

// MasterKeyFile is the master key's file name inside the data directory.
const MasterKeyFile = "master.key"

const sealVersion = 1

// Sealer protects data at rest under the master key: AES-256-GCM for values
// that must be read back (client secrets, private keys) and HMAC-SHA256 for
// the digest every token request compares against. Both keys are derived from
// the master key, so one file (or GATEHOUSE_MASTER_KEY) is all there is to
// keep safe.
type Sealer struct {
	aead   cipher.AEAD
	pepper []byte
}

// NewSealer derives the sealing and digest keys from a 32-byte master key.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != 32 {
		return nil, fmt.Errorf("master key must be 32 bytes, got %d", len(masterKey))
	}
	derive := func(info string) ([]byte, error) {
		k := make([]byte, 32)
		if _, err := io.ReadFull(hkdf.New(sha256.New, masterKey, nil, []byte(info)), k); err != nil {
			return nil, err
		}
		return k, nil
	}
	sealKey, err := derive("gatehouse seal v1")
	if err != nil {
		return nil, err
	}
	pepper, err := derive("gatehouse secret digest v1")
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead, pepper: pepper}, nil
}

// Seal encrypts plaintext bound to aad: version || nonce || ciphertext.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out[1:], plaintext, aad), nil
}

// ErrUnseal is wrapped by every Open failure: wrong master key, tampering,
// truncation, or a value sealed for something else (another aad).
var ErrUnseal = errors.New("cannot open sealed value")

// Open decrypts a value made by Seal with the same aad. It never panics on
// malformed input.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrUnseal, len(sealed))
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrUnseal, sealed[0])
	}
	out, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
	if err != nil {
		// GCM cannot tell these apart, and should not: any of them means
		// the value is not what was sealed here.
		return nil, fmt.Errorf("%w: authentication failed (wrong master key, altered data, or sealed for something else)", ErrUnseal)
	}
	return out, nil
}

func (s *Sealer) digest(secret string) []byte {
	m := hmac.New(sha256.New, s.pepper)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// GenerateSecret returns 32 random bytes, base64url without padding. URL-safe
// matters: clients form-url-decode Basic credentials, turning '+' into ' '.
func GenerateSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// NewSecret seals a client secret and computes its digest.
func (s *Sealer) NewSecret(value string, now time.Time, aad []byte) (store.Secret, error) {
	sealed, err := s.Seal([]byte(value), aad)
	if err != nil {
		return store.Secret{}, err
	}
	return store.Secret{Sealed: sealed, Digest: s.digest(value), CreatedAt: now}, nil
}

// SecretMatches reports in constant time whether presented is the secret and
// it has not expired. Secrets are 256-bit random values, so one HMAC is
// enough: stretching would only add latency.
func (s *Sealer) SecretMatches(sec *store.Secret, presented string, now time.Time) bool {
	if sec == nil || (!sec.ExpiresAt.IsZero() && !sec.ExpiresAt.After(now)) {
		return false
	}
	return subtle.ConstantTimeCompare(s.digest(presented), sec.Digest) == 1
}

// RevealSecret opens a sealed client secret with the aad it was sealed
// with. A nil secret (a client that has none) reveals as "" without error.
func (s *Sealer) RevealSecret(sec *store.Secret, aad []byte) (string, error) {
	if sec == nil {
		return "", nil
	}
	b, err := s.Open(sec.Sealed, aad)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// LoadOrCreateMasterKey returns the master key: from fromEnv when set
// (base64 or base64url, padded or not, or 64 hex digits), else from
// <dataDir>/master.key, creating that file with a new random key (base64,
// mode 0600) on first use. dataDir must exist. An existing key file is used
// whatever its permissions: tightening them is the operator's business, and
// refusing to start would only take the service down.
func LoadOrCreateMasterKey(dataDir, fromEnv string) ([]byte, error) {
	return loadMasterKey(dataDir, fromEnv, true)
}

// loadMasterKey is LoadOrCreateMasterKey that writes a new key file only
// when create is set; otherwise a missing file is an error wrapping
// os.ErrNotExist.
func loadMasterKey(dataDir, fromEnv string, create bool) ([]byte, error) {
	if fromEnv != "" {
		k, err := decodeKey(fromEnv)
		if err != nil {
			return nil, fmt.Errorf("GATEHOUSE_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	k, err := readMasterKey(path)
	if !errors.Is(err, os.ErrNotExist) || !create {
		return k, err // the key, or a file that is there but unusable
	}
	// A corrupt file is an error above, never replaced: data sealed under
	// the old key would be lost for good.
	k = make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	err = writeFileAtomic(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process started at the same moment and won: use its key,
		// or the two would seal data under different keys. (Read once, not
		// retry: a dangling symlink would make ErrExist come back forever.)
		return readMasterKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create master key: %w", err)
	}
	return k, nil
}

func readMasterKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	k, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != 32 {
				return nil, fmt.Errorf("key must be 32 bytes, got %d", len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("key must be 32 bytes in base64 or 64 hex digits")
}

// writeFileAtomic writes via a synced temporary file and a rename, then
// syncs the directory, so a crash leaves either no file or the whole file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Link instead of rename: a concurrent first start must not replace a
	// key another process already created (Link fails with ErrExist).
	// Some filesystems (SMB shares, FAT) have no hard links; there rename
	// keeps the write atomic and only the concurrent-start guard is lost.
	if err := os.Link(tmp, path); errors.Is(err, os.ErrExist) {
		return err
	} else if err != nil {
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// OpenSealer loads the master key for the store st kept in dataDir (see
// LoadOrCreateMasterKey) and proves that it opens what st already holds, so
// that a server never starts "healthy" only to fail every request: a store
// with realms but no key file is refused rather than given a new key (which
// would open none of its secrets), and a key that cannot unseal a realm's
// signing key is refused as the wrong one. The messages name the key's
// source. A store without realms takes (or creates) any key.
func OpenSealer(ctx context.Context, st store.Store, dataDir, fromEnv string) (*Sealer, error) {
	r, hasData, err := sealedWitnessRealm(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("read store: %w", err)
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	source := path
	if fromEnv != "" {
		source = "GATEHOUSE_MASTER_KEY"
	}
	key, err := loadMasterKey(dataDir, fromEnv, !hasData)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("master key %s is missing, but the store in %s holds realms sealed under it: "+
			"restore the file (or set GATEHOUSE_MASTER_KEY to its key); a new key would open none of them", path, dataDir)
	}
	if err != nil {
		return nil, err
	}
	sealer, err := NewSealer(key)
	if err != nil {
		return nil, err
	}
	if hasData {
		if err := canOpenRealm(ctx, st, sealer, r); err != nil {
			return nil, fmt.Errorf("the master key from %s cannot open the store in %s (realm %s): %w; "+
				"start with the key this data was written with", source, dataDir, r.Name, err)
		}
	}
	return sealer, nil
}

// sealedWitnessRealm returns a realm whose sealed values prove the master
// key: master when it exists (one read, whatever the realm count), else
// any; hasData is false for an empty store.
func sealedWitnessRealm(ctx context.Context, st store.Store) (store.Realm, bool, error) {
	r, err := st.GetRealm(ctx, MasterRealm)
	if err == nil {
		return r, true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Realm{}, false, err
	}
	rs, err := st.ListRealms(ctx)
	if err != nil || len(rs) == 0 {
		return store.Realm{}, false, err
	}
	return rs[0], true, nil
}

// canOpenRealm unseals one of r's signing keys (every realm is created with
// one). A realm without keys proves nothing and passes.
func canOpenRealm(ctx context.Context, st store.Store, sealer *Sealer, r store.Realm) error {
	keys, err := st.ListKeys(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if len(k.SealedPrivate) > 0 {
			_, err := sealer.Open(k.SealedPrivate, keyAAD(k.KID))
			return err
		}
	}
	return nil
}
