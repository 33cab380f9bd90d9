package oidc

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Config configures the HTTP surface.
type Config struct {
	Service *realms.Service
	// Sessions and Knox are the session and Knox services over Service;
	// nil builds them.
	Sessions *realms.SessionService
	Knox     *realms.KnoxService
	// Hostname is the public base URL (scheme://host[:port]); empty derives
	// it from each request.
	Hostname string
	// RelativePath prefixes every route ("/auth" for old Keycloak URLs).
	RelativePath string
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// TLS tells request-derived issuers to use https.
	TLS bool
	// IAMRealm is the realm of the unprefixed CDP IAM path
	// (/api/v1/iam/...); empty means DefaultIAMRealm.
	IAMRealm string
	// Ready, when set, is asked by /health/ready: an error answers 503 so
	// a load balancer stops sending this replica requests it cannot serve
	// (its database is unreachable). /health/live does not ask.
	Ready func(context.Context) error
}

// Server is Gatehouse's HTTP handler: health, the per-realm protocol
// endpoints, and whatever else (the admin API, the Knox API) is mounted on
// Router.
type Server struct {
	cfg       Config
	svc       *realms.Service
	providers *providers
	root      *mux.Router
	// Router is where routes are mounted, below RelativePath.
	Router *mux.Router
	log    *slog.Logger
	jwks   *jwksCache
}

// NewServer builds the router.
func NewServer(cfg Config) *Server {
	cfg.RelativePath = strings.TrimRight(cfg.RelativePath, "/")
	if cfg.RelativePath != "" && !strings.HasPrefix(cfg.RelativePath, "/") {
		cfg.RelativePath = "/" + cfg.RelativePath
	}
	cfg.Hostname = strings.TrimRight(cfg.Hostname, "/")
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Sessions == nil {
		cfg.Sessions = realms.NewSessionService(cfg.Service)
	}
	if cfg.Knox == nil {
		cfg.Knox = realms.NewKnoxService(cfg.Service)
	}
	s := &Server{cfg: cfg, svc: cfg.Service, providers: newProviders(cfg.Service, cfg.Sessions, cfg.Knox), log: log, jwks: newJWKSCache(cfg.Service.Now)}
	s.root = mux.NewRouter()
	s.root.Use(routeTemplate)
	s.root.NotFoundHandler = http.HandlerFunc(notFound)
	s.root.MethodNotAllowedHandler = http.HandlerFunc(methodNotAllowed)
	ready := s.ready
	for p, h := range map[string]http.HandlerFunc{"/health/ready": ready, "/health/live": health, "/health": ready} {
		s.root.HandleFunc(p, h).Methods(http.MethodGet, http.MethodHead)
	}
	s.Router = s.root
	if cfg.RelativePath != "" {
		s.Router = s.root.PathPrefix(cfg.RelativePath).Subrouter()
		s.Router.NotFoundHandler = s.root.NotFoundHandler
		s.Router.MethodNotAllowedHandler = s.root.MethodNotAllowedHandler
		for p, h := range map[string]http.HandlerFunc{"/health/ready": ready, "/health/live": health} {
			s.Router.HandleFunc(p, h).Methods(http.MethodGet, http.MethodHead)
		}
	}
	s.routes()
	return s
}

// ServeHTTP logs and guards every request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &requestInfo{}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK, info: info}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
			if !rec.wrote {
				writeOAuthError(rec, errServerError)
			}
		}
		d := time.Since(start)
		s.svc.Metrics().Request(info.route, info.realm, info.grant, rec.status, d)
		// Only the path is logged: query strings may carry tokens.
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"realm", info.realm, "client", info.client, "duration", d}
		if rec.status >= 400 {
			attrs = append(attrs, "error", info.errCode, "reason", info.reason)
		}
		s.log.Info("request", attrs...)
	}()
	// JAX-RS (Keycloak) matches paths with or without a trailing slash, and
	// client libraries rely on it (the admin client POSTs to /admin/realms/).
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimRight(p, "/")
		if r.URL.RawPath != "" {
			r.URL.RawPath = strings.TrimRight(r.URL.RawPath, "/")
		}
	}
	s.root.ServeHTTP(rec, r)
}

type requestInfoKey struct{}

// requestInfo collects what handlers learn for the access log and metrics.
type requestInfo struct {
	realm, client string
	// route is the matched route's template; grant the token grant type.
	route, grant string
	// errCode and reason explain an error answer (see reasons.go).
	errCode, reason string
}

func infoOf(ctx context.Context) *requestInfo {
	if i, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	info   *requestInfo
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "UP", "checks": []any{}})
}

