package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// protectionPath is the UMA protection API of a realm, below its issuer.
const protectionPath = "/authz/protection"

// Protection API errors, as Keycloak's protection endpoints answer them.
var (
	errProtectionToken     = oauthErr(403, "invalid_bearer_token", "Could not obtain bearer access_token from request.")
	errProtectionScope     = oauthErr(403, "invalid_scope", "Requires uma_protection scope.")
	errRemoteManagementOff = oauthErr(400, "not_supported", "Remote management is disabled.")
	errResourceNotFound    = oauthErr(404, "not_found", "Could not find resource")
	errResourceForbidden   = oauthErr(403, "access_denied", "The resource server may not make this change")
	errResourceBody        = oauthErr(400, "invalid_request", "Body must be a JSON resource representation")
)

func errNotResourceServer(clientID string) *fosite.RFC6749Error {
	return oauthErr(403, "invalid_clientId", "Client application ["+clientID+"] is not registered as a resource server.")
}

// protectionRoutes are the resource registration endpoints a resource
// server calls with its own token, and the UMA discovery document that
// names them.
func (s *Server) protectionRoutes() {
	const p = "/realms/{realm}" + protectionPath + "/resource_set"
	r := s.Router
	r.HandleFunc("/realms/{realm}/.well-known/uma2-configuration", s.realmHandler(s.umaConfiguration)).Methods(http.MethodGet)
	r.HandleFunc(p, s.protectionHandler(s.createResourceSet)).Methods(http.MethodPost)
	r.HandleFunc(p, s.protectionHandler(s.listResourceSets)).Methods(http.MethodGet)
	r.HandleFunc(p+"/{id}", s.protectionHandler(s.getResourceSet)).Methods(http.MethodGet)
	r.HandleFunc(p+"/{id}", s.protectionHandler(s.updateResourceSet)).Methods(http.MethodPut)
	r.HandleFunc(p+"/{id}", s.protectionHandler(s.deleteResourceSet)).Methods(http.MethodDelete)
	r.HandleFunc(p+"/{id}/access-key", s.protectionHandler(s.createResourceAccessKey)).Methods(http.MethodPost)
	r.HandleFunc(p+"/{id}/access-key", s.protectionHandler(s.resourceAccessKeyInfo)).Methods(http.MethodGet)
}

// protectionCaller is the resource server a protection request acts for.
type protectionCaller struct {
	rp     *realmProvider
	server store.Client
	who    realms.AuthzCaller
}

// protectionHandler authenticates a protection request: a bearer access
// token of the realm that the resource server obtained for itself (its
// service account, client credentials). A user's token issued to the same
// client is refused like Keycloak refuses a token without uma_protection:
// a user acts through the resource server only as the owner it names.
func (s *Server) protectionHandler(h func(http.ResponseWriter, *http.Request, *protectionCaller) error) http.HandlerFunc {
	return s.realmHandler(func(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
		ctx := r.Context()
		tok, ok := bearerToken(r)
		if !ok || realms.LooksLikeAPIKey(tok) {
			writeOAuthError(w, errProtectionToken)
			return
		}
		at, err := rp.validateAccessToken(ctx, tok)
		if errors.Is(err, errInactive) {
			writeOAuthError(w, errProtectionToken)
			return
		}
		if err != nil {
			s.protectionError(w, r, err)
			return
		}
		infoOf(ctx).client = at.client.ClientID
		if at.client.Authorization == nil {
			writeOAuthError(w, errNotResourceServer(at.client.ClientID))
			return
		}
		if at.user.ServiceAccountClientID != at.client.ID {
			writeOAuthError(w, errProtectionScope)
			return
		}
		c := &protectionCaller{rp: rp, server: at.client, who: realms.AuthzCaller{ClientID: at.client.ID}}
		if err := h(w, r, c); err != nil {
			s.protectionError(w, r, err)
		}
	})
}

// remoteManagement refuses writes when the resource server turned remote
// resource management off.
func (c *protectionCaller) remoteManagement() error {
	if !c.server.Authorization.AllowRemoteResourceManagement {
		return errRemoteManagementOff
	}
	return nil
}

