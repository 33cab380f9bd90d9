package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// API is the admin REST API.
type API struct {
	svc      *realms.Service
	sessions *realms.SessionService
	knox     *realms.KnoxService
	tokens   *oidc.Server
	log      *slog.Logger
	version  string // reported by serverinfo
}

// Services are the domain services the admin API calls: the realm service,
// and the session and Knox services over it (nil builds them).
type Services struct {
	Realms   *realms.Service
	Sessions *realms.SessionService
	Knox     *realms.KnoxService
}

// Mount registers the admin routes on srv's router.
func Mount(srv *oidc.Server, svcs Services, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if svcs.Sessions == nil {
		svcs.Sessions = realms.NewSessionService(svcs.Realms)
	}
	if svcs.Knox == nil {
		svcs.Knox = realms.NewKnoxService(svcs.Realms)
	}
	a := &API{svc: svcs.Realms, sessions: svcs.Sessions, knox: svcs.Knox, tokens: srv, log: log}
	a.routes(srv.Router.PathPrefix("/admin").Subrouter())
	return a
}

// maxBody bounds admin request bodies.
const maxBody = 1 << 20

// apiError is an admin API failure with its HTTP status.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(what string) error { return &apiError{http.StatusNotFound, "Could not find " + what} }

func conflict(msg string) error { return &apiError{http.StatusConflict, msg} }

// mapNotFound names what a store lookup did not find ("Could not find
// client"); other errors, and nil, pass through.
func mapNotFound(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(what)
	}
	return err
}

var (
	errUnauthorized = &apiError{http.StatusUnauthorized, "HTTP 401 Unauthorized"}
	errForbidden    = &apiError{http.StatusForbidden, "HTTP 403 Forbidden"}
)

// handlerFunc is the shape of every admin handler: it either writes its
// whole answer and returns nil, or writes nothing and returns the error,
// which a.handle hands to writeError, the one writer of admin errors (and
// of the reason the request log records).
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc for the router.
func (a *API) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	}
}

// writeError writes Keycloak's admin error shapes: {"errorMessage"} for 400
// and 409, {"error"} for 401/403/404 (both keys carry the message so either
// client convention finds it).
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var ve *realms.ValidationError
	var ce *store.ConflictError
	var se *realms.StateError
	var reason string
	switch {
	case errors.As(err, &ae):
		reason = statusReason[ae.status]
	case errors.As(err, &ve):
		ae = &apiError{http.StatusBadRequest, ve.Error()}
		reason = "invalid representation"
	case errors.As(err, &se):
		ae = &apiError{http.StatusConflict, se.Message}
		reason = "refused by a safeguard"
	case errors.As(err, &ce):
		ae = &apiError{http.StatusConflict, conflictMessage(ce)}
		reason = ce.Kind + " exists"
	case errors.Is(err, realms.ErrForbidden):
		ae = errForbidden
		reason = "refused by the resource's access rules"
	case errors.Is(err, realms.ErrRealmNotFound):
		ae = notFound("realm").(*apiError)
		reason = "realm not found"
	case errors.Is(err, store.ErrNotFound):
		ae = &apiError{http.StatusNotFound, "Could not find resource"}
		reason = "not found"
	case errors.Is(err, store.ErrUnavailable):
		a.log.Error("admin: store unavailable for writes", "path", r.URL.Path, "err", err)
		ae = &apiError{http.StatusServiceUnavailable, "The server cannot store changes right now"}
		reason = "store cannot write (logged above)"
	default:
		a.log.Error("admin", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{http.StatusInternalServerError, "unknown_error"}
		reason = "internal error (logged above)"
	}
	var re *reasoned
	if errors.As(err, &re) {
		reason = re.reason
	}
	oidc.SetLogError(r.Context(), ae.msg, reason)
	body := map[string]string{"errorMessage": ae.msg}
	if ae.status == http.StatusUnauthorized || ae.status == http.StatusForbidden || ae.status == http.StatusNotFound {
		body["error"] = ae.msg
	}
	writeJSON(w, ae.status, body)
}

// reasoned gives an admin error a reason for the request log, where the
// answer alone does not say why (which right was missing, whether the
// token was absent or invalid). Reasons never carry a credential or token.
type reasoned struct {
	error
	reason string
}

func (e *reasoned) Unwrap() error { return e.error }

func withReason(err error, reason string) error { return &reasoned{err, reason} }

// statusReason is the log reason of an apiError given without one.
var statusReason = map[int]string{
	http.StatusBadRequest:            "bad request",
	http.StatusUnauthorized:          "not authenticated",
	http.StatusForbidden:             "missing admin right",
	http.StatusNotFound:              "not found",
	http.StatusConflict:              "already exists",
	http.StatusRequestEntityTooLarge: "request body too large",
}

