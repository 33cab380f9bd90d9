package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// keycloakRealmFields are the top-level fields of Keycloak's
// RealmRepresentation, today's and those older exports still carry. A
// create or an import reads the ones Gatehouse implements, reports the
// other known ones as not imported, and ignores fields Keycloak does not
// know either (as Keycloak ignores them), reporting those separately.
var keycloakRealmFields = fieldSet(`id realm displayName displayNameHtml notBefore defaultSignatureAlgorithm
	revokeRefreshToken refreshTokenMaxReuse accessTokenLifespan accessTokenLifespanForImplicitFlow
	ssoSessionIdleTimeout ssoSessionMaxLifespan ssoSessionIdleTimeoutRememberMe ssoSessionMaxLifespanRememberMe
	offlineSessionIdleTimeout offlineSessionMaxLifespanEnabled offlineSessionMaxLifespan clientSessionIdleTimeout
	clientSessionMaxLifespan clientOfflineSessionIdleTimeout clientOfflineSessionMaxLifespan accessCodeLifespan
	accessCodeLifespanUserAction accessCodeLifespanLogin actionTokenGeneratedByAdminLifespan
	actionTokenGeneratedByUserLifespan oauth2DeviceCodeLifespan oauth2DevicePollingInterval enabled sslRequired
	passwordCredentialGrantAllowed registrationAllowed registrationEmailAsUsername rememberMe verifyEmail
	loginWithEmailAllowed duplicateEmailsAllowed resetPasswordAllowed editUsernameAllowed userCacheEnabled
	realmCacheEnabled bruteForceProtected permanentLockout maxTemporaryLockouts bruteForceStrategy
	maxFailureWaitSeconds minimumQuickLoginWaitSeconds waitIncrementSeconds quickLoginCheckMilliSeconds
	maxDeltaTimeSeconds failureFactor privateKey publicKey certificate codeSecret roles groups defaultRoles
	defaultRole adminPermissionsClient defaultGroups requiredCredentials passwordPolicy otpPolicyType
	otpPolicyAlgorithm otpPolicyInitialCounter otpPolicyDigits otpPolicyLookAheadWindow otpPolicyPeriod
	otpPolicyCodeReusable otpSupportedApplications localizationTexts webAuthnPolicyRpEntityName
	webAuthnPolicySignatureAlgorithms webAuthnPolicyRpId webAuthnPolicyAttestationConveyancePreference
	webAuthnPolicyAuthenticatorAttachment webAuthnPolicyRequireResidentKey webAuthnPolicyUserVerificationRequirement
	webAuthnPolicyCreateTimeout webAuthnPolicyAvoidSameAuthenticatorRegister webAuthnPolicyAcceptableAaguids
	webAuthnPolicyExtraOrigins webAuthnPolicyPasswordlessRpEntityName webAuthnPolicyPasswordlessSignatureAlgorithms
	webAuthnPolicyPasswordlessRpId webAuthnPolicyPasswordlessAttestationConveyancePreference
	webAuthnPolicyPasswordlessAuthenticatorAttachment webAuthnPolicyPasswordlessRequireResidentKey
	webAuthnPolicyPasswordlessUserVerificationRequirement webAuthnPolicyPasswordlessCreateTimeout
	webAuthnPolicyPasswordlessAvoidSameAuthenticatorRegister webAuthnPolicyPasswordlessAcceptableAaguids
	webAuthnPolicyPasswordlessExtraOrigins webAuthnPolicyPasswordlessPasskeysEnabled clientProfiles clientPolicies
	users federatedUsers scopeMappings clientScopeMappings clients clientScopes defaultDefaultClientScopes
	defaultOptionalClientScopes browserSecurityHeaders smtpServer userFederationProviders userFederationMappers
	loginTheme accountTheme adminTheme emailTheme eventsEnabled eventsExpiration eventsListeners enabledEventTypes
	adminEventsEnabled adminEventsDetailsEnabled identityProviders identityProviderMappers protocolMappers
	components internationalizationEnabled supportedLocales defaultLocale authenticationFlows authenticatorConfig
	requiredActions browserFlow registrationFlow directGrantFlow resetCredentialsFlow clientAuthenticationFlow
	dockerAuthenticationFlow firstBrokerLoginFlow attributes keycloakVersion userManagedAccessAllowed
	organizationsEnabled organizations verifiableCredentialsEnabled adminPermissionsEnabled social
	updateProfileOnInitialSocialLogin socialProviders applications applicationScopeMappings oauthClients
	clientTemplates`)

func fieldSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, f := range strings.Fields(s) {
		out[f] = true
	}
	return out
}

// RealmFileReport is what the import of a whole RealmRepresentation did
// not take. Nothing is left out without being named here.
type RealmFileReport struct {
	// NotSupported lists, sorted, the fields with a value that Keycloak
	// knows and Gatehouse does not implement: top-level fields by name,
	// fields of nested elements as e.g. users[].totp.
	NotSupported []string `json:"notSupported,omitempty"`
	// Unknown lists, sorted, top-level fields that Keycloak does not know
	// either; they are ignored, as Keycloak ignores them.
	Unknown []string `json:"unknown,omitempty"`

	// leftOut also applies to the users a file import streams apart.
	leftOut realms.LeftOut
}

func (r RealmFileReport) empty() bool { return len(r.NotSupported) == 0 && len(r.Unknown) == 0 }

// parseRealmFile reads a whole RealmRepresentation, as POST /admin/realms
// and the realm-file import take it (one code path for both): the
// settings Gatehouse implements, checked as a create checks them (a
// setting it cannot honour is a 400 naming it), the realm's contents, and
// the report of what is not imported.
func parseRealmFile(data []byte) (realmFileRep, store.Realm, RealmFileReport, error) {
	var rep realmFileRep
	var rpt RealmFileReport
	if err := unmarshalRep(data, &rep); err != nil {
		return rep, store.Realm{}, rpt, err
	}
	for _, f := range unknownFields(data, &rep) {
		if keycloakRealmFields[f] {
			rpt.NotSupported = append(rpt.NotSupported, f)
		} else {
			rpt.Unknown = append(rpt.Unknown, f)
		}
	}
	rpt.NotSupported = append(rpt.NotSupported, nestedUnknown(data, &rep)...)
	rep.RealmImport, rpt.leftOut = rep.RealmImport.WithoutUnsupported()
	rpt.NotSupported = append(rpt.NotSupported, rpt.leftOut.Names...)
	// Keycloak writes false by default; here admin events are always
	// recorded, which loses nothing, so the setting is reported rather
	// than refused.
	if rep.AdminEventsEnabled != nil && !*rep.AdminEventsEnabled {
		rep.AdminEventsEnabled = nil
		rpt.NotSupported = append(rpt.NotSupported, "adminEventsEnabled")
	}
	if rep.AdminEventsDetailsEnabled != nil && !*rep.AdminEventsDetailsEnabled {
		rep.AdminEventsDetailsEnabled = nil
		rpt.NotSupported = append(rpt.NotSupported, "adminEventsDetailsEnabled")
	}
	slices.Sort(rpt.NotSupported)
	rpt.NotSupported = slices.Compact(rpt.NotSupported)
	rl, err := rep.newRealm()
	return rep, rl, rpt, err
}

// nestedUnknown names the fields of the representation's nested elements
// (users[], clients[], roles.realm[], ...) that carry a value and that the
// element's type does not read, once per field: a Keycloak export carries
// many (a user's totp, a client's authenticationFlowBindingOverrides).
func nestedUnknown(data []byte, v any) []string {
	return nestedUnknownAt("", data, v)
}

// nestedUnknownAt is nestedUnknown for a value found at path.
func nestedUnknownAt(path string, data []byte, v any) []string {
	seen := map[string]bool{}
	var walk func(path string, raw json.RawMessage, t reflect.Type)
	walk = func(path string, raw json.RawMessage, t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Slice:
			var items []json.RawMessage
			if json.Unmarshal(raw, &items) == nil {
				for _, it := range items {
					walk(path+"[]", it, t.Elem())
				}
			}
		case reflect.Map:
			var m map[string]json.RawMessage
			if t.Key().Kind() == reflect.String && json.Unmarshal(raw, &m) == nil {
				for _, val := range m {
					walk(path+".*", val, t.Elem())
				}
			}
		case reflect.Struct:
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) != nil {
				return
			}
			fields := structFields(t)
			for k, val := range m {
				ft, ok := fields[k]
				switch {
				case !ok && !emptyJSON(val) && path != "" && !derivedFields[k]:
					seen[path+"."+k] = true
				case ok:
					walk(strings.TrimPrefix(path+"."+k, "."), val, ft)
				}
			}
		}
	}
	walk(path, data, reflect.TypeOf(v))
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// derivedFields are fields of nested elements that Keycloak writes but
// derives from where the element sits (a role's container, a group's
// path): the import derives them the same way, so nothing is lost.
var derivedFields = fieldSet("containerId clientRole path parentId")

