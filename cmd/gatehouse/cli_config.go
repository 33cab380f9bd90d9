package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/term"
)

// cliConfig is what `gatehouse config credentials` stores, like kcadm.sh's
// ~/.keycloak/kcadm.config: where the server is and a token to call it with.
type cliConfig struct {
	Server           string    `json:"serverUrl"`
	Realm            string    `json:"realm"`
	ClientID         string    `json:"clientId"`
	Secret           string    `json:"secret,omitempty"`
	AccessToken      string    `json:"token"`
	ExpiresAt        time.Time `json:"expiresAt"`
	RefreshToken     string    `json:"refreshToken,omitempty"`
	RefreshExpiresAt time.Time `json:"refreshExpiresAt,omitempty"`
}

// configPath is --config (or GATEHOUSE_CONFIG, see configFlag), else
// ~/.config/gatehouse/config.json.
func configPath(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a config directory (set GATEHOUSE_CONFIG): %w", err)
	}
	return filepath.Join(dir, "gatehouse", "config.json"), nil
}

func loadConfig(path string) (*cliConfig, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("no credentials: run `gatehouse config credentials --server URL --realm master --user admin` first")
	}
	if err != nil {
		return nil, err
	}
	var c cliConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// save writes the config readable by its owner only: it holds tokens.
func (c *cliConfig) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (c *cliConfig) tokenURL() string {
	return strings.TrimRight(c.Server, "/") + "/realms/" + url.PathEscape(c.Realm) + "/protocol/openid-connect/token"
}

// oauth2Config is the client the config logs in with: a public client such as
// admin-cli sends its id in the form, a confidential one HTTP Basic.
func (c *cliConfig) oauth2Config() *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if c.Secret != "" {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.Secret,
		Endpoint: oauth2.Endpoint{TokenURL: c.tokenURL(), AuthStyle: style}}
}

func (c *cliConfig) clientCredentials() *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.Secret,
		TokenURL: c.tokenURL(), AuthStyle: oauth2.AuthStyleInHeader}
}

// withHTTPClient makes the oauth2 package use the CLI's client (timeouts).
func withHTTPClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, httpClient)
}

// token is the stored token.
func (c *cliConfig) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: c.AccessToken, TokenType: "Bearer", RefreshToken: c.RefreshToken, Expiry: c.ExpiresAt}
}

// setToken stores tok, with the refresh token's lifetime the server gave
// (Keycloak's refresh_expires_in) so an expired session is reported without
// a round trip.
func (c *cliConfig) setToken(tok *oauth2.Token, now time.Time) {
	c.AccessToken, c.ExpiresAt, c.RefreshToken = tok.AccessToken, tok.Expiry, tok.RefreshToken
	c.RefreshExpiresAt = time.Time{}
	var secs float64
	switch v := tok.Extra("refresh_expires_in").(type) {
	case float64:
		secs = v
	case string: // form-encoded answers
		secs, _ = strconv.ParseFloat(v, 64)
	}
	if secs > 0 {
		c.RefreshExpiresAt = now.Add(time.Duration(secs) * time.Second)
	}
}

// tokenSource gives the stored access token while it is valid, then a new
// one: by the refresh token, or for a confidential client (whose
// client_credentials tokens usually come without one) a new
// client_credentials grant. Every new token is written back to path.
func (c *cliConfig) tokenSource(ctx context.Context, path string) oauth2.TokenSource {
	ctx = withHTTPClient(ctx)
	var renew firstOf
	if c.RefreshToken != "" && (c.RefreshExpiresAt.IsZero() || time.Now().Before(c.RefreshExpiresAt)) {
		renew = append(renew, c.oauth2Config().TokenSource(ctx, &oauth2.Token{RefreshToken: c.RefreshToken}))
	}
	if c.Secret != "" {
		renew = append(renew, c.clientCredentials().TokenSource(ctx))
	}
	return &savingSource{cfg: c, path: path, src: oauth2.ReuseTokenSource(c.token(), renew)}
}

// firstOf returns the token of the first source that gives one.
type firstOf []oauth2.TokenSource

func (f firstOf) Token() (*oauth2.Token, error) {
	err := errors.New("session expired")
	for _, s := range f {
		var tok *oauth2.Token
		if tok, err = s.Token(); err == nil {
			return tok, nil
		}
	}
	return nil, err
}

