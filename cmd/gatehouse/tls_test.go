package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// --tls-cert/--tls-key serve HTTPS, and request-derived issuers say https.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	addr := freePort(t)
	cmd := exec.Command(binPath, "serve", "--addr", addr, "--data", filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Env = append(os.Environ(), "GATEHOUSE_ADMIN_PASSWORD=tls-Admin-1")
	var mu sync.Mutex
	var stderr bytes.Buffer
	cmd.Stderr = &lockedWriter{mu: &mu, b: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	defer stop()
	base := "https://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := hc.Get(base + "/health/ready")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("HTTPS not ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := hc.Get(base + "/realms/master/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var d map[string]any
	_ = json.NewDecoder(res.Body).Decode(&d)
	if d["issuer"] != base+"/realms/master" {
		t.Errorf("issuer over TLS = %v", d["issuer"])
	}

	// A failed handshake is logged through the structured logger.
	if res, err := http.Get("http://" + addr + "/health"); err == nil {
		res.Body.Close()
	}
	stop()
	mu.Lock()
	logs := stderr.String()
	mu.Unlock()
	if !regexp.MustCompile(`level=WARN msg="http: TLS handshake error from 127\.0\.0\.1:`).MatchString(logs) {
		t.Errorf("TLS handshake error not in the structured log:\n%s", logs)
	}
}