// protectionError answers a failed protection request in Keycloak's
// {"error","error_description"} shape.
func (s *Server) protectionError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *fosite.RFC6749Error
	var ve *realms.ValidationError
	var ce *store.ConflictError
	var se *realms.StateError
	switch {
	case errors.As(err, &oe):
		writeOAuthError(w, oe)
	case errors.As(err, &ve):
		writeOAuthError(w, oauthErr(400, "invalid_request", ve.Error()))
	case errors.As(err, &ce) && ce.Kind == "resource" && ce.Field == "name":
		writeOAuthError(w, oauthErr(409, "invalid_request", "Resource with name ["+ce.Value+"] already exists."))
	case errors.As(err, &ce):
		// A scope created alongside by another request.
		writeOAuthError(w, oauthErr(409, "invalid_request", ce.Kind+" with "+ce.Field+" ["+ce.Value+"] already exists."))
	case errors.Is(err, store.ErrNotFound):
		writeOAuthError(w, errResourceNotFound)
	case errors.Is(err, realms.ErrForbidden):
		writeOAuthError(w, errResourceForbidden)
	case errors.As(err, &se):
		// A model group that still has models.
		writeOAuthError(w, oauthErr(409, "invalid_request", se.Message))
	case errors.Is(err, store.ErrUnavailable):
		writeOAuthError(w, errUnavailable)
	default:
		s.log.Error("protection API", "path", r.URL.Path, "err", err)
		writeOAuthError(w, errServerError)
	}
}

// umaResource is a resource as the protection API shows it: Keycloak's
// UMA resource representation (_id, resource_scopes, icon_uri, owner
// {id,name}) and Gatehouse's access fields at the top level.
type umaResource struct {
	ID                 string              `json:"_id"`
	Name               string              `json:"name"`
	Type               string              `json:"type,omitempty"`
	URIs               []string            `json:"uris,omitempty"`
	Scopes             []umaScope          `json:"resource_scopes,omitempty"`
	IconURI            string              `json:"icon_uri,omitempty"`
	Owner              umaOwner            `json:"owner"`
	OwnerManagedAccess bool                `json:"ownerManagedAccess"`
	DisplayName        string              `json:"displayName,omitempty"`
	Attributes         map[string][]string `json:"attributes,omitempty"`
	Description        string              `json:"description,omitempty"`
	AccessMode         string              `json:"access_mode"`
	BackendRoles       []string            `json:"backend_roles,omitempty"`
	ParentID           string              `json:"parent,omitempty"`
}

type umaScope struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

type umaOwner struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// umaResourceIn is what a resource server may send: the UMA and admin
// spellings Keycloak reads (uri or uris, resource_scopes or scopes as
// names or objects, owner as an ID/username or an object) and the access
// fields. Anything else is refused, naming the field.
type umaResourceIn struct {
	ID                 string              `json:"_id"`
	Name               string              `json:"name"`
	Type               string              `json:"type"`
	URI                string              `json:"uri"`
	URIs               []string            `json:"uris"`
	ResourceScopes     []umaScopeRef       `json:"resource_scopes"`
	Scopes             []umaScopeRef       `json:"scopes"`
	IconURI            string              `json:"icon_uri"`
	Owner              *umaOwnerRef        `json:"owner"`
	OwnerManagedAccess bool                `json:"ownerManagedAccess"`
	DisplayName        string              `json:"displayName"`
	Attributes         map[string]strOrArr `json:"attributes"`
	Description        string              `json:"description"`
	AccessMode         string              `json:"access_mode"`
	BackendRoles       []string            `json:"backend_roles"`
	AddAllBackendRoles bool                `json:"add_all_backend_roles"`
	ParentID           string              `json:"parent"`
}

// umaScopeRef is a scope named by a string or {"id"?, "name"?}; the
// name wins.
type umaScopeRef struct{ ref string }

func (s *umaScopeRef) UnmarshalJSON(b []byte) (err error) {
	s.ref, err = idOrName(b, "resource_scopes", false)
	return err
}

// umaOwnerRef is an owner named by a string or {"id"?, "name"?}; the ID
// wins.
type umaOwnerRef struct{ ref string }

func (o *umaOwnerRef) UnmarshalJSON(b []byte) (err error) {
	o.ref, err = idOrName(b, "owner", true)
	return err
}

