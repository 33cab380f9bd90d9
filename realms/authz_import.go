package realms

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gatehouse/gatehouse/store"
)

// A resource server's authorization settings in a realm file: Keycloak's
// ResourceServerRepresentation under the client's authorizationSettings,
// its references by name (policies, resources and scopes by name, users
// by username, clients by clientId, roles by name or "clientId/role",
// groups by path), as Keycloak exports them. Gatehouse's access fields of
// a resource (access_mode, backend_roles by realm role name or group
// path) and its parent (by name) are written beside Keycloak's fields, as
// the admin API answers them. Record IDs are not carried: every
// reference is a name, so a realm moves without them. Access keys are
// not exported: they are secrets shown once, regenerated after a move.

// ImportAuthzSettings is Keycloak's ResourceServerRepresentation.
type ImportAuthzSettings struct {
	AllowRemoteResourceManagement *bool              `json:"allowRemoteResourceManagement,omitempty"`
	PolicyEnforcementMode         string             `json:"policyEnforcementMode,omitempty"`
	DecisionStrategy              string             `json:"decisionStrategy,omitempty"`
	Resources                     []AuthzResourceRep `json:"resources,omitempty"`
	Policies                      []AuthzPolicyRep   `json:"policies,omitempty"`
	Scopes                        []AuthzScopeRep    `json:"scopes,omitempty"`
}