// readyTimeout bounds the readiness check, so a probe gets an answer while
// the database is merely slow to refuse.
const readyTimeout = 2 * time.Second

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready == nil {
		health(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.cfg.Ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "DOWN", "checks": []any{map[string]any{"name": "store", "status": "DOWN"}}})
		return
	}
	health(w, r)
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	const msg = "Unable to find matching target resource method"
	noteError(w, msg, "no route matches the path")
	writeJSON(w, http.StatusNotFound, map[string]string{"error": msg})
}

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	const msg = "RESTEASY003650: No resource method found"
	noteError(w, msg, "the route does not take this method")
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": msg, "error_description": "Method not allowed"})
}

// baseURL is the public base of this server as the client addressed it,
// including the relative path.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.Hostname != "" {
		return s.cfg.Hostname + s.cfg.RelativePath
	}
	scheme := "http"
	if s.cfg.TLS || r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + s.cfg.RelativePath
}

// issuer is the realm's issuer URL (Keycloak's https://host/realms/{r}).
func (s *Server) issuer(r *http.Request, realm string) string {
	return s.baseURL(r) + "/realms/" + realm
}

var (
	errRealmNotFound = map[string]string{"error": "Realm does not exist", "error_description": "Realm does not exist"}
	errInternal      = map[string]string{"error": "server_error", "error_description": "Internal server error"}
)

// realmHandler resolves {realm} into its provider before calling h; unknown
// realms get 404 and disabled ones 403, as in Keycloak.
func (s *Server) realmHandler(h func(http.ResponseWriter, *http.Request, *realmProvider)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := mux.Vars(r)["realm"]
		if !realms.ValidRealmName(name) {
			writeJSON(w, http.StatusNotFound, errRealmNotFound)
			return
		}
		rp, err := s.providers.realm(r.Context(), name)
		if errors.Is(err, realms.ErrRealmNotFound) {
			writeJSON(w, http.StatusNotFound, errRealmNotFound)
			return
		}
		if errors.Is(err, store.ErrUnavailable) {
			// On a shared store every request reads its realm's
			// generation first, so a database gone away shows here.
			s.log.Error("load realm: store unavailable", "realm", name, "err", err)
			writeOAuthError(w, errUnavailable)
			return
		}
		if err != nil {
			s.log.Error("load realm", "realm", name, "err", err)
			writeJSON(w, http.StatusInternalServerError, errInternal)
			return
		}
		infoOf(r.Context()).realm = name
		if !rp.realm.Enabled {
			writeOAuthError(w, errRealmDisabled)
			return
		}
		h(w, r, rp)
	}
}

func (s *Server) routes() {
	const p = "/realms/{realm}/protocol/openid-connect"
	r := s.Router
	r.HandleFunc("/realms/{realm}", s.realmHandler(s.realmInfo)).Methods(http.MethodGet)
	r.HandleFunc("/realms/{realm}/.well-known/openid-configuration", s.realmHandler(s.discovery)).Methods(http.MethodGet)
	r.HandleFunc(p+"/certs", s.realmHandler(s.certs)).Methods(http.MethodGet)
	r.HandleFunc(p+"/token", s.realmHandler(s.token))
	r.HandleFunc(p+"/token/introspect", s.realmHandler(s.introspect))
	r.HandleFunc(p+"/userinfo", s.realmHandler(s.userinfo)).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc(p+"/revoke", s.realmHandler(s.revoke))
	r.HandleFunc(p+"/logout", s.realmHandler(s.logout))
	r.HandleFunc(p+"/auth", s.realmHandler(s.authorize)).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/realms/{realm}/login-actions/authenticate", s.realmHandler(s.authenticate)).Methods(http.MethodPost)
	r.HandleFunc("/realms/{realm}/login-actions/required-action", s.realmHandler(s.requiredAction)).Methods(http.MethodPost)
	r.HandleFunc(p+"/auth/device", s.realmHandler(s.deviceAuthorization))
	r.HandleFunc("/realms/{realm}/device", s.realmHandler(s.devicePage)).Methods(http.MethodGet)
	r.HandleFunc("/realms/{realm}/device", s.realmHandler(s.deviceSubmit)).Methods(http.MethodPost)
	r.HandleFunc("/realms/{realm}/login-actions/device", s.realmHandler(s.deviceDecide)).Methods(http.MethodPost)
	s.accountRoutes()
	s.workloadRoutes()
	s.protectionRoutes()
}

// SetLogFields records the realm and client of a request for the access log
// (for handlers mounted outside this package).
func SetLogFields(ctx context.Context, realm, client string) {
	i := infoOf(ctx)
	i.realm, i.client = realm, client
}

// NewHTTPServer wraps h in an http.Server with the timeouts and limits that
// defeat slow-header and slow-body clients: a request has 5 s to send its
// headers and 15 s for its body, headers are capped at 32 KiB (431 beyond),
// and idle keep-alive connections close after two minutes.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
}
