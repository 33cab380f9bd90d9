package realms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// RealmImport is the part of Keycloak's RealmRepresentation that is not a
// realm setting: the realm's roles, groups, clients and users, as a
// Keycloak export writes them. Unknown nested fields are ignored, as
// Keycloak ignores them.
type RealmImport struct {
	Roles             *ImportRoles             `json:"roles,omitempty"`
	Groups            []ImportGroup            `json:"groups,omitempty"`
	Clients           []ImportClient           `json:"clients,omitempty"`
	ClientScopes      []ImportClientScope      `json:"clientScopes,omitempty"`
	IdentityProviders []ImportIdentityProvider `json:"identityProviders,omitempty"`
	Users             []ImportUser             `json:"users,omitempty"`
	// The realm's default and optional client scopes, by name.
	DefaultDefaultClientScopes  []string `json:"defaultDefaultClientScopes,omitempty"`
	DefaultOptionalClientScopes []string `json:"defaultOptionalClientScopes,omitempty"`
	// ScopeMappings are the realm roles a client or client scope may put
	// in its tokens; ClientScopeMappings the same for the roles of the
	// client named by the key.
	ScopeMappings       []ImportScopeMapping            `json:"scopeMappings,omitempty"`
	ClientScopeMappings map[string][]ImportScopeMapping `json:"clientScopeMappings,omitempty"`
	// Exports of Keycloak 1.x call clients applications; an import reads
	// them as clients (see withoutLegacy) and an export never writes them.
	Applications             []legacyApplication             `json:"applications,omitempty"`
	ApplicationScopeMappings map[string][]ImportScopeMapping `json:"applicationScopeMappings,omitempty"`
}

// legacyAdminRoles are the realm-management roles of Keycloak 1.x that
// were renamed since, by their old name.
var legacyAdminRoles = map[string]string{"manage-applications": "manage-clients", "view-applications": "view-clients"}

// legacyAdminRoleNames renames Keycloak 1.x's admin roles in names, sorted
// and without duplicates.
func legacyAdminRoleNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if now := legacyAdminRoles[n]; now != "" {
			n = now
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ImportScopeMapping is Keycloak's ScopeMappingRepresentation: roles that
// a client (by clientId) or a client scope (by name) may put in tokens.
type ImportScopeMapping struct {
	Client      string   `json:"client,omitempty"`
	ClientScope string   `json:"clientScope,omitempty"`
	Roles       []string `json:"roles,omitempty"`
}

// legacyApplication is a Keycloak 1.x ApplicationRepresentation: a client
// whose name is its clientId.
type legacyApplication struct {
	ImportClient
	Name string `json:"name"`
}

// withoutLegacy returns imp with the names Keycloak 1.x exports used
// (applications, roles.application, applicationRoles, composites'
// application, applicationScopeMappings) moved to today's, as Keycloak
// itself reads such files.
func (imp RealmImport) withoutLegacy() RealmImport {
	for _, a := range imp.Applications {
		c := a.ImportClient
		if c.ClientID == "" {
			c.ClientID = a.Name
		}
		imp.Clients = append(imp.Clients, c)
	}
	imp.Applications = nil
	for k, v := range imp.ApplicationScopeMappings {
		if imp.ClientScopeMappings == nil {
			imp.ClientScopeMappings = map[string][]ImportScopeMapping{}
		}
		imp.ClientScopeMappings[k] = append(imp.ClientScopeMappings[k], v...)
	}
	imp.ApplicationScopeMappings = nil
	mergeNames := func(dst, src map[string][]string) map[string][]string {
		for k, v := range src {
			if dst == nil {
				dst = map[string][]string{}
			}
			if k == RealmManagementClientID {
				v = legacyAdminRoleNames(v)
			}
			dst[k] = slices.Compact(append(dst[k], v...))
		}
		return dst
	}
	legacyComposites := func(roles []ImportRole) []ImportRole {
		out := slices.Clone(roles)
		for i, r := range out {
			if r.Composites != nil && r.Composites.Application != nil {
				c := *r.Composites
				c.Client, c.Application = mergeNames(maps.Clone(c.Client), c.Application), nil
				out[i].Composites = &c
			}
		}
		return out
	}
	if imp.Roles != nil {
		roles := *imp.Roles
		roles.Realm = legacyComposites(roles.Realm)
		client := map[string][]ImportRole{}
		for k, v := range roles.Client {
			client[k] = legacyComposites(v)
		}
		for k, v := range roles.Application {
			v = legacyComposites(v)
			if k == RealmManagementClientID {
				// Keycloak 1.x's admin roles manage-applications and
				// view-applications are today's manage-clients and
				// view-clients, which every realm has.
				v = slices.DeleteFunc(v, func(r ImportRole) bool { return legacyAdminRoles[r.Name] != "" })
			}
			client[k] = append(client[k], v...)
		}
		if len(client) > 0 || roles.Client != nil {
			roles.Client = client
		}
		roles.Application = nil
		imp.Roles = &roles
	}
	users := slices.Clone(imp.Users)
	for i, u := range users {
		if u.ApplicationRoles != nil {
			users[i].ClientRoles, users[i].ApplicationRoles = mergeNames(maps.Clone(u.ClientRoles), u.ApplicationRoles), nil
		}
	}
	imp.Users = users
	return imp
}

// WithoutUnsupported returns imp without the parts Gatehouse does not run
// and, sorted, what it left out: client scopes of another protocol than
// OpenID Connect (with the references to them) and protocol mappers of a
// type or session note Gatehouse does not implement. Every Keycloak
// export carries such parts among its built-in scopes (role_list,
// service_account's client address notes), so a realm file imports with
// them named in its report rather than being refused for them.
func (imp RealmImport) WithoutUnsupported() (RealmImport, LeftOut) {
	var left []string
	mappers := func(field string, ms []store.ProtocolMapper) []store.ProtocolMapper {
		return slices.DeleteFunc(slices.Clone(ms), func(m store.ProtocolMapper) bool {
			var ve *ValidationError
			if err := supportedMapper(m); errors.As(err, &ve) {
				left = append(left, fmt.Sprintf("%s.protocolMappers[%s] (%s)", field, m.Name, ve.Message))
				return true
			}
			return false
		})
	}
	dropped := map[string]bool{}
	scopes := make([]ImportClientScope, 0, len(imp.ClientScopes))
	for _, cs := range imp.ClientScopes {
		if cs.Protocol != "" && cs.Protocol != ProtocolOIDC {
			dropped[cs.Name] = true
			left = append(left, fmt.Sprintf("clientScopes[%s] (protocol %s)", cs.Name, cs.Protocol))
			continue
		}
		cs.ProtocolMappers = mappers("clientScopes["+cs.Name+"]", cs.ProtocolMappers)
		scopes = append(scopes, cs)
	}
	without := func(names []string) []string {
		if names == nil {
			return nil
		}
		return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return dropped[n] })
	}
	if imp.ClientScopes != nil {
		imp.ClientScopes = scopes
	}
	imp.DefaultDefaultClientScopes = without(imp.DefaultDefaultClientScopes)
	imp.DefaultOptionalClientScopes = without(imp.DefaultOptionalClientScopes)
	out := LeftOut{clients: map[string]bool{}}
	var clients []ImportClient
	for _, c := range imp.Clients {
		if c.Protocol != "" && c.Protocol != ProtocolOIDC {
			out.clients[c.ClientID] = true
			left = append(left, fmt.Sprintf("clients[%s] (protocol %s, with its roles and every grant and mapping of them)", c.ClientID, c.Protocol))
			continue
		}
		c.ProtocolMappers = mappers("clients["+c.ClientID+"]", c.ProtocolMappers)
		if c.AuthorizationSettings != nil {
			f := "clients[" + c.ClientID + "].authorizationSettings"
			if !c.AuthorizationServicesEnabled {
				left = append(left, f+" (authorizationServicesEnabled is off)")
				c.AuthorizationSettings = nil
			} else {
				st, l := authzLeftOut(f, *c.AuthorizationSettings)
				c.AuthorizationSettings, left = &st, append(left, l...)
			}
		}
		c.DefaultClientScopes = without(c.DefaultClientScopes)
		c.OptionalClientScopes = without(c.OptionalClientScopes)
		clients = append(clients, c)
	}
	if imp.Clients != nil {
		imp.Clients = clients
	}
	imp = imp.withoutClients(out)
	if imp.Roles != nil && imp.Roles.Client[RealmManagementClientID] != nil {
		roles := *imp.Roles
		roles.Client = maps.Clone(roles.Client)
		rm := slices.Clone(roles.Client[RealmManagementClientID])
		for i, r := range rm {
			if r.Composites == nil {
				continue
			}
			if extra := adminCompositesLeftOut(&rm[i]); len(extra) > 0 {
				left = append(left, fmt.Sprintf("roles.client.%s[%s].composites (%s: the composites of built-in admin roles are fixed)",
					RealmManagementClientID, r.Name, strings.Join(extra, ", ")))
			}
		}
		roles.Client[RealmManagementClientID] = rm
		imp.Roles = &roles
	}
	keep := func(ms []ImportScopeMapping) []ImportScopeMapping {
		return slices.DeleteFunc(slices.Clone(ms), func(m ImportScopeMapping) bool { return dropped[m.ClientScope] })
	}
	imp.ScopeMappings = keep(imp.ScopeMappings)
	if imp.ClientScopeMappings != nil {
		csm := map[string][]ImportScopeMapping{}
		for k, v := range imp.ClientScopeMappings {
			csm[k] = keep(v)
		}
		imp.ClientScopeMappings = csm
	}
	slices.Sort(left)
	out.Names = left
	return imp, out
}

