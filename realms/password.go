package realms

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/bits"
	"strconv"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/blake2b"

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

// Argon2 types as RFC 9106 numbers them (the y in H0).
const (
	argon2d  = 0
	argon2i  = 1
	argon2id = 2
)

var argonTypes = map[string]uint32{"d": argon2d, "i": argon2i, "id": argon2id}

// Keycloak writes the version as "1.3" or "1.0".
var argonVersions = map[string]uint32{"1.3": 0x13, "1.0": 0x10}

type argon2Params struct {
	mode, version      uint32
	iterations, memory uint32
	parallelism        uint8
	hashLen            uint32
}

func (p argon2Params) current() bool {
	return p.mode == argon2id && p.version == 0x13 && p.iterations == argonIterations &&
		p.memory == argonMemoryKiB && p.parallelism == argonParallelism && p.hashLen == argonHashLen
}

func (p argon2Params) key(password, salt []byte) []byte {
	// x/crypto/argon2 is optimised but only knows argon2id and argon2i at
	// version 1.3; Keycloak can also be configured for argon2d and v1.0.
	switch {
	case p.version == 0x13 && p.mode == argon2id:
		return argon2.IDKey(password, salt, p.iterations, p.memory, p.parallelism, p.hashLen)
	case p.version == 0x13 && p.mode == argon2i:
		return argon2.Key(password, salt, p.iterations, p.memory, p.parallelism, p.hashLen)
	}
	return argon2Generic(p.mode, p.version, password, salt, p.iterations, p.memory, uint32(p.parallelism), p.hashLen)
}

