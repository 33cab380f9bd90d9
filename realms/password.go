package realms

import (
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
	"golang.org/x/crypto/pbkdf2"

	"github.com/gatehouse/gatehouse/store"
)

// Keycloak 25+ password hashing: argon2id v1.3, 5 iterations, 7 MiB,
// parallelism 1, 32-byte hash, 16-byte salt.
const (
	argonIterations  = 5
	argonMemoryKiB   = 7168
	argonParallelism = 1
	argonHashLen     = 32
	saltLen          = 16

	algArgon2       = "argon2"
	algPBKDF2SHA1   = "pbkdf2"
	algPBKDF2SHA256 = "pbkdf2-sha256"
	algPBKDF2SHA512 = "pbkdf2-sha512"
	algBcrypt       = "bcrypt"
)

// Bounds on parameters read from stored or imported credentials, so that a
// crafted import cannot make one login burn a gigabyte or a minute.
const (
	maxArgonMemoryKiB   = 1 << 20
	maxArgonIterations  = 100
	maxArgonParallelism = 16
	maxPBKDF2Iterations = 10_000_000
	maxHashLen          = 128
)

func argonParams() map[string]string {
	return map[string]string{
		"hashLength": strconv.Itoa(argonHashLen), "memory": strconv.Itoa(argonMemoryKiB),
		"type": "id", "version": "1.3", "parallelism": strconv.Itoa(argonParallelism),
	}
}

// HashPassword hashes a password with Keycloak's current parameters.
func HashPassword(password string, now time.Time) (store.Credential, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return store.Credential{}, err
	}
	return store.Credential{
		ID: NewID(), Type: "password", CreatedAt: now, Algorithm: algArgon2, Iterations: argonIterations,
		Salt: salt, Params: argonParams(),
		Hash: argon2.IDKey([]byte(password), salt, argonIterations, argonMemoryKiB, argonParallelism, argonHashLen),
	}, nil
}

// VerifyPassword checks password against a stored credential in constant
// time. rehash reports that the credential should be replaced by one with the
// current parameters (imported PBKDF2 or bcrypt, or older argon2 settings).
func VerifyPassword(c store.Credential, password string) (ok, rehash bool, err error) {
	var got []byte
	switch c.Algorithm {
	case algArgon2:
		p, err := argonParamsOf(c)
		if err != nil {
			return false, false, err
		}
		switch p.kind {
		case "id":
			got = argon2.IDKey([]byte(password), c.Salt, p.iterations, p.memory, p.parallelism, p.hashLen)
		case "i":
			got = argon2.Key([]byte(password), c.Salt, p.iterations, p.memory, p.parallelism, p.hashLen)
		default:
			return false, false, fmt.Errorf("argon2 type %q is not supported", p.kind)
		}
		rehash = p.kind != "id" || p.iterations != argonIterations || p.memory != argonMemoryKiB ||
			p.parallelism != argonParallelism || p.hashLen != argonHashLen
	case algPBKDF2SHA1, algPBKDF2SHA256, algPBKDF2SHA512:
		if c.Iterations <= 0 || c.Iterations > maxPBKDF2Iterations {
			return false, false, fmt.Errorf("pbkdf2 iterations %d out of range", c.Iterations)
		}
		if len(c.Hash) == 0 || len(c.Hash) > maxHashLen {
			return false, false, errors.New("pbkdf2 hash length out of range")
		}
		got = pbkdf2.Key([]byte(password), c.Salt, c.Iterations, len(c.Hash), pbkdf2Hash(c.Algorithm))
		rehash = true
	case algBcrypt:
		err := bcrypt.CompareHashAndPassword(c.Hash, []byte(password))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, false, nil
		}
		if err != nil {
			return false, false, fmt.Errorf("bcrypt: %w", err)
		}
		return true, true, nil
	default:
		return false, false, fmt.Errorf("password algorithm %q is not supported", c.Algorithm)
	}
	ok = subtle.ConstantTimeCompare(got, c.Hash) == 1
	return ok, ok && rehash, nil
}

func pbkdf2Hash(alg string) func() hash.Hash {
	switch alg {
	case algPBKDF2SHA256:
		return sha256.New
	case algPBKDF2SHA512:
		return sha512.New
	}
	return sha1.New
}

type argon2Params struct {
	kind               string
	iterations, memory uint32
	parallelism        uint8
	hashLen            uint32
}

