package realms

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// Protocol mapper types Gatehouse runs.
const (
	MapperAudience        = "oidc-audience-mapper"
	MapperHardcodedClaim  = "oidc-hardcoded-claim-mapper"
	MapperUserAttribute   = "oidc-usermodel-attribute-mapper"
	MapperUserProperty    = "oidc-usermodel-property-mapper"
	MapperRealmRole       = "oidc-usermodel-realm-role-mapper"
	MapperClientRole      = "oidc-usermodel-client-role-mapper"
	MapperGroupMembership = "oidc-group-membership-mapper"
	MapperFullName        = "oidc-full-name-mapper"
	MapperHardcodedRole   = "oidc-hardcoded-role-mapper"
	MapperRoleName        = "oidc-role-name-mapper"
	MapperAddress         = "oidc-address-mapper"
	MapperAudienceResolve = "oidc-audience-resolve-mapper"
	MapperAllowedOrigins  = "oidc-allowed-origins-mapper"
	MapperACR             = "oidc-acr-mapper"
	MapperSub             = "oidc-sub-mapper"
	MapperSessionNote     = "oidc-usersessionmodel-note-mapper"
)

// noteClientID is the session note Keycloak gives a service account's
// session: the clientId of the client it belongs to (its built-in
// service_account scope maps it to the client_id claim).
const noteClientID = "client_id"

// Targets of a mapper's claim.
const (
	cfgAccess        = "access.token.claim"
	cfgID            = "id.token.claim"
	cfgUserinfo      = "userinfo.token.claim"
	cfgIntrospection = "introspection.token.claim"
)

var (
	targetKeys = []string{cfgAccess, cfgID, cfgUserinfo, cfgIntrospection}
	claimKeys  = []string{"claim.name", "jsonType.label"}
	multiKeys  = []string{"multivalued"}
)

// mapperKeys lists, per mapper type, the config keys it honours; anything
// else is refused rather than stored and ignored.
var mapperKeys = map[string][]string{
	MapperAudience:        {"included.client.audience", "included.custom.audience", cfgAccess, cfgID, cfgIntrospection, "lightweight.claim"},
	MapperHardcodedClaim:  join(targetKeys, claimKeys, []string{"claim.value"}),
	MapperUserAttribute:   join(targetKeys, claimKeys, multiKeys, []string{"user.attribute", "aggregate.attrs"}),
	MapperUserProperty:    join(targetKeys, claimKeys, []string{"user.attribute"}),
	MapperRealmRole:       join(targetKeys, claimKeys, multiKeys, []string{"user.attribute", "usermodel.realmRoleMapping.rolePrefix"}),
	MapperClientRole:      join(targetKeys, claimKeys, multiKeys, []string{"user.attribute", "usermodel.clientRoleMapping.clientId", "usermodel.clientRoleMapping.rolePrefix"}),
	MapperGroupMembership: join(targetKeys, []string{"claim.name", "full.path"}),
	MapperFullName:        targetKeys,
	MapperHardcodedRole:   {"role"},
	MapperRoleName:        {"role", "new.role.name"},
	MapperAddress: join(targetKeys, []string{"user.attribute.formatted", "user.attribute.street", "user.attribute.locality",
		"user.attribute.region", "user.attribute.postal_code", "user.attribute.country"}),
	MapperAudienceResolve: {cfgAccess, cfgIntrospection},
	MapperAllowedOrigins:  {cfgAccess, cfgIntrospection},
	MapperACR:             {cfgAccess, cfgID, cfgIntrospection, cfgUserinfo},
	MapperSub:             {cfgAccess, cfgIntrospection},
	MapperSessionNote:     join(targetKeys, claimKeys, []string{"user.session.note"}),
}

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// mapperPriority orders mappers as Keycloak does: the role-editing ones
// before the role and audience mappers that read their result.
func mapperPriority(typ string) int {
	switch typ {
	case MapperSub:
		return -10
	case MapperRoleName:
		return 10
	case MapperHardcodedRole:
		return 20
	case MapperAudienceResolve:
		return 30
	case MapperRealmRole, MapperClientRole:
		return 40
	}
	return 0
}

