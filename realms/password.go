package realms

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	argon2rfc "github.com/gatehouse/gatehouse/internal/argon2"
	"github.com/gatehouse/gatehouse/store"
)

// Keycloak 25+ password hashing (its "argon2" provider defaults): argon2id
// v1.3, 5 iterations, 7 MiB, parallelism 1, 32-byte hash, 16-byte salt.
const (
	argonIterations  = 5
	argonMemoryKiB   = 7168
	argonParallelism = 1
	argonHashLen     = 32
	saltLen          = 16

	algArgon2       = "argon2"
	algPBKDF2SHA1   = "pbkdf2" // Keycloak before 11 and its "pbkdf2" provider
	algPBKDF2SHA256 = "pbkdf2-sha256"
	algPBKDF2SHA512 = "pbkdf2-sha512"
	algBcrypt       = "bcrypt" // the community keycloak-bcrypt provider

	// credTypePassword is store.Credential.Type for passwords.
	credTypePassword = "password"
)

// Bounds on parameters read from stored or imported credentials. They are
// generous for anything a real deployment uses but stop a crafted import from
// making one login allocate gigabytes or spin for minutes. Each bound is a
// few seconds of CPU at most.
const (
	maxArgonMemoryKiB   = 1 << 20 // 1 GiB
	maxArgonIterations  = 1000
	maxArgonWorkKiB     = 4 << 20 // memory × iterations: 4 GiB of block mixing
	maxArgonParallelism = 16
	minArgonHashLen     = 4 // RFC 9106 §3.1
	maxPBKDF2Blocks     = 10_000_000
	maxHashLen          = 128
	maxBcryptCost       = 16 // about four seconds; real deployments use 10–12
)

// ErrInvalidCredential is wrapped by every error about a malformed, unknown
// or out-of-bounds stored or imported credential, so callers can tell bad
// input (HTTP 400) from a failing store.
var ErrInvalidCredential = errors.New("realms: invalid credential")

func invalidCredential(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidCredential, fmt.Sprintf(format, args...))
}

func currentArgonParams() map[string]string {
	return map[string]string{
		"hashLength":  strconv.Itoa(argonHashLen),
		"memory":      strconv.Itoa(argonMemoryKiB),
		"type":        "id",
		"version":     "1.3",
		"parallelism": strconv.Itoa(argonParallelism),
	}
}

// HashPassword hashes a password with Keycloak's current default parameters,
// so that an exported credential is one Keycloak itself would have written.
func HashPassword(password string, now time.Time) (store.Credential, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return store.Credential{}, fmt.Errorf("password salt: %w", err)
	}
	return store.Credential{
		ID:         NewID(),
		Type:       credTypePassword,
		CreatedAt:  now,
		Algorithm:  algArgon2,
		Iterations: argonIterations,
		Salt:       salt,
		Params:     currentArgonParams(),
		Hash:       argon2.IDKey([]byte(password), salt, argonIterations, argonMemoryKiB, argonParallelism, argonHashLen),
	}, nil
}

// VerifyPassword checks password against a stored credential, comparing the
// hashes in constant time. rehash reports (only when ok) that the credential
// should be replaced by HashPassword's: it was imported as PBKDF2 or bcrypt,
// or was made with other argon2 settings. err means the credential itself is
// unusable (unknown algorithm, parameters out of bounds) and wraps
// ErrInvalidCredential.
func VerifyPassword(c store.Credential, password string) (ok, rehash bool, err error) {
	var got []byte
	switch c.Algorithm {
	case algArgon2:
		p, err := argonParamsOf(c)
		if err != nil {
			return false, false, err
		}
		got = p.key([]byte(password), c.Salt)
		rehash = !p.current()
	case algPBKDF2SHA1, algPBKDF2SHA256, algPBKDF2SHA512:
		h, err := pbkdf2ParamsOf(c)
		if err != nil {
			return false, false, err
		}
		got, err = pbkdf2.Key(h, password, c.Salt, c.Iterations, len(c.Hash))
		if err != nil {
			// Only FIPS 140-only mode refuses parameters it considers weak.
			return false, false, fmt.Errorf("%s: %w", c.Algorithm, err)
		}
		rehash = true
	case algBcrypt:
		if err := checkBcrypt(c.Hash); err != nil {
			return false, false, err
		}
		// CompareHashAndPassword compares in constant time itself.
		err := bcrypt.CompareHashAndPassword(c.Hash, []byte(password))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, false, nil
		}
		if err != nil {
			return false, false, fmt.Errorf("bcrypt: %w", err)
		}
		return true, true, nil
	default:
		return false, false, invalidCredential("password algorithm %q is not supported", c.Algorithm)
	}
	ok = subtle.ConstantTimeCompare(got, c.Hash) == 1
	return ok, ok && rehash, nil
}

