package realms

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// errBothDefaultAndOptional: a client scope cannot be assigned as both a
// default and an optional scope.
var errBothDefaultAndOptional = invalid("", "Client scope cannot be both default and optional")

// validateMappers validates a list of mappers, gives new ones IDs and
// refuses duplicate names (a StateError: the admin API answers 409).
func validateMappers(ms []store.ProtocolMapper) error {
	seen := map[string]bool{}
	for i := range ms {
		if err := ValidateMapper(&ms[i]); err != nil {
			return err
		}
		if ms[i].ID == "" {
			ms[i].ID = NewID()
		}
		if seen[ms[i].Name] {
			return &StateError{Message: "Protocol mapper exists with same name"}
		}
		seen[ms[i].Name] = true
	}
	return nil
}

// checkClientScopeFields validates a new client's mappers and gives it the
// realm's default scopes unless it names its own.
func (s *Service) checkClientScopeFields(ctx context.Context, r store.Realm, c *store.Client) error {
	if err := validateMappers(c.ProtocolMappers); err != nil {
		return err
	}
	if !c.ScopesAssigned {
		c.ScopesAssigned = true
		c.DefaultScopeIDs, c.OptionalScopeIDs = slices.Clone(r.DefaultScopeIDs), slices.Clone(r.OptionalScopeIDs)
	}
	return nil
}

// ClientScopeByName resolves a scope name of the realm.
func (s *Service) ClientScopeByName(ctx context.Context, realmID, name string) (store.ClientScope, error) {
	all, err := s.realmClientScopes(ctx, realmID)
	if err != nil {
		return store.ClientScope{}, err
	}
	for _, cs := range all {
		if cs.Name == name {
			return cs, nil
		}
	}
	return store.ClientScope{}, store.ErrNotFound
}

// ListClientScopes returns the realm's client scopes ordered by name.
func (s *Service) ListClientScopes(ctx context.Context, realmName string) ([]store.ClientScope, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return nil, err
	}
	return s.store.ListClientScopes(ctx, realmID)
}

// GetClientScope returns one client scope.
func (s *Service) GetClientScope(ctx context.Context, realmName, id string) (store.ClientScope, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return store.ClientScope{}, err
	}
	return s.store.GetClientScope(ctx, realmID, id)
}

func validateClientScope(cs *store.ClientScope) error {
	if err := printableName("name", cs.Name, 255); err != nil {
		return err
	}
	if strings.ContainsAny(cs.Name, " \t") {
		return invalid("name", "Unexpected name \"%s\" for ClientScope", cs.Name)
	}
	if cs.Protocol == "" {
		cs.Protocol = ProtocolOIDC
	}
	if cs.Protocol != ProtocolOIDC {
		return invalid("protocol", "Protocol %s is not supported", cs.Protocol)
	}
	for _, k := range []string{AttrIncludeInTokenScope, AttrDisplayOnConsent} {
		if v, ok := cs.Attributes[k]; ok && v != "true" && v != "false" {
			return invalid("attributes", "%s must be true or false", k)
		}
	}
	return validateMappers(cs.ProtocolMappers)
}

// CreateClientScope stores a new client scope.
func (s *Service) CreateClientScope(ctx context.Context, realmName string, cs store.ClientScope) (store.ClientScope, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return store.ClientScope{}, err
	}
	defer s.changed(ctx, realmID)
	if cs.ID == "" {
		cs.ID = NewID()
	}
	if !ValidEntityID(cs.ID) {
		return store.ClientScope{}, invalid("id", "id must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
	if err := validateClientScope(&cs); err != nil {
		return store.ClientScope{}, err
	}
	if err := s.checkRoleIDs(ctx, realmID, cs.ScopeRoleIDs); err != nil {
		return store.ClientScope{}, err
	}
	return cs, s.store.CreateClientScope(ctx, realmID, cs)
}

// UpdateClientScope applies fn to a client scope and re-validates it.
func (s *Service) UpdateClientScope(ctx context.Context, realmName, id string, fn func(*store.ClientScope) error) (store.ClientScope, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return store.ClientScope{}, err
	}
	defer s.changed(ctx, realmID)
	return s.store.UpdateClientScope(ctx, realmID, id, func(cs *store.ClientScope) error {
		if err := fn(cs); err != nil {
			return err
		}
		return validateClientScope(cs)
	})
}

