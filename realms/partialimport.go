package realms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// What PartialImport does with a resource that exists already (Keycloak's
// ifResourceExists).
const (
	IfExistsFail      = "FAIL"
	IfExistsSkip      = "SKIP"
	IfExistsOverwrite = "OVERWRITE"
)

// PartialImportResult is Keycloak's PartialImportResults.
type PartialImportResult struct {
	Overwritten int                   `json:"overwritten"`
	Added       int                   `json:"added"`
	Skipped     int                   `json:"skipped"`
	Results     []PartialImportAction `json:"results"`
}

// PartialImportAction is one resource's outcome.
type PartialImportAction struct {
	Action       string `json:"action"` // ADDED, SKIPPED, OVERWRITTEN
	ResourceType string `json:"resourceType"`
	ResourceName string `json:"resourceName"`
	ID           string `json:"id"`
}

// PartialImport adds the clients, roles, identity providers, groups,
// users and scope mappings of imp to an existing realm. ifExists decides about resources that
// exist already: FAIL refuses the whole import (a StateError with
// Keycloak's message) before anything is written, SKIP leaves them as
// they are, OVERWRITE replaces them (deleted and created again; a realm
// role keeps its ID and mappings and takes the new description and
// attributes). Built-in clients are always skipped, as Keycloak does.
// Everything is checked before the first write; a write failing later
// leaves what was written before it (see README).
func (s *Service) PartialImport(ctx context.Context, realmName, ifExists string, imp RealmImport) (PartialImportResult, error) {
	res := PartialImportResult{Results: []PartialImportAction{}}
	imp = imp.withoutLegacy()
	switch ifExists {
	case "":
		ifExists = IfExistsFail
	case IfExistsFail, IfExistsSkip, IfExistsOverwrite:
	default:
		return res, invalid("ifResourceExists", "must be FAIL, SKIP or OVERWRITE")
	}
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return res, err
	}
	r := st.Realm
	if imp.ClientScopes != nil || imp.DefaultDefaultClientScopes != nil || imp.DefaultOptionalClientScopes != nil {
		return res, invalid("clientScopes", "a partial import carries no client scopes")
	}
	// Decide per resource, before any write.
	type undo func() error
	var overwrite []undo
	var plan []PartialImportAction
	exists := func(kind, name, id string) (keep bool, err error) {
		if id == "" {
			return true, nil
		}
		switch ifExists {
		case IfExistsFail:
			return false, &StateError{Message: existsMessage(kind, name)}
		case IfExistsSkip:
			res.Results = append(res.Results, PartialImportAction{"SKIPPED", kind, name, id})
			res.Skipped++
			return false, nil
		}
		plan = append(plan, PartialImportAction{"OVERWRITTEN", kind, name, id})
		return true, nil
	}
	known, err := s.realmNames(ctx, r.ID)
	if err != nil {
		return res, err
	}
	clients, err := s.allClients(ctx, r.ID)
	if err != nil {
		return res, err
	}
	byClientID := map[string]store.Client{}
	for _, c := range clients {
		byClientID[c.ClientID] = c
	}
	var kept RealmImport
	for _, ic := range imp.Clients {
		c, ok := byClientID[ic.ClientID]
		if ok && (builtinClientID(ic.ClientID) || c.Attributes[attrRealmClient] == "true") {
			res.Results = append(res.Results, PartialImportAction{"SKIPPED", "CLIENT", ic.ClientID, c.ID})
			res.Skipped++
			continue
		}
		keep, err := exists("CLIENT", ic.ClientID, c.ID)
		if err != nil {
			return res, err
		}
		if !keep {
			continue
		}
		if ok {
			id := c.ID
			overwrite = append(overwrite, func() error { return s.DeleteClient(ctx, r.Name, id) })
			ic.ID = id
			delete(known.clientIDs, ic.ClientID)
		}
		kept.Clients = append(kept.Clients, ic)
	}
	if imp.Roles != nil {
		kept.Roles = &ImportRoles{}
		for _, ir := range imp.Roles.Realm {
			role, err := s.RoleByName(ctx, r.ID, "", ir.Name)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return res, err
			}
			keep, err := exists("REALM_ROLE", ir.Name, role.ID)
			if err != nil {
				return res, err
			}
			if !keep {
				continue
			}
			if role.ID != "" {
				id, ir := role.ID, ir
				overwrite = append(overwrite, func() error {
					_, err := s.UpdateRole(ctx, r.Name, id, func(x *store.Role) error {
						x.Description, x.Attributes = ir.Description, ir.Attributes
						return nil
					})
					return err
				})
			}
			kept.Roles.Realm = append(kept.Roles.Realm, ir)
		}
		for clientID, roles := range imp.Roles.Client {
			c, ok := byClientID[clientID]
			for _, ir := range roles {
				var role store.Role
				if ok {
					if role, err = s.RoleByName(ctx, r.ID, c.ID, ir.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
						return res, err
					}
				}
				keep, err := exists("CLIENT_ROLE", clientID+"/"+ir.Name, role.ID)
				if err != nil {
					return res, err
				}
				if !keep {
					continue
				}
				if kept.Roles.Client == nil {
					kept.Roles.Client = map[string][]ImportRole{}
				}
				kept.Roles.Client[clientID] = append(kept.Roles.Client[clientID], ir)
			}
		}
	}
	for _, ip := range imp.IdentityProviders {
		id := ""
		if known.aliases[ip.Alias] {
			id = ip.Alias
		}
		keep, err := exists("IDP", ip.Alias, id)
		if err != nil {
			return res, err
		}
		if !keep {
			continue
		}
		if id != "" {
			alias := ip.Alias
			overwrite = append(overwrite, func() error { return s.DeleteIdentityProvider(ctx, r.Name, alias) })
			delete(known.aliases, alias)
		}
		kept.IdentityProviders = append(kept.IdentityProviders, ip)
	}
	for _, ig := range imp.Groups {
		g, err := s.GroupByPath(ctx, r.ID, "/"+ig.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return res, err
		}
		keep, err := exists("GROUP", ig.Name, g.ID)
		if err != nil {
			return res, err
		}
		if !keep {
			continue
		}
		if g.ID != "" {
			id := g.ID
			ig.ID = id
			overwrite = append(overwrite, func() error { return s.DeleteGroup(ctx, r.Name, id) })
			forgetSubtree(known.groupPaths, "/"+ig.Name)
		}
		kept.Groups = append(kept.Groups, ig)
	}
	for _, iu := range imp.Users {
		u, err := s.store.GetUserByUsername(ctx, r.ID, NormalizeUsername(iu.Username))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return res, err
		}
		keep, err := exists("USER", iu.Username, u.ID)
		if err != nil {
			return res, err
		}
		if !keep {
			continue
		}
		if u.ID != "" {
			id := u.ID
			iu.ID = id
			overwrite = append(overwrite, func() error { return s.DeleteUser(ctx, r.Name, id) })
		}
		kept.Users = append(kept.Users, iu)
	}
	// Scope mappings are no resources of their own: each adds roles to
	// what a client or client scope may put in its tokens, so a mapping
	// that is there already is neither a conflict nor overwritten, and
	// every mode adds the missing ones (those of a partial export post
	// back). They are checked before any write, applied after the
	// resources, and not listed in the results.
	if err := s.checkPartialScopeMappings(ctx, r.ID, imp, byClientID); err != nil {
		return res, err
	}
	kept.ScopeMappings, kept.ClientScopeMappings = imp.ScopeMappings, imp.ClientScopeMappings
	p, err := s.planImport(kept, known)
	if err != nil {
		return res, err
	}
	for _, o := range overwrite {
		if err := o(); err != nil {
			return res, fmt.Errorf("partial import: replacing: %w", err)
		}
	}
	if err := s.writeImport(ctx, r, kept, p); err != nil {
		return res, err
	}
	overwritten := map[string]bool{}
	for _, a := range plan {
		overwritten[a.ResourceType+"\x00"+a.ResourceName] = true
		res.Results = append(res.Results, a)
		res.Overwritten++
	}
	added := func(kind, name, id string) {
		if !overwritten[kind+"\x00"+name] {
			res.Results = append(res.Results, PartialImportAction{"ADDED", kind, name, id})
			res.Added++
		}
	}
	for _, c := range kept.Clients {
		got, _ := s.ClientByClientID(ctx, r.ID, c.ClientID)
		added("CLIENT", c.ClientID, got.ID)
	}
	if kept.Roles != nil {
		for _, ir := range kept.Roles.Realm {
			role, _ := s.RoleByName(ctx, r.ID, "", ir.Name)
			added("REALM_ROLE", ir.Name, role.ID)
		}
		for clientID, roles := range kept.Roles.Client {
			c, _ := s.ClientByClientID(ctx, r.ID, clientID)
			for _, ir := range roles {
				role, _ := s.RoleByName(ctx, r.ID, c.ID, ir.Name)
				added("CLIENT_ROLE", clientID+"/"+ir.Name, role.ID)
			}
		}
	}
	for _, ip := range kept.IdentityProviders {
		added("IDP", ip.Alias, ip.Alias)
	}
	for _, ig := range kept.Groups {
		g, _ := s.GroupByPath(ctx, r.ID, "/"+ig.Name)
		added("GROUP", ig.Name, g.ID)
	}
	for _, iu := range kept.Users {
		u, _ := s.store.GetUserByUsername(ctx, r.ID, NormalizeUsername(iu.Username))
		added("USER", iu.Username, u.ID)
	}
	return res, nil
}

