package realms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// validateResourceFields checks the descriptive fields of a resource.
func validateResourceFields(in ResourceInput) error {
	if err := printableName("name", in.Name, 255); err != nil {
		return err
	}
	if in.DisplayName != "" {
		if err := printableName("displayName", in.DisplayName, 255); err != nil {
			return err
		}
	}
	if len(in.Type) > 255 {
		return invalid("type", "type must be at most 255 bytes")
	}
	if len(in.Description) > 4096 {
		return invalid("description", "description must be at most 4096 bytes")
	}
	for _, u := range in.URIs {
		if strings.TrimSpace(u) == "" || len(u) > 2048 {
			return invalid("uris", "a URI must be non-empty and at most 2048 bytes")
		}
	}
	for k := range in.Attributes {
		if strings.TrimSpace(k) == "" {
			return invalid("attributes", "attribute names must not be empty")
		}
	}
	for _, sc := range in.Scopes {
		if strings.TrimSpace(sc) == "" {
			return invalid("scopes", "scope names must not be empty")
		}
	}
	switch in.AccessMode {
	case "", AccessPublic, AccessPrivate, AccessRestricted:
	default:
		return invalid("access_mode", "access_mode must be public, private or restricted")
	}
	return nil
}

// CreateResource registers a resource of resource server serverID.
//
// Who may: the server's admins and the server itself for any owner; any
// other user only for itself (Owner empty or naming the caller).
func (s *Service) CreateResource(ctx context.Context, realmID, serverID string, caller AuthzCaller, in ResourceInput) (store.AuthzResource, error) {
	if err := validateResourceFields(in); err != nil {
		return store.AuthzResource{}, err
	}
	srv, err := s.ResourceServer(ctx, realmID, serverID)
	if err != nil {
		return store.AuthzResource{}, err
	}
	a, err := s.actor(ctx, realmID, srv, caller)
	if err != nil {
		return store.AuthzResource{}, err
	}
	if a.anonymous() {
		return store.AuthzResource{}, ErrForbidden
	}
	ownerID := ""
	switch {
	case in.Owner != "":
		if ownerID, err = s.resolveOwner(ctx, realmID, in.Owner); err != nil {
			return store.AuthzResource{}, err
		}
	case a.admin:
		ownerID = srv.ID
	case a.userID != "" && a.clientID != "":
		ownerID = a.clientID // a service account creates for its client
	default:
		ownerID = a.userID
	}
	r := store.AuthzResource{ID: NewID(), ServerID: srv.ID, OwnerID: ownerID, CreatedAt: s.now().UTC()}
	if !a.admin && !a.owns(r) {
		return store.AuthzResource{}, ErrForbidden
	}
	if in.AccessMode == "" {
		in.AccessMode = AccessPrivate
	}
	if in.ParentID != "" {
		p, err := s.store.GetAuthzResource(ctx, realmID, in.ParentID)
		if err != nil || p.ServerID != srv.ID || !a.sees(p) {
			return store.AuthzResource{}, invalid("parentId", "no resource %q on this resource server", in.ParentID)
		}
	}
	if err := s.applyResource(ctx, realmID, srv, a, &r, in, true); err != nil {
		return store.AuthzResource{}, err
	}
	if err := s.store.CreateAuthzResource(ctx, realmID, r); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.AuthzResource{}, invalid("parentId", "no resource %q on this resource server", r.ParentID)
		}
		return store.AuthzResource{}, err
	}
	s.changed(ctx, realmID)
	return r, nil
}

