// Package cdpsign signs requests the way CDP's clients do (cdpcurl's
// cdpv1sign, cdpcli's auth module), written from the public description of
// the format and nothing of Gatehouse's verifier: the tests and the
// README's example use it as an independent client.
//
// x-altus-date is the RFC 1123 date in GMT; x-altus-auth is
// urlsafe_b64(JSON{"access_key_id","auth_method"}) "." urlsafe_b64(sig),
// padding kept, where sig signs
// METHOD "\n" content-type "\n" date "\n" path "\n" auth_method.
// ed25519v1 keys are the base64 32-byte seed; rsav1 keys a PKCS#8 PEM,
// signed with PKCS#1 v1.5 over SHA-256.
package cdpsign

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Signer holds an access key.
type Signer struct {
	AccessKeyID string
	method      string // auth_method
	ed          ed25519.PrivateKey
	rsa         *rsa.PrivateKey
}

// New reads privateKey: a PEM is an rsav1 key, anything else the base64
// seed of an ed25519v1 key.
func New(accessKeyID, privateKey string) (*Signer, error) {
	s := &Signer{AccessKeyID: accessKeyID}
	if b, _ := pem.Decode([]byte(privateKey)); b != nil {
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("rsav1 key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("rsav1 key: not an RSA key")
		}
		s.method, s.rsa = "rsav1", rk
		return s, nil
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(privateKey))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("ed25519v1 key: want the base64 of a 32-byte seed")
	}
	s.method, s.ed = "ed25519v1", ed25519.NewKeyFromSeed(seed)
	return s, nil
}

// Method is the key's auth_method.
func (s *Signer) Method() string { return s.method }

// Headers returns x-altus-date and x-altus-auth for a request at now.
// path is what the client signs: cdpcurl includes the query string, cdpcli
// does not.
func (s *Signer) Headers(method, contentType, path string, now time.Time) (date, auth string, err error) {
	date = now.UTC().Format("Mon, 02 Jan 2006 15:04:05") + " GMT"
	msg := method + "\n" + contentType + "\n" + date + "\n" + path + "\n" + s.method
	var sig []byte
	if s.ed != nil {
		sig = ed25519.Sign(s.ed, []byte(msg))
	} else {
		h := sha256.Sum256([]byte(msg))
		if sig, err = rsa.SignPKCS1v15(rand.Reader, s.rsa, crypto.SHA256, h[:]); err != nil {
			return "", "", err
		}
	}
	head, err := json.Marshal(map[string]string{"access_key_id": s.AccessKeyID, "auth_method": s.method})
	if err != nil {
		return "", "", err
	}
	return date, base64.URLEncoding.EncodeToString(head) + "." + base64.URLEncoding.EncodeToString(sig), nil
}
