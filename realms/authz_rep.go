package realms

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// Keycloak's representations of authorization records, shared by the
// admin API (references answered as IDs) and realm import and export
// (references written as names, as Keycloak exports them): one
// conversion for both.

// AuthzScopeRep is Keycloak's ScopeRepresentation; where a resource names
// its scopes it may also be a bare name (a string).
type AuthzScopeRep struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	IconURI     string `json:"iconUri,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// UnmarshalJSON takes a name or the object.
func (s *AuthzScopeRep) UnmarshalJSON(b []byte) error {
	type plain AuthzScopeRep
	return stringOrObject(b, &s.Name, (*plain)(s))
}

// Ref is the scope's ID, else its name.
func (s AuthzScopeRep) Ref() string {
	if s.ID != "" {
		return s.ID
	}
	return s.Name
}

// ToAuthzScopeRep renders a scope.
func ToAuthzScopeRep(s store.AuthzScope) AuthzScopeRep {
	return AuthzScopeRep{ID: s.ID, Name: s.Name, IconURI: s.IconURI, DisplayName: s.DisplayName}
}

// AuthzOwnerRep is a resource owner: a string (user ID or username, client
// ID or clientId) or Keycloak's {"id", "name"}.
type AuthzOwnerRep struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// UnmarshalJSON takes a reference or the object.
func (o *AuthzOwnerRep) UnmarshalJSON(b []byte) error {
	type plain AuthzOwnerRep
	return stringOrObject(b, &o.ID, (*plain)(o))
}

// Ref is the owner's ID, else its name; "" for none.
func (o *AuthzOwnerRep) Ref() string {
	if o == nil {
		return ""
	}
	if o.ID != "" {
		return o.ID
	}
	return o.Name
}

// stringOrObject decodes a value Keycloak accepts in two shapes: a JSON
// string into str, else an object into obj (no unknown fields).
func stringOrObject(b []byte, str *string, obj any) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		return json.Unmarshal(b, str)
	}
	return StrictJSON(b, obj)
}

// StrictJSON decodes an object refusing unknown fields (the admin API's
// rule inside values that take several shapes).
func StrictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// AuthzResourceRep is Keycloak's ResourceRepresentation with Gatehouse's
// access fields (access_mode, backend_roles, add_all_backend_roles) and
// parent (the resource this one belongs to, as a model to its model
// group: an ID in the admin API, a name in a realm file).
type AuthzResourceRep struct {
	ID                 string              `json:"_id,omitempty"`
	Name               string              `json:"name"`
	DisplayName        string              `json:"displayName,omitempty"`
	Type               string              `json:"type,omitempty"`
	URIs               []string            `json:"uris"`
	URI                string              `json:"uri,omitempty"`
	IconURI            string              `json:"icon_uri,omitempty"`
	Scopes             []AuthzScopeRep     `json:"scopes,omitempty"`
	Owner              *AuthzOwnerRep      `json:"owner,omitempty"`
	OwnerManagedAccess bool                `json:"ownerManagedAccess"`
	Attributes         map[string][]string `json:"attributes,omitempty"`
	Description        string              `json:"description,omitempty"`
	AccessMode         string              `json:"access_mode,omitempty"`
	BackendRoles       []string            `json:"backend_roles,omitempty"`
	AddAllBackendRoles bool                `json:"add_all_backend_roles,omitempty"`
	Parent             string              `json:"parent,omitempty"`
}

// Input is the resource as the service methods take it.
func (rep AuthzResourceRep) Input() ResourceInput {
	in := ResourceInput{Name: rep.Name, DisplayName: rep.DisplayName, Type: rep.Type, URIs: rep.URIs,
		IconURI: rep.IconURI, Description: rep.Description, Attributes: rep.Attributes, Owner: rep.Owner.Ref(),
		OwnerManagedAccess: rep.OwnerManagedAccess, AccessMode: rep.AccessMode, BackendRoles: rep.BackendRoles,
		AddAllBackendRoles: rep.AddAllBackendRoles, ParentID: rep.Parent}
	if rep.URI != "" && !slices.Contains(in.URIs, rep.URI) {
		in.URIs = append(slices.Clone(in.URIs), rep.URI)
	}
	for _, s := range rep.Scopes {
		in.Scopes = append(in.Scopes, s.Ref())
	}
	return in
}

// ResourceRep renders res as the admin API answers it (IDs, with names
// beside them).
func (s *Service) ResourceRep(ctx context.Context, realmID string, res store.AuthzResource) (AuthzResourceRep, error) {
	ownerName, err := s.OwnerName(ctx, realmID, res.OwnerID)
	if err != nil {
		return AuthzResourceRep{}, err
	}
	rep := AuthzResourceRep{ID: res.ID, Name: res.Name, DisplayName: res.DisplayName, Type: res.Type,
		URIs: nonNilStrings(res.URIs), IconURI: res.IconURI, Owner: &AuthzOwnerRep{ID: res.OwnerID, Name: ownerName},
		OwnerManagedAccess: res.OwnerManagedAccess, Attributes: res.Attributes, Description: res.Description,
		AccessMode: res.AccessMode, Parent: res.ParentID, Scopes: []AuthzScopeRep{}}
	if rep.Attributes == nil {
		rep.Attributes = map[string][]string{}
	}
	if res.AccessMode == AccessRestricted {
		if rep.BackendRoles, err = s.BackendRoleNames(ctx, realmID, res.BackendRoles); err != nil {
			return rep, err
		}
	}
	scopes, err := s.authzScopes(ctx, realmID, res.ServerID)
	if err != nil {
		return rep, err
	}
	for _, sc := range scopes {
		if slices.Contains(res.ScopeIDs, sc.ID) {
			rep.Scopes = append(rep.Scopes, ToAuthzScopeRep(sc))
		}
	}
	return rep, nil
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// AuthzPolicyRep is Keycloak's PolicyRepresentation and its typed forms in
// one: the typed admin paths (policy/role, permission/scope, ...) read and
// write the typed fields; the generic paths and realm files carry config,
// whose values are JSON strings as Keycloak keeps them. References may be
// IDs or names (see CreatePolicy).
type AuthzPolicyRep struct {
	ID               string               `json:"id,omitempty"`
	Name             string               `json:"name"`
	Description      string               `json:"description,omitempty"`
	Type             string               `json:"type,omitempty"`
	Logic            string               `json:"logic,omitempty"`
	DecisionStrategy string               `json:"decisionStrategy,omitempty"`
	Config           map[string]string    `json:"config,omitempty"`
	Roles            []AuthzPolicyRoleRep `json:"roles,omitempty"`
	Groups           []AuthzPolicyGroup   `json:"groups,omitempty"`
	Users            []string             `json:"users,omitempty"`
	Clients          []string             `json:"clients,omitempty"`
	Policies         []string             `json:"policies,omitempty"`
	Resources        []string             `json:"resources,omitempty"`
	ResourceType     string               `json:"resourceType,omitempty"`
	Scopes           []string             `json:"scopes,omitempty"`
}

// AuthzPolicyRoleRep is a role of a role policy.
type AuthzPolicyRoleRep struct {
	ID       string `json:"id"`
	Required bool   `json:"required"`
}

// AuthzPolicyGroup is a group of a group policy.
type AuthzPolicyGroup struct {
	ID             string `json:"id,omitempty"`
	Path           string `json:"path,omitempty"`
	ExtendChildren bool   `json:"extendChildren"`
}

// configFields are the typed fields that a generic representation's
// config entries (JSON text) stand for, by key; defaultResourceType, a
// plain string, is the one entry besides them. Reading and writing config
// both use this one table.
func (rep *AuthzPolicyRep) configFields() map[string]any {
	return map[string]any{"roles": &rep.Roles, "groups": &rep.Groups, "users": &rep.Users, "clients": &rep.Clients,
		"applyPolicies": &rep.Policies, "resources": &rep.Resources, "scopes": &rep.Scopes}
}

// FromConfig moves config entries into the typed fields; an entry
// Gatehouse does not read is an error naming it. fetchRoles "true" (read
// the subject's roles from the realm, not from its token) is what
// Gatehouse always does, and an empty value says nothing.
func (rep *AuthzPolicyRep) FromConfig() error {
	fields := rep.configFields()
	for _, k := range sortedKeys(rep.Config) {
		v := rep.Config[k]
		switch {
		case k == "defaultResourceType":
			rep.ResourceType = v
			continue
		case k == "fetchRoles" && rep.Type == PolicyRole && v == "true":
			continue
		}
		dst, ok := fields[k]
		if !ok {
			if v == "" && k != "fetchRoles" {
				continue
			}
			return invalid("", "unsupported field config.%s", k)
		}
		if strings.TrimSpace(v) == "" {
			continue
		}
		if err := StrictJSON([]byte(v), dst); err != nil {
			return invalid("", "invalid value for field config.%s: %v", k, err)
		}
	}
	rep.Config = nil
	return nil
}

// Policy is the policy as the service methods take it.
func (rep AuthzPolicyRep) Policy() store.AuthzPolicy {
	p := store.AuthzPolicy{Name: rep.Name, Description: rep.Description, Type: rep.Type, Logic: rep.Logic,
		DecisionStrategy: rep.DecisionStrategy, UserIDs: rep.Users, ClientIDs: rep.Clients, PolicyIDs: rep.Policies,
		ResourceIDs: rep.Resources, ResourceType: rep.ResourceType, ScopeIDs: rep.Scopes}
	for _, r := range rep.Roles {
		p.Roles = append(p.Roles, store.AuthzRoleRef{ID: r.ID, Required: r.Required})
	}
	for _, g := range rep.Groups {
		ref := g.ID
		if ref == "" {
			ref = g.Path
		}
		p.Groups = append(p.Groups, store.AuthzGroupRef{ID: ref, ExtendChildren: g.ExtendChildren})
	}
	return p
}

// PolicyRep renders p typed, or generic with config, its references as
// IDs (groups with their paths).
func (s *Service) PolicyRep(ctx context.Context, realmID string, p store.AuthzPolicy, typed bool) AuthzPolicyRep {
	rep := AuthzPolicyRep{ID: p.ID, Name: p.Name, Description: p.Description, Type: p.Type, Logic: p.Logic,
		DecisionStrategy: p.DecisionStrategy, Users: p.UserIDs, Clients: p.ClientIDs, Policies: p.PolicyIDs,
		Resources: p.ResourceIDs, ResourceType: p.ResourceType, Scopes: p.ScopeIDs}
	for _, x := range p.Roles {
		rep.Roles = append(rep.Roles, AuthzPolicyRoleRep{ID: x.ID, Required: x.Required})
	}
	for _, g := range p.Groups {
		path, err := s.GroupPath(ctx, realmID, g.ID)
		if err != nil {
			path = "" // a deleted group
		}
		rep.Groups = append(rep.Groups, AuthzPolicyGroup{ID: g.ID, Path: path, ExtendChildren: g.ExtendChildren})
	}
	if typed {
		return rep
	}
	return rep.generic()
}

// generic moves the typed fields into config, as Keycloak writes it.
func (rep AuthzPolicyRep) generic() AuthzPolicyRep {
	generic := AuthzPolicyRep{ID: rep.ID, Name: rep.Name, Description: rep.Description, Type: rep.Type, Logic: rep.Logic,
		DecisionStrategy: rep.DecisionStrategy, Config: map[string]string{}}
	for key, v := range rep.configFields() {
		if reflect.ValueOf(v).Elem().Len() > 0 { // every config field is a slice
			b, _ := json.Marshal(v)
			generic.Config[key] = string(b)
		}
	}
	if rep.ResourceType != "" {
		generic.Config["defaultResourceType"] = rep.ResourceType
	}
	return generic
}
