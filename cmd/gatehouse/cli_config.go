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
	"strings"
	"time"
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

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (c *cliConfig) tokenURL() string {
	return strings.TrimRight(c.Server, "/") + "/realms/" + url.PathEscape(c.Realm) + "/protocol/openid-connect/token"
}

// requestToken posts a grant and stores the result in c.
func (c *cliConfig) requestToken(ctx context.Context, form url.Values) error {
	if c.Secret == "" {
		form.Set("client_id", c.ClientID) // a public client such as admin-cli
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.Secret != "" {
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.Secret))
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&tr); err != nil {
		return fmt.Errorf("token endpoint answered %s without JSON", res.Status)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", tr.Error, tr.ErrorDescription)
	}
	now := time.Now()
	c.AccessToken, c.ExpiresAt = tr.AccessToken, now.Add(time.Duration(tr.ExpiresIn)*time.Second)
	c.RefreshToken = tr.RefreshToken
	c.RefreshExpiresAt = time.Time{}
	if tr.RefreshExpiresIn > 0 {
		c.RefreshExpiresAt = now.Add(time.Duration(tr.RefreshExpiresIn) * time.Second)
	}
	return nil
}

// freshToken returns a usable access token, refreshing it (or asking for a
// new client_credentials one) when it is about to expire, and saving the
// result.
func (c *cliConfig) freshToken(ctx context.Context, path string) (string, error) {
	if time.Until(c.ExpiresAt) > 5*time.Second {
		return c.AccessToken, nil
	}
	var err error
	switch {
	case c.RefreshToken != "" && (c.RefreshExpiresAt.IsZero() || time.Until(c.RefreshExpiresAt) > 0):
		err = c.requestToken(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.RefreshToken}})
		if err != nil && c.Secret != "" {
			err = c.requestToken(ctx, url.Values{"grant_type": {"client_credentials"}})
		}
	case c.Secret != "" && c.RefreshToken == "":
		err = c.requestToken(ctx, url.Values{"grant_type": {"client_credentials"}})
	default:
		err = errors.New("session expired")
	}
	if err != nil {
		return "", fmt.Errorf("%w; log in again with `gatehouse config credentials`", err)
	}
	if err := c.save(path); err != nil {
		return "", err
	}
	return c.AccessToken, nil
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
	cfgFlag := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{command: "config credentials", err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *server == "" {
		return errors.New("--server is required")
	}
	if *user == "" && (*client == "" || *secret == "") {
		return errors.New("give --user (and --password) or --client and --secret")
	}
	path, err := configPath(*cfgFlag)
	if err != nil {
		return err
	}
	c := &cliConfig{Server: strings.TrimRight(*server, "/"), Realm: *realm, ClientID: *client, Secret: *secret}
	form := url.Values{"grant_type": {"client_credentials"}}
	if *user != "" {
		if c.ClientID == "" {
			c.ClientID = "admin-cli"
		}
		pw := *password
		if pw == "" {
			fmt.Fprintf(stderr, "Logging into %s as user %s of realm %s\nEnter password: ", c.Server, *user, c.Realm)
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && line == "" {
				return errors.New("no password given")
			}
			pw = strings.TrimRight(line, "\r\n")
		}
		form = url.Values{"grant_type": {"password"}, "username": {*user}, "password": {pw}}
	}
	if err := c.requestToken(ctx, form); err != nil {
		return fmt.Errorf("login failed: %w", err)
	}
	if err := c.save(path); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Logged into %s as %s of realm %s\n", c.Server, firstNonEmpty(*user, c.ClientID), c.Realm)
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