// applyResource writes in onto r: descriptive fields always, access
// fields when given (or on create). It checks the access-mode rules that
// depend on the owner: backend roles only with restricted, each one the
// owner's; restricted needs backend roles or add_all_backend_roles, not
// both; add_all_backend_roles only by the owner (or the server for it).
func (s *Service) applyResource(ctx context.Context, realmID string, srv store.Client, a *authzActor, r *store.AuthzResource, in ResourceInput, create bool) error {
	// Only the owner and admins may create scopes by naming them (last,
	// once everything else is valid); for anyone else a scope the server
	// lacks is a change of scopes they may not make.
	createScopes := create || a.manages(*r)
	r.Name, r.DisplayName, r.Type, r.IconURI, r.Description = in.Name, in.DisplayName, in.Type, in.IconURI, in.Description
	r.URIs, r.Attributes = slices.Clone(in.URIs), maps.Clone(in.Attributes)
	r.OwnerManagedAccess = in.OwnerManagedAccess
	if create {
		r.ParentID = in.ParentID
	} else if in.ParentID != r.ParentID {
		return invalid("parentId", "a resource cannot move to another parent")
	}
	if !create && in.Owner != "" {
		ownerID, err := s.resolveOwner(ctx, realmID, in.Owner)
		if err != nil {
			return err
		}
		r.OwnerID = ownerID
	}
	mode := in.AccessMode
	if mode == "" {
		mode = r.AccessMode
	}
	rolesGiven := in.BackendRoles != nil || in.AddAllBackendRoles
	if rolesGiven && mode != AccessRestricted {
		return invalid("backend_roles", "backend_roles are only allowed with access_mode restricted")
	}
	if len(in.BackendRoles) > 0 && in.AddAllBackendRoles {
		return invalid("backend_roles", "give backend_roles or add_all_backend_roles, not both")
	}
	switch {
	case mode != AccessRestricted:
		r.BackendRoles = nil
	case rolesGiven:
		owner, ownerUser, err := s.ownerHoldings(ctx, realmID, r.OwnerID)
		if err != nil {
			return err
		}
		if in.AddAllBackendRoles {
			if !a.owns(*r) && a.clientID != srv.ID {
				return invalid("add_all_backend_roles", "only the owner can use add_all_backend_roles")
			}
			if r.BackendRoles, err = s.allBackendRoles(ctx, realmID, ownerUser); err != nil {
				return err
			}
			if len(r.BackendRoles) == 0 {
				return invalid("add_all_backend_roles", "the owner has no backend roles")
			}
		} else if r.BackendRoles, err = s.backendRoles(ctx, realmID, owner, in.BackendRoles); err != nil {
			return err
		}
		if len(r.BackendRoles) == 0 {
			return invalid("backend_roles", "access_mode restricted needs backend_roles or add_all_backend_roles")
		}
	case r.AccessMode != AccessRestricted || len(r.BackendRoles) == 0:
		return invalid("backend_roles", "access_mode restricted needs backend_roles or add_all_backend_roles")
	}
	r.AccessMode = mode
	var err error
	r.ScopeIDs, err = s.resourceScopes(ctx, realmID, srv.ID, in.Scopes, createScopes)
	return err
}