// ValidateMapper checks a protocol mapper representation: a known type,
// only the config keys that type honours, and values it can use.
func ValidateMapper(m *store.ProtocolMapper) error {
	if m.Protocol == "" {
		m.Protocol = ProtocolOIDC
	}
	if err := supportedMapper(*m); err != nil {
		return err
	}
	if err := printableName("name", m.Name, 255); err != nil {
		return err
	}
	keys := mapperKeys[m.ProtocolMapper]
	for k, v := range m.Config {
		if !slices.Contains(keys, k) {
			return invalid("config", "Config key %q is not supported by %s", k, m.ProtocolMapper)
		}
		if k == "jsonType.label" && v != "" && !slices.Contains([]string{"String", "long", "int", "boolean", "JSON"}, v) {
			return invalid("config", "Unsupported jsonType.label %q", v)
		}
		if (k == "lightweight.claim" || k == "aggregate.attrs") && v == "true" {
			return invalid("config", "%s=true is not supported", k)
		}
	}
	switch m.ProtocolMapper {
	case MapperHardcodedRole, MapperRoleName:
		if m.Config["role"] == "" {
			return invalid("config", "%s needs config role", m.ProtocolMapper)
		}
	case MapperHardcodedClaim:
		if m.Config["jsonType.label"] == "JSON" && !json.Valid([]byte(m.Config["claim.value"])) {
			return invalid("config", "claim.value is not valid JSON")
		}
	}
	return nil
}

// supportedMapper refuses a mapper Gatehouse does not run, as opposed to
// one it runs but whose settings are wrong: another protocol, a type it
// does not implement, a session note it does not keep. A realm import
// reports such a mapper as not imported instead of refusing the realm.
func supportedMapper(m store.ProtocolMapper) error {
	if m.Protocol != "" && m.Protocol != ProtocolOIDC {
		return invalid("protocol", "Protocol %s is not supported", m.Protocol)
	}
	if _, ok := mapperKeys[m.ProtocolMapper]; !ok {
		return invalid("protocolMapper", "Unsupported protocol mapper type %q", m.ProtocolMapper)
	}
	if n := m.Config["user.session.note"]; m.ProtocolMapper == MapperSessionNote && n != "AUTH_TIME" && n != noteClientID {
		return invalid("config", "Session note %q is not supported (only AUTH_TIME and %s)", n, noteClientID)
	}
	return nil
}

// Target is where a claim goes.
type Target int

const (
	AccessToken Target = iota
	IDToken
	UserInfo
	Introspection
)

// enabled reports whether a mapper emits to t: only "true" enables, a
// missing userinfo flag follows the ID-token flag and a missing
// introspection flag the access-token flag.
func enabled(cfg map[string]string, t Target) bool {
	switch t {
	case AccessToken:
		return cfg[cfgAccess] == "true"
	case IDToken:
		return cfg[cfgID] == "true"
	case UserInfo:
		if v, ok := cfg[cfgUserinfo]; ok {
			return v == "true"
		}
		return cfg[cfgID] == "true"
	default:
		if v, ok := cfg[cfgIntrospection]; ok {
			return v == "true"
		}
		return cfg[cfgAccess] == "true"
	}
}

// MapperInput is what mappers read.
type MapperInput struct {
	User   store.User
	Client store.Client
	// Roles are the token's roles (after scope-mapping filtering).
	Roles EffectiveRoles
	// Groups are the user's direct groups as full paths; nil when groups
	// are not available.
	Groups []string
	// AuthTime is the session's authentication time (unix seconds), 0
	// without a session.
	AuthTime int64
}

// Claims is what a token's mappers produced for one target.
type Claims struct {
	// ACR, Sub and AuthTime say whether the acr, sub and auth_time
	// mappers apply; the protocol layer owns their values.
	ACR, Sub, AuthTime bool
	// RealmRoles and ClientRoles are realm_access.roles and
	// resource_access.*.roles (nil: not emitted).
	RealmRoles  []string
	ClientRoles map[string][]string
	// Aud are the audiences mappers added (resolved and explicit), sorted.
	Aud []string
	// AllowedOrigins is nil unless the web-origins mapper applies.
	AllowedOrigins []string
	// Other are the remaining top-level claims in the order mappers set
	// them (nested claim names give nested objects).
	Other []Claim

	buf [8]Claim // Other's first backing array, allocated with Claims
}

// Claim is one top-level claim.
type Claim struct {
	Name  string
	Value any
}

// Get returns a top-level claim's value.
func (c *Claims) Get(name string) (any, bool) {
	for _, o := range c.Other {
		if o.Name == name {
			return o.Value, true
		}
	}
	return nil, false
}

func (c *Claims) set(name string, v any) {
	for i := range c.Other {
		if c.Other[i].Name == name {
			c.Other[i].Value = v
			return
		}
	}
	c.Other = append(c.Other, Claim{name, v})
}

