package oidc_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
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

// hangUp is how a connection ended: what the server sent, whether it closed
// the connection within the wait, and after how long.
type hangUp struct {
	got     []byte
	closed  bool
	elapsed time.Duration
}

// readUntilClosed reads conn until the server closes it or wait passes.
func readUntilClosed(conn net.Conn, start time.Time, wait time.Duration) hangUp {
	_ = conn.SetReadDeadline(start.Add(wait))
	var buf bytes.Buffer
	_, err := io.Copy(&buf, conn)
	ne, ok := err.(net.Error)
	return hangUp{got: buf.Bytes(), closed: !(ok && ne.Timeout()), elapsed: time.Since(start)}
}

// exchange sends raw in one write and reads until the server closes.
func exchange(t *testing.T, addr, raw string) hangUp {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	return readUntilClosed(conn, start, 5*time.Second)
}

// dribble writes prefix, then piece every interval until the connection
// fails or stop closes: a client that keeps making progress, too slowly.
func dribble(conn net.Conn, prefix, piece string, interval time.Duration, stop <-chan struct{}) {
	if _, err := conn.Write([]byte(prefix)); err != nil {
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if _, err := conn.Write([]byte(piece)); err != nil {
				return
			}
		}
	}
}

// dribbleUntilCutOff sends head, then piece every timeout/8, and fails the
// test unless the server hangs up, and not before the timeout named kind
// has (nearly) passed. It returns what the server sent before hanging up.
func dribbleUntilCutOff(t *testing.T, addr, head, piece string, timeout time.Duration, kind string) hangUp {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	defer close(stop)
	start := time.Now()
	go dribble(conn, head, piece, timeout/8, stop)
	end := readUntilClosed(conn, start, timeout+3*time.Second)
	switch {
	case !end.closed:
		t.Fatalf("slow %s client still connected after %v", kind, end.elapsed)
	case end.elapsed < timeout*9/10:
		t.Fatalf("connection closed after %v, before the %v %s timeout: another cause (%q)", end.elapsed, timeout, kind, end.got)
	}
	return end
}

// A client that sends its headers a line at a time (slowloris) is cut off by
// ReadHeaderTimeout: the server hangs up without an answer once the timeout
// has passed, although the client is still sending, while the same request
// sent at once is answered. The production server sets every limit; the
// mechanism is shown with a short timeout.
func TestSlowHeadersAreCutOff(t *testing.T) {
	e := newEnv(t)
	hs := oidc.NewHTTPServer(e.srv.Config.Handler)
	if hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > 10*time.Second || hs.ReadTimeout <= 0 || hs.ReadTimeout > 30*time.Second ||
		hs.IdleTimeout <= 0 || hs.WriteTimeout <= 0 || hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 64<<10 {
		t.Fatalf("production server limits are unset or loose: %+v", hs)
	}
	const timeout = 400 * time.Millisecond
	hs.ReadHeaderTimeout = timeout
	addr := serveWith(t, hs)
	const head = "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"

	prompt := exchange(t, addr, head+"X-A: b\r\n\r\n")
	if !strings.HasPrefix(string(prompt.got), "HTTP/1.1 200 ") {
		t.Fatalf("the request sent at once was not answered 200: %q", prompt.got)
	}

	end := dribbleUntilCutOff(t, addr, head, "X-A: b\r\n", timeout, "header")
	if len(end.got) != 0 {
		t.Fatalf("the server answered a request whose headers never ended: %q", end.got)
	}
}

// A client that sends a body slower than the server's read timeout is cut
// off once the timeout has passed, while the same body sent at once is
// answered (the mechanism, shown with a short timeout).
func TestSlowBodyIsCutOff(t *testing.T) {
	e := newEnv(t)
	hs := oidc.NewHTTPServer(e.srv.Config.Handler)
	const timeout = 400 * time.Millisecond
	hs.ReadTimeout = timeout
	addr := serveWith(t, hs)
	const size = 200
	head := "POST /realms/demo/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\ngrant_type="

	prompt := exchange(t, addr, head+strings.Repeat("a", size-len("grant_type=")))
	if !strings.HasPrefix(string(prompt.got), "HTTP/1.1 400 ") || !strings.Contains(string(prompt.got), "unsupported_grant_type") {
		t.Fatalf("the body sent at once was not answered as an unknown grant: %q", prompt.got)
	}

	end := dribbleUntilCutOff(t, addr, head, "a", timeout, "read")
	if strings.Contains(string(end.got), "unsupported_grant_type") || strings.HasPrefix(string(end.got), "HTTP/1.1 200 ") {
		t.Fatalf("the server handled a body that never arrived: %q", end.got)
	}
	t.Logf("cut off after %v with %q", end.elapsed, end.got)
}
