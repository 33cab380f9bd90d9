package realms

import (
	"context"
	"fmt"
	"slices"

	"github.com/gatehouse/gatehouse/store"
)

// ExportOptions selects what ExportRealm writes.
type ExportOptions struct {
	// Clients and GroupsAndRoles are partial-export's exportClients and
	// exportGroupsAndRoles.
	Clients, GroupsAndRoles bool
	// Users adds users with their hashed credentials (offline export only).
	Users bool
	// Secrets writes client and identity-provider secrets in clear; without
	// it they are masked as Keycloak's partial export masks them.
	Secrets bool
}

// ExportRealm writes a realm's roles, groups, clients, client scopes,
// identity providers and (with opts.Users) users in the shapes RealmImport
// reads, so that ImportRealm of a full export with secrets recreates the
// realm as it was: same IDs, secrets and password hashes.
func (s *Service) ExportRealm(ctx context.Context, realmName string, opts ExportOptions) (RealmImport, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return RealmImport{}, err
	}
	r := st.Realm
	var out RealmImport
	clients, err := s.allClients(ctx, r.ID)
	if err != nil {
		return out, err
	}
	clientIDOf := map[string]string{} // UUID -> clientId
	for _, c := range clients {
		clientIDOf[c.ID] = c.ClientID
	}
	roleNames := map[string]store.Role{}
	realmRoles, err := s.allRoles(ctx, r.ID, "")
	if err != nil {
		return out, err
	}
	clientRoles := map[string][]store.Role{}
	all := slices.Clone(realmRoles)
	for _, c := range clients {
		rs, err := s.allRoles(ctx, r.ID, c.ID)
		if err != nil {
			return out, err
		}
		if len(rs) > 0 {
			clientRoles[c.ClientID] = rs
		}
		all = append(all, rs...)
	}
	for _, role := range all {
		roleNames[role.ID] = role
	}
	names := func(ids []string) ([]string, map[string][]string) {
		var realm []string
		var client map[string][]string
		for _, id := range ids {
			role, ok := roleNames[id]
			switch {
			case !ok:
				continue // deleted since
			case role.ClientID == "":
				realm = append(realm, role.Name)
			default:
				if client == nil {
					client = map[string][]string{}
				}
				client[clientIDOf[role.ClientID]] = append(client[clientIDOf[role.ClientID]], role.Name)
			}
		}
		return realm, client
	}
	exportRole := func(role store.Role) ImportRole {
		ir := ImportRole{ID: role.ID, Name: role.Name, Description: role.Description, Attributes: role.Attributes}
		if len(role.Composites) > 0 {
			realm, client := names(role.Composites)
			ir.Composite, ir.Composites = true, &ImportComposites{Realm: realm, Client: client}
		}
		return ir
	}
	scopes, err := s.store.ListClientScopes(ctx, r.ID)
	if err != nil {
		return out, err
	}
	scopeName := map[string]string{}
	for _, cs := range scopes {
		scopeName[cs.ID] = cs.Name
	}
	scopeNamesOf := func(ids []string) []string {
		out := []string{}
		for _, id := range ids {
			if n, ok := scopeName[id]; ok {
				out = append(out, n)
			}
		}
		return out
	}
	out.DefaultDefaultClientScopes = scopeNamesOf(r.DefaultScopeIDs)
	out.DefaultOptionalClientScopes = scopeNamesOf(r.OptionalScopeIDs)
	// Scope mappings as Keycloak writes them: realm roles in
	// scopeMappings, a client's roles under its clientId.
	scopeMappings := func(client, scope string, roleIDs []string) {
		realm, byClient := names(roleIDs)
		if len(realm) > 0 {
			out.ScopeMappings = append(out.ScopeMappings, ImportScopeMapping{Client: client, ClientScope: scope, Roles: realm})
		}
		for _, clientID := range sortedKeys(byClient) {
			if out.ClientScopeMappings == nil {
				out.ClientScopeMappings = map[string][]ImportScopeMapping{}
			}
			out.ClientScopeMappings[clientID] = append(out.ClientScopeMappings[clientID],
				ImportScopeMapping{Client: client, ClientScope: scope, Roles: byClient[clientID]})
		}
	}
	for _, cs := range scopes {
		out.ClientScopes = append(out.ClientScopes, ImportClientScope{ID: cs.ID, Name: cs.Name, Description: cs.Description,
			Protocol: cs.Protocol, Attributes: cs.Attributes, ProtocolMappers: cs.ProtocolMappers})
		scopeMappings("", cs.Name, cs.ScopeRoleIDs)
	}
	if opts.GroupsAndRoles {
		out.Roles = &ImportRoles{}
		for _, role := range realmRoles {
			out.Roles.Realm = append(out.Roles.Realm, exportRole(role))
		}
		for clientID, rs := range clientRoles {
			if out.Roles.Client == nil {
				out.Roles.Client = map[string][]ImportRole{}
			}
			for _, role := range rs {
				out.Roles.Client[clientID] = append(out.Roles.Client[clientID], exportRole(role))
			}
		}
		if out.Groups, err = s.exportGroups(ctx, r.ID, "", names); err != nil {
			return out, err
		}
	}
	if opts.Clients {
		for _, c := range clients {
			ic := ImportClient{ID: c.ID, ClientID: c.ClientID, Name: c.Name, Description: c.Description, Enabled: ptrTo(c.Enabled),
				PublicClient: c.PublicClient, BearerOnly: c.BearerOnly, ConsentRequired: c.ConsentRequired,
				StandardFlowEnabled: ptrTo(c.StandardFlowEnabled), DirectAccessGrantsEnabled: c.DirectAccessGrantsEnabled,
				ServiceAccountsEnabled: c.ServiceAccountsEnabled, RedirectURIs: c.RedirectURIs, WebOrigins: c.WebOrigins,
				Attributes: c.Attributes, FullScopeAllowed: ptrTo(!c.RestrictScope), ProtocolMappers: c.ProtocolMappers}
			if c.ScopesAssigned {
				ic.DefaultClientScopes, ic.OptionalClientScopes = scopeNamesOf(c.DefaultScopeIDs), scopeNamesOf(c.OptionalScopeIDs)
			}
			if c.Secret != nil {
				ic.Secret = MaskedSecret
				if opts.Secrets {
					if ic.Secret, err = s.ClientSecret(ctx, r.Name, c.ID); err != nil {
						return out, fmt.Errorf("client %s: %w", c.ClientID, err)
					}
				}
			}
			if c.Authorization != nil {
				ic.AuthorizationServicesEnabled = true
				if ic.AuthorizationSettings, err = s.exportAuthz(ctx, r.ID, c); err != nil {
					return out, fmt.Errorf("client %s: %w", c.ClientID, err)
				}
			}
			out.Clients = append(out.Clients, ic)
			scopeMappings(c.ClientID, "", c.ScopeRoleIDs)
		}
	}
	idps, err := s.store.ListIdentityProviders(ctx, r.ID)
	if err != nil {
		return out, err
	}
	for _, p := range idps {
		cfg := map[string]string{}
		for k, v := range p.Config {
			cfg[k] = v
		}
		if len(p.SealedClientSecret) > 0 {
			cfg[idpClientSecret] = MaskedSecret
			if opts.Secrets {
				if cfg[idpClientSecret], err = s.IdentityProviderSecret(r.ID, p); err != nil {
					return out, err
				}
			}
		}
		out.IdentityProviders = append(out.IdentityProviders, ImportIdentityProvider{Alias: p.Alias, DisplayName: p.DisplayName,
			ProviderID: p.ProviderID, Enabled: ptrTo(p.Enabled), Config: cfg})
	}
	if !opts.Users {
		return out, nil
	}
	for p := (store.Page{Max: 1000}); ; p.First += p.Max {
		// Service accounts too: their roles are part of the realm (Keycloak
		// exports them with serviceAccountClientId).
		users, err := s.store.ListUsers(ctx, r.ID, store.UserQuery{Page: p, ServiceAccounts: true})
		if err != nil {
			return out, err
		}
		for _, u := range users {
			iu, err := s.exportUser(ctx, r.ID, u, clientIDOf, names)
			if err != nil {
				return out, err
			}
			out.Users = append(out.Users, iu)
		}
		if len(users) < p.Max {
			return out, nil
		}
	}
}

