package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// decodeKnown is decode for representations stored whole (roles, groups,
// client scopes, mappers): a field the representation does not know, at
// any depth, is refused with 400 naming it, never accepted and dropped.
// decodeStrict is its lenient sibling for representations that clients
// echo back with defaults (realms).
func decodeKnown(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badRequest("unable to read request body")
	}
	if len(body) > maxBody {
		return &apiError{http.StatusRequestEntityTooLarge, "Request body too large"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("request body is required")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest("invalid value for field %s: expected %s", te.Field, te.Type)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return badRequest("unsupported field %s", strings.Trim(f, `"`))
		}
		return badRequest("invalid JSON: %v", err)
	}
	if d.More() {
		return badRequest("invalid JSON: trailing data")
	}
	return nil
}

// roleHolder is what role mappings hang on: a user or a group, with the
// container ("" = realm roles, else a client UUID) a route addresses.
type roleHolder struct {
	realm    store.Realm
	clientID string
	direct   []string
	// effective resolves the holder's roles, groups and composites
	// included.
	effective func(ctx context.Context) (realms.EffectiveRoles, error)
	grant     func(ctx context.Context, ids []string) error
	revoke    func(ctx context.Context, ids []string) error
	path      string // audit path of the holder ("users/{id}", "groups/{id}")
}

// holderOf loads the user ({id}) or group ({group}) of a role-mapping
// route, after checking right.
func (a *API) holderOf(r *http.Request, right string) (roleHolder, error) {
	rl, err := a.targetRealm(r, right)
	if err != nil {
		return roleHolder{}, err
	}
	h := roleHolder{realm: rl}
	if _, ok := mux.Vars(r)["group"]; ok {
		g, err := a.loadGroup(r, rl)
		if err != nil {
			return h, err
		}
		h.direct, h.path = g.RoleIDs, "groups/"+g.ID
		h.effective = func(ctx context.Context) (realms.EffectiveRoles, error) { return a.svc.GroupRoles(ctx, rl.ID, g.ID) }
		h.grant = func(ctx context.Context, ids []string) error {
			return a.svc.GrantGroupRoles(ctx, rl.Name, g.ID, ids...)
		}
		h.revoke = func(ctx context.Context, ids []string) error {
			return a.svc.RevokeGroupRoles(ctx, rl.Name, g.ID, ids...)
		}
	} else {
		u, err := a.loadUser(r, rl)
		if err != nil {
			return h, err
		}
		h.direct, h.path = u.RoleIDs, "users/"+u.ID
		h.effective = func(ctx context.Context) (realms.EffectiveRoles, error) { return a.svc.ResolveRoles(ctx, rl.ID, u) }
		h.grant = func(ctx context.Context, ids []string) error { return a.svc.GrantRoles(ctx, rl.Name, u.ID, ids...) }
		h.revoke = func(ctx context.Context, ids []string) error { return a.svc.RevokeRoles(ctx, rl.Name, u.ID, ids...) }
	}
	if cid, ok := mux.Vars(r)["client"]; ok {
		c, err := a.svc.Client(r.Context(), rl.ID, cid)
		if errors.Is(err, store.ErrNotFound) {
			return h, notFound("client")
		}
		if err != nil {
			return h, err
		}
		h.clientID = c.ID
	}
	return h, nil
}