// idOrName reads a reference Keycloak accepts as a string or as an object
// {"id"?, "name"?} (field names it in errors).
func idOrName(b []byte, field string, idFirst bool) (string, error) {
	var ref string
	if err := json.Unmarshal(b, &ref); err == nil {
		return ref, nil
	}
	var o struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := strictUnmarshal(b, &o); err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	if idFirst && o.ID != "" || o.Name == "" {
		return o.ID, nil
	}
	return o.Name, nil
}

// strOrArr is an attribute value: one string or a list of them.
type strOrArr []string

func (a *strOrArr) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = strOrArr{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("attributes: values must be strings or lists of strings")
	}
	*a = many
	return nil
}

// strictUnmarshal decodes one JSON value into v, refusing fields v does not
// declare and anything after the value.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return unknownFieldErr(err)
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// unknownFieldErr words encoding/json's unknown-field error as Keycloak's
// Jackson does; other decoding errors pass through.
func unknownFieldErr(err error) error {
	const prefix = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, prefix) {
		return fmt.Errorf("Unrecognized field %s", strings.TrimPrefix(msg, prefix))
	}
	return err
}

// readResource decodes a resource body strictly.
func readResource(w http.ResponseWriter, r *http.Request) (umaResourceIn, error) {
	var in umaResourceIn
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return in, errBodyTooLarge
		}
		return in, errResourceBody
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return in, errResourceBody
	}
	if err := strictUnmarshal(body, &in); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return in, oauthErr(400, "invalid_request", te.Field+": expected "+te.Type.String()+", got "+te.Value)
		case errors.As(err, &se), errors.As(err, &te):
			return in, errResourceBody
		}
		return in, oauthErr(400, "invalid_request", err.Error())
	}
	return in, nil
}

// input turns the representation into the domain's ResourceInput.
func (in umaResourceIn) input() realms.ResourceInput {
	out := realms.ResourceInput{
		Name: in.Name, DisplayName: in.DisplayName, Type: in.Type, URIs: in.URIs, IconURI: in.IconURI,
		Description: in.Description, OwnerManagedAccess: in.OwnerManagedAccess,
		AccessMode: in.AccessMode, BackendRoles: in.BackendRoles, AddAllBackendRoles: in.AddAllBackendRoles,
		ParentID: in.ParentID,
	}
	if in.URI != "" && len(in.URIs) == 0 {
		out.URIs = []string{in.URI}
	}
	for _, sc := range append(in.ResourceScopes, in.Scopes...) {
		out.Scopes = append(out.Scopes, sc.ref)
	}
	if in.Owner != nil {
		out.Owner = in.Owner.ref
	}
	if in.Attributes != nil {
		out.Attributes = make(map[string][]string, len(in.Attributes))
		for k, v := range in.Attributes {
			out.Attributes[k] = v
		}
	}
	return out
}