// LeftOut is what WithoutUnsupported left out of an import.
type LeftOut struct {
	// Names are the parts left out, sorted, e.g. "clientScopes[role_list]
	// (protocol saml)".
	Names []string
	// clients are the clientIds of the clients left out.
	clients map[string]bool
}

// User returns u without its roles of the clients left out, for users
// that are imported apart from the rest (a realm file's, in batches);
// false if u is the service account of such a client, left out with it.
func (l LeftOut) User(u ImportUser) (ImportUser, bool) {
	if l.clients[u.ServiceAccountClientID] {
		return u, false
	}
	if u.ClientRoles != nil {
		u.ClientRoles = maps.Clone(u.ClientRoles)
		maps.DeleteFunc(u.ClientRoles, func(k string, _ []string) bool { return l.clients[k] })
	}
	return u, true
}

// withoutClients returns imp without the roles of the clients l left out
// and every grant (to roles, groups, users, as composites) and scope
// mapping of them or to them.
func (imp RealmImport) withoutClients(l LeftOut) RealmImport {
	if len(l.clients) == 0 {
		return imp
	}
	roleList := func(rs []ImportRole) []ImportRole {
		out := slices.Clone(rs)
		for i, r := range out {
			if r.Composites != nil {
				c := *r.Composites
				c.Client = maps.Clone(c.Client)
				maps.DeleteFunc(c.Client, func(k string, _ []string) bool { return l.clients[k] })
				out[i].Composites = &c
			}
		}
		return out
	}
	if imp.Roles != nil {
		roles := ImportRoles{Realm: roleList(imp.Roles.Realm), Application: imp.Roles.Application}
		if imp.Roles.Client != nil {
			roles.Client = map[string][]ImportRole{}
			for k, v := range imp.Roles.Client {
				if !l.clients[k] {
					roles.Client[k] = roleList(v)
				}
			}
		}
		imp.Roles = &roles
	}
	var groups func([]ImportGroup) []ImportGroup
	groups = func(gs []ImportGroup) []ImportGroup {
		out := slices.Clone(gs)
		for i, g := range out {
			out[i].ClientRoles = maps.Clone(g.ClientRoles)
			maps.DeleteFunc(out[i].ClientRoles, func(k string, _ []string) bool { return l.clients[k] })
			out[i].SubGroups = groups(g.SubGroups)
		}
		return out
	}
	imp.Groups = groups(imp.Groups)
	var users []ImportUser
	for _, u := range imp.Users {
		if u, ok := l.User(u); ok {
			users = append(users, u)
		}
	}
	if imp.Users != nil {
		imp.Users = users
	}
	notTo := func(ms []ImportScopeMapping) []ImportScopeMapping {
		return slices.DeleteFunc(slices.Clone(ms), func(m ImportScopeMapping) bool { return l.clients[m.Client] })
	}
	imp.ScopeMappings = notTo(imp.ScopeMappings)
	if imp.ClientScopeMappings != nil {
		csm := map[string][]ImportScopeMapping{}
		for k, v := range imp.ClientScopeMappings {
			if !l.clients[k] {
				csm[k] = notTo(v)
			}
		}
		imp.ClientScopeMappings = csm
	}
	return imp
}