// rolesByID loads roles, skipping IDs of deleted roles, sorted by name.
func (a *API) rolesByID(ctx context.Context, realmID string, ids []string) ([]store.Role, error) {
	var out []store.Role
	for _, id := range ids {
		role, err := a.svc.Role(ctx, realmID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, role)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// clientMappings is one client's entry of a MappingsRepresentation.
type clientMappings struct {
	ID       string    `json:"id"`
	Client   string    `json:"client"`
	Mappings []roleRep `json:"mappings"`
}

// roleMappings is GET …/role-mappings: Keycloak's MappingsRepresentation of
// the direct mappings.
func (a *API) roleMappings(w http.ResponseWriter, r *http.Request) error {
	h, roles, err := a.directHolder(r)
	if err != nil {
		return err
	}
	return a.writeMappings(w, r, h.realm.ID, roles)
}

// writeMappings answers Keycloak's MappingsRepresentation of roles: realm
// roles, and client roles by client (those of a client gone since left out).
func (a *API) writeMappings(w http.ResponseWriter, r *http.Request, realmID string, roles []store.Role) error {
	out := map[string]any{}
	var realmRoles []roleRep
	clients := map[string]*clientMappings{}
	for _, role := range roles {
		if role.ClientID == "" {
			realmRoles = append(realmRoles, toRoleRep(realmID, role))
			continue
		}
		cm := clients[role.ClientID]
		if cm == nil {
			c, err := a.svc.Client(r.Context(), realmID, role.ClientID)
			if err != nil {
				continue
			}
			cm = &clientMappings{ID: c.ID, Client: c.ClientID}
			clients[role.ClientID] = cm
		}
		cm.Mappings = append(cm.Mappings, toRoleRep(realmID, role))
	}
	if len(realmRoles) > 0 {
		out["realmMappings"] = realmRoles
	}
	if len(clients) > 0 {
		byClientID := map[string]*clientMappings{}
		for _, cm := range clients {
			byClientID[cm.Client] = cm
		}
		out["clientMappings"] = byClientID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// writeRoles answers a list of roles of the holder's container.
func writeRoles(w http.ResponseWriter, r *http.Request, realmID, clientID string, roles []store.Role) {
	brief := r.URL.Query().Get("briefRepresentation") != "false"
	out := []roleRep{}
	for _, role := range roles {
		if role.ClientID == clientID {
			out = append(out, toRoleRepBrief(realmID, role, brief))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// listMappings is GET …/role-mappings/realm and …/clients/{client}: the
// direct mappings of the container.
func (a *API) listMappings(w http.ResponseWriter, r *http.Request) error {
	h, roles, err := a.directHolder(r)
	if err != nil {
		return err
	}
	out := []roleRep{}
	for _, role := range roles {
		if role.ClientID == h.clientID {
			out = append(out, toRoleRep(h.realm.ID, role))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// directHolder is the holder of a read of its direct mappings, and those
// roles.
func (a *API) directHolder(r *http.Request) (roleHolder, []store.Role, error) {
	h, err := a.holderOf(r, viewUsers)
	if err != nil {
		return h, nil, err
	}
	roles, err := a.rolesByID(r.Context(), h.realm.ID, h.direct)
	return h, roles, err
}

// effectiveHolder is the holder of a read of its effective roles, and
// those roles.
func (a *API) effectiveHolder(r *http.Request) (roleHolder, realms.EffectiveRoles, error) {
	h, err := a.holderOf(r, viewUsers)
	if err != nil {
		return h, realms.EffectiveRoles{}, err
	}
	eff, err := h.effective(r.Context())
	return h, eff, err
}

// compositeMappings is GET …/composite: the effective roles of the
// container (direct, through groups and their ancestors, and composites).
func (a *API) compositeMappings(w http.ResponseWriter, r *http.Request) error {
	h, eff, err := a.effectiveHolder(r)
	if err != nil {
		return err
	}
	roles, err := a.rolesByID(r.Context(), h.realm.ID, slices.Collect(maps.Keys(eff.IDs)))
	if err != nil {
		return err
	}
	writeRoles(w, r, h.realm.ID, h.clientID, roles)
	return nil
}

// availableMappings is GET …/available: the container's roles the holder
// does not hold yet, effectively.
func (a *API) availableMappings(w http.ResponseWriter, r *http.Request) error {
	h, eff, err := a.effectiveHolder(r)
	if err != nil {
		return err
	}
	all, err := a.svc.Roles(r.Context(), h.realm.ID, h.clientID, realms.RoleQuery{Page: store.Page{Max: 1 << 30}})
	if err != nil {
		return err
	}
	var out []store.Role
	for _, role := range all {
		if !eff.IDs[role.ID] {
			out = append(out, role)
		}
	}
	writeRoles(w, r, h.realm.ID, h.clientID, out)
	return nil
}

// mappingRoles resolves a [{id,name}] body to roles of the container,
// refusing any the caller could not grant.
func (a *API) mappingRoles(r *http.Request, rl store.Realm, clientID string) ([]store.Role, error) {
	var reps []roleRep
	if err := decodeKnown(r, &reps); err != nil {
		return nil, err
	}
	var out []store.Role
	for _, rep := range reps {
		var role store.Role
		var err error
		if rep.ID != "" {
			role, err = a.svc.Role(r.Context(), rl.ID, rep.ID)
		} else {
			role, err = a.svc.RoleByName(r.Context(), rl.ID, clientID, rep.Name)
		}
		if errors.Is(err, store.ErrNotFound) || (err == nil && role.ClientID != clientID) {
			return nil, notFound("role")
		}
		if err != nil {
			return nil, err
		}
		if ok, err := a.mayGrant(r, rl, role); err != nil {
			return nil, err
		} else if !ok {
			return nil, errForbidden
		}
		out = append(out, role)
	}
	return out, nil
}

func (a *API) addMappings(w http.ResponseWriter, r *http.Request) error {
	return a.changeMappings(w, r, true)
}

func (a *API) removeMappings(w http.ResponseWriter, r *http.Request) error {
	return a.changeMappings(w, r, false)
}

func (a *API) changeMappings(w http.ResponseWriter, r *http.Request, add bool) error {
	h, err := a.holderOf(r, manageUsers)
	if err != nil {
		return err
	}
	roles, err := a.mappingRoles(r, h.realm, h.clientID)
	if err != nil {
		return err
	}
	ids := make([]string, len(roles))
	reps := make([]roleRep, len(roles))
	for i, role := range roles {
		ids[i], reps[i] = role.ID, toRoleRep(h.realm.ID, role)
	}
	op := "CREATE"
	if add {
		err = h.grant(r.Context(), ids)
	} else {
		op = "DELETE"
		err = h.revoke(r.Context(), ids)
	}
	if err != nil {
		return err
	}
	path := h.path + "/role-mappings/realm"
	rt := "REALM_ROLE_MAPPING"
	if h.clientID != "" {
		path, rt = h.path+"/role-mappings/clients/"+h.clientID, "CLIENT_ROLE_MAPPING"
	}
	a.audit(r, h.realm.ID, op, rt, path, reps)
	noContent(w)
	return nil
}