// savingSource writes every new token back to the config file, so the next
// command starts from it (refresh tokens rotate: the old one is spent).
type savingSource struct {
	cfg  *cliConfig
	path string
	src  oauth2.TokenSource
}

func (s *savingSource) Token() (*oauth2.Token, error) {
	tok, err := s.src.Token()
	if err != nil {
		return nil, fmt.Errorf("%w; log in again with `gatehouse config credentials`", tokenError(err))
	}
	if tok.AccessToken != s.cfg.AccessToken {
		s.cfg.setToken(tok, time.Now())
		if err := s.cfg.save(s.path); err != nil {
			return nil, err
		}
	}
	return tok, nil
}

// tokenError turns the oauth2 package's error into the server's message.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return err
	}
	return responseError(re.Response.StatusCode, re.Body)
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// configCredentials is `gatehouse config credentials`.
func configCredentials(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("config credentials", stderr)
	server := fs.String("server", "", "server `URL`, e.g. http://127.0.0.1:8080 (with the path of --http-relative-path, e.g. /auth, if the server uses one)")
	realm := fs.String("realm", "master", "`realm` to log in to")
	user := fs.String("user", "", "user `name` (password grant through --client, default admin-cli)")
	password := fs.String("password", "", "the user's `password` (prompted without echo when omitted)")
	client := fs.String("client", "", "client `id` (with --secret: client_credentials)")
	secret := fs.String("secret", "", "client `secret`")
	device := fs.Bool("device", false, "sign in through a browser with a code (device authorization grant through --client, default admin-cli)")
	cfgFlag := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *server == "" {
		return usagef("--server is required")
	}
	if *device && *user != "" {
		return usagef("--device and --user exclude each other: the user signs in in the browser")
	}
	if !*device && *user == "" && (*client == "" || *secret == "") {
		return usagef("give --user (and --password), --client and --secret, or --device")
	}
	path, err := configPath(*cfgFlag)
	if err != nil {
		return err
	}
	c := &cliConfig{Server: strings.TrimRight(*server, "/"), Realm: *realm, ClientID: *client, Secret: *secret}
	ctx = withHTTPClient(ctx)
	var tok *oauth2.Token
	if *device {
		if c.ClientID == "" {
			c.ClientID = "admin-cli"
		}
		tok, err = c.deviceLogin(ctx, stderr)
	} else if *user != "" {
		if c.ClientID == "" {
			c.ClientID = "admin-cli"
		}
		pw := *password
		if pw == "" {
			fmt.Fprintf(stderr, "Logging into %s as user %s of realm %s\nEnter password: ", c.Server, *user, c.Realm)
			if pw, err = readPassword(stdin, stderr); err != nil {
				return err
			}
		}
		tok, err = c.oauth2Config().PasswordCredentialsToken(ctx, *user, pw)
	} else {
		tok, err = c.clientCredentials().Token(ctx)
	}
	if err != nil {
		return fmt.Errorf("login failed: %w", withPathHint(ctx, tokenError(err), c.Server, c.Realm,
			"is --server right? A server started with --http-relative-path needs that path in the URL"))
	}
	c.setToken(tok, time.Now())
	if err := c.save(path); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Logged into %s as %s of realm %s\n", c.Server, firstNonEmpty(*user, c.ClientID), c.Realm)
	return nil
}

// deviceLogin runs the device authorization grant: it prints where to
// approve the sign-in and polls until the user did (or refused, or the
// code expired).
func (c *cliConfig) deviceLogin(ctx context.Context, stderr io.Writer) (*oauth2.Token, error) {
	cfg := c.oauth2Config()
	cfg.Endpoint.DeviceAuthURL = strings.TrimSuffix(c.tokenURL(), "/token") + "/auth/device"
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "To sign in to realm %s, open %s\nor go to %s and enter the code %s\nWaiting for approval...\n",
		c.Realm, firstNonEmpty(da.VerificationURIComplete, da.VerificationURI), da.VerificationURI, da.UserCode)
	return cfg.DeviceAccessToken(ctx, da)
}

// readPassword reads a line from stdin, without echo when it is a terminal.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr) // the user's Enter was not echoed either
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password given")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