func (s *Service) exportUser(ctx context.Context, realmID string, u store.User, clientIDOf map[string]string,
	names func([]string) ([]string, map[string][]string)) (ImportUser, error) {
	iu := ImportUser{ID: u.ID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified, FirstName: u.FirstName,
		LastName: u.LastName, Enabled: u.Enabled, Attributes: u.Attributes, RequiredActions: u.RequiredActions,
		FederatedIdentities: u.FederatedIdentities}
	iu.RealmRoles, iu.ClientRoles = names(u.RoleIDs)
	if u.ServiceAccountClientID != "" {
		iu.ServiceAccountClientID = clientIDOf[u.ServiceAccountClientID]
	}
	for _, gid := range u.GroupIDs {
		path, err := s.GroupPath(ctx, realmID, gid)
		if err != nil {
			continue // deleted since
		}
		iu.Groups = append(iu.Groups, path)
	}
	for _, c := range u.Credentials {
		if c.Type != credTypePassword {
			continue
		}
		sd, cd, err := ExportKeycloakCredential(c)
		if err != nil {
			return iu, fmt.Errorf("user %s: %w", u.Username, err)
		}
		ic := ImportCredential{Type: c.Type, UserLabel: c.UserLabel, Temporary: c.Temporary, SecretData: sd, CredentialData: cd}
		if !c.CreatedAt.IsZero() {
			ic.CreatedDate = c.CreatedAt.UnixMilli()
		}
		iu.Credentials = append(iu.Credentials, ic)
	}
	return iu, nil
}

func (s *Service) exportGroups(ctx context.Context, realmID, parentID string, names func([]string) ([]string, map[string][]string)) ([]ImportGroup, error) {
	var out []ImportGroup
	for p := (store.Page{Max: 1000}); ; p.First += p.Max {
		gs, err := s.store.ListGroups(ctx, realmID, parentID, p)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			ig := ImportGroup{ID: g.ID, Name: g.Name, Description: g.Description, Attributes: g.Attributes}
			ig.RealmRoles, ig.ClientRoles = names(g.RoleIDs)
			if ig.SubGroups, err = s.exportGroups(ctx, realmID, g.ID, names); err != nil {
				return nil, err
			}
			out = append(out, ig)
		}
		if len(gs) < p.Max {
			return out, nil
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