// structFields maps a struct's JSON names (embedded structs' included) to
// their types.
func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range structFields(ft) {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		// The outer struct's field wins over an embedded one's, as in
		// encoding/json.
		out[name] = f.Type
	}
	return out
}

// String is the report as one line for logs and the CLI.
func (r RealmFileReport) String() string {
	var parts []string
	if len(r.NotSupported) > 0 {
		parts = append(parts, fmt.Sprintf("not supported by Gatehouse: %s", strings.Join(r.NotSupported, ", ")))
	}
	if len(r.Unknown) > 0 {
		parts = append(parts, fmt.Sprintf("unknown, ignored: %s", strings.Join(r.Unknown, ", ")))
	}
	return strings.Join(parts, "; ")
}

// attrImportIncomplete marks a realm whose file import has not finished:
// its users are written in batches after the rest of the realm, and a
// crash in between must not leave a realm that looks imported.
const attrImportIncomplete = "gatehouse.importIncomplete"

// Opener opens a file to read; an import may open one twice.
type Opener func() (io.ReadCloser, error)

// RealmFileSource is a realm file and the files that hold more of its
// users, as `kc.sh export --dir` writes them (<realm>-users-<n>.json, each
// {"realm": name, "users": [...]}).
type RealmFileSource struct {
	Realm Opener
	Users []Opener
}

// ImportRealmFile creates the realm a Keycloak realm file describes, read
// and checked exactly as POST /admin/realms reads it (parseRealmFile), but
// without ever holding the users in memory: each file is opened twice.
// The first pass reads everything but the users (counting them) and
// imports it; the second streams the users, those of the realm file then
// those of the users files, in batches of realms.ImportBatch, one store
// transaction each, calling progress after each batch with the number
// imported so far and the total. users[i] in an error counts across the
// files in that order.
//
// Authorization settings (resources, policies) name users: they are
// written after the last batch.
//
// A new realm is all or nothing: it carries attrImportIncomplete until
// the last batch and the authorization settings are written, a failed batch deletes it, and a realm still
// marked (the process died mid-import) is replaced by the next import
// whatever override says. An existing complete realm of that name is
// replaced when override is set, else left alone.
func ImportRealmFile(ctx context.Context, svc *realms.Service, src RealmFileSource, override bool,
	progress func(done, total int)) (RealmFileImport, error) {
	var out RealmFileImport
	head, total, err := readRealmFileHead(src.Realm)
	if err != nil {
		return out, err
	}
	rep, rl, rpt, err := parseRealmFile(head)
	if err != nil {
		return out, err
	}
	for i, open := range src.Users {
		n, err := countUsersFile(open, rl.Name)
		if err != nil {
			return out, fmt.Errorf("users file %d: %w", i, err)
		}
		total += n
	}
	out.Realm, out.RealmFileReport = rl.Name, rpt
	if st, err := svc.Realm(ctx, rl.Name); err == nil {
		if !override && st.Realm.Attributes[attrImportIncomplete] == "" {
			return out, nil
		}
		if err := svc.DeleteRealm(ctx, rl.Name); err != nil {
			return out, err
		}
	}
	// Resources and policies name users: they are written after them.
	imp, authz := rep.RealmImport.WithoutAuthorization()
	later := total > 0 || len(authz) > 0
	if later {
		rl.Attributes = maps.Clone(rl.Attributes)
		if rl.Attributes == nil {
			rl.Attributes = map[string]string{}
		}
		rl.Attributes[attrImportIncomplete] = "true"
	}
	if _, err := svc.ImportRealm(ctx, rl, imp); err != nil {
		return out, err
	}
	if later {
		var nested []string
		var err error
		if total > 0 {
			nested, err = streamUsers(ctx, svc, append([]Opener{src.Realm}, src.Users...), rl.Name, total, rpt.leftOut, progress)
		}
		if err == nil {
			err = svc.ImportAuthorization(ctx, rl.Name, authz)
		}
		if err == nil {
			_, err = svc.UpdateRealm(ctx, rl.Name, func(r *store.Realm) error {
				delete(r.Attributes, attrImportIncomplete)
				return nil
			})
		}
		if err != nil {
			if derr := svc.DeleteRealm(context.WithoutCancel(ctx), rl.Name); derr != nil {
				err = errors.Join(err, fmt.Errorf("removing the half-imported realm: %w", derr))
			}
			return out, err
		}
		out.NotSupported = append(out.NotSupported, nested...)
		slices.Sort(out.NotSupported)
		out.NotSupported = slices.Compact(out.NotSupported)
	}
	out.Imported = true
	return out, nil
}