func conflictMessage(ce *store.ConflictError) string {
	switch {
	case ce.Kind == "user" && ce.Field == "email":
		return "User exists with same email"
	case ce.Kind == "user":
		return "User exists with same username"
	case ce.Kind == "client":
		return "Client " + ce.Value + " already exists"
	case ce.Kind == "realm":
		return "Conflict detected. See logs for details"
	case ce.Kind == "role":
		return "Role with name " + ce.Value + " already exists"
	case ce.Kind == "clientScope":
		return "Client Scope " + ce.Value + " already exists"
	}
	return ce.Error()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v. Unknown fields are ignored, as Keycloak
// does; a wrong type names the field.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badRequest("unable to read request body")
	}
	if len(body) > maxBody {
		return &apiError{http.StatusRequestEntityTooLarge, "Request body too large"}
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("request body is required")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest("invalid value for field %s: expected %s", te.Field, te.Type)
		}
		return badRequest("invalid JSON: %v", err)
	}
	return nil
}

// caller is the authenticated admin of a request.
type caller struct {
	token *oidc.AccessToken
	// masterAdmin: master-realm role admin, which manages every realm.
	masterAdmin bool
	createRealm bool
	// rights are the admin rights in the caller's own realm, resolved by
	// the IDs of the built-in roles (see realms.AdminRights).
	rights realms.AdminRights
	ip     string
}

// Rights (realm-management client roles) and what they imply.
const (
	viewRealm    = "view-realm"
	manageRealm  = "manage-realm"
	viewClients  = "view-clients"
	manageClient = "manage-clients"
	createClient = "create-client"
	queryClients = "query-clients"
	viewUsers    = "view-users"
	manageUsers  = "manage-users"
	queryUsers   = "query-users"
	viewEvents   = "view-events"
	manageEvents = "manage-events"
	viewAuthz    = "view-authorization"
	manageAuthz  = "manage-authorization"
)

// implied lists, for each right, the roles that also grant it.
var implied = map[string][]string{
	viewRealm:    {viewRealm, manageRealm},
	manageRealm:  {manageRealm},
	viewClients:  {viewClients, manageClient},
	manageClient: {manageClient},
	createClient: {createClient, manageClient},
	queryClients: {queryClients, viewClients, manageClient},
	viewUsers:    {viewUsers, manageUsers},
	manageUsers:  {manageUsers},
	queryUsers:   {queryUsers, viewUsers, manageUsers},
	viewEvents:   {viewEvents, manageEvents},
	manageEvents: {manageEvents},
	viewAuthz:    {viewAuthz, manageAuthz},
	manageAuthz:  {manageAuthz},
}

// can reports whether the caller holds right (a realm-management role name
// as created) in realm target.
func (c *caller) can(target store.Realm, right string) bool {
	if c.masterAdmin {
		return true
	}
	if c.token.Realm.ID != target.ID {
		return false
	}
	if c.rights.Has(realms.RealmAdminRole) || c.rights.Has(right) {
		return true
	}
	for _, r := range implied[right] {
		if c.rights.Has(r) {
			return true
		}
	}
	return false
}

// covers reports whether the caller holds, in realm target, every admin
// right in rights. It is the one rule behind mayGrant and mayManageUser:
// nobody hands out rights they lack, nor takes over (resets, disables,
// deletes, edits) a user who holds them. Master's admin and create-realm
// are covered by master admins only.
func (c *caller) covers(target store.Realm, rights realms.AdminRights) bool {
	if c.masterAdmin {
		return true
	}
	for _, key := range rights.Keys() {
		if key == realms.AdminRole || key == realms.CreateRealmRole || !c.can(target, key) {
			return false
		}
	}
	return true
}

type callerKey struct{}

func callerOf(r *http.Request) *caller { return r.Context().Value(callerKey{}).(*caller) }

// authenticate verifies the Bearer token and resolves the caller's roles
// afresh, so a role removed a second ago no longer grants anything.
func (a *API) authenticate(next http.Handler) http.Handler {
	return a.handle(func(w http.ResponseWriter, r *http.Request) error {
		h := r.Header.Get("Authorization")
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="admin"`)
			return withReason(errUnauthorized, "no bearer token")
		}
		at, err := a.tokens.VerifyAccessToken(r.Context(), strings.TrimSpace(tok))
		if errors.Is(err, oidc.ErrInvalidToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="admin", error="invalid_token"`)
			return withReason(errUnauthorized, "invalid, expired or revoked token")
		}
		if err != nil {
			return err
		}
		rights, err := a.svc.AdminRights(r.Context(), at.Realm, at.User)
		if err != nil {
			return err
		}
		c := &caller{token: at, rights: rights, ip: oidc.RemoteIP(r)}
		c.masterAdmin = rights.MasterAdmin()
		c.createRealm = c.masterAdmin || rights.Has(realms.CreateRealmRole)
		oidcInfo(r, at)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
		return nil
	})
}

// oidcInfo feeds the access log with the admin's realm and client.
func oidcInfo(r *http.Request, at *oidc.AccessToken) {
	oidc.SetLogFields(r.Context(), at.Realm.Name, at.Client.ClientID)
}

