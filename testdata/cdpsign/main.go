// Command cdpsign sends one CDP-signed request, as cdpcurl does, and prints
// the answer's body (exit status 1 when it is not 2xx):
//
//	go run ./testdata/cdpsign -access-key-id ID -private-key KEY \
//	    -data '{"workloadName":"DE"}' URL
//
// KEY is the base64 seed of an ed25519v1 key or the PEM of an rsav1 key
// (or -private-key-file FILE).
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/cdpsign"
)

func main() {
	id := flag.String("access-key-id", "", "access key ID")
	key := flag.String("private-key", "", "private key: base64 ed25519 seed or rsav1 PEM")
	keyFile := flag.String("private-key-file", "", "read the private key from this file")
	method := flag.String("X", http.MethodPost, "HTTP method")
	data := flag.String("data", "", "request body (sent as application/json)")
	noQuery := flag.Bool("path-only", false, "sign the path without the query string, as cdpcli does")
	flag.Parse()
	if flag.NArg() != 1 || *id == "" || (*key == "") == (*keyFile == "") {
		fmt.Fprintln(os.Stderr, "usage: cdpsign -access-key-id ID (-private-key KEY | -private-key-file FILE) [-X METHOD] [-data JSON] [-path-only] URL")
		os.Exit(2)
	}
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			fail(err)
		}
		*key = string(b)
	}
	if err := run(*id, *key, *method, *data, flag.Arg(0), !*noQuery); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cdpsign:", err)
	os.Exit(1)
}

func run(id, key, method, data, rawURL string, withQuery bool) error {
	s, err := cdpsign.New(id, key)
	if err != nil {
		return err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	path := u.EscapedPath()
	if withQuery && u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	contentType := ""
	if data != "" {
		contentType = "application/json"
	}
	date, auth, err := s.Headers(method, contentType, path, time.Now())
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, rawURL, strings.NewReader(data))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("x-altus-date", date)
	req.Header.Set("x-altus-auth", auth)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	os.Stdout.Write(body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s", res.Status)
	}
	return nil
}