// dummyCredential is what DummyVerify checks passwords against: a
// credential with HashPassword's algorithm and parameters and a hash nothing
// matches (its salt does not matter, only that the work is a real one's).
var dummyCredential = store.Credential{
	Type:       credTypePassword,
	Algorithm:  algArgon2,
	Iterations: argonIterations,
	Salt:       []byte("gatehouse-dummy!"),
	Params:     currentArgonParams(),
	Hash:       make([]byte, argonHashLen),
}

// DummyVerify spends one verification with the current parameters for
// nothing. Call it when the user does not exist (or has no password) so that
// the response takes as long as a wrong password would and does not reveal
// which usernames exist.
func DummyVerify(password string) {
	_, _, _ = VerifyPassword(dummyCredential, password)
}

// checkCredential validates a credential's algorithm and parameters with the
// same rules VerifyPassword applies, without hashing anything.
func checkCredential(c store.Credential) error {
	switch c.Algorithm {
	case algArgon2:
		p, err := argonParamsOf(c)
		if err != nil {
			return err
		}
		if uint32(len(c.Hash)) != p.hashLen {
			return invalidCredential("argon2 hash is %d bytes but hashLength is %d", len(c.Hash), p.hashLen)
		}
		return nil
	case algPBKDF2SHA1, algPBKDF2SHA256, algPBKDF2SHA512:
		_, err := pbkdf2ParamsOf(c)
		return err
	case algBcrypt:
		return checkBcrypt(c.Hash)
	case "":
		return invalidCredential("password algorithm missing")
	}
	return invalidCredential("password algorithm %q is not supported", c.Algorithm)
}

func pbkdf2ParamsOf(c store.Credential) (func() hash.Hash, error) {
	var h func() hash.Hash
	var size int
	switch c.Algorithm {
	case algPBKDF2SHA1:
		h, size = sha1.New, sha1.Size
	case algPBKDF2SHA256:
		h, size = sha256.New, sha256.Size
	case algPBKDF2SHA512:
		h, size = sha512.New, sha512.Size
	default:
		return nil, invalidCredential("%q is not a pbkdf2 algorithm", c.Algorithm)
	}
	if len(c.Hash) == 0 || len(c.Hash) > maxHashLen {
		return nil, invalidCredential("%s hash length %d out of range 1..%d", c.Algorithm, len(c.Hash), maxHashLen)
	}
	// PBKDF2's cost is iterations × output blocks: bound the product.
	blocks := (len(c.Hash) + size - 1) / size
	if c.Iterations <= 0 || c.Iterations > maxPBKDF2Blocks/blocks {
		return nil, invalidCredential("%s iterations %d out of range 1..%d", c.Algorithm, c.Iterations, maxPBKDF2Blocks/blocks)
	}
	return h, nil
}

func checkBcrypt(h []byte) error {
	cost, err := bcrypt.Cost(h)
	if err != nil {
		return fmt.Errorf("%w: bcrypt hash: %w", ErrInvalidCredential, err)
	}
	if cost > maxBcryptCost {
		return invalidCredential("bcrypt cost %d above %d", cost, maxBcryptCost)
	}
	return nil
}