// targetRealm loads {realm} and checks the caller's right in it. A caller
// with no right at all in the realm learns nothing about whether it exists
// (403 either way), except a master admin who gets 404.
func (a *API) targetRealm(r *http.Request, right string) (store.Realm, error) {
	c := callerOf(r)
	name := mux.Vars(r)["realm"]
	st, err := a.svc.Realm(r.Context(), name)
	if errors.Is(err, realms.ErrRealmNotFound) {
		if c.masterAdmin {
			return store.Realm{}, notFound("realm")
		}
		return store.Realm{}, withReason(errForbidden, "realm not found (hidden from a non-master admin)")
	}
	if err != nil {
		return store.Realm{}, err
	}
	if !c.can(st.Realm, right) {
		return store.Realm{}, withReason(errForbidden, "caller lacks "+right)
	}
	return st.Realm, nil
}

// page reads first/max query parameters (Keycloak's defaults: 0 and 100).
func page(r *http.Request) (store.Page, error) {
	var p store.Page
	q := r.URL.Query()
	for _, f := range []struct {
		name string
		dst  *int
	}{{"first", &p.First}, {"max", &p.Max}} {
		if v := q.Get(f.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return p, badRequest("query parameter %s must be a non-negative integer", f.name)
			}
			*f.dst = n
		}
	}
	if p.Max == 0 {
		p.Max = store.DefaultMax
	}
	if p.Max > 1000 {
		p.Max = 1000
	}
	return p, nil
}

// audit records an admin change in the realm's log. Representation must be
// free of secrets (callers pass redacted values).
func (a *API) audit(r *http.Request, realmID, op, resourceType, path string, rep any) {
	c := callerOf(r)
	e := store.AdminEvent{
		ID: realms.NewID(), Time: a.svc.Now().UTC(), OperationType: op, ResourceType: resourceType,
		ResourcePath: path, AuthRealmID: c.token.Realm.ID, AuthClient: c.token.Client.ClientID,
		AuthUserID: c.token.User.ID, AuthUser: c.token.User.Username, IPAddress: c.ip,
	}
	if rep != nil {
		if b, err := json.Marshal(rep); err == nil {
			e.Representation = string(b)
		}
	}
	// The change is already committed; a failed audit write is logged
	// loudly rather than turning a success into an error.
	if err := a.svc.AppendAdminEvent(context.WithoutCancel(r.Context()), realmID, e); err != nil {
		a.log.Error("admin: audit log write failed", "realm", realmID, "op", op, "path", path, "err", err)
	}
}

// changed records a committed change in the realm's admin log, then
// answers 204, the end of most admin writes.
func (a *API) changed(w http.ResponseWriter, r *http.Request, realmID, op, resourceType, path string, rep any) error {
	a.audit(r, realmID, op, resourceType, path, rep)
	noContent(w)
	return nil
}

// created answers 201 with Location, as Keycloak does.
func created(w http.ResponseWriter, r *http.Request, id string) {
	loc := requestURL(r) + "/" + id
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusCreated)
}

func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + strings.TrimRight(r.URL.Path, "/")
}

func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// stringMap is a string-valued JSON object that also accepts numbers and
// booleans: scripts (and kcadm's -s) often send attribute values unquoted.
type stringMap map[string]string

func (m *stringMap) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return &json.UnmarshalTypeError{Value: "non-object", Type: reflectStringMap}
	}
	out := make(stringMap, len(raw))
	for k, v := range raw {
		switch t := v.(type) {
		case string:
			out[k] = t
		case json.Number:
			out[k] = t.String()
		case bool:
			out[k] = strconv.FormatBool(t)
		case nil:
			out[k] = ""
		default:
			return &json.UnmarshalTypeError{Value: "object or array", Type: reflectStringMap, Field: k}
		}
	}
	*m = out
	return nil
}

var reflectStringMap = reflect.TypeOf(map[string]string{})

// targetIn resolves {realm} with right, then the resource load finds in it.
func targetIn[T any](a *API, r *http.Request, right string, load func(*http.Request, store.Realm) (T, error)) (store.Realm, T, error) {
	rl, err := a.targetRealm(r, right)
	if err == nil {
		var v T
		if v, err = load(r, rl); err == nil {
			return rl, v, nil
		}
	}
	var zero T
	return store.Realm{}, zero, err
}

// targetClient resolves {realm} with right and the client {id} in it.
func (a *API) targetClient(r *http.Request, right string) (store.Realm, store.Client, error) {
	return targetIn(a, r, right, a.loadClient)
}

// targetUser is targetClient for the user {id}.
func (a *API) targetUser(r *http.Request, right string) (store.Realm, store.User, error) {
	return targetIn(a, r, right, a.loadUser)
}

// targetBody resolves {realm} with right, then reads the representation
// the request sends with dec (decode, decodeStrict or decodeKnown).
func targetBody[T any](a *API, r *http.Request, right string, dec func(*http.Request, any) error) (store.Realm, T, error) {
	var rep T
	rl, err := a.targetRealm(r, right)
	if err == nil {
		err = dec(r, &rep)
	}
	return rl, rep, err
}