func argonParamsOf(c store.Credential) (argon2Params, error) {
	p := argon2Params{kind: "id", iterations: argonIterations, memory: argonMemoryKiB, parallelism: argonParallelism, hashLen: argonHashLen}
	if c.Iterations > 0 {
		if c.Iterations > maxArgonIterations {
			return p, fmt.Errorf("argon2 iterations %d out of range", c.Iterations)
		}
		p.iterations = uint32(c.Iterations)
	}
	num := func(key string, max int, dst func(int)) error {
		v, ok := c.Params[key]
		if !ok || v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > max {
			return fmt.Errorf("argon2 %s %q out of range", key, v)
		}
		dst(n)
		return nil
	}
	if err := num("memory", maxArgonMemoryKiB, func(n int) { p.memory = uint32(n) }); err != nil {
		return p, err
	}
	if err := num("parallelism", maxArgonParallelism, func(n int) { p.parallelism = uint8(n) }); err != nil {
		return p, err
	}
	if err := num("hashLength", maxHashLen, func(n int) { p.hashLen = uint32(n) }); err != nil {
		return p, err
	}
	if v := c.Params["type"]; v != "" {
		p.kind = v
	}
	if v := c.Params["version"]; v != "" && v != "1.3" {
		return p, fmt.Errorf("argon2 version %q is not supported", v)
	}
	if len(c.Salt) == 0 {
		return p, errors.New("argon2 credential without salt")
	}
	return p, nil
}

// dummyCredential is verified against when the user does not exist, so that
// an unknown username costs the same hash as a wrong password.
var dummyCredential = store.Credential{
	Algorithm: algArgon2, Iterations: argonIterations, Params: argonParams(),
	Salt: []byte("gatehouse-dummy!"), Hash: make([]byte, argonHashLen),
}

// DummyVerify spends one password hash for nothing.
func DummyVerify(password string) {
	_, _, _ = VerifyPassword(dummyCredential, password)
}

// Keycloak's exported credential shapes (keycloak.md §6).
type kcSecretData struct {
	Value                string              `json:"value"`
	Salt                 string              `json:"salt"`
	AdditionalParameters map[string][]string `json:"additionalParameters,omitempty"`
}

type kcCredentialData struct {
	HashIterations       int                 `json:"hashIterations"`
	Algorithm            string              `json:"algorithm"`
	AdditionalParameters map[string][]string `json:"additionalParameters"`
}

// ImportKeycloakCredential reads a password credential as Keycloak exports
// it (secretData and credentialData are JSON strings).
func ImportKeycloakCredential(secretData, credentialData string, createdDateMillis int64) (store.Credential, error) {
	var sd kcSecretData
	if err := json.Unmarshal([]byte(secretData), &sd); err != nil {
		return store.Credential{}, fmt.Errorf("credential secretData: %w", err)
	}
	var cd kcCredentialData
	if err := json.Unmarshal([]byte(credentialData), &cd); err != nil {
		return store.Credential{}, fmt.Errorf("credential credentialData: %w", err)
	}
	c := store.Credential{ID: NewID(), Type: "password", Algorithm: cd.Algorithm, Iterations: cd.HashIterations,
		CreatedAt: time.UnixMilli(createdDateMillis).UTC()}
	if cd.Algorithm == algBcrypt {
		c.Hash = []byte(sd.Value)
		if _, err := bcrypt.Cost(c.Hash); err != nil {
			return store.Credential{}, fmt.Errorf("credential bcrypt hash: %w", err)
		}
		return c, nil
	}
	var err error
	if c.Hash, err = base64.StdEncoding.DecodeString(sd.Value); err != nil || len(c.Hash) == 0 {
		return store.Credential{}, fmt.Errorf("credential value is not base64: %v", err)
	}
	if c.Salt, err = base64.StdEncoding.DecodeString(sd.Salt); err != nil {
		return store.Credential{}, fmt.Errorf("credential salt is not base64: %w", err)
	}
	switch cd.Algorithm {
	case algArgon2:
		c.Params = map[string]string{}
		for k, v := range cd.AdditionalParameters {
			if len(v) > 0 {
				c.Params[k] = v[0]
			}
		}
		if _, err := argonParamsOf(c); err != nil {
			return store.Credential{}, err
		}
	case algPBKDF2SHA1, algPBKDF2SHA256, algPBKDF2SHA512:
		if c.Iterations <= 0 || c.Iterations > maxPBKDF2Iterations || len(c.Hash) > maxHashLen {
			return store.Credential{}, fmt.Errorf("credential %s parameters out of range", cd.Algorithm)
		}
	default:
		return store.Credential{}, fmt.Errorf("credential algorithm %q is not supported", cd.Algorithm)
	}
	return c, nil
}

// ExportKeycloakCredential writes a credential in Keycloak's export shape.
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
		return "", "", err
	}
	b, err := json.Marshal(cd)
	if err != nil {
		return "", "", err
	}
	return string(a), string(b), nil
}