// Keycloak's argon2 provider can be configured for any of the three types
// and either version, so imported credentials may use any of them.
var argonTypes = map[string]argon2rfc.Mode{"d": argon2rfc.ModeD, "i": argon2rfc.ModeI, "id": argon2rfc.ModeID}

// Keycloak writes the version as "1.3" or "1.0".
var argonVersions = map[string]uint32{"1.3": argon2rfc.Version13, "1.0": argon2rfc.Version10}

type argon2Params struct {
	mode               argon2rfc.Mode
	version            uint32
	iterations, memory uint32
	parallelism        uint8
	hashLen            uint32
}

func (p argon2Params) current() bool {
	return p.mode == argon2rfc.ModeID && p.version == argon2rfc.Version13 && p.iterations == argonIterations &&
		p.memory == argonMemoryKiB && p.parallelism == argonParallelism && p.hashLen == argonHashLen
}

func (p argon2Params) key(password, salt []byte) []byte {
	// x/crypto/argon2 is optimised but only knows argon2id and argon2i at
	// version 1.3; Keycloak can also be configured for argon2d and v1.0.
	switch {
	case p.version == argon2rfc.Version13 && p.mode == argon2rfc.ModeID:
		return argon2.IDKey(password, salt, p.iterations, p.memory, p.parallelism, p.hashLen)
	case p.version == argon2rfc.Version13 && p.mode == argon2rfc.ModeI:
		return argon2.Key(password, salt, p.iterations, p.memory, p.parallelism, p.hashLen)
	}
	return argon2rfc.Key(password, salt, argon2rfc.Params{Mode: p.mode, Version: p.version, Passes: p.iterations,
		MemoryKiB: p.memory, Lanes: uint32(p.parallelism), TagLen: p.hashLen})
}

// argonParamsOf reads and bounds-checks an argon2 credential's parameters.
// Absent parameters take Keycloak's defaults, as Keycloak itself does.
func argonParamsOf(c store.Credential) (argon2Params, error) {
	p := argon2Params{mode: argon2rfc.ModeID, version: argon2rfc.Version13, iterations: argonIterations, memory: argonMemoryKiB,
		parallelism: argonParallelism, hashLen: argonHashLen}
	switch {
	case c.Iterations < 0 || c.Iterations > maxArgonIterations:
		return p, invalidCredential("argon2 iterations %d out of range 1..%d", c.Iterations, maxArgonIterations)
	case c.Iterations > 0:
		p.iterations = uint32(c.Iterations)
	}
	num := func(key string, lo, hi int) (uint32, bool, error) {
		v, ok := c.Params[key]
		if !ok || v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, false, invalidCredential("argon2 %s %q out of range %d..%d", key, v, lo, hi)
		}
		return uint32(n), true, nil
	}
	if n, ok, err := num("memory", 1, maxArgonMemoryKiB); err != nil {
		return p, err
	} else if ok {
		p.memory = n
	}
	if n, ok, err := num("parallelism", 1, maxArgonParallelism); err != nil {
		return p, err
	} else if ok {
		p.parallelism = uint8(n)
	}
	if n, ok, err := num("hashLength", minArgonHashLen, maxHashLen); err != nil {
		return p, err
	} else if ok {
		p.hashLen = n
	}
	if uint64(p.memory)*uint64(p.iterations) > maxArgonWorkKiB {
		return p, invalidCredential("argon2 memory %d KiB × %d iterations exceeds the work bound", p.memory, p.iterations)
	}
	if v := c.Params["type"]; v != "" {
		mode, ok := argonTypes[v]
		if !ok {
			return p, invalidCredential("argon2 type %q is not supported", v)
		}
		p.mode = mode
	}
	if v := c.Params["version"]; v != "" {
		version, ok := argonVersions[v]
		if !ok {
			return p, invalidCredential("argon2 version %q is not supported", v)
		}
		p.version = version
	}
	if len(c.Salt) == 0 {
		return p, invalidCredential("argon2 credential without salt")
	}
	return p, nil
}

// Keycloak's exported credential shapes: CredentialRepresentation's
// secretData and credentialData are these objects as JSON strings.
type kcSecretData struct {
	Value                string              `json:"value"`
	Salt                 string              `json:"salt"`
	AdditionalParameters map[string][]string `json:"additionalParameters"`
}

