package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
)

//go:embed static
var static embed.FS

const (
	// consoleRoute is Keycloak's console path, below the relative path.
	consoleRoute = "/admin/{realm}/console"
	// assetsDir is the console's asset path below consoleRoute.
	assetsDir = "/assets/"
)

// Realms is what the console asks of the realm service: whether a realm
// exists (its console is only served then).
type Realms interface {
	Realm(ctx context.Context, name string) (*realms.RealmState, error)
}

// CSP allows this origin's scripts, styles, images and fetches only: no
// inline script or style, no plugins, no framing, no <base> rewriting, and
// forms post nowhere else.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// contentTypes maps the asset extensions the console ships to their types;
// an asset of another kind is not served (nothing is sniffed).
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".png": "image/png",
	".svg": "image/svg+xml",
}

type asset struct {
	body, etag, contentType string
}

// Handler serves the console of every realm.
type Handler struct {
	realms Realms
	log    *slog.Logger
	index  *template.Template
	assets map[string]asset // by name below assetsDir
}

// Mount registers the console's routes on r, which must be the router the
// admin API is mounted on, after the admin routes: /admin/realms/... stays
// the API's even for a realm named "realms".
func Mount(r *mux.Router, rs Realms, log *slog.Logger) *Handler {
	h := New(rs, log)
	get := []string{http.MethodGet, http.MethodHead}
	r.HandleFunc(consoleRoute, h.serveIndex).Methods(get...)
	r.HandleFunc(consoleRoute+assetsDir+"{asset:.+}", h.serveAsset).Methods(get...)
	// The console routes by URL fragment; any other path below it is a
	// bookmark or a reload and gets the application too.
	r.HandleFunc(consoleRoute+"/{rest:.+}", h.serveIndex).Methods(get...)
	// Keycloak's /admin/ opens the master realm's console.
	r.HandleFunc("/admin", h.redirectMaster).Methods(get...)
	return h
}

// routeBase is the server's relative path, read from the matched route's
// template (which starts with it), so it comes from the configuration and
// never from what the request says.
func routeBase(r *http.Request, own string) (string, error) {
	tpl, err := mux.CurrentRoute(r).GetPathTemplate()
	if err != nil {
		return "", err
	}
	base, ok := strings.CutSuffix(tpl, own)
	if !ok {
		return "", fmt.Errorf("console: route template %q does not end in %q", tpl, own)
	}
	return base, nil
}

func (h *Handler) redirectMaster(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	base, err := routeBase(r, "/admin")
	if err != nil {
		h.failure(w, r, err)
		return
	}
	http.Redirect(w, r, base+"/admin/"+realms.MasterRealm+"/console/", http.StatusFound)
}

// New loads the embedded console.
func New(rs Realms, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{realms: rs, log: log, assets: map[string]asset{}}
	h.index = template.Must(template.ParseFS(static, "static/index.html"))
	err := fs.WalkDir(static, "static/assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return errors.New("console: asset of unknown type: " + p)
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h.assets[strings.TrimPrefix(p, "static/assets/")] = asset{string(b), `"` + hex.EncodeToString(sum[:16]) + `"`, ct}
		return nil
	})
	if err != nil {
		panic(err) // the embedded files are fixed at build time
	}
	return h
}

// securityHeaders go on every console answer, errors included.
func securityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
}

// indexData is what index.html needs: the realm whose
// security-admin-console signs the user in, and where this server's
// routes start (the relative path, "" or e.g. "/auth").
type indexData struct {
	Realm, Base, Assets string
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	realm := mux.Vars(r)["realm"]
	if _, err := h.realms.Realm(r.Context(), realm); err != nil {
		h.failure(w, r, err)
		return
	}
	own := consoleRoute
	if _, ok := mux.Vars(r)["rest"]; ok {
		own += "/{rest:.+}"
	}
	base, err := routeBase(r, own)
	if err != nil {
		h.failure(w, r, err)
		return
	}
	d := indexData{Realm: realm, Base: base, Assets: base + "/admin/" + url.PathEscape(realm) + "/console" + assetsDir}
	var buf bytes.Buffer
	if err := h.index.Execute(&buf, d); err != nil {
		h.failure(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The page names the realm and nothing else of the user, but it is
	// the entry of a signed-in application: never from a shared cache.
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	if _, err := h.realms.Realm(r.Context(), mux.Vars(r)["realm"]); err != nil {
		h.failure(w, r, err)
		return
	}
	a, ok := h.assets[mux.Vars(r)["asset"]]
	if !ok {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("ETag", a.etag)
	// Revalidated on every load, so a new binary's console is never mixed
	// with an old one's cached modules.
	w.Header().Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write([]byte(a.body))
}

// failure answers a console request that cannot be served: an unknown
// realm is 404 (as Keycloak's console), anything else 500 without detail.
func (h *Handler) failure(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Cache-Control", "no-store")
	if errors.Is(err, realms.ErrRealmNotFound) {
		http.Error(w, "Realm not found", http.StatusNotFound)
		return
	}
	h.log.Error("console", "path", r.URL.Path, "err", err)
	http.Error(w, "Internal Server Error", http.StatusInternalServerError)
}
