package argon2

import (
	"bytes"
	"encoding/hex"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
)

// RFC 9106 §5: one password, salt, secret and associated data under each
// type, version 1.3, 32 KiB, three passes, four lanes.
func TestRFC9106Vectors(t *testing.T) {
	password := bytes.Repeat([]byte{1}, 32)
	salt := bytes.Repeat([]byte{2}, 16)
	for _, tc := range []struct {
		name string
		mode Mode
		tag  string
	}{
		{"5.1 Argon2d", ModeD, "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb"},
		{"5.2 Argon2i", ModeI, "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8"},
		{"5.3 Argon2id", ModeID, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Key(password, salt, Params{Mode: tc.mode, Version: Version13, Passes: 3, MemoryKiB: 32, Lanes: 4, TagLen: 32,
				Secret: bytes.Repeat([]byte{3}, 8), AssociatedData: bytes.Repeat([]byte{4}, 12)})
			if hex.EncodeToString(got) != tc.tag {
				t.Fatalf("tag = %x, want %s", got, tc.tag)
			}
		})
	}
}

// Version 1.0, which RFC 9106 has no vectors for: the reference
// implementation's own test vectors (argon2i, "password", "somesalt").
func TestReferenceVersion10Vectors(t *testing.T) {
	for _, tc := range []struct {
		passes, memory, lanes uint32
		tag                   string
	}{
		{2, 256, 1, "fd4dd83d762c49bdeaf57c47bdcd0c2f1babf863fdeb490df63ede9975fccf06"},
		{2, 256, 2, "b6c11560a6a9d61eac706b79a2f97d68b4463aa3ad87e00c07e2b01e90c564fb"},
	} {
		got := Key([]byte("password"), []byte("somesalt"), Params{Mode: ModeI, Version: Version10,
			Passes: tc.passes, MemoryKiB: tc.memory, Lanes: tc.lanes, TagLen: 32})
		if hex.EncodeToString(got) != tc.tag {
			t.Errorf("t=%d m=%d p=%d: %x, want %s", tc.passes, tc.memory, tc.lanes, got, tc.tag)
		}
	}
}

// Vectors from the reference command-line tool for the long-tag path of H'
// and for four lanes at version 1.0:
//
//	echo -n 'correct horse' | argon2 saltsaltsaltsalt -d -t 3 -k 64 -p 1 -l 80 -r
//	echo -n 'correct horse' | argon2 saltsaltsaltsalt -d -t 1 -k 32 -p 4 -l 16 -v 10 -r
func TestReferenceCLIVectors(t *testing.T) {
	pw, salt := []byte("correct horse"), []byte("saltsaltsaltsalt")
	if got := hex.EncodeToString(Key(pw, salt, Params{Mode: ModeD, Version: Version13, Passes: 3, MemoryKiB: 64, Lanes: 1, TagLen: 80})); got !=
		"1787079f08e2b5b4e5c97bbac6eae3ad816be48bfeb3a9c40dff2741f19076ac48b2b5dd464c3232664bede8720399cafde93e74edb11471b265dfc82b86f51964635614afd35b4c73657e43354884e8" {
		t.Errorf("argon2d 80-byte tag = %s", got)
	}
	if got := hex.EncodeToString(Key(pw, salt, Params{Mode: ModeD, Version: Version10, Passes: 1, MemoryKiB: 32, Lanes: 4, TagLen: 16})); got != "2244668a961123f86e6728bb9e1be1c7" {
		t.Errorf("argon2d v1.0 four lanes = %s", got)
	}
}

// Key must agree with x/crypto/argon2 wherever both apply, including memory
// sizes that are not a multiple of four lanes and below the 8-blocks-per-lane
// minimum.
func TestKeyMatchesXCrypto(t *testing.T) {
	pw, salt := []byte("password"), []byte("somesaltsomesalt")
	for _, p := range []struct {
		t, m uint32
		p    uint8
		l    uint32
	}{
		{1, 8, 1, 32}, {3, 64, 1, 32}, {2, 100, 3, 16}, {1, 16, 4, 64}, {2, 300, 2, 100}, {1, 512, 1, 200}, {3, 256, 1, 65},
	} {
		params := Params{Version: Version13, Passes: p.t, MemoryKiB: p.m, Lanes: uint32(p.p), TagLen: p.l}
		params.Mode = ModeID
		if got, want := Key(pw, salt, params), xargon2.IDKey(pw, salt, p.t, p.m, p.p, p.l); !bytes.Equal(got, want) {
			t.Errorf("argon2id %+v: %x, want %x", p, got, want)
		}
		params.Mode = ModeI
		if got, want := Key(pw, salt, params), xargon2.Key(pw, salt, p.t, p.m, p.p, p.l); !bytes.Equal(got, want) {
			t.Errorf("argon2i %+v: %x, want %x", p, got, want)
		}
	}
}