// representation renders a stored resource.
func (s *Server) umaRepresentation(ctx context.Context, c *protectionCaller, res store.AuthzResource) (umaResource, error) {
	realmID := c.rp.realm.ID
	out := umaResource{
		ID: res.ID, Name: res.Name, Type: res.Type, URIs: res.URIs, IconURI: res.IconURI,
		OwnerManagedAccess: res.OwnerManagedAccess, DisplayName: res.DisplayName, Attributes: res.Attributes,
		Description: res.Description, AccessMode: res.AccessMode, ParentID: res.ParentID,
		Owner: umaOwner{ID: res.OwnerID},
	}
	name, err := s.svc.OwnerName(ctx, realmID, res.OwnerID)
	if err != nil {
		return out, err
	}
	out.Owner.Name = name
	if len(res.BackendRoles) > 0 {
		if out.BackendRoles, err = s.svc.BackendRoleNames(ctx, realmID, res.BackendRoles); err != nil {
			return out, err
		}
	}
	for _, id := range res.ScopeIDs {
		sc, err := s.svc.Scope(ctx, realmID, res.ServerID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		out.Scopes = append(out.Scopes, umaScope{ID: sc.ID, Name: sc.Name})
	}
	return out, nil
}

func (s *Server) writeResource(w http.ResponseWriter, r *http.Request, c *protectionCaller, status int, res store.AuthzResource) error {
	out, err := s.umaRepresentation(r.Context(), c, res)
	if err != nil {
		return err
	}
	writeJSON(w, status, out)
	return nil
}

func (s *Server) createResourceSet(w http.ResponseWriter, r *http.Request, c *protectionCaller) error {
	if err := c.remoteManagement(); err != nil {
		return err
	}
	in, err := readResource(w, r)
	if err != nil {
		return err
	}
	if in.ID != "" {
		return oauthErr(400, "invalid_request", "_id: the server assigns resource IDs")
	}
	res, err := s.svc.CreateResource(r.Context(), c.rp.realm.ID, c.server.ID, c.who, in.input())
	if err != nil {
		return err
	}
	return s.writeResource(w, r, c, http.StatusCreated, res)
}

func (s *Server) getResourceSet(w http.ResponseWriter, r *http.Request, c *protectionCaller) error {
	res, err := s.svc.GetResource(r.Context(), c.rp.realm.ID, c.server.ID, c.who, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	return s.writeResource(w, r, c, http.StatusOK, res)
}

func (s *Server) updateResourceSet(w http.ResponseWriter, r *http.Request, c *protectionCaller) error {
	if err := c.remoteManagement(); err != nil {
		return err
	}
	in, err := readResource(w, r)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	if in.ID != "" && in.ID != id {
		return oauthErr(400, "invalid_request", "_id does not match the resource of the path")
	}
	if _, err := s.svc.UpdateResource(r.Context(), c.rp.realm.ID, c.server.ID, c.who, id, in.input()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteResourceSet(w http.ResponseWriter, r *http.Request, c *protectionCaller) error {
	if err := c.remoteManagement(); err != nil {
		return err
	}
	if err := s.svc.DeleteResource(r.Context(), c.rp.realm.ID, c.server.ID, c.who, mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listResourceSets is GET resource_set with Keycloak's filters: IDs, or
// the representations with deep=true.
func (s *Server) listResourceSets(w http.ResponseWriter, r *http.Request, c *protectionCaller) error {
	q := r.URL.Query()
	for k := range q {
		if !resourceSetQuery[k] {
			return oauthErr(400, "invalid_request", "Unsupported query parameter: "+k)
		}
	}
	f := realms.ResourceFilter{Name: q.Get("name"), Owner: q.Get("owner"), Type: q.Get("type"), URI: q.Get("uri"), Scope: q.Get("scope")}
	var err error
	if f.ExactName, err = boolParam(q.Get("exactName"), "exactName"); err != nil {
		return err
	}
	matchingURI, err := boolParam(q.Get("matchingUri"), "matchingUri")
	if err != nil {
		return err
	}
	deep, err := boolParam(q.Get("deep"), "deep")
	if err != nil {
		return err
	}
	if f.First, err = intParam(q.Get("first"), "first", 0); err != nil {
		return err
	}
	if f.Max, err = intParam(q.Get("max"), "max", 0); err != nil {
		return err
	}
	if q.Get("max") == "-1" {
		// Keycloak's clients send -1 for no limit.
		f.Max = math.MaxInt32
	}
	var list []store.AuthzResource
	if matchingURI {
		list, err = s.resourcesMatchingURI(r.Context(), c, f)
	} else {
		list, err = s.svc.ListResources(r.Context(), c.rp.realm.ID, c.server.ID, c.who, f)
	}
	if err != nil {
		return err
	}
	if !deep {
		ids := make([]string, 0, len(list))
		for _, res := range list {
			ids = append(ids, res.ID)
		}
		writeJSON(w, http.StatusOK, ids)
		return nil
	}
	out := make([]umaResource, 0, len(list))
	for _, res := range list {
		rep, err := s.umaRepresentation(r.Context(), c, res)
		if err != nil {
			return err
		}
		out = append(out, rep)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// resourcesMatchingURI is Keycloak's matchingUri search, with which policy
// enforcers find the resource protecting a request path: the resources
// with exactly that URI, else the one resource of the server itself whose
// URI, read as a pattern, matches it best (see uriPatternScore).
func (s *Server) resourcesMatchingURI(ctx context.Context, c *protectionCaller, f realms.ResourceFilter) ([]store.AuthzResource, error) {
	uri := f.URI
	if uri == "" {
		return nil, oauthErr(400, "invalid_request", "matchingUri needs uri")
	}
	page := f.Page
	f.Page = store.Page{Max: math.MaxInt32}
	candidates, err := s.svc.ListResources(ctx, c.rp.realm.ID, c.server.ID, c.who, f)
	if err != nil {
		return nil, err
	}
	var exact []store.AuthzResource
	for _, res := range candidates {
		if slices.Contains(res.URIs, uri) {
			exact = append(exact, res)
		}
	}
	if len(exact) > 0 {
		return pageOf(exact, page), nil
	}
	f.URI, f.Owner = "", c.server.ID
	own, err := s.svc.ListResources(ctx, c.rp.realm.ID, c.server.ID, c.who, f)
	if err != nil {
		return nil, err
	}
	var best []store.AuthzResource
	bestScore := -1
	for _, res := range own {
		for _, p := range res.URIs {
			if score, ok := uriPatternScore(p, uri); ok && score > bestScore {
				best, bestScore = []store.AuthzResource{res}, score
			}
		}
	}
	return pageOf(best, page), nil
}

// uriPatternScore tells whether a resource URI pattern matches uri, and
// how specifically: literal path segments count most, then {name}
// template segments, then a whole-path match over a trailing /*; a
// suffix pattern (*.html) matches least.
func uriPatternScore(pattern, uri string) (int, bool) {
	if strings.HasPrefix(pattern, "*.") {
		return 0, strings.HasSuffix(uri, pattern[1:])
	}
	ps, us := strings.Split(pattern, "/"), strings.Split(uri, "/")
	prefix := ps[len(ps)-1] == "*"
	if prefix {
		ps = ps[:len(ps)-1]
		if len(us) < len(ps) {
			return 0, false
		}
	} else if len(us) != len(ps) {
		return 0, false
	}
	score := 1
	if !prefix {
		score += 5
	}
	for i, p := range ps {
		switch {
		case p == us[i]:
			score += 1000
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") && us[i] != "":
			score += 10
		default:
			return 0, false
		}
	}
	return score, true
}

// pageOf is the first/max window of list (max 0: the default page).
func pageOf(list []store.AuthzResource, p store.Page) []store.AuthzResource {
	max := p.Max
	if max <= 0 {
		max = store.DefaultMax
	}
	if p.First >= len(list) {
		return []store.AuthzResource{}
	}
	list = list[p.First:]
	if len(list) > max {
		list = list[:max]
	}
	return list
}

// resourceSetQuery are the query parameters of GET resource_set.
var resourceSetQuery = map[string]bool{
	"name": true, "uri": true, "owner": true, "type": true, "scope": true, "matchingUri": true,
	"exactName": true, "deep": true, "first": true, "max": true,
}

func boolParam(v, name string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, oauthErr(400, "invalid_request", name+" must be true or false")
	}
	return b, nil
}

// intParam reads a non-negative integer query parameter; absent (or
// Keycloak's -1, unset) is def.
func intParam(v, name string, def int) (int, error) {
	if v == "" || v == "-1" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, oauthErr(400, "invalid_request", name+" must be a non-negative integer")
	}
	return n, nil
}

// resourceKeyRep is a resource's access key, as the admin API shows it:
// the key itself only in the answer that makes it.
type resourceKeyRep struct {
	AccessKey        string `json:"accessKey,omitempty"`
	Exists           bool   `json:"exists"`
	CreatedTimestamp int64  `json:"createdTimestamp,omitempty"`
}

func (s *Server) createResourceAccessKey(w http.ResponseWriter, r *http.Request, c *protectionCaller) error {
	if err := c.remoteManagement(); err != nil {
		return err
	}
	key, info, err := s.svc.CreateResourceAccessKey(r.Context(), c.rp.realm.ID, c.server.ID, c.who, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resourceKeyRep{AccessKey: key, Exists: info.Exists, CreatedTimestamp: info.CreatedAt})
	return nil
}

func (s *Server) resourceAccessKeyInfo(w http.ResponseWriter, r *http.Request, c *protectionCaller) error {
	info, err := s.svc.ResourceAccessKeyInfo(r.Context(), c.rp.realm.ID, c.server.ID, c.who, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resourceKeyRep{Exists: info.Exists, CreatedTimestamp: info.CreatedAt})
	return nil
}