// authzLeftOut returns st without the policies Gatehouse does not run
// (types such as js, time or regex, config it does not read) and those
// that apply them, since a permission or aggregate without one of its
// policies would decide otherwise; and the names of what it left out.
// The policies kept are in their typed form.
func authzLeftOut(field string, st ImportAuthzSettings) (ImportAuthzSettings, []string) {
	var left []string
	dropped := map[string]bool{}
	kept := make([]AuthzPolicyRep, 0, len(st.Policies))
	for _, p := range st.Policies {
		f := fmt.Sprintf("%s.policies[%s]", field, p.Name)
		if _, ok := policyFields[p.Type]; !ok {
			dropped[p.Name] = true
			left = append(left, fmt.Sprintf("%s (type %s)", f, p.Type))
			continue
		}
		if p.Type == PermScope && p.Config["defaultResourceType"] != "" && p.Config["resources"] != "" {
			// Keycloak's console writes the type beside the resources
			// it names; the resources decide.
			left = append(left, f+".config.defaultResourceType (a scope permission naming resources)")
			p.Config = cloneMap(p.Config)
			delete(p.Config, "defaultResourceType")
		}
		if err := p.FromConfig(); err != nil {
			dropped[p.Name] = true
			left = append(left, fmt.Sprintf("%s (%v)", f, err))
			continue
		}
		kept = append(kept, p)
	}
	for changed := true; changed; {
		changed = false
		kept = slices.DeleteFunc(kept, func(p AuthzPolicyRep) bool {
			for _, ref := range p.Policies {
				if dropped[ref] {
					dropped[p.Name], changed = true, true
					left = append(left, fmt.Sprintf("%s.policies[%s] (applies %s, left out)", field, p.Name, ref))
					return true
				}
			}
			return false
		})
	}
	st.Policies = kept
	return st, left
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// importAuthz writes a resource server's settings, scopes, resources and
// policies, acting as the server itself (which may register resources
// for any owner). Resources come after their parent and policies after
// those they apply, whatever their order in the file.
func (s *Service) importAuthz(ctx context.Context, realmID, field string, srv store.Client, st ImportAuthzSettings) error {
	caller := AuthzCaller{ClientID: srv.ID}
	settings := *srv.Authorization
	if st.AllowRemoteResourceManagement != nil {
		settings.AllowRemoteResourceManagement = *st.AllowRemoteResourceManagement
	}
	if st.PolicyEnforcementMode != "" {
		settings.PolicyEnforcementMode = st.PolicyEnforcementMode
	}
	if st.DecisionStrategy != "" {
		settings.DecisionStrategy = st.DecisionStrategy
	}
	if _, err := s.UpdateAuthzSettings(ctx, realmID, srv.ID, caller, settings); err != nil {
		return prefixField(field, err)
	}
	for i, sc := range st.Scopes {
		if _, err := s.CreateScope(ctx, realmID, srv.ID, caller, store.AuthzScope{Name: sc.Name, DisplayName: sc.DisplayName, IconURI: sc.IconURI}); err != nil {
			return prefixField(fmt.Sprintf("%s.scopes[%d]", field, i), err)
		}
	}
	created := map[string]string{} // resource name -> ID
	pending := slices.Clone(st.Resources)
	for len(pending) > 0 {
		before := len(pending)
		var err error
		pending = slices.DeleteFunc(pending, func(rep AuthzResourceRep) bool {
			if err != nil {
				return false
			}
			in := rep.Input()
			if rep.Parent != "" {
				id, ok := created[rep.Parent]
				if !ok {
					return false
				}
				in.ParentID = id
			}
			var res store.AuthzResource
			if res, err = s.CreateResource(ctx, realmID, srv.ID, caller, in); err != nil {
				err = prefixField(fmt.Sprintf("%s.resources[%s]", field, rep.Name), err)
				return false
			}
			created[rep.Name] = res.ID
			return true
		})
		if err != nil {
			return err
		}
		if len(pending) == before {
			return invalid(fmt.Sprintf("%s.resources[%s]", field, pending[0].Name), "no parent resource %q", pending[0].Parent)
		}
	}
	policies := slices.Clone(st.Policies)
	for i := range policies {
		if policies[i].Config != nil {
			if err := policies[i].FromConfig(); err != nil {
				return prefixField(fmt.Sprintf("%s.policies[%s]", field, policies[i].Name), err)
			}
		}
	}
	for len(policies) > 0 {
		waiting := map[string]bool{}
		for _, p := range policies {
			waiting[p.Name] = true
		}
		before := len(policies)
		var err error
		policies = slices.DeleteFunc(policies, func(rep AuthzPolicyRep) bool {
			if err != nil || slices.ContainsFunc(rep.Policies, func(n string) bool { return n != rep.Name && waiting[n] }) {
				return false
			}
			if _, err = s.CreatePolicy(ctx, realmID, srv.ID, caller, rep.Policy()); err != nil {
				err = prefixField(fmt.Sprintf("%s.policies[%s]", field, rep.Name), err)
				return false
			}
			return true
		})
		if err != nil {
			return err
		}
		if len(policies) == before {
			return invalid(fmt.Sprintf("%s.policies[%s]", field, policies[0].Name), "its policies apply each other")
		}
	}
	return nil
}

// ImportAuthorization writes the authorization settings of clients (a
// realm file's, as RealmImport.WithoutAuthorization split them off) into
// realm realmName, whose clients, roles, groups and users exist: a file
// import streams its users first, since resources and policies name them.
func (s *Service) ImportAuthorization(ctx context.Context, realmName string, clients []ImportClient) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	return s.writeAuthz(ctx, st.Realm.ID, clients)
}

func (s *Service) writeAuthz(ctx context.Context, realmID string, clients []ImportClient) error {
	for i, ic := range clients {
		if ic.AuthorizationSettings == nil || !ic.AuthorizationServicesEnabled {
			continue
		}
		c, err := s.ClientByClientID(ctx, realmID, ic.ClientID)
		if err != nil {
			return err
		}
		if c.Authorization == nil {
			continue // a built-in client, kept as the realm has it
		}
		if err := s.importAuthz(ctx, realmID, fmt.Sprintf("clients[%d].authorizationSettings", i), c, *ic.AuthorizationSettings); err != nil {
			return err
		}
	}
	return nil
}

// WithoutAuthorization returns imp with its clients' authorization
// settings taken out, and the clients that carried them.
func (imp RealmImport) WithoutAuthorization() (RealmImport, []ImportClient) {
	var with []ImportClient
	clients := slices.Clone(imp.Clients)
	for i, c := range clients {
		if c.AuthorizationSettings != nil {
			with = append(with, c)
			clients[i].AuthorizationSettings = nil
		}
	}
	imp.Clients = clients
	return imp, with
}

