package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"

	"golang.org/x/oauth2"
)

// multiFlag collects a repeatable flag (-s, -q, --rolename).
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// adminClient calls the admin REST API with the stored credentials.
type adminClient struct {
	cfg    *cliConfig
	tokens oauth2.TokenSource
}

func newAdminClient(ctx context.Context, cfgFlag string) (*adminClient, error) {
	path, err := configPath(cfgFlag)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	return &adminClient{cfg: cfg, tokens: cfg.tokenSource(ctx, path)}, nil
}

// apiError is a non-2xx answer; its message is the server's.
type apiError struct {
	status int
	msg    string
	json   bool   // the body was JSON: an answer of the application, not of a proxy or wrong path
	hint   string // what may be wrong on our side
}

func (e *apiError) Error() string {
	if e.hint != "" {
		return fmt.Sprintf("%s [%d] (%s)", e.msg, e.status, e.hint)
	}
	return fmt.Sprintf("%s [%d]", e.msg, e.status)
}

// responseError is a non-2xx answer as one message: Keycloak's errorMessage,
// OAuth's error_description or error, or message, whichever comes first;
// else the start of the body, else the status text.
func responseError(status int, body []byte) *apiError {
	e := &apiError{status: status}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		e.json = true
		for _, k := range []string{"errorMessage", "error_description", "error", "message"} {
			if s, ok := m[k].(string); ok && s != "" {
				e.msg = s
				break
			}
		}
	} else {
		e.msg, _, _ = strings.Cut(strings.TrimSpace(string(body)), "\n")
		if len(e.msg) > 200 {
			e.msg = e.msg[:200] + "..."
		}
	}
	if e.msg == "" {
		e.msg = http.StatusText(status)
	}
	return e
}

// unknownRoute is the message of Keycloak's (and Gatehouse's) 404 for a path
// no route serves.
const unknownRoute = "Unable to find matching target resource method"

// withPathHint adds a hint to a 404 that no route of the server gave (not
// JSON, or the unknown-route message): the server may live under another
// --http-relative-path. It asks whether the realm answers with /auth added
// to or removed from the URL; otherwise says what else to check.
func withPathHint(ctx context.Context, err error, server, realm, otherwise string) error {
	var ae *apiError
	if !errors.As(err, &ae) || ae.status != http.StatusNotFound || (ae.json && ae.msg != unknownRoute) {
		return err
	}
	ae.hint = otherwise
	u, perr := url.Parse(strings.TrimRight(server, "/"))
	if perr != nil {
		return err
	}
	if strings.HasSuffix(u.Path, "/auth") {
		u.Path = strings.TrimSuffix(u.Path, "/auth")
	} else {
		u.Path += "/auth"
	}
	req, perr := http.NewRequestWithContext(ctx, http.MethodGet, u.String()+"/realms/"+url.PathEscape(realm)+"/.well-known/openid-configuration", nil)
	if perr != nil {
		return err
	}
	res, perr := httpClient.Do(req)
	if perr != nil {
		return err
	}
	defer res.Body.Close()
	var disc struct {
		Issuer string `json:"issuer"`
	}
	if res.StatusCode == http.StatusOK && json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&disc) == nil && disc.Issuer != "" {
		ae.hint = "the server answers at " + u.String() + ": use --server " + u.String()
	}
	return err
}

// do sends method to the admin path and returns the body and headers.
func (a *adminClient) do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, http.Header, error) {
	u := a.cfg.Server + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.send(req, httpClient)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, nil, err
	}
	return out, res.Header, nil
}

// send authorizes req with a valid token and sends it; a non-2xx answer is
// an *apiError.
func (a *adminClient) send(req *http.Request, hc *http.Client) (*http.Response, error) {
	tok, err := a.tokens.Token()
	if err != nil {
		return nil, err
	}
	tok.SetAuthHeader(req)
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 300 {
		defer res.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		ae := responseError(res.StatusCode, b)
		if ae.status == http.StatusUnauthorized {
			// The token was valid by its expiry: revoked, or the server's
			// keys or user changed.
			ae.hint = "log in again with `gatehouse config credentials`"
		}
		return nil, withPathHint(req.Context(), ae, a.cfg.Server, a.cfg.Realm,
			"this server has no "+req.Method+" "+req.URL.Path)
	}
	return res, nil
}