// checkPartialScopeMappings checks that the scope mappings of imp name a
// client or client scope and roles that the realm has or imp brings.
func (s *Service) checkPartialScopeMappings(ctx context.Context, realmID string, imp RealmImport, byClientID map[string]store.Client) error {
	if len(imp.ScopeMappings) == 0 && len(imp.ClientScopeMappings) == 0 {
		return nil
	}
	scopes, err := s.store.ListClientScopes(ctx, realmID)
	if err != nil {
		return err
	}
	owner := func(field string, m ImportScopeMapping) error {
		switch {
		case m.Client != "" && m.ClientScope == "":
			if _, ok := byClientID[m.Client]; !ok && !slices.ContainsFunc(imp.Clients, func(c ImportClient) bool { return c.ClientID == m.Client }) {
				return invalid(field+".client", "no client %q", m.Client)
			}
		case m.ClientScope != "" && m.Client == "":
			if !slices.ContainsFunc(scopes, func(cs store.ClientScope) bool { return cs.Name == m.ClientScope }) {
				return invalid(field+".clientScope", "no client scope %q", m.ClientScope)
			}
		default:
			return invalid(field, "a scope mapping names either a client or a client scope")
		}
		return nil
	}
	// role reports whether the realm has, or imp brings, the role of
	// client clientID ("" for a realm role).
	role := func(clientID, name string) (bool, error) {
		var brought []ImportRole
		if imp.Roles != nil {
			brought = imp.Roles.Realm
			if clientID != "" {
				brought = imp.Roles.Client[clientID]
			}
		}
		if slices.ContainsFunc(brought, func(ir ImportRole) bool { return ir.Name == name }) {
			return true, nil
		}
		containerID := ""
		if clientID != "" {
			c, ok := byClientID[clientID]
			if !ok {
				return false, nil
			}
			containerID = c.ID
		}
		_, err := s.RoleByName(ctx, realmID, containerID, name)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	check := func(field, clientID string, m ImportScopeMapping) error {
		if err := owner(field, m); err != nil {
			return err
		}
		for _, name := range m.Roles {
			ok, err := role(clientID, name)
			if err != nil {
				return err
			}
			if !ok {
				return invalid(field+".roles", "no role %q", strings.TrimPrefix(clientID+"/"+name, "/"))
			}
		}
		return nil
	}
	for i, m := range imp.ScopeMappings {
		if err := check(fmt.Sprintf("scopeMappings[%d]", i), "", m); err != nil {
			return err
		}
	}
	for _, clientID := range sortedKeys(imp.ClientScopeMappings) {
		for i, m := range imp.ClientScopeMappings[clientID] {
			if err := check(fmt.Sprintf("clientScopeMappings.%s[%d]", clientID, i), clientID, m); err != nil {
				return err
			}
		}
	}
	return nil
}

func forgetSubtree(paths map[string]bool, root string) {
	for p := range paths {
		if p == root || len(p) > len(root) && p[:len(root)+1] == root+"/" {
			delete(paths, p)
		}
	}
}

// existsMessage is Keycloak's 409 message for a resource that exists.
func existsMessage(kind, name string) string {
	switch kind {
	case "USER":
		return fmt.Sprintf("User with user name %s already exists.", name)
	case "CLIENT":
		return fmt.Sprintf("Client id '%s' already exists", name)
	case "GROUP":
		return fmt.Sprintf("Group '%s' already exists", name)
	case "IDP":
		return fmt.Sprintf("Identity Provider '%s' already exists", name)
	case "REALM_ROLE":
		return fmt.Sprintf("Realm role '%s' already exists.", name)
	}
	return fmt.Sprintf("Client role '%s' already exists.", name)
}
