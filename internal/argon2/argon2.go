// Package argon2 is a plain implementation of Argon2 (RFC 9106) for the
// variants golang.org/x/crypto/argon2 does not offer: argon2d, and version
// 1.0 of every type. Keycloak's argon2 password provider can be configured
// to write both, so imported credentials may use them. Callers use x/crypto
// (optimised) for argon2id and argon2i at version 1.3 and this package for
// the rest.
package argon2

import (
	"encoding/binary"
	"math/bits"

	"golang.org/x/crypto/blake2b"
)

// Mode is an Argon2 type as RFC 9106 numbers it (the y in H0).
type Mode uint32

const (
	ModeD  Mode = 0
	ModeI  Mode = 1
	ModeID Mode = 2
)

// Versions of the algorithm: 1.3 XORs into the old block on later passes,
// 1.0 overwrites it.
const (
	Version10 uint32 = 0x10
	Version13 uint32 = 0x13
)

// Params are one computation's parameters. Secret and AssociatedData are
// optional (password hashing uses neither; RFC 9106's vectors use both).
type Params struct {
	Mode                   Mode
	Version                uint32
	Passes, MemoryKiB      uint32
	Lanes, TagLen          uint32
	Secret, AssociatedData []byte
}

// Key derives p.TagLen bytes from password and salt. It runs the lanes one
// after another: within a slice no lane reads another lane's current
// segment, so the result is the same as a parallel run. Passes, Lanes and
// TagLen must be at least 1; the caller bounds them.
func Key(password, salt []byte, p Params) []byte {
	// H0 takes the memory as given; the layout is rounded down to whole
	// segments and raised to at least 8 blocks per lane, as x/crypto and
	// Keycloak's BouncyCastle do (the reference implementation refuses
	// such sizes instead).
	mode, version, passes, lanes := uint32(p.Mode), p.Version, p.Passes, p.Lanes
	h0 := argonH0(p, password, salt)
	laneLen := max(p.MemoryKiB/(4*lanes)*4, 8)
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
	out := make([]byte, p.TagLen)
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

// argonH0 is RFC 9106 §3.2 step 1.
func argonH0(p Params, password, salt []byte) [blake2b.Size]byte {
	h, _ := blake2b.New512(nil) // cannot fail without a key
	var le [4]byte
	put := func(v uint32) {
		binary.LittleEndian.PutUint32(le[:], v)
		h.Write(le[:])
	}
	put(p.Lanes)
	put(p.TagLen)
	put(p.MemoryKiB)
	put(p.Passes)
	put(p.Version)
	put(uint32(p.Mode))
	for _, s := range [][]byte{password, salt, p.Secret, p.AssociatedData} {
		put(uint32(len(s)))
		h.Write(s)
	}
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
	independent := Mode(s.mode) == ModeI || (Mode(s.mode) == ModeID && s.pass == 0 && s.slice < 2)
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
		xor := s.version == Version13 && s.pass > 0
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
