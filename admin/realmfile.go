package admin

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

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
	walk("", data, reflect.TypeOf(v))
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
var derivedFields = fieldSet("containerId clientRole path")

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