// compiledMapper is a mapper with the config every token reads parsed
// once (see TokenPlan).
type compiledMapper struct {
	raw      store.ProtocolMapper
	attr     string // user.attribute
	Name     string
	kind     string
	Config   map[string]string
	on       [4]bool
	path     []string
	jsonType string
	multi    bool
}

func compileMappers(ms []store.ProtocolMapper) []compiledMapper {
	out := make([]compiledMapper, len(ms))
	for i, m := range ms {
		c := compiledMapper{raw: m, attr: m.Config["user.attribute"], Name: m.Name, kind: m.ProtocolMapper, Config: m.Config, jsonType: m.Config["jsonType.label"], multi: m.Config["multivalued"] == "true"}
		for t := AccessToken; t <= Introspection; t++ {
			c.on[t] = enabled(m.Config, t)
		}
		if n := m.Config["claim.name"]; n != "" {
			c.path = claimPath(n)
		}
		out[i] = c
	}
	return out
}

// RunMappers applies mappers (already in priority order) for target t.
func RunMappers(mappers []store.ProtocolMapper, in MapperInput, t Target) (*Claims, error) {
	return runMappers(compileMappers(mappers), in, t)
}

// Run applies the plan's mappers for target t.
func (p *TokenPlan) Run(in MapperInput, t Target) (*Claims, error) {
	return runMappers(p.compiled, in, t)
}

func runMappers(mappers []compiledMapper, in MapperInput, t Target) (*Claims, error) {
	out := &Claims{}
	out.Other = out.buf[:0]
	roles := in.Roles
	edited := false
	var auds []string
	for i := range mappers {
		m := &mappers[i]
		cfg := m.Config
		switch m.kind {
		case MapperHardcodedRole, MapperRoleName:
			if !edited {
				roles, edited = copyRoles(roles), true
			}
			editRoles(&roles, m.raw)
			continue
		}
		if !m.on[t] {
			continue
		}
		var err error
		switch m.kind {
		case MapperSub:
			out.Sub = true
		case MapperACR:
			out.ACR = true
		case MapperSessionNote:
			if cfg["user.session.note"] != noteClientID {
				out.AuthTime = true
			} else if sa := in.User.ServiceAccountClientID; sa != "" && sa == in.Client.ID {
				err = out.mapClaim1(m.path, m.jsonType, in.Client.ClientID, false)
			}
		case MapperAllowedOrigins:
			out.AllowedOrigins = allowedOrigins(in.Client)
		case MapperAudienceResolve:
			for cid, names := range roles.Client {
				if cid != in.Client.ClientID && len(names) > 0 {
					auds = append(auds, cid)
				}
			}
		case MapperAudience:
			for _, a := range []string{cfg["included.client.audience"], cfg["included.custom.audience"]} {
				if a != "" {
					auds = append(auds, a)
				}
			}
		case MapperFullName:
			if n := strings.TrimSpace(in.User.FirstName + " " + in.User.LastName); n != "" {
				out.set("name", n)
			}
		case MapperHardcodedClaim:
			err = out.mapClaim(m.path, m.jsonType, []string{cfg["claim.value"]}, false)
		case MapperUserAttribute:
			if one, ok := profileField(in.User, m.attr); ok {
				err = out.mapClaim1(m.path, m.jsonType, one, m.multi)
			} else {
				err = out.mapClaim(m.path, m.jsonType, in.User.Attributes[m.attr], m.multi)
			}
		case MapperUserProperty:
			if one, ok := userProperty(in.User, m.attr); ok {
				err = out.mapClaim1(m.path, m.jsonType, one, false)
			}
		case MapperRealmRole:
			err = out.roleClaim(m, prefixed(roles.Realm, cfg["usermodel.realmRoleMapping.rolePrefix"]), "")
		case MapperClientRole:
			err = out.clientRoleClaims(m, roles)
		case MapperGroupMembership:
			groups := []string{}
			for _, p := range in.Groups {
				if cfg["full.path"] != "true" {
					p = p[strings.LastIndex(p, "/")+1:]
				}
				groups = append(groups, p)
			}
			name := cfg["claim.name"]
			if name == "" {
				name = "groups"
			}
			out.set(name, groups)
		case MapperAddress:
			out.set("address", address(in.User, cfg))
		}
		if err != nil {
			return nil, fmt.Errorf("mapper %s: %w", m.Name, err)
		}
	}
	if len(auds) > 0 {
		sort.Strings(auds)
		out.Aud = slices.Compact(auds)
	}
	return out, nil
}

