package oidc_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/oidc"
)

// serveWith runs hs on a loopback listener.
func serveWith(t *testing.T, hs *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// closedWithin reports whether the server closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

// A client that sends its headers one byte at a time (slowloris) is cut off
// by the production ReadHeaderTimeout.
func TestSlowHeadersAreCutOff(t *testing.T) {
	e := newEnv(t)
	hs := oidc.NewHTTPServer(e.srv.Config.Handler)
	if hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > 10*time.Second || hs.ReadTimeout <= 0 || hs.ReadTimeout > 30*time.Second ||
		hs.IdleTimeout <= 0 || hs.WriteTimeout <= 0 || hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 64<<10 {
		t.Fatalf("production server limits are unset or loose: %+v", hs)
	}
	addr := serveWith(t, hs)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	// Keep dribbling header bytes, slower than the timeout allows in total.
	go func() {
		w := bufio.NewWriter(conn)
		w.WriteString("GET /health/ready HTTP/1.1\r\nHost: x\r\n")
		w.Flush()
		for range 20 {
			time.Sleep(500 * time.Millisecond)
			if _, err := conn.Write([]byte("X-A: b\r\n")); err != nil {
				return
			}
		}
	}()
	if !closedWithin(conn, hs.ReadHeaderTimeout+3*time.Second) {
		t.Fatalf("slow-header client still connected after %v", time.Since(start))
	}
}

// A client that sends a body slower than the server's read timeout is cut
// off too (the mechanism, shown with a short timeout).
func TestSlowBodyIsCutOff(t *testing.T) {
	e := newEnv(t)
	hs := oidc.NewHTTPServer(e.srv.Config.Handler)
	hs.ReadTimeout = 500 * time.Millisecond
	addr := serveWith(t, hs)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("POST /realms/demo/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type="))
	go func() {
		for range 20 {
			time.Sleep(200 * time.Millisecond)
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
		}
	}()
	if !closedWithin(conn, 3*time.Second) {
		t.Fatal("slow-body client still connected")
	}
}