// adminPath maps a kcadm relative path to the REST path: "realms",
// "realms/x...", "serverinfo" and "gateway/..." are absolute, anything else lives under the
// target realm.
func adminPath(rel, realm string) (string, error) {
	rel = strings.Trim(rel, "/")
	if rel == "" {
		return "", errors.New("a resource path is required, e.g. clients or users/ID")
	}
	if rel == "realms" || rel == "serverinfo" || strings.HasPrefix(rel, "realms/") || strings.HasPrefix(rel, "gateway/") {
		return "/admin/" + rel, nil
	}
	if realm == "" {
		return "", errors.New("-r REALM is required")
	}
	return "/admin/realms/" + url.PathEscape(realm) + "/" + rel, nil
}

// setValue applies one kcadm `-s key=value` to obj. Keys may nest with dots
// (quoted parts keep their dots: attributes."access.token.lifespan"); values
// that parse as JSON are used as such, the rest as strings.
func setValue(obj map[string]any, assignment string) error {
	k, v, ok := strings.Cut(assignment, "=")
	if !ok || k == "" {
		return fmt.Errorf("-s %q: expected key=value", assignment)
	}
	var val any
	if err := json.Unmarshal([]byte(v), &val); err != nil {
		val = v
	}
	keys, err := splitKey(k)
	if err != nil {
		return err
	}
	cur := obj
	for _, key := range keys[:len(keys)-1] {
		next, ok := cur[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[key] = next
		}
		cur = next
	}
	cur[keys[len(keys)-1]] = val
	return nil
}

func splitKey(k string) ([]string, error) {
	var parts []string
	var b strings.Builder
	quoted := false
	for _, r := range k {
		switch {
		case r == '"':
			quoted = !quoted
		case r == '.' && !quoted:
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteRune(r)
		}
	}
	if quoted {
		return nil, fmt.Errorf("unbalanced quotes in key %q", k)
	}
	parts = append(parts, b.String())
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("empty part in key %q", k)
		}
	}
	return parts, nil
}

