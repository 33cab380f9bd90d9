package realms

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse/gatehouse/store"
)

func TestHashPasswordKeycloakArgon2(t *testing.T) {
	c, err := HashPassword("s3cret", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if c.Algorithm != "argon2" || c.Iterations != 5 || c.Params["memory"] != "7168" || c.Params["type"] != "id" ||
		len(c.Hash) != 32 || len(c.Salt) != 16 {
		t.Fatalf("credential = %+v", c)
	}
	if ok, rehash, err := VerifyPassword(c, "s3cret"); !ok || rehash || err != nil {
		t.Fatalf("verify = %v %v %v", ok, rehash, err)
	}
	if ok, _, _ := VerifyPassword(c, "S3cret"); ok {
		t.Fatal("wrong password accepted")
	}
	other, _ := HashPassword("s3cret", time.Now())
	if string(other.Salt) == string(c.Salt) {
		t.Fatal("salt reused")
	}
}

// Known answers computed independently with Python:
//
//	hashlib.pbkdf2_hmac(alg, b'correct horse', b'saltsaltsaltsalt', n, len)
func TestVerifyImportedPBKDF2(t *testing.T) {
	salt := []byte("saltsaltsaltsalt")
	for _, tc := range []struct {
		alg   string
		iters int
		b64   string
	}{
		{"pbkdf2-sha256", 27500, "eAA4hxO3phBzs5xL0cbw/QNMYgcXgmgYB5i1VB4SaJo="},
		{"pbkdf2-sha512", 1000, "EHLBej+uEvxlmr0QnHnceg1vM6h1wbwSP5XErh3SmizNDWZsIi28RPGARe0EssjGRoiACzxgHjNvqwJY1zxKig=="},
		{"pbkdf2", 1000, "EUcKisx+yviAqdTmlEPmy+5ykUU="},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			h, _ := base64.StdEncoding.DecodeString(tc.b64)
			c := store.Credential{Algorithm: tc.alg, Iterations: tc.iters, Salt: salt, Hash: h}
			if ok, rehash, err := VerifyPassword(c, "correct horse"); !ok || !rehash || err != nil {
				t.Fatalf("verify = %v %v %v", ok, rehash, err)
			}
			if ok, _, _ := VerifyPassword(c, "wrong horse"); ok {
				t.Fatal("wrong password accepted")
			}
		})
	}
}

func TestVerifyBcrypt(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	c := store.Credential{Algorithm: "bcrypt", Hash: h}
	if ok, rehash, err := VerifyPassword(c, "pw"); !ok || !rehash || err != nil {
		t.Fatalf("verify = %v %v %v", ok, rehash, err)
	}
	if ok, _, err := VerifyPassword(c, "nope"); ok || err != nil {
		t.Fatalf("wrong = %v %v", ok, err)
	}
}

// Parameters read from storage are bounded: a crafted import cannot make one
// login allocate a gigabyte or spin for minutes.
func TestVerifyRejectsHostileParameters(t *testing.T) {
	for name, c := range map[string]store.Credential{
		"argon2 memory":     {Algorithm: "argon2", Iterations: 5, Salt: []byte("s"), Hash: make([]byte, 32), Params: map[string]string{"memory": "1073741824"}},
		"argon2 iterations": {Algorithm: "argon2", Iterations: 1 << 20, Salt: []byte("s"), Hash: make([]byte, 32)},
		"argon2 no salt":    {Algorithm: "argon2", Iterations: 5, Hash: make([]byte, 32)},
		"argon2 version":    {Algorithm: "argon2", Iterations: 5, Salt: []byte("s"), Hash: make([]byte, 32), Params: map[string]string{"version": "1.0"}},
		"pbkdf2 iterations": {Algorithm: "pbkdf2-sha256", Iterations: 1 << 30, Salt: []byte("s"), Hash: make([]byte, 32)},
		"pbkdf2 zero":       {Algorithm: "pbkdf2-sha256", Iterations: 0, Salt: []byte("s"), Hash: make([]byte, 32)},
		"unknown":           {Algorithm: "md5", Hash: []byte("x")},
	} {
		if ok, _, err := VerifyPassword(c, "pw"); ok || err == nil {
			t.Errorf("%s: ok=%v err=%v", name, ok, err)
		}
	}
}

func TestKeycloakCredentialImportExport(t *testing.T) {
	c, _ := HashPassword("round-trip", time.Now())
	sd, cd, err := ExportKeycloakCredential(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cd, `"algorithm":"argon2"`) || !strings.Contains(cd, `"memory":["7168"]`) {
		t.Errorf("credentialData = %s", cd)
	}
	back, err := ImportKeycloakCredential(sd, cd, 1735995502485)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := VerifyPassword(back, "round-trip"); !ok || err != nil {
		t.Fatalf("re-imported credential: %v %v", ok, err)
	}
	if back.CreatedAt.UnixMilli() != 1735995502485 {
		t.Errorf("createdDate = %v", back.CreatedAt)
	}

	// Keycloak 23's default, in its export shape.
	pb, err := ImportKeycloakCredential(
		`{"value":"eAA4hxO3phBzs5xL0cbw/QNMYgcXgmgYB5i1VB4SaJo=","salt":"c2FsdHNhbHRzYWx0c2FsdA==","additionalParameters":{}}`,
		`{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}}`, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, _ := VerifyPassword(pb, "correct horse"); !ok || !rehash {
		t.Fatal("imported pbkdf2-sha256 credential does not verify")
	}

	for name, in := range map[string][2]string{
		"bad json":      {`{`, `{}`},
		"bad base64":    {`{"value":"!!","salt":""}`, `{"hashIterations":1,"algorithm":"pbkdf2-sha256"}`},
		"unknown alg":   {`{"value":"AA==","salt":"AA=="}`, `{"hashIterations":1,"algorithm":"sha1-plain"}`},
		"huge iters":    {`{"value":"AA==","salt":"AA=="}`, `{"hashIterations":2000000000,"algorithm":"pbkdf2-sha256"}`},
		"bad bcrypt":    {`{"value":"not-bcrypt"}`, `{"algorithm":"bcrypt"}`},
		"argon2 memory": {`{"value":"AA==","salt":"AA=="}`, `{"hashIterations":5,"algorithm":"argon2","additionalParameters":{"memory":["99999999"]}}`},
	} {
		if _, err := ImportKeycloakCredential(in[0], in[1], 0); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
}