// resourceScopes resolves scope names or IDs, creating the unknown names
// when create is set (else they are ErrForbidden).
func (s *Service) resourceScopes(ctx context.Context, realmID, serverID string, refs []string, create bool) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	all, err := s.store.ListAuthzScopes(ctx, realmID, serverID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ref := range refs {
		id := ""
		for _, sc := range all {
			if sc.ID == ref || sc.Name == ref {
				id = sc.ID
				break
			}
		}
		if id == "" && !create {
			return nil, ErrForbidden
		}
		if id == "" {
			if err := printableName("scopes", ref, 255); err != nil {
				return nil, err
			}
			sc := store.AuthzScope{ID: NewID(), ServerID: serverID, Name: ref}
			err := s.store.CreateAuthzScope(ctx, realmID, sc)
			var ce *store.ConflictError
			if errors.As(err, &ce) { // created meanwhile
				if all, err = s.store.ListAuthzScopes(ctx, realmID, serverID); err != nil {
					return nil, err
				}
				for _, x := range all {
					if x.Name == ref {
						sc = x
					}
				}
			} else if err != nil {
				return nil, err
			} else {
				all = append(all, sc)
			}
			id = sc.ID
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// visibleResource reads a resource of the server that the caller may see:
// one it may not see is not found, as one that does not exist.
func (s *Service) visibleResource(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string) (store.AuthzResource, store.Client, *authzActor, error) {
	srv, err := s.ResourceServer(ctx, realmID, serverID)
	if err != nil {
		return store.AuthzResource{}, srv, nil, err
	}
	a, err := s.actor(ctx, realmID, srv, caller)
	if err != nil {
		return store.AuthzResource{}, srv, nil, err
	}
	r, err := s.store.GetAuthzResource(ctx, realmID, id)
	if err != nil {
		return r, srv, a, err
	}
	if r.ServerID != srv.ID || !a.sees(r) {
		return store.AuthzResource{}, srv, a, store.ErrNotFound
	}
	return r, srv, a, nil
}

// GetResource returns a resource the caller may see.
func (s *Service) GetResource(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string) (store.AuthzResource, error) {
	r, _, _, err := s.visibleResource(ctx, realmID, serverID, caller, id)
	return r, err
}

// UpdateResource replaces a resource's fields (see ResourceInput). The
// owner and admins may change anything; users sharing a backend role of a
// restricted resource only its name and description; others nothing.
func (s *Service) UpdateResource(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string, in ResourceInput) (store.AuthzResource, error) {
	if err := validateResourceFields(in); err != nil {
		return store.AuthzResource{}, err
	}
	cur, srv, a, err := s.visibleResource(ctx, realmID, serverID, caller, id)
	if err != nil {
		return cur, err
	}
	next := cur
	if err := s.applyResource(ctx, realmID, srv, a, &next, in, false); err != nil {
		return store.AuthzResource{}, err
	}
	if !a.manages(cur) {
		if !(cur.AccessMode == AccessRestricted && a.shares(cur)) || !onlyNameChanged(cur, next) {
			return store.AuthzResource{}, ErrForbidden
		}
	}
	out, err := s.store.UpdateAuthzResource(ctx, realmID, id, func(r *store.AuthzResource) error {
		if !sameAccess(*r, cur) {
			// Changed meanwhile: the rights checked above may not hold.
			return &StateError{Message: "resource changed concurrently; retry"}
		}
		key := r.AccessKey
		*r = next
		r.AccessKey = key
		return nil
	})
	if err == nil {
		s.changed(ctx, realmID)
	}
	return out, err
}

// onlyNameChanged: a and b differ at most in name, display name and
// description.
func onlyNameChanged(a, b store.AuthzResource) bool {
	a.Name, a.DisplayName, a.Description = b.Name, b.DisplayName, b.Description
	return resourceEqual(a, b)
}

func resourceEqual(a, b store.AuthzResource) bool {
	return a.ID == b.ID && a.ServerID == b.ServerID && a.Name == b.Name && a.DisplayName == b.DisplayName &&
		a.Type == b.Type && slices.Equal(a.URIs, b.URIs) && a.IconURI == b.IconURI &&
		slices.Equal(a.ScopeIDs, b.ScopeIDs) && attrsEqual(a.Attributes, b.Attributes) &&
		a.Description == b.Description && sameAccess(a, b) && a.ParentID == b.ParentID
}

func sameAccess(a, b store.AuthzResource) bool {
	return a.OwnerID == b.OwnerID && a.OwnerManagedAccess == b.OwnerManagedAccess &&
		a.AccessMode == b.AccessMode && slices.Equal(a.BackendRoles, b.BackendRoles)
}

func attrsEqual(a, b map[string][]string) bool {
	return maps.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

// DeleteResource deletes a resource; only its owner and admins may. A
// resource with children cannot go (StateError, 409).
func (s *Service) DeleteResource(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string) error {
	cur, _, a, err := s.visibleResource(ctx, realmID, serverID, caller, id)
	if err != nil {
		return err
	}
	if !a.manages(cur) {
		return ErrForbidden
	}
	err = s.store.DeleteAuthzResource(ctx, realmID, id)
	if errors.Is(err, store.ErrHasChildren) {
		return &StateError{Message: "resource " + cur.Name + " still has child resources"}
	}
	if err == nil {
		s.changed(ctx, realmID)
	}
	return err
}

// ListResources returns the resources of the server matching f that the
// caller may see (admins see all), ordered by name.
func (s *Service) ListResources(ctx context.Context, realmID, serverID string, caller AuthzCaller, f ResourceFilter) ([]store.AuthzResource, error) {
	srv, err := s.ResourceServer(ctx, realmID, serverID)
	if err != nil {
		return nil, err
	}
	a, err := s.actor(ctx, realmID, srv, caller)
	if err != nil {
		return nil, err
	}
	q := store.AuthzResourceQuery{ParentID: f.ParentID}
	if f.Owner != "" {
		if q.OwnerID, err = s.resolveOwner(ctx, realmID, f.Owner); err != nil {
			return []store.AuthzResource{}, nil // no such owner owns nothing
		}
	}
	all, err := s.store.ListAuthzResources(ctx, realmID, srv.ID, q)
	if err != nil {
		return nil, err
	}
	scopeID := ""
	if f.Scope != "" {
		scopes, err := s.authzScopes(ctx, realmID, srv.ID)
		if err != nil {
			return nil, err
		}
		for _, sc := range scopes {
			if sc.Name == f.Scope || sc.ID == f.Scope {
				scopeID = sc.ID
			}
		}
		if scopeID == "" {
			return []store.AuthzResource{}, nil
		}
	}
	return window(filtered(all, func(r store.AuthzResource) bool {
		return a.sees(r) && matchResource(r, f, scopeID)
	}), f.Page), nil
}

func matchResource(r store.AuthzResource, f ResourceFilter, scopeID string) bool {
	if f.Name != "" {
		if f.ExactName && r.Name != f.Name || !f.ExactName && !containsFold(r.Name, f.Name) {
			return false
		}
	}
	if f.Type != "" && !containsFold(r.Type, f.Type) {
		return false
	}
	if f.URI != "" && !slices.ContainsFunc(r.URIs, func(u string) bool { return containsFold(u, f.URI) }) {
		return false
	}
	return scopeID == "" || slices.Contains(r.ScopeIDs, scopeID)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// accessKeyPrefix marks a resource access key so that it is recognised in
// logs and secret scanners.
const accessKeyPrefix = "ghrk_"

func hashResourceKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateResourceAccessKey makes (or replaces) the resource's access key
// and returns it; it is never shown again. The previous key stops
// matching in the same commit. Only the owner and admins may.
func (s *Service) CreateResourceAccessKey(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string) (string, AccessKeyInfo, error) {
	cur, _, a, err := s.visibleResource(ctx, realmID, serverID, caller, id)
	if err != nil {
		return "", AccessKeyInfo{}, err
	}
	if !a.manages(cur) {
		return "", AccessKeyInfo{}, ErrForbidden
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", AccessKeyInfo{}, err
	}
	key := accessKeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	ak := &store.ResourceAccessKey{Hash: hashResourceKey(key), CreatedAt: s.now().UTC()}
	if _, err := s.store.UpdateAuthzResource(ctx, realmID, id, func(r *store.AuthzResource) error {
		r.AccessKey = ak
		return nil
	}); err != nil {
		return "", AccessKeyInfo{}, err
	}
	s.changed(ctx, realmID)
	return key, AccessKeyInfo{Exists: true, CreatedAt: ak.CreatedAt.UnixMilli()}, nil
}

// ResourceAccessKeyInfo tells the owner and admins whether the resource
// has an access key and when it was made.
func (s *Service) ResourceAccessKeyInfo(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string) (AccessKeyInfo, error) {
	cur, _, a, err := s.visibleResource(ctx, realmID, serverID, caller, id)
	if err != nil {
		return AccessKeyInfo{}, err
	}
	if !a.manages(cur) {
		return AccessKeyInfo{}, ErrForbidden
	}
	if cur.AccessKey == nil {
		return AccessKeyInfo{}, nil
	}
	return AccessKeyInfo{Exists: true, CreatedAt: cur.AccessKey.CreatedAt.UnixMilli()}, nil
}

// ResolveResourceByAccessKey finds the resource of the server whose
// current access key is key. The key names the resource; it grants
// nothing. A wrong or old key is store.ErrNotFound.
func (s *Service) ResolveResourceByAccessKey(ctx context.Context, realmID, serverID, key string) (store.AuthzResource, error) {
	if !strings.HasPrefix(key, accessKeyPrefix) || len(key) > 128 {
		return store.AuthzResource{}, store.ErrNotFound
	}
	h := hashResourceKey(key)
	r, err := s.store.GetAuthzResourceByAccessKey(ctx, realmID, h)
	if err != nil {
		return store.AuthzResource{}, err
	}
	if r.ServerID != serverID || r.AccessKey == nil ||
		subtle.ConstantTimeCompare([]byte(r.AccessKey.Hash), []byte(h)) != 1 {
		return store.AuthzResource{}, store.ErrNotFound
	}
	return r, nil
}