// adminCompositesLeftOut takes out of a realm-management role the
// composites a built-in admin role of that name does not have here (their
// set is fixed, see fixedComposites: Keycloak's view-users, say, contains
// query-users, Gatehouse's grants that right itself) and returns them as
// client/role or role names, sorted.
func adminCompositesLeftOut(r *ImportRole) []string {
	if r.Name != RealmAdminRole && !slices.Contains(RealmManagementRoles, r.Name) {
		return nil
	}
	var have []string
	if r.Name == RealmAdminRole {
		have = RealmManagementRoles
	}
	c := *r.Composites
	extra := slices.Clone(c.Realm)
	c.Realm = nil
	c.Client = map[string][]string{}
	for client, names := range r.Composites.Client {
		for _, n := range names {
			if client == RealmManagementClientID && slices.Contains(have, n) {
				c.Client[client] = append(c.Client[client], n)
			} else {
				extra = append(extra, client+"/"+n)
			}
		}
	}
	r.Composites = &c
	slices.Sort(extra)
	return extra
}

// ImportClientScope is Keycloak's ClientScopeRepresentation.
type ImportClientScope struct {
	ID              string                 `json:"id,omitempty"`
	Name            string                 `json:"name"`
	Description     string                 `json:"description,omitempty"`
	Protocol        string                 `json:"protocol,omitempty"`
	Attributes      map[string]string      `json:"attributes,omitempty"`
	ProtocolMappers []store.ProtocolMapper `json:"protocolMappers,omitempty"`
}

// ImportIdentityProvider is Keycloak's IdentityProviderRepresentation.
type ImportIdentityProvider struct {
	Alias       string            `json:"alias"`
	DisplayName string            `json:"displayName,omitempty"`
	ProviderID  string            `json:"providerId"`
	Enabled     *bool             `json:"enabled,omitempty"`
	Config      map[string]string `json:"config,omitempty"`
}

// ImportRoles is Keycloak's RolesRepresentation: realm roles, and client
// roles by clientId.
type ImportRoles struct {
	Realm  []ImportRole            `json:"realm,omitempty"`
	Client map[string][]ImportRole `json:"client,omitempty"`
	// Keycloak 1.x's name for Client.
	Application map[string][]ImportRole `json:"application,omitempty"`
}

// ImportRole is Keycloak's RoleRepresentation.
type ImportRole struct {
	ID          string              `json:"id,omitempty"`
	Name        string              `json:"name"`
	Description string              `json:"description,omitempty"`
	Composite   bool                `json:"composite,omitempty"`
	Composites  *ImportComposites   `json:"composites,omitempty"`
	Attributes  map[string][]string `json:"attributes,omitempty"`
}

// ImportComposites names a composite role's children: realm roles by name,
// client roles by clientId and name.
type ImportComposites struct {
	Realm  []string            `json:"realm,omitempty"`
	Client map[string][]string `json:"client,omitempty"`
	// Keycloak 1.x's name for Client.
	Application map[string][]string `json:"application,omitempty"`
}

// ImportGroup is Keycloak's GroupRepresentation.
type ImportGroup struct {
	ID          string              `json:"id,omitempty"`
	Name        string              `json:"name"`
	Description string              `json:"description,omitempty"`
	Attributes  map[string][]string `json:"attributes,omitempty"`
	RealmRoles  []string            `json:"realmRoles,omitempty"`
	ClientRoles map[string][]string `json:"clientRoles,omitempty"`
	SubGroups   []ImportGroup       `json:"subGroups,omitempty"`
}

// ImportClient is Keycloak's ClientRepresentation, limited to what a
// store.Client holds.
type ImportClient struct {
	ID                        string            `json:"id,omitempty"`
	ClientID                  string            `json:"clientId"`
	Name                      string            `json:"name,omitempty"`
	Description               string            `json:"description,omitempty"`
	Enabled                   *bool             `json:"enabled,omitempty"`
	PublicClient              bool              `json:"publicClient,omitempty"`
	BearerOnly                bool              `json:"bearerOnly,omitempty"`
	ConsentRequired           bool              `json:"consentRequired,omitempty"`
	StandardFlowEnabled       *bool             `json:"standardFlowEnabled,omitempty"`
	DirectAccessGrantsEnabled bool              `json:"directAccessGrantsEnabled,omitempty"`
	ServiceAccountsEnabled    bool              `json:"serviceAccountsEnabled,omitempty"`
	Secret                    string            `json:"secret,omitempty"`
	RedirectURIs              []string          `json:"redirectUris,omitempty"`
	WebOrigins                []string          `json:"webOrigins,omitempty"`
	Attributes                map[string]string `json:"attributes,omitempty"`
	FullScopeAllowed          *bool             `json:"fullScopeAllowed,omitempty"`
	// Only OpenID Connect clients authenticating with a secret exist
	// here; others are refused rather than imported as something else.
	Protocol                string `json:"protocol,omitempty"`
	ClientAuthenticatorType string `json:"clientAuthenticatorType,omitempty"`
	// Client scopes by name; absent, the realm's defaults.
	DefaultClientScopes  []string               `json:"defaultClientScopes,omitempty"`
	OptionalClientScopes []string               `json:"optionalClientScopes,omitempty"`
	ProtocolMappers      []store.ProtocolMapper `json:"protocolMappers,omitempty"`
	// A confidential client with authorization services is a resource
	// server; its settings are read only then (as Keycloak reads them).
	AuthorizationServicesEnabled bool                 `json:"authorizationServicesEnabled,omitempty"`
	AuthorizationSettings        *ImportAuthzSettings `json:"authorizationSettings,omitempty"`
}