// DeleteClientScope removes a client scope and takes it out of the realm's
// default scopes; clients that still name it ignore it.
func (s *Service) DeleteClientScope(ctx context.Context, realmName, id string) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	realmID := st.Realm.ID
	defer s.changed(ctx, realmID)
	if err := s.store.DeleteClientScope(ctx, realmID, id); err != nil {
		return err
	}
	if slices.Contains(st.Realm.DefaultScopeIDs, id) || slices.Contains(st.Realm.OptionalScopeIDs, id) {
		return s.editRealmScopes(ctx, st.Realm, func(def, opt *[]string) {
			*def, *opt = removeString(*def, id), removeString(*opt, id)
		})
	}
	return nil
}

func (s *Service) editRealmScopes(ctx context.Context, r store.Realm, fn func(def, opt *[]string)) error {
	_, err := s.store.UpdateRealm(ctx, r.ID, func(r *store.Realm) error {
		fn(&r.DefaultScopeIDs, &r.OptionalScopeIDs)
		return nil
	})
	s.invalidate(r.Name)
	s.changed(ctx, r.ID)
	return err
}

// RealmDefaultScopes returns the realm's default (optional=false) or
// optional default client scopes.
func (s *Service) RealmDefaultScopes(ctx context.Context, realmName string, optional bool) ([]store.ClientScope, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return nil, err
	}
	def, opt, err := s.ClientScopesOf(ctx, st.Realm, store.Client{})
	if optional {
		return opt, err
	}
	return def, err
}

// SetRealmDefaultScope makes a client scope a default (or optional) scope
// of new clients; it moves from the other list if it was there.
func (s *Service) SetRealmDefaultScope(ctx context.Context, realmName, scopeID string, optional, add bool) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	if _, err := s.store.GetClientScope(ctx, st.Realm.ID, scopeID); err != nil && add {
		return err
	}
	return s.editRealmScopes(ctx, st.Realm, func(def, opt *[]string) {
		*def, *opt = removeString(*def, scopeID), removeString(*opt, scopeID)
		if !add {
			return
		}
		if optional {
			*opt = append(*opt, scopeID)
		} else {
			*def = append(*def, scopeID)
		}
	})
}

// ClientScopesOfClient returns a client's default or optional scopes.
func (s *Service) ClientScopesOfClient(ctx context.Context, realmName, clientUUID string, optional bool) ([]store.ClientScope, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return nil, err
	}
	c, err := s.store.GetClient(ctx, st.Realm.ID, clientUUID)
	if err != nil {
		return nil, err
	}
	def, opt, err := s.ClientScopesOf(ctx, st.Realm, c)
	if optional {
		return opt, err
	}
	return def, err
}

// SetClientScope adds (add) or removes a client's default or optional
// client scope. A scope is in at most one of the two lists: adding one
// that is in the other is refused, as Keycloak does.
func (s *Service) SetClientScope(ctx context.Context, realmName, clientUUID, scopeID string, optional, add bool) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	realmID := st.Realm.ID
	defer s.changed(ctx, realmID)
	if add {
		if _, err := s.store.GetClientScope(ctx, realmID, scopeID); err != nil {
			return err
		}
	}
	_, err = s.store.UpdateClient(ctx, realmID, clientUUID, func(c *store.Client) error {
		if !c.ScopesAssigned {
			c.ScopesAssigned = true
			c.DefaultScopeIDs, c.OptionalScopeIDs = slices.Clone(st.Realm.DefaultScopeIDs), slices.Clone(st.Realm.OptionalScopeIDs)
		}
		mine, other := &c.DefaultScopeIDs, &c.OptionalScopeIDs
		if optional {
			mine, other = other, mine
		}
		if !add {
			*mine = removeString(*mine, scopeID)
			return nil
		}
		if slices.Contains(*other, scopeID) {
			return errBothDefaultAndOptional
		}
		*mine = appendOnce(*mine, scopeID)
		return nil
	})
	return err
}

// MapperOwner addresses the mappers and scope mappings of a client
// (Client) or of a client scope (Scope); exactly one is set.
type MapperOwner struct {
	ClientUUID string
	ScopeID    string
}

// editOwner applies fn to the owner's mappers and scope-mapped role IDs.
func (s *Service) editOwner(ctx context.Context, realmName string, o MapperOwner, fn func(ms *[]store.ProtocolMapper, roles *[]string) error) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	defer s.changed(ctx, realmID)
	if o.ClientUUID != "" {
		_, err = s.store.UpdateClient(ctx, realmID, o.ClientUUID, func(c *store.Client) error {
			return fn(&c.ProtocolMappers, &c.ScopeRoleIDs)
		})
		return err
	}
	_, err = s.store.UpdateClientScope(ctx, realmID, o.ScopeID, func(cs *store.ClientScope) error {
		return fn(&cs.ProtocolMappers, &cs.ScopeRoleIDs)
	})
	return err
}