// readRealmFileHead reads a realm file's top-level object without its
// users, which are counted but not kept.
func readRealmFileHead(open Opener) ([]byte, int, error) {
	f, err := open()
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	head := map[string]json.RawMessage{}
	total := 0
	err = walkRealmFile(f, func(key string, dec *json.Decoder) error {
		if key != "users" {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return err
			}
			head[key] = v
			return nil
		}
		return eachElement(dec, func(json.RawMessage) error { total++; return nil })
	})
	if err != nil {
		return nil, 0, err
	}
	b, err := json.Marshal(head)
	return b, total, err
}

// countUsersFile checks that a users file belongs to realm and holds
// nothing but users, and counts them.
func countUsersFile(open Opener, realm string) (int, error) {
	head, n, err := readRealmFileHead(open)
	if err != nil {
		return 0, err
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(head, &h); err != nil {
		return 0, err
	}
	var name string
	if err := json.Unmarshal(h["realm"], &name); err != nil || name != realm {
		return 0, badRequest("the users file is not of realm %s", realm)
	}
	delete(h, "realm")
	for k, v := range h {
		if !emptyJSON(v) {
			// Nothing but users is read from it: refused, not dropped.
			return 0, badRequest("unsupported field in a users file: %s", k)
		}
	}
	return n, nil
}

// streamUsers imports the users of realm files in batches and returns
// the fields of theirs that were not imported.
func streamUsers(ctx context.Context, svc *realms.Service, files []Opener, realm string, total int, left realms.LeftOut,
	progress func(done, total int)) ([]string, error) {
	seen := map[string]bool{}
	var batch []realms.ImportUser
	done, skipped := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := svc.ImportUsers(ctx, realm, done, batch); err != nil {
			return err
		}
		done += len(batch)
		batch = batch[:0]
		if progress != nil {
			progress(done+skipped, total)
		}
		return nil
	}
	read := func(open Opener) error {
		f, err := open()
		if err != nil {
			return err
		}
		defer f.Close()
		return walkRealmFile(f, func(key string, dec *json.Decoder) error {
			if key != "users" {
				var skip json.RawMessage
				return dec.Decode(&skip)
			}
			return eachElement(dec, func(raw json.RawMessage) error {
				var u realms.ImportUser
				if err := unmarshalRep(raw, &u); err != nil {
					return fmt.Errorf("users[%d]: %w", done+skipped+len(batch), err)
				}
				for _, f := range nestedUnknownAt("users[]", raw, &u) {
					seen[f] = true
				}
				u, ok := left.User(u)
				if !ok {
					// The service account of a client left out (named in
					// the report with it).
					skipped++
					return nil
				}
				batch = append(batch, u)
				if len(batch) == realms.ImportBatch {
					return flush()
				}
				return nil
			})
		})
	}
	var err error
	for _, open := range files {
		if err = read(open); err != nil {
			break
		}
	}
	if err == nil {
		err = flush()
	}
	if err == nil && done+skipped != total {
		err = fmt.Errorf("realm files changed while they were imported: %d users, then %d", total, done+skipped)
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	return out, err
}

// walkRealmFile calls fn for each key of the file's top-level object with
// the decoder before the key's value; fn must consume the value.
func walkRealmFile(r io.Reader, fn func(key string, dec *json.Decoder) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return badRequest("invalid JSON: %v", err)
		}
		key, _ := tok.(string)
		if err := fn(key, dec); err != nil {
			return err
		}
	}
	return expectDelim(dec, '}')
}

// eachElement calls fn with each element of the array the decoder is
// before; null is an empty array.
func eachElement(dec *json.Decoder, fn func(json.RawMessage) error) error {
	tok, err := dec.Token()
	if err != nil {
		return badRequest("invalid JSON: %v", err)
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return badRequest("invalid value for field users: expected an array")
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return badRequest("invalid JSON: %v", err)
		}
		if err := fn(raw); err != nil {
			return err
		}
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return badRequest("invalid JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return badRequest("invalid JSON: expected %q, found %v", want, tok)
	}
	return nil
}