// ImportUser is Keycloak's UserRepresentation as an export writes it.
type ImportUser struct {
	ID                     string                    `json:"id,omitempty"`
	Username               string                    `json:"username"`
	Email                  string                    `json:"email,omitempty"`
	EmailVerified          bool                      `json:"emailVerified,omitempty"`
	FirstName              string                    `json:"firstName,omitempty"`
	LastName               string                    `json:"lastName,omitempty"`
	Enabled                bool                      `json:"enabled,omitempty"`
	Attributes             map[string][]string       `json:"attributes,omitempty"`
	Credentials            []ImportCredential        `json:"credentials,omitempty"`
	RequiredActions        []string                  `json:"requiredActions,omitempty"`
	RealmRoles             []string                  `json:"realmRoles,omitempty"`
	ClientRoles            map[string][]string       `json:"clientRoles,omitempty"`
	Groups                 []string                  `json:"groups,omitempty"`
	ServiceAccountClientID string                    `json:"serviceAccountClientId,omitempty"`
	FederatedIdentities    []store.FederatedIdentity `json:"federatedIdentities,omitempty"`
	// Keycloak 1.x's name for ClientRoles.
	ApplicationRoles map[string][]string `json:"applicationRoles,omitempty"`
}

// ImportCredential is Keycloak's CredentialRepresentation: a clear-text
// value, or a stored hash as secretData and credentialData.
type ImportCredential struct {
	Type           string `json:"type"`
	UserLabel      string `json:"userLabel,omitempty"`
	CreatedDate    int64  `json:"createdDate,omitempty"`
	Value          string `json:"value,omitempty"`
	Temporary      bool   `json:"temporary,omitempty"`
	SecretData     string `json:"secretData,omitempty"`
	CredentialData string `json:"credentialData,omitempty"`
	// Exports of Keycloak before 11 carry the hash in these fields.
	HashedSaltedValue string `json:"hashedSaltedValue,omitempty"`
	Salt              string `json:"salt,omitempty"`
	HashIterations    int    `json:"hashIterations,omitempty"`
	Algorithm         string `json:"algorithm,omitempty"`
}

// ImportRealm creates a realm with its settings (r, as CreateRealm takes
// it) and the roles, groups, clients and users of imp. It is all or
// nothing: everything that can be checked without the realm (credentials,
// names, references between elements) is checked before anything is
// written, and if a write still fails the new realm is deleted again. A
// ValidationError names the element (e.g. users[2].credentials[0]).
func (s *Service) ImportRealm(ctx context.Context, r store.Realm, imp RealmImport) (store.Realm, error) {
	imp = imp.withoutLegacy()
	plan, err := s.planImport(imp, knownNames{})
	if err != nil {
		return store.Realm{}, err
	}
	created, err := s.CreateRealm(ctx, r)
	if err != nil {
		return store.Realm{}, err
	}
	if err := s.writeImport(ctx, created, imp, plan); err != nil {
		// The realm is new and nobody else has used it yet: removing it
		// undoes the whole import.
		if derr := s.DeleteRealm(context.WithoutCancel(ctx), created.Name); derr != nil {
			return store.Realm{}, errors.Join(err, fmt.Errorf("import: removing the half-imported realm: %w", derr))
		}
		return store.Realm{}, err
	}
	return created, nil
}

// importPlan is what planImport prepares: the users' credentials, already
// parsed and bounded, by index.
type importPlan struct {
	creds [][]store.Credential
}

// knownNames are what an import into an existing realm may refer to
// besides the representation's own elements.
type knownNames struct {
	clientIDs, groupPaths, aliases map[string]bool
}