// owned reads the owner's mappers and scope-mapped role IDs.
func (s *Service) owned(ctx context.Context, realmName string, o MapperOwner) ([]store.ProtocolMapper, []string, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return nil, nil, err
	}
	if o.ClientUUID != "" {
		c, err := s.store.GetClient(ctx, realmID, o.ClientUUID)
		return c.ProtocolMappers, c.ScopeRoleIDs, err
	}
	cs, err := s.store.GetClientScope(ctx, realmID, o.ScopeID)
	return cs.ProtocolMappers, cs.ScopeRoleIDs, err
}

// Mappers returns the owner's protocol mappers.
func (s *Service) Mappers(ctx context.Context, realmName string, o MapperOwner) ([]store.ProtocolMapper, error) {
	ms, _, err := s.owned(ctx, realmName, o)
	return ms, err
}

// AddMappers validates and appends mappers (all or none), returning them
// with their IDs.
func (s *Service) AddMappers(ctx context.Context, realmName string, o MapperOwner, add ...store.ProtocolMapper) ([]store.ProtocolMapper, error) {
	for i := range add {
		add[i].ID = ""
	}
	if err := validateMappers(add); err != nil {
		return nil, err
	}
	err := s.editOwner(ctx, realmName, o, func(ms *[]store.ProtocolMapper, _ *[]string) error {
		for _, m := range add {
			if slices.ContainsFunc(*ms, func(x store.ProtocolMapper) bool { return x.Name == m.Name }) {
				return &StateError{Message: "Protocol mapper exists with same name"}
			}
		}
		*ms = append(*ms, add...)
		return nil
	})
	return add, err
}

// UpdateMapper replaces mapper id of the owner (its ID and type stay).
func (s *Service) UpdateMapper(ctx context.Context, realmName string, o MapperOwner, id string, m store.ProtocolMapper) error {
	m.ID = id
	return s.editOwner(ctx, realmName, o, func(ms *[]store.ProtocolMapper, _ *[]string) error {
		i := slices.IndexFunc(*ms, func(x store.ProtocolMapper) bool { return x.ID == id })
		if i < 0 {
			return store.ErrNotFound
		}
		if m.ProtocolMapper == "" {
			m.ProtocolMapper = (*ms)[i].ProtocolMapper
		}
		next := slices.Clone(*ms)
		next[i] = m
		if err := validateMappers(next); err != nil {
			return err
		}
		*ms = next
		return nil
	})
}

// DeleteMapper removes mapper id of the owner.
func (s *Service) DeleteMapper(ctx context.Context, realmName string, o MapperOwner, id string) error {
	return s.editOwner(ctx, realmName, o, func(ms *[]store.ProtocolMapper, _ *[]string) error {
		i := slices.IndexFunc(*ms, func(x store.ProtocolMapper) bool { return x.ID == id })
		if i < 0 {
			return store.ErrNotFound
		}
		*ms = slices.Delete(slices.Clone(*ms), i, i+1)
		return nil
	})
}

// ScopeRoleIDs returns the owner's scope-mapped role IDs.
func (s *Service) ScopeRoleIDs(ctx context.Context, realmName string, o MapperOwner) ([]string, error) {
	_, ids, err := s.owned(ctx, realmName, o)
	return ids, err
}

// SetScopeRoles adds (add) or removes scope mappings of the owner.
func (s *Service) SetScopeRoles(ctx context.Context, realmName string, o MapperOwner, add bool, roleIDs ...string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	if add {
		if err := s.checkRoleIDs(ctx, realmID, roleIDs); err != nil {
			return err
		}
	}
	return s.editOwner(ctx, realmName, o, func(_ *[]store.ProtocolMapper, roles *[]string) error {
		for _, id := range roleIDs {
			if add {
				*roles = appendOnce(*roles, id)
			} else {
				*roles = removeString(*roles, id)
			}
		}
		return nil
	})
}

func (s *Service) checkRoleIDs(ctx context.Context, realmID string, ids []string) error {
	for _, id := range ids {
		if _, err := s.store.GetRole(ctx, realmID, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return invalid("roles", "Role %s not found", id)
			}
			return err
		}
	}
	return nil
}