func copyRoles(r EffectiveRoles) EffectiveRoles {
	out := EffectiveRoles{Realm: slices.Clone(r.Realm), Client: map[string][]string{}, IDs: r.IDs}
	for k, v := range r.Client {
		out.Client[k] = slices.Clone(v)
	}
	return out
}

// splitRole splits "clientId.role" at the last dot; no dot is a realm role.
func splitRole(s string) (client, name string) {
	if i := strings.LastIndex(s, "."); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}

// editRoles applies a hardcoded-role or role-name mapper to the role set
// (a copy: its lists are not shared).
func editRoles(r *EffectiveRoles, m store.ProtocolMapper) {
	get := func(client string) []string {
		if client == "" {
			return r.Realm
		}
		return r.Client[client]
	}
	put := func(client string, l []string) {
		sort.Strings(l)
		l = slices.Compact(l)
		switch {
		case client == "":
			r.Realm = l
		case len(l) == 0:
			delete(r.Client, client)
		default:
			r.Client[client] = l
		}
	}
	client, name := splitRole(m.Config["role"])
	if m.ProtocolMapper == MapperHardcodedRole {
		put(client, append(get(client), name))
		return
	}
	l := get(client)
	i := slices.Index(l, name)
	if i < 0 {
		return
	}
	put(client, slices.Delete(l, i, i+1))
	if nc, nn := splitRole(m.Config["new.role.name"]); nn != "" {
		put(nc, append(get(nc), nn))
	}
}