type kcCredentialData struct {
	HashIterations       int                 `json:"hashIterations"`
	Algorithm            string              `json:"algorithm"`
	AdditionalParameters map[string][]string `json:"additionalParameters"`
}

// ImportKeycloakCredential reads a password credential as Keycloak exports
// it (secretData and credentialData are JSON strings; createdDateMillis is
// createdDate, 0 when unknown). The credential is checked with the bounds
// VerifyPassword enforces, so whatever imports cleanly can be verified.
// Errors wrap ErrInvalidCredential.
func ImportKeycloakCredential(secretData, credentialData string, createdDateMillis int64) (store.Credential, error) {
	var sd kcSecretData
	if err := json.Unmarshal([]byte(secretData), &sd); err != nil {
		return store.Credential{}, fmt.Errorf("%w: secretData: %w", ErrInvalidCredential, err)
	}
	var cd kcCredentialData
	if err := json.Unmarshal([]byte(credentialData), &cd); err != nil {
		return store.Credential{}, fmt.Errorf("%w: credentialData: %w", ErrInvalidCredential, err)
	}
	c := store.Credential{ID: NewID(), Type: credTypePassword, Algorithm: cd.Algorithm, Iterations: cd.HashIterations}
	if createdDateMillis > 0 {
		c.CreatedAt = time.UnixMilli(createdDateMillis).UTC()
	}
	if sd.Value == "" {
		return store.Credential{}, invalidCredential("secretData has no value")
	}
	switch cd.Algorithm {
	case algBcrypt:
		// keycloak-bcrypt stores the whole modular-crypt string, salt
		// and cost included.
		c.Hash = []byte(sd.Value)
	case algArgon2, algPBKDF2SHA1, algPBKDF2SHA256, algPBKDF2SHA512:
		if cd.HashIterations <= 0 {
			return store.Credential{}, invalidCredential("credentialData hashIterations %d must be positive", cd.HashIterations)
		}
		var err error
		if c.Hash, err = base64.StdEncoding.DecodeString(sd.Value); err != nil {
			return store.Credential{}, fmt.Errorf("%w: secretData value is not base64: %w", ErrInvalidCredential, err)
		}
		if c.Salt, err = base64.StdEncoding.DecodeString(sd.Salt); err != nil {
			return store.Credential{}, fmt.Errorf("%w: secretData salt is not base64: %w", ErrInvalidCredential, err)
		}
		if cd.Algorithm == algArgon2 {
			c.Params = map[string]string{}
			for k, v := range cd.AdditionalParameters {
				// Keycloak's MultivaluedHashMap: one value per key.
				if len(v) > 0 {
					c.Params[k] = v[0]
				}
			}
		}
	}
	if err := checkCredential(c); err != nil {
		return store.Credential{}, err
	}
	return c, nil
}

// ExportKeycloakCredential writes a credential in Keycloak's export shape,
// the inverse of ImportKeycloakCredential.
func ExportKeycloakCredential(c store.Credential) (secretData, credentialData string, err error) {
	sd := kcSecretData{AdditionalParameters: map[string][]string{}}
	cd := kcCredentialData{HashIterations: c.Iterations, Algorithm: c.Algorithm, AdditionalParameters: map[string][]string{}}
	if c.Algorithm == algBcrypt {
		sd.Value = string(c.Hash)
	} else {
		sd.Value = base64.StdEncoding.EncodeToString(c.Hash)
		sd.Salt = base64.StdEncoding.EncodeToString(c.Salt)
	}
	for k, v := range c.Params {
		cd.AdditionalParameters[k] = []string{v}
	}
	a, err := json.Marshal(sd)
	if err != nil {
		return "", "", fmt.Errorf("secretData: %w", err)
	}
	b, err := json.Marshal(cd)
	if err != nil {
		return "", "", fmt.Errorf("credentialData: %w", err)
	}
	return string(a), string(b), nil
}