// argonParamsOf reads and bounds-checks an argon2 credential's parameters.
// Absent parameters take Keycloak's defaults, as Keycloak itself does.
func argonParamsOf(c store.Credential) (argon2Params, error) {
	p := argon2Params{mode: argon2id, version: 0x13, iterations: argonIterations, memory: argonMemoryKiB,
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

// argon2Generic is a plain implementation of Argon2 (RFC 9106) for every type
// and for versions 1.0 and 1.3, without secret or associated data. It runs
// the lanes one after another: within a slice no lane reads another lane's
// current segment, so the result is the same as a parallel run.
func argon2Generic(mode, version uint32, password, salt []byte, passes, memory, lanes, tagLen uint32) []byte {
	// H0 takes the memory as given; the layout is rounded down to whole
	// segments and raised to at least 8 blocks per lane, as x/crypto and
	// Keycloak's BouncyCastle do (the reference implementation refuses
	// such sizes instead).
	h0 := argonH0(mode, version, password, salt, passes, memory, lanes, tagLen)
	laneLen := max(memory/(4*lanes)*4, 8)
	segLen := laneLen / 4
	b := make([]argonBlock, laneLen*lanes)

	var seed [blake2b.Size + 8]byte
	copy(seed[:], h0[:])
	var buf [argonBlockBytes]byte
	for l := range lanes {
		for j := range uint32(2) {
			binary.LittleEndian.PutUint32(seed[blake2b.Size:], j)
			binary.LittleEndian.PutUint32(seed[blake2b.Size+4:], l)
			argonHPrime(buf[:], seed[:])
			b[l*laneLen+j].load(&buf)
		}
	}

	for pass := range passes {
		for slice := range uint32(4) {
			for lane := range lanes {
				s := argonSegment{mode: mode, version: version, pass: pass, slice: slice, lane: lane,
					lanes: lanes, laneLen: laneLen, segLen: segLen, passes: passes}
				s.fill(b)
			}
		}
	}

	final := b[laneLen-1]
	for l := uint32(1); l < lanes; l++ {
		last := &b[l*laneLen+laneLen-1]
		for i := range final {
			final[i] ^= last[i]
		}
	}
	final.store(&buf)
	out := make([]byte, tagLen)
	argonHPrime(out, buf[:])
	return out
}

const argonBlockBytes = 1024

type argonBlock [argonBlockBytes / 8]uint64

func (b *argonBlock) load(buf *[argonBlockBytes]byte) {
	for i := range b {
		b[i] = binary.LittleEndian.Uint64(buf[8*i:])
	}
}

func (b *argonBlock) store(buf *[argonBlockBytes]byte) {
	for i, w := range b {
		binary.LittleEndian.PutUint64(buf[8*i:], w)
	}
}

// argonH0 is RFC 9106 §3.2 step 1, with empty secret and associated data.
func argonH0(mode, version uint32, password, salt []byte, passes, memory, lanes, tagLen uint32) [blake2b.Size]byte {
	h, _ := blake2b.New512(nil) // cannot fail without a key
	var le [4]byte
	put := func(v uint32) {
		binary.LittleEndian.PutUint32(le[:], v)
		h.Write(le[:])
	}
	put(lanes)
	put(tagLen)
	put(memory)
	put(passes)
	put(version)
	put(mode)
	put(uint32(len(password)))
	h.Write(password)
	put(uint32(len(salt)))
	h.Write(salt)
	put(0) // secret
	put(0) // associated data
	var out [blake2b.Size]byte
	h.Sum(out[:0])
	return out
}

// argonHPrime is the variable-length hash H' of RFC 9106 §3.3; it fills out.
func argonHPrime(out, in []byte) {
	var le [4]byte
	binary.LittleEndian.PutUint32(le[:], uint32(len(out)))
	if len(out) <= blake2b.Size {
		h, _ := blake2b.New(len(out), nil) // 1..64 bytes, no key: cannot fail
		h.Write(le[:])
		h.Write(in)
		h.Sum(out[:0])
		return
	}
	h, _ := blake2b.New512(nil)
	h.Write(le[:])
	h.Write(in)
	v := h.Sum(nil)
	for {
		n := copy(out, v[:32])
		out = out[n:]
		if len(out) <= blake2b.Size {
			break
		}
		s := blake2b.Sum512(v)
		v = s[:]
	}
	h, _ = blake2b.New(len(out), nil)
	h.Write(v)
	h.Sum(out[:0])
}

// argonSegment is one segment of one lane in one pass (RFC 9106 §3.4).
type argonSegment struct {
	mode, version, pass, slice, lane uint32
	lanes, laneLen, segLen, passes   uint32
}

func (s argonSegment) fill(b []argonBlock) {
	// argon2i, and argon2id in the first half of its first pass, choose
	// reference blocks independently of the password (§3.4.2).
	independent := s.mode == argon2i || (s.mode == argon2id && s.pass == 0 && s.slice < 2)
	var input, addresses, zero argonBlock
	if independent {
		input[0] = uint64(s.pass)
		input[1] = uint64(s.lane)
		input[2] = uint64(s.slice)
		input[3] = uint64(s.laneLen * s.lanes)
		input[4] = uint64(s.passes)
		input[5] = uint64(s.mode)
	}
	start := uint32(0)
	if s.pass == 0 && s.slice == 0 {
		start = 2 // the first two blocks of each lane come from H0
	}
	base := s.lane * s.laneLen
	for idx := start; idx < s.segLen; idx++ {
		col := s.slice*s.segLen + idx
		prev := base + col - 1
		if col == 0 {
			prev = base + s.laneLen - 1
		}
		var rnd uint64
		if independent {
			if idx == start || idx%uint32(len(addresses)) == 0 {
				input[6]++
				argonCompress(&addresses, &zero, &input, false)
				argonCompress(&addresses, &zero, &addresses, false)
			}
			rnd = addresses[idx%uint32(len(addresses))]
		} else {
			rnd = b[prev][0]
		}
		ref := s.refIndex(rnd, idx)
		// Version 1.3 XORs into the old block on later passes; 1.0
		// overwrites it.
		xor := s.version == 0x13 && s.pass > 0
		argonCompress(&b[base+col], &b[prev], &b[ref], xor)
	}
}

// refIndex maps a pseudo-random value to the reference block (§3.4.1.1 and
// §3.4.1.2).
func (s argonSegment) refIndex(rnd uint64, idx uint32) uint32 {
	refLane := uint32(rnd>>32) % s.lanes
	if s.pass == 0 && s.slice == 0 {
		refLane = s.lane
	}
	sameLane := refLane == s.lane
	// The reference area: every finished block the rules allow, less the
	// previous block when it is in it.
	var area, startPos uint32
	if s.pass == 0 {
		area = s.slice * s.segLen
		if sameLane {
			area += idx - 1
		} else if idx == 0 {
			area--
		}
	} else {
		area = s.laneLen - s.segLen
		if sameLane {
			area += idx - 1
		} else if idx == 0 {
			area--
		}
		startPos = (s.slice + 1) % 4 * s.segLen
	}
	x := (rnd & 0xffffffff) * (rnd & 0xffffffff) >> 32
	y := uint64(area) * x >> 32
	z := uint64(area) - 1 - y
	return refLane*s.laneLen + uint32((uint64(startPos)+z)%uint64(s.laneLen))
}

// argonCompress is the compression function G (§3.5): out = G(x, y), or
// out ^= G(x, y) when xor is set. out may alias x or y.
func argonCompress(out, x, y *argonBlock, xor bool) {
	var r, q argonBlock
	for i := range r {
		r[i] = x[i] ^ y[i]
	}
	q = r
	var v [16]uint64
	for row := range 8 {
		copy(v[:], q[16*row:16*row+16])
		blamkaP(&v)
		copy(q[16*row:16*row+16], v[:])
	}
	for col := range 8 {
		for k := range 8 {
			v[2*k], v[2*k+1] = q[16*k+2*col], q[16*k+2*col+1]
		}
		blamkaP(&v)
		for k := range 8 {
			q[16*k+2*col], q[16*k+2*col+1] = v[2*k], v[2*k+1]
		}
	}
	for i := range out {
		if xor {
			out[i] ^= q[i] ^ r[i]
		} else {
			out[i] = q[i] ^ r[i]
		}
	}
}

// blamkaP is the permutation P of §3.6 on eight 16-byte registers. It works
// on locals so the compiler keeps them in registers without bounds checks.
func blamkaP(v *[16]uint64) {
	v0, v1, v2, v3, v4, v5, v6, v7 := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	v8, v9, v10, v11, v12, v13, v14, v15 := v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]
	v0, v4, v8, v12 = blamkaG(v0, v4, v8, v12)
	v1, v5, v9, v13 = blamkaG(v1, v5, v9, v13)
	v2, v6, v10, v14 = blamkaG(v2, v6, v10, v14)
	v3, v7, v11, v15 = blamkaG(v3, v7, v11, v15)
	v0, v5, v10, v15 = blamkaG(v0, v5, v10, v15)
	v1, v6, v11, v12 = blamkaG(v1, v6, v11, v12)
	v2, v7, v8, v13 = blamkaG(v2, v7, v8, v13)
	v3, v4, v9, v14 = blamkaG(v3, v4, v9, v14)
	v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] = v0, v1, v2, v3, v4, v5, v6, v7
	v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15] = v8, v9, v10, v11, v12, v13, v14, v15
}

// blamkaG is BLAKE2b's G with the multiplications BlaMka adds.
func blamkaG(a, b, c, d uint64) (uint64, uint64, uint64, uint64) {
	a += b + 2*uint64(uint32(a))*uint64(uint32(b))
	d = bits.RotateLeft64(d^a, -32)
	c += d + 2*uint64(uint32(c))*uint64(uint32(d))
	b = bits.RotateLeft64(b^c, -24)
	a += b + 2*uint64(uint32(a))*uint64(uint32(b))
	d = bits.RotateLeft64(d^a, -16)
	c += d + 2*uint64(uint32(c))*uint64(uint32(d))
	b = bits.RotateLeft64(b^c, -63)
	return a, b, c, d
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