// readBody builds a request body from -f (file or - for stdin) and -s.
func readBody(file string, sets []string, stdin io.Reader) (map[string]any, error) {
	obj := map[string]any{}
	if file != "" {
		var b []byte
		var err error
		if file == "-" {
			b, err = io.ReadAll(stdin)
		} else {
			b, err = os.ReadFile(file)
		}
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, fmt.Errorf("%s: not a JSON object: %w", file, err)
		}
	}
	for _, s := range sets {
		if err := setValue(obj, s); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// crud implements create, get, update and delete.
func crud(ctx context.Context, verb string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet(verb, stderr)
	realm := realmFlag(fs)
	var sets, queries multiFlag
	fs.Var(&sets, "s", "set attribute `key=value` (repeatable)")
	fs.Var(&queries, "q", "query parameter `key=value` (repeatable)")
	file := fs.String("f", "", "JSON body `file`, or - for stdin")
	printID := fs.Bool("i", false, "print only the new resource's id")
	fields := fs.String("fields", "", "comma-separated fields to print")
	format := fs.String("format", "json", "output format: json or csv")
	offset := fs.Int("offset", 0, "index of the first result (get)")
	limit := fs.Int("limit", 0, "maximum number of results (get)")
	noMerge := fs.Bool("n", false, "update: send only -s/-f, without reading the resource first (kcadm's --no-merge)")
	fs.BoolVar(noMerge, "no-merge", false, "same as -n")
	cfgFlag := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	pos := fs.Args()
	if len(pos) != 1 {
		return usagef("exactly one PATH expected, got %q", pos)
	}
	a, err := newAdminClient(ctx, *cfgFlag)
	if err != nil {
		return err
	}
	if *realm == "" {
		*realm = a.cfg.Realm
	}
	path, err := adminPath(pos[0], *realm)
	if err != nil {
		return err
	}
	switch verb {
	case "create":
		body, err := readBody(*file, sets, stdin)
		if err != nil {
			return err
		}
		out, hdr, err := a.do(ctx, http.MethodPost, path, nil, body)
		if err != nil {
			return err
		}
		if loc := hdr.Get("Location"); loc != "" {
			id := loc[strings.LastIndex(loc, "/")+1:]
			if *printID {
				fmt.Fprintln(stdout, id)
			} else {
				fmt.Fprintf(stderr, "Created new %s with id '%s'\n", resourceName(pos[0]), id)
			}
			return nil
		}
		if len(out) > 0 {
			return printJSON(stdout, out, *fields, *format)
		}
		return nil
	case "get":
		q := url.Values{}
		for _, kv := range queries {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("-q %q: expected key=value", kv)
			}
			q.Add(k, v)
		}
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "offset":
				q.Set("first", fmt.Sprint(*offset))
			case "limit":
				q.Set("max", fmt.Sprint(*limit))
			}
		})
		out, _, err := a.do(ctx, http.MethodGet, path, q, nil)
		if err != nil {
			return err
		}
		return printJSON(stdout, out, *fields, *format)
	case "update":
		var body map[string]any
		if *file != "" || *noMerge {
			// Some resources cannot be read back (a membership): -n
			// sends just what is given.
			if body, err = readBody(*file, sets, stdin); err != nil {
				return err
			}
		} else {
			// As kcadm: read the resource, apply -s, write it back.
			cur, _, err := a.do(ctx, http.MethodGet, path, nil, nil)
			var ae *apiError
			switch {
			case errors.As(err, &ae) && ae.status == http.StatusNotFound && strings.HasPrefix(strings.Trim(pos[0], "/"), "gateway/"):
				// Topologies are created by PUT: start from nothing.
				body = map[string]any{}
			case err != nil:
				return err
			default:
				if err := json.Unmarshal(cur, &body); err != nil {
					return fmt.Errorf("%s is not an object; use -f", pos[0])
				}
			}
			for _, s := range sets {
				if err := setValue(body, s); err != nil {
					return err
				}
			}
		}
		_, _, err := a.do(ctx, http.MethodPut, path, nil, body)
		return err
	case "delete":
		_, _, err := a.do(ctx, http.MethodDelete, path, nil, nil)
		return err
	}
	return fmt.Errorf("unknown verb %q", verb)
}

// realmFlag is kcadm's -r / --target-realm.
func realmFlag(fs *flagSet) *string {
	realm := fs.String("r", "", "target `realm` (default: the realm logged in to)")
	fs.StringVar(realm, "target-realm", "", "target realm")
	return realm
}

func resourceName(rel string) string {
	parts := strings.Split(strings.Trim(rel, "/"), "/")
	name := parts[len(parts)-1]
	return strings.TrimSuffix(name, "s")
}

// printJSON pretty-prints a response, optionally keeping only some fields
// (of an object or of each object in an array) or as CSV.
func printJSON(w io.Writer, raw []byte, fields, format string) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		_, err := w.Write(raw)
		return err
	}
	var keep []string
	if fields != "" {
		keep = strings.Split(fields, ",")
		v = selectFields(v, keep)
	}
	switch format {
	case "json":
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "csv":
		rows, ok := v.([]any)
		if !ok {
			rows = []any{v}
		}
		cw := csv.NewWriter(w)
		for _, row := range rows {
			obj, ok := row.(map[string]any)
			if !ok {
				if err := cw.Write([]string{scalar(row)}); err != nil {
					return err
				}
				continue
			}
			cols := keep
			if cols == nil {
				for k := range obj {
					cols = append(cols, k)
				}
				sort.Strings(cols)
			}
			rec := make([]string, len(cols))
			for i, c := range cols {
				rec[i] = scalar(obj[c])
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("--format %q: use json or csv", format)
}

func selectFields(v any, keep []string) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = selectFields(e, keep)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for _, k := range keep {
			if val, ok := t[k]; ok {
				out[k] = val
			}
		}
		return out
	}
	return v
}

func scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	b, _ := json.Marshal(v)
	return string(b)
}