// planImport checks imp without touching the store; references may also
// name what known lists.
func (s *Service) planImport(imp RealmImport, known knownNames) (importPlan, error) {
	plan := importPlan{creds: make([][]store.Credential, len(imp.Users))}
	realmRoles := map[string]bool{}
	clientRoles := map[string]map[string]bool{}
	clientIDs := maps.Clone(known.clientIDs)
	if clientIDs == nil {
		clientIDs = map[string]bool{}
	}
	for i, c := range imp.Clients {
		field := fmt.Sprintf("clients[%d]", i)
		if c.ClientID == "" {
			return plan, invalid(field, "clientId is missing")
		}
		if c.Protocol != "" && c.Protocol != "openid-connect" {
			return plan, invalid(field, "protocol %q is not supported (only openid-connect)", c.Protocol)
		}
		if c.ClientAuthenticatorType != "" && c.ClientAuthenticatorType != "client-secret" {
			return plan, invalid(field, "clientAuthenticatorType %q is not supported (only client-secret)", c.ClientAuthenticatorType)
		}
		if c.AuthorizationSettings != nil {
			// What a realm file carries that Gatehouse does not run was
			// left out and reported (WithoutUnsupported); a partial
			// import refuses it instead.
			if _, left := authzLeftOut(field+".authorizationSettings", *c.AuthorizationSettings); len(left) > 0 {
				return plan, invalid(field+".authorizationSettings", "not supported: %s", strings.Join(left, ", "))
			}
		}
		if clientIDs[c.ClientID] && !known.clientIDs[c.ClientID] {
			return plan, invalid(field, "client %q appears twice", c.ClientID)
		}
		clientIDs[c.ClientID] = true
	}
	if imp.Roles != nil {
		for i, role := range imp.Roles.Realm {
			field := fmt.Sprintf("roles.realm[%d]", i)
			if err := checkImportName(field, role.Name, realmRoles); err != nil {
				return plan, err
			}
		}
		for clientID, roles := range imp.Roles.Client {
			if !clientIDs[clientID] && !builtinClientID(clientID) {
				return plan, invalid("roles.client."+clientID, "no client %q in the representation", clientID)
			}
			clientRoles[clientID] = map[string]bool{}
			for i, role := range roles {
				if err := checkImportName(fmt.Sprintf("roles.client.%s[%d]", clientID, i), role.Name, clientRoles[clientID]); err != nil {
					return plan, err
				}
			}
		}
	}
	scopeNames := map[string]bool{}
	for i, cs := range imp.ClientScopes {
		if err := checkImportName(fmt.Sprintf("clientScopes[%d]", i), cs.Name, scopeNames); err != nil {
			return plan, err
		}
	}
	aliases := map[string]bool{}
	for i, p := range imp.IdentityProviders {
		if err := checkImportName(fmt.Sprintf("identityProviders[%d]", i), p.Alias, aliases); err != nil {
			return plan, err
		}
	}
	for a := range known.aliases {
		aliases[a] = true
	}
	groupPaths := map[string]bool{}
	var walk func(prefix, field string, gs []ImportGroup) error
	walk = func(prefix, field string, gs []ImportGroup) error {
		for i, g := range gs {
			f := fmt.Sprintf("%s[%d]", field, i)
			if g.Name == "" || strings.Contains(g.Name, "/") {
				return invalid(f, "group name %q must be non-empty and without '/'", g.Name)
			}
			path := prefix + "/" + g.Name
			if groupPaths[path] {
				return invalid(f, "group %q appears twice", path)
			}
			groupPaths[path] = true
			if err := walk(path, f+".subGroups", g.SubGroups); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("", "groups", imp.Groups); err != nil {
		return plan, err
	}
	for p := range known.groupPaths {
		groupPaths[p] = true
	}
	usernames, emails := map[string]bool{}, map[string]bool{}
	for i, u := range imp.Users {
		field := fmt.Sprintf("users[%d]", i)
		name := NormalizeUsername(u.Username)
		if u.ServiceAccountClientID != "" {
			if !clientIDs[u.ServiceAccountClientID] && !builtinClientID(u.ServiceAccountClientID) {
				return plan, invalid(field, "service account of unknown client %q", u.ServiceAccountClientID)
			}
		} else if err := checkImportName(field, name, usernames); err != nil {
			return plan, err
		}
		if e := strings.ToLower(u.Email); e != "" {
			if emails[e] {
				return plan, invalid(field+".email", "email %q appears twice", u.Email)
			}
			emails[e] = true
		}
		for _, f := range u.FederatedIdentities {
			if !aliases[f.IdentityProvider] {
				return plan, invalid(field+".federatedIdentities", "no identity provider %q in the representation", f.IdentityProvider)
			}
		}
		for _, g := range u.Groups {
			if !groupPaths["/"+strings.TrimPrefix(g, "/")] {
				return plan, invalid(field+".groups", "no group %q in the representation", g)
			}
		}
		for j, c := range u.Credentials {
			cf := fmt.Sprintf("%s.credentials[%d]", field, j)
			cred, err := s.importCredential(c)
			if err != nil {
				return plan, invalid(cf, "%v", err)
			}
			plan.creds[i] = append(plan.creds[i], cred)
		}
		if len(plan.creds[i]) > 1 {
			return plan, invalid(field+".credentials", "a user has at most one password")
		}
	}
	return plan, nil
}

func checkImportName(field, name string, seen map[string]bool) error {
	if name == "" {
		return invalid(field, "name is missing")
	}
	if seen[name] {
		return invalid(field, "%q appears twice", name)
	}
	seen[name] = true
	return nil
}

// builtinClientID tells the clients every new realm has, which an export
// lists too and the import therefore merges instead of creating.
func builtinClientID(clientID string) bool {
	if clientID == RealmManagementClientID {
		return true
	}
	clients, _ := defaultClients("", time.Time{})
	return slices.ContainsFunc(clients, func(c store.Client) bool { return c.ClientID == clientID })
}

// importCredential turns a CredentialRepresentation into a stored
// credential: a clear value is hashed, a stored hash is checked against
// the work bounds.
func (s *Service) importCredential(c ImportCredential) (store.Credential, error) {
	if c.Type != credTypePassword {
		return store.Credential{}, fmt.Errorf("credential type %q is not supported", c.Type)
	}
	var cred store.Credential
	var err error
	if c.HashedSaltedValue != "" {
		if c.SecretData != "" || c.CredentialData != "" || c.Value != "" {
			return store.Credential{}, errors.New("hashedSaltedValue and value or secretData are exclusive")
		}
		if c.Algorithm == "" {
			// Keycloak 1.x wrote no algorithm: its only one was
			// PBKDF2 with HMAC-SHA1.
			c.Algorithm = algPBKDF2SHA1
		}
		// The same credential in today's shape.
		sd, _ := json.Marshal(kcSecretData{Value: c.HashedSaltedValue, Salt: c.Salt})
		cd, _ := json.Marshal(kcCredentialData{HashIterations: c.HashIterations, Algorithm: c.Algorithm})
		c.SecretData, c.CredentialData = string(sd), string(cd)
	}
	switch {
	case c.SecretData != "" || c.CredentialData != "":
		if c.Value != "" {
			return store.Credential{}, errors.New("value and secretData are exclusive")
		}
		cred, err = ImportKeycloakCredential(c.SecretData, c.CredentialData, c.CreatedDate)
	case c.Value != "":
		cred, err = s.newPasswordCredential(c.Value, c.Temporary)
	default:
		return store.Credential{}, errors.New("password credential without value or secretData")
	}
	if err != nil {
		return store.Credential{}, err
	}
	cred.UserLabel = c.UserLabel
	cred.Temporary = c.Temporary
	if cred.CreatedAt.IsZero() {
		cred.CreatedAt = s.now().UTC()
	}
	return cred, nil
}

// importIDs resolves names of the new realm's roles, clients and groups.
type importIDs struct {
	realmID     string
	clients     map[string]store.Client // by clientId
	realmRoles  map[string]string
	clientRoles map[string]map[string]string
	groups      map[string]string // by path
}

func (ids *importIDs) roles(field string, realm []string, client map[string][]string) ([]string, error) {
	var out []string
	for _, n := range realm {
		id, ok := ids.realmRoles[n]
		if !ok {
			return nil, invalid(field, "no realm role %q", n)
		}
		out = append(out, id)
	}
	for clientID, names := range client {
		for _, n := range names {
			id, ok := ids.clientRoles[clientID][n]
			if !ok {
				return nil, invalid(field, "no role %q of client %q", n, clientID)
			}
			out = append(out, id)
		}
	}
	return out, nil
}

// keepID uses an exported ID when it is a valid one, so that tokens and
// references made before the move (a user's sub above all) stay valid.
func keepID(id string) string {
	if id != "" && ValidEntityID(id) {
		return id
	}
	return NewID()
}

func (s *Service) writeImport(ctx context.Context, r store.Realm, imp RealmImport, plan importPlan) error {
	ids := &importIDs{realmID: r.ID, clients: map[string]store.Client{}, realmRoles: map[string]string{},
		clientRoles: map[string]map[string]string{}, groups: map[string]string{}}
	// An import into an existing realm may put users in its groups.
	groupsNow, err := s.AllGroups(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, g := range groupsNow {
		if path, err := s.GroupPath(ctx, r.ID, g.ID); err == nil {
			ids.groups[path] = g.ID
		}
	}
	existing, err := s.allClients(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, c := range existing {
		ids.clients[c.ClientID] = c
	}
	scopes, err := s.importClientScopes(ctx, r, imp)
	if err != nil {
		return err
	}
	for i, ic := range imp.Clients {
		field := fmt.Sprintf("clients[%d]", i)
		if _, ok := ids.clients[ic.ClientID]; ok {
			continue // a built-in client: the new realm's own is kept
		}
		c := store.Client{ID: keepID(ic.ID), ClientID: ic.ClientID, Name: ic.Name, Description: ic.Description,
			Enabled: ic.Enabled == nil || *ic.Enabled, PublicClient: ic.PublicClient, BearerOnly: ic.BearerOnly,
			ConsentRequired: ic.ConsentRequired, StandardFlowEnabled: ic.StandardFlowEnabled == nil || *ic.StandardFlowEnabled,
			DirectAccessGrantsEnabled: ic.DirectAccessGrantsEnabled, ServiceAccountsEnabled: ic.ServiceAccountsEnabled,
			RedirectURIs: ic.RedirectURIs, WebOrigins: ic.WebOrigins, Attributes: ic.Attributes,
			RestrictScope: ic.FullScopeAllowed != nil && !*ic.FullScopeAllowed, ProtocolMappers: slices.Clone(ic.ProtocolMappers)}
		if ic.DefaultClientScopes != nil || ic.OptionalClientScopes != nil {
			c.ScopesAssigned = true
			if c.DefaultScopeIDs, err = scopes.ids(field+".defaultClientScopes", ic.DefaultClientScopes); err != nil {
				return err
			}
			if c.OptionalScopeIDs, err = scopes.ids(field+".optionalClientScopes", ic.OptionalClientScopes); err != nil {
				return err
			}
		}
		for j := range c.ProtocolMappers {
			c.ProtocolMappers[j].ID = keepID(c.ProtocolMappers[j].ID)
		}
		if ic.AuthorizationServicesEnabled {
			// Its settings, resources and policies come last (see
			// writeAuthz): they name users.
			st := DefaultAuthzSettings()
			c.Authorization = &st
		}
		secret := ic.Secret
		if secret == MaskedSecret {
			// A partial export's mask is no secret: a fresh one is made.
			secret = ""
		}
		created, _, err := s.CreateClient(ctx, r.Name, NewClient{Client: c, Secret: secret})
		if err != nil {
			return prefixField(field, err)
		}
		ids.clients[created.ClientID] = created
	}
	roles, err := s.allRoles(ctx, r.ID, "")
	if err != nil {
		return err
	}
	for _, role := range roles {
		ids.realmRoles[role.Name] = role.ID
	}
	for clientID, c := range ids.clients {
		roles, err := s.allRoles(ctx, r.ID, c.ID)
		if err != nil {
			return err
		}
		ids.clientRoles[clientID] = map[string]string{}
		for _, role := range roles {
			ids.clientRoles[clientID][role.Name] = role.ID
		}
	}
	// Roles first, composites once every role exists (they may refer
	// forward).
	type composite struct {
		field, id string
		of        *ImportComposites
	}
	var composites []composite
	create := func(field, clientID string, ir ImportRole, byName map[string]string) error {
		if id, ok := byName[ir.Name]; ok {
			// A role every new realm has (offline_access, the default
			// role, a built-in client's): keep it, take its composites.
			composites = append(composites, composite{field, id, ir.Composites})
			return nil
		}
		role := store.Role{ID: keepID(ir.ID), Name: ir.Name, Description: ir.Description, Attributes: ir.Attributes}
		if clientID != "" {
			role.ClientID = ids.clients[clientID].ID
		}
		created, err := s.CreateRole(ctx, r.Name, role)
		if err != nil {
			return prefixField(field, err)
		}
		byName[ir.Name] = created.ID
		composites = append(composites, composite{field, created.ID, ir.Composites})
		return nil
	}
	if imp.Roles != nil {
		for i, ir := range imp.Roles.Realm {
			if err := create(fmt.Sprintf("roles.realm[%d]", i), "", ir, ids.realmRoles); err != nil {
				return err
			}
		}
		for _, clientID := range sortedKeys(imp.Roles.Client) {
			for i, ir := range imp.Roles.Client[clientID] {
				if err := create(fmt.Sprintf("roles.client.%s[%d]", clientID, i), clientID, ir, ids.clientRoles[clientID]); err != nil {
					return err
				}
			}
		}
	}
	for _, c := range composites {
		if c.of == nil {
			continue
		}
		children, err := ids.roles(c.field+".composites", c.of.Realm, c.of.Client)
		if err != nil {
			return err
		}
		// A built-in role already has its composites (an export lists
		// them too): add only what it lacks.
		have, err := s.store.GetRole(ctx, r.ID, c.id)
		if err != nil {
			return err
		}
		children = slices.DeleteFunc(children, func(id string) bool { return slices.Contains(have.Composites, id) })
		if len(children) == 0 {
			continue
		}
		if err := s.AddComposites(ctx, r.Name, c.id, children...); err != nil {
			return prefixField(c.field+".composites", err)
		}
	}
	var groups func(parentID, prefix, field string, gs []ImportGroup) error
	groups = func(parentID, prefix, field string, gs []ImportGroup) error {
		for i, ig := range gs {
			f := fmt.Sprintf("%s[%d]", field, i)
			roleIDs, err := ids.roles(f, ig.RealmRoles, ig.ClientRoles)
			if err != nil {
				return err
			}
			g, err := s.CreateGroup(ctx, r.Name, store.Group{ID: keepID(ig.ID), Name: ig.Name, Description: ig.Description,
				ParentID: parentID, Attributes: ig.Attributes, RoleIDs: roleIDs})
			if err != nil {
				return prefixField(f, err)
			}
			path := prefix + "/" + ig.Name
			ids.groups[path] = g.ID
			if err := groups(g.ID, path, f+".subGroups", ig.SubGroups); err != nil {
				return err
			}
		}
		return nil
	}
	if err := groups("", "", "groups", imp.Groups); err != nil {
		return err
	}
	for i, ip := range imp.IdentityProviders {
		p := store.IdentityProvider{Alias: ip.Alias, DisplayName: ip.DisplayName, ProviderID: ip.ProviderID,
			Enabled: ip.Enabled == nil || *ip.Enabled, Config: maps.Clone(ip.Config)}
		if _, err := s.CreateIdentityProvider(ctx, r.Name, p); err != nil {
			return prefixField(fmt.Sprintf("identityProviders[%d]", i), err)
		}
	}
	if err := s.importScopeMappings(ctx, r, imp, ids, scopes); err != nil {
		return err
	}
	if err := s.writeUsers(ctx, r, ids, 0, imp.Users, plan.creds); err != nil {
		return err
	}
	return s.writeAuthz(ctx, r.ID, imp.Clients)
}

// ImportBatch is how many users an import writes in one store
// transaction.
const ImportBatch = 1000

// writeUsers writes users (numbered from first in the representation) in
// transactions of ImportBatch users; a service account only takes its
// roles, its user being the client's.
func (s *Service) writeUsers(ctx context.Context, r store.Realm, ids *importIDs, first int, users []ImportUser, creds [][]store.Credential) error {
	defer s.changed(ctx, r.ID)
	batch := make([]store.User, 0, min(len(users), ImportBatch))
	from := first
	flush := func(next int) error {
		if len(batch) > 0 {
			if err := s.store.CreateUsers(ctx, r.ID, batch); err != nil {
				return prefixField(fmt.Sprintf("users[%d:%d]", from, next), err)
			}
		}
		batch, from = batch[:0], next
		return nil
	}
	for i, iu := range users {
		u, err := s.importUser(ctx, r, ids, fmt.Sprintf("users[%d]", first+i), iu, creds[i])
		if err != nil {
			return err
		}
		if u.ID != "" {
			batch = append(batch, u)
		}
		if len(batch) == ImportBatch {
			if err := flush(first + i + 1); err != nil {
				return err
			}
		}
	}
	return flush(first + len(users))
}

// ImportUsers adds users to an existing realm in one store transaction,
// as a realm import writes them: a large realm file is read in batches of
// users (their place in the file from first on) this way, after the rest
// of the realm was imported. Everything is checked before the write.
func (s *Service) ImportUsers(ctx context.Context, realmName string, first int, users []ImportUser) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	known, err := s.realmNames(ctx, st.Realm.ID)
	if err != nil {
		return err
	}
	imp := RealmImport{Users: users}.withoutLegacy()
	plan, err := s.planImport(imp, known)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			// Numbered by the user's place in the whole file.
			return &ValidationError{Field: renumberUser(ve.Field, first), Message: ve.Message}
		}
		return err
	}
	ids, err := s.importIDsOf(ctx, st.Realm.ID)
	if err != nil {
		return err
	}
	if len(users) > ImportBatch {
		return invalid("users", "at most %d users in one batch", ImportBatch)
	}
	return s.writeUsers(ctx, st.Realm, ids, first, imp.Users, plan.creds)
}

// renumberUser adds first to the index of a users[i] field.
func renumberUser(field string, first int) string {
	rest, ok := strings.CutPrefix(field, "users[")
	num, tail, ok2 := strings.Cut(rest, "]")
	n, err := strconv.Atoi(num)
	if !ok || !ok2 || err != nil {
		return field
	}
	return fmt.Sprintf("users[%d]%s", first+n, tail)
}

// realmNames are the clients, group paths and identity providers a realm
// has, for checking references of what is imported into it.
func (s *Service) realmNames(ctx context.Context, realmID string) (knownNames, error) {
	known := knownNames{clientIDs: map[string]bool{}, groupPaths: map[string]bool{}, aliases: map[string]bool{}}
	clients, err := s.allClients(ctx, realmID)
	if err != nil {
		return known, err
	}
	for _, c := range clients {
		known.clientIDs[c.ClientID] = true
	}
	idps, err := s.store.ListIdentityProviders(ctx, realmID)
	if err != nil {
		return known, err
	}
	for _, p := range idps {
		known.aliases[p.Alias] = true
	}
	groups, err := s.AllGroups(ctx, realmID)
	if err != nil {
		return known, err
	}
	for _, g := range groups {
		if path, err := s.GroupPath(ctx, realmID, g.ID); err == nil {
			known.groupPaths[path] = true
		}
	}
	return known, nil
}

// importIDsOf resolves the names of a realm's clients, roles and groups.
func (s *Service) importIDsOf(ctx context.Context, realmID string) (*importIDs, error) {
	ids := &importIDs{realmID: realmID, clients: map[string]store.Client{}, realmRoles: map[string]string{},
		clientRoles: map[string]map[string]string{}, groups: map[string]string{}}
	clients, err := s.allClients(ctx, realmID)
	if err != nil {
		return nil, err
	}
	for _, c := range clients {
		ids.clients[c.ClientID] = c
		roles, err := s.allRoles(ctx, realmID, c.ID)
		if err != nil {
			return nil, err
		}
		ids.clientRoles[c.ClientID] = map[string]string{}
		for _, role := range roles {
			ids.clientRoles[c.ClientID][role.Name] = role.ID
		}
	}
	roles, err := s.allRoles(ctx, realmID, "")
	if err != nil {
		return nil, err
	}
	for _, role := range roles {
		ids.realmRoles[role.Name] = role.ID
	}
	groups, err := s.AllGroups(ctx, realmID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if path, err := s.GroupPath(ctx, realmID, g.ID); err == nil {
			ids.groups[path] = g.ID
		}
	}
	return ids, nil
}

// importUser makes the record of an imported user, to be written by the
// caller; a service account instead takes its roles at once and yields
// no record.
func (s *Service) importUser(ctx context.Context, r store.Realm, ids *importIDs, field string, iu ImportUser, creds []store.Credential) (store.User, error) {
	roleIDs, err := ids.roles(field, iu.RealmRoles, iu.ClientRoles)
	if err != nil {
		return store.User{}, err
	}
	if iu.ServiceAccountClientID != "" {
		// The client's service account was made with the client: it
		// takes the exported roles.
		c := ids.clients[iu.ServiceAccountClientID]
		if !c.ServiceAccountsEnabled {
			// Else an import could give a built-in client an account
			// with roles it was never meant to hold.
			return store.User{}, invalid(field, "client %q has no service account (serviceAccountsEnabled is false)", iu.ServiceAccountClientID)
		}
		if err := s.ensureServiceAccount(ctx, r.ID, c); err != nil {
			return store.User{}, prefixField(field, err)
		}
		sa, err := s.loadServiceAccount(ctx, r.ID, c)
		if err != nil {
			return store.User{}, prefixField(field, err)
		}
		return store.User{}, prefixField(field, s.GrantRoles(ctx, r.Name, sa.ID, roleIDs...))
	}
	var groupIDs []string
	for _, g := range iu.Groups {
		groupIDs = append(groupIDs, ids.groups["/"+strings.TrimPrefix(g, "/")])
	}
	u, err := s.newUserRecord(r, store.User{ID: keepID(iu.ID), Username: iu.Username, Email: iu.Email, EmailVerified: iu.EmailVerified,
		FirstName: iu.FirstName, LastName: iu.LastName, Enabled: iu.Enabled, Attributes: iu.Attributes,
		RoleIDs: roleIDs, GroupIDs: groupIDs, RequiredActions: iu.RequiredActions, FederatedIdentities: iu.FederatedIdentities})
	if err != nil {
		return store.User{}, prefixField(field, err)
	}
	u.Credentials = creds
	if len(creds) > 0 && creds[0].Temporary {
		u.RequiredActions = appendOnce(u.RequiredActions, RequiredActionUpdatePassword)
	}
	return u, nil
}

// importScopeMappings gives the clients and client scopes of the realm the
// scope mappings of imp; the roles, clients and scopes exist by now.
func (s *Service) importScopeMappings(ctx context.Context, r store.Realm, imp RealmImport, ids *importIDs, scopes scopeNames) error {
	apply := func(field string, m ImportScopeMapping, roleIDs []string) error {
		var o MapperOwner
		switch {
		case m.Client != "" && m.ClientScope == "":
			c, ok := ids.clients[m.Client]
			if !ok {
				return invalid(field+".client", "no client %q", m.Client)
			}
			o.ClientUUID = c.ID
		case m.ClientScope != "" && m.Client == "":
			id, ok := scopes[m.ClientScope]
			if !ok {
				return invalid(field+".clientScope", "no client scope %q", m.ClientScope)
			}
			o.ScopeID = id
		default:
			return invalid(field, "a scope mapping names either a client or a client scope")
		}
		return prefixField(field, s.SetScopeRoles(ctx, r.Name, o, true, roleIDs...))
	}
	for i, m := range imp.ScopeMappings {
		field := fmt.Sprintf("scopeMappings[%d]", i)
		roleIDs, err := ids.roles(field+".roles", m.Roles, nil)
		if err != nil {
			return err
		}
		if err := apply(field, m, roleIDs); err != nil {
			return err
		}
	}
	for _, clientID := range sortedKeys(imp.ClientScopeMappings) {
		for i, m := range imp.ClientScopeMappings[clientID] {
			field := fmt.Sprintf("clientScopeMappings.%s[%d]", clientID, i)
			roleIDs, err := ids.roles(field+".roles", nil, map[string][]string{clientID: m.Roles})
			if err != nil {
				return err
			}
			if err := apply(field, m, roleIDs); err != nil {
				return err
			}
		}
	}
	return nil
}

// prefixField puts the element's place in the representation in front of
// a validation error's field, and turns a conflict into a validation
// error of that element: within an import it is the representation that
// is inconsistent.
func prefixField(field string, err error) error {
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		f := field
		if ve.Field != "" {
			f += "." + ve.Field
		}
		return &ValidationError{Field: f, Message: ve.Message}
	}
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return invalid(field, "%v", err)
	}
	return fmt.Errorf("%s: %w", field, err)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// scopeNames resolves client scope names of the new realm.