func prefixed(names []string, prefix string) []string {
	if prefix == "" {
		return names
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// roleClaim emits role names; the default claim names fill the typed
// realm_access/resource_access claims.
func (c *Claims) roleClaim(m *compiledMapper, names []string, client string) error {
	name := m.Config["claim.name"]
	if (client == "" && name == "realm_access.roles") || (client != "" && name == "resource_access.${client_id}.roles") {
		if m.jsonType == "" || m.jsonType == "String" {
			// The names may be shared (cached roles): clipped, a later
			// append copies them.
			if client == "" {
				if c.RealmRoles == nil {
					c.RealmRoles = slices.Clip(names)
				} else {
					c.RealmRoles = appendUnique(c.RealmRoles, names...)
				}
			} else if len(names) > 0 {
				if c.ClientRoles == nil {
					c.ClientRoles = map[string][]string{}
				}
				if c.ClientRoles[client] == nil {
					c.ClientRoles[client] = slices.Clip(names)
				} else {
					c.ClientRoles[client] = appendUnique(c.ClientRoles[client], names...)
				}
			}
			return nil
		}
	}
	if len(names) == 0 {
		return nil
	}
	path := m.path
	if client != "" && strings.Contains(name, "${client_id}") {
		path = claimPath(strings.ReplaceAll(name, "${client_id}", strings.NewReplacer(`\`, `\\`, ".", `\.`).Replace(client)))
	}
	return c.mapClaim(path, m.jsonType, names, m.multi)
}

func appendUnique(dst []string, v ...string) []string {
	for _, s := range v {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

func (c *Claims) clientRoleClaims(m *compiledMapper, r EffectiveRoles) error {
	cfg := m.Config
	only := cfg["usermodel.clientRoleMapping.clientId"]
	cids := make([]string, 0, len(r.Client))
	for cid := range r.Client {
		if only == "" || cid == only {
			cids = append(cids, cid)
		}
	}
	sort.Strings(cids)
	for _, cid := range cids {
		if err := c.roleClaim(m, prefixed(r.Client[cid], cfg["usermodel.clientRoleMapping.rolePrefix"]), cid); err != nil {
			return err
		}
	}
	return nil
}

func allowedOrigins(c store.Client) []string {
	var out []string
	for _, o := range c.WebOrigins {
		if o != "+" {
			out = appendUnique(out, o)
			continue
		}
		for _, u := range c.RedirectURIs {
			if i := strings.Index(u, "://"); i > 0 {
				end := strings.IndexByte(u[i+3:], '/')
				if end < 0 {
					end = len(u) - i - 3
				}
				if o := u[:i+3+end]; !strings.ContainsAny(o, "*") {
					out = appendUnique(out, o)
				}
			}
		}
	}
	return out
}

// profileField reads the profile fields that answer to their Keycloak
// attribute names; ok is false for other attributes. An empty field is no
// value.
func profileField(u store.User, name string) (v string, ok bool) {
	switch name {
	case "username":
		v = u.Username
	case "email":
		v = u.Email
	case "firstName":
		v = u.FirstName
	case "lastName":
		v = u.LastName
	default:
		return "", false
	}
	return v, true
}

// userProperty reads a property of the user model (one value).
func userProperty(u store.User, name string) (string, bool) {
	switch name {
	case "emailVerified":
		return strconv.FormatBool(u.EmailVerified), true
	case "enabled":
		return strconv.FormatBool(u.Enabled), true
	case "id":
		return u.ID, true
	case "createdTimestamp":
		return strconv.FormatInt(u.CreatedAt.UnixMilli(), 10), true
	}
	if v, ok := profileField(u, name); ok {
		return v, true
	}
	if vs := u.Attributes[name]; len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

func address(u store.User, cfg map[string]string) map[string]any {
	out := map[string]any{}
	for _, f := range []struct{ claim, key, def string }{
		{"formatted", "user.attribute.formatted", "formatted"}, {"street_address", "user.attribute.street", "street"},
		{"locality", "user.attribute.locality", "locality"}, {"region", "user.attribute.region", "region"},
		{"postal_code", "user.attribute.postal_code", "postal_code"}, {"country", "user.attribute.country", "country"},
	} {
		attr := cfg[f.key]
		if attr == "" {
			attr = f.def
		}
		if v := u.Attributes[attr]; len(v) > 0 {
			out[f.claim] = v[0]
		}
	}
	return out
}

// convert turns a raw value into jsonType.label's type.
func convert(v, typ string) (any, error) {
	switch typ {
	case "long", "int":
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("cannot map type for token claim: %q is not a number", v)
		}
		return n, nil
	case "boolean":
		return v == "true", nil
	case "JSON":
		var x any
		if err := json.Unmarshal([]byte(v), &x); err != nil {
			return nil, fmt.Errorf("cannot map type for token claim: %w", err)
		}
		return x, nil
	}
	return v, nil
}

// claimPath splits a claim name at unescaped dots ("\." is a dot, "\\" a
// backslash).
func claimPath(name string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(name); i++ {
		switch {
		case name[i] == '\\' && i+1 < len(name) && (name[i+1] == '.' || name[i+1] == '\\'):
			cur.WriteByte(name[i+1])
			i++
		case name[i] == '.':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(name[i])
		}
	}
	return append(out, cur.String())
}

// mapClaim1 is mapClaim for one value; "" is no value.
func (c *Claims) mapClaim1(path []string, typ, v string, multi bool) error {
	if v == "" || len(path) == 0 {
		return nil
	}
	if multi {
		return c.mapClaim(path, typ, []string{v}, true)
	}
	x, err := convert(v, typ)
	if err != nil {
		return err
	}
	c.setPath(path, x, nil)
	return nil
}

// mapClaim sets the claim at path to values converted to typ
// (jsonType.label): every value (merged into an existing array) when
// multivalued, else the first.
func (c *Claims) mapClaim(path []string, typ string, values []string, multi bool) error {
	if len(path) == 0 || len(values) == 0 {
		return nil
	}
	if !multi {
		return c.mapClaim1(path, typ, values[0], false)
	}
	conv := make([]any, 0, len(values))
	for _, v := range values {
		x, err := convert(v, typ)
		if err != nil {
			return err
		}
		conv = append(conv, x)
	}
	c.setPath(path, conv, conv)
	return nil
}

// setPath sets the claim at path to val; merge, when set, are values to
// merge de-duplicated into an existing array instead.
func (c *Claims) setPath(path []string, val any, merge []any) {
	if len(path) == 1 {
		if merge != nil {
			if old, ok := c.Get(path[0]); ok {
				val = mergeValues(old, merge)
			}
		}
		c.set(path[0], val)
		return
	}
	top, _ := c.Get(path[0])
	m, ok := top.(map[string]any)
	if !ok {
		m = map[string]any{}
	}
	cur := m
	for _, p := range path[1 : len(path)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	leaf := path[len(path)-1]
	if merge != nil {
		if old, ok := cur[leaf]; ok {
			val = mergeValues(old, merge)
		}
	}
	cur[leaf] = val
	c.set(path[0], m)
}

func mergeValues(old any, add []any) []any {
	var out []any
	if l, ok := old.([]any); ok {
		out = append(out, l...)
	} else {
		out = append(out, old)
	}
	for _, v := range add {
		if !slices.ContainsFunc(out, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
			out = append(out, v)
		}
	}
	return out
}