// exportAuthz writes resource server srv's settings with references by
// name (see the top of this file).
func (s *Service) exportAuthz(ctx context.Context, realmID string, srv store.Client) (*ImportAuthzSettings, error) {
	st := *srv.Authorization
	out := &ImportAuthzSettings{AllowRemoteResourceManagement: ptrTo(st.AllowRemoteResourceManagement),
		PolicyEnforcementMode: st.PolicyEnforcementMode, DecisionStrategy: st.DecisionStrategy}
	scopes, err := s.store.ListAuthzScopes(ctx, realmID, srv.ID)
	if err != nil {
		return nil, err
	}
	scopeName := map[string]string{}
	for _, sc := range scopes {
		scopeName[sc.ID] = sc.Name
		out.Scopes = append(out.Scopes, AuthzScopeRep{Name: sc.Name, DisplayName: sc.DisplayName, IconURI: sc.IconURI})
	}
	resources, err := s.store.ListAuthzResources(ctx, realmID, srv.ID, store.AuthzResourceQuery{})
	if err != nil {
		return nil, err
	}
	resName := map[string]string{}
	for _, res := range resources {
		resName[res.ID] = res.Name
	}
	for _, res := range resources {
		rep, err := s.ResourceRep(ctx, realmID, res)
		if err != nil {
			return nil, err
		}
		rep.ID, rep.Parent = "", resName[res.ParentID]
		switch {
		case res.OwnerID == srv.ID:
			rep.Owner = nil // the server's own, as Keycloak writes them
		case rep.Owner.Name != "":
			rep.Owner.ID = ""
		}
		for i := range rep.Scopes {
			rep.Scopes[i] = AuthzScopeRep{Name: rep.Scopes[i].Name}
		}
		out.Resources = append(out.Resources, rep)
	}
	policies, err := s.store.ListAuthzPolicies(ctx, realmID, srv.ID)
	if err != nil {
		return nil, err
	}
	policyName := map[string]string{}
	for _, p := range policies {
		policyName[p.ID] = p.Name
	}
	names := func(ids []string, of map[string]string) []string {
		var out []string
		for _, id := range ids {
			if n, ok := of[id]; ok {
				out = append(out, n)
			}
		}
		return out
	}
	for _, p := range policies {
		rep := s.PolicyRep(ctx, realmID, p, true)
		rep.ID = ""
		rep.Policies, rep.Resources, rep.Scopes = names(p.PolicyIDs, policyName), names(p.ResourceIDs, resName), names(p.ScopeIDs, scopeName)
		if rep.Roles, err = s.roleNames(ctx, realmID, rep.Roles); err != nil {
			return nil, err
		}
		for i := range rep.Groups {
			rep.Groups[i].ID = ""
		}
		rep.Users, rep.Clients = nil, nil
		for _, id := range p.UserIDs {
			u, err := s.TokenUser(ctx, realmID, id)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted since
			}
			if err != nil {
				return nil, err
			}
			rep.Users = append(rep.Users, u.Username)
		}
		for _, id := range p.ClientIDs {
			c, err := s.Client(ctx, realmID, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			rep.Clients = append(rep.Clients, c.ClientID)
		}
		out.Policies = append(out.Policies, rep.generic())
	}
	return out, nil
}

// roleNames writes a role policy's roles as Keycloak exports them: realm
// roles by name, client roles as "clientId/role".
func (s *Service) roleNames(ctx context.Context, realmID string, roles []AuthzPolicyRoleRep) ([]AuthzPolicyRoleRep, error) {
	var out []AuthzPolicyRoleRep
	for _, r := range roles {
		role, err := s.Role(ctx, realmID, r.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since
		}
		if err != nil {
			return nil, err
		}
		name := role.Name
		if role.ClientID != "" {
			c, err := s.Client(ctx, realmID, role.ClientID)
			if err != nil {
				return nil, err
			}
			name = c.ClientID + "/" + role.Name
		}
		out = append(out, AuthzPolicyRoleRep{ID: name, Required: r.Required})
	}
	return out, nil
}