type scopeNames map[string]string

func (n scopeNames) ids(field string, names []string) ([]string, error) {
	out := []string{}
	for _, name := range names {
		id, ok := n[name]
		if !ok {
			return nil, invalid(field, "no client scope %q", name)
		}
		out = append(out, id)
	}
	return out, nil
}

// importClientScopes creates the scopes of imp that the new realm does not
// have built in (those keep the built-in definition) and sets the realm's
// default and optional scopes.
func (s *Service) importClientScopes(ctx context.Context, r store.Realm, imp RealmImport) (scopeNames, error) {
	existing, err := s.store.ListClientScopes(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	names := scopeNames{}
	for _, cs := range existing {
		names[cs.Name] = cs.ID
	}
	for i, ic := range imp.ClientScopes {
		if _, ok := names[ic.Name]; ok {
			continue
		}
		cs := store.ClientScope{ID: keepID(ic.ID), Name: ic.Name, Description: ic.Description, Protocol: ic.Protocol,
			Attributes: ic.Attributes, ProtocolMappers: slices.Clone(ic.ProtocolMappers)}
		for j := range cs.ProtocolMappers {
			cs.ProtocolMappers[j].ID = keepID(cs.ProtocolMappers[j].ID)
		}
		created, err := s.CreateClientScope(ctx, r.Name, cs)
		if err != nil {
			return nil, prefixField(fmt.Sprintf("clientScopes[%d]", i), err)
		}
		names[created.Name] = created.ID
	}
	if imp.DefaultDefaultClientScopes == nil && imp.DefaultOptionalClientScopes == nil {
		return names, nil
	}
	def, err := names.ids("defaultDefaultClientScopes", imp.DefaultDefaultClientScopes)
	if err != nil {
		return nil, err
	}
	opt, err := names.ids("defaultOptionalClientScopes", imp.DefaultOptionalClientScopes)
	if err != nil {
		return nil, err
	}
	_, err = s.UpdateRealm(ctx, r.Name, func(x *store.Realm) error {
		x.DefaultScopeIDs, x.OptionalScopeIDs = def, opt
		return nil
	})
	return names, err
}
