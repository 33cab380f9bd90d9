package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// realmRep is Keycloak's RealmRepresentation, limited to what Gatehouse
// supports. Pointers tell "absent" from zero so PUT updates only what is
// sent, as Keycloak does.
type realmRep struct {
	ID                            *string   `json:"id,omitempty"`
	Realm                         *string   `json:"realm,omitempty"`
	DisplayName                   *string   `json:"displayName,omitempty"`
	Enabled                       *bool     `json:"enabled,omitempty"`
	AccessTokenLifespan           *int      `json:"accessTokenLifespan,omitempty"`
	SSOSessionIdleTimeout         *int      `json:"ssoSessionIdleTimeout,omitempty"`
	SSOSessionMaxLifespan         *int      `json:"ssoSessionMaxLifespan,omitempty"`
	DefaultSignatureAlgorithm     *string   `json:"defaultSignatureAlgorithm,omitempty"`
	RevokeRefreshToken            *bool     `json:"revokeRefreshToken,omitempty"`
	RefreshTokenMaxReuse          *int      `json:"refreshTokenMaxReuse,omitempty"`
	RefreshTokenReuseGraceSeconds *int      `json:"refreshTokenReuseGraceSeconds,omitempty"`
	NotBefore                     *int64    `json:"notBefore,omitempty"`
	BruteForceProtected           *bool     `json:"bruteForceProtected,omitempty"`
	PermanentLockout              *bool     `json:"permanentLockout,omitempty"`
	FailureFactor                 *int      `json:"failureFactor,omitempty"`
	WaitIncrementSeconds          *int      `json:"waitIncrementSeconds,omitempty"`
	MaxFailureWaitSeconds         *int      `json:"maxFailureWaitSeconds,omitempty"`
	MaxDeltaTimeSeconds           *int      `json:"maxDeltaTimeSeconds,omitempty"`
	QuickLoginCheckMilliSeconds   *int      `json:"quickLoginCheckMilliSeconds,omitempty"`
	MinimumQuickLoginWaitSeconds  *int      `json:"minimumQuickLoginWaitSeconds,omitempty"`
	Attributes                    stringMap `json:"attributes,omitempty"`
	credentialSettingsRep
	DefaultRole *roleRep `json:"defaultRole,omitempty"`

	DisplayNameHTML                     *string   `json:"displayNameHtml,omitempty"`
	SSLRequired                         *string   `json:"sslRequired,omitempty"`
	RegistrationAllowed                 *bool     `json:"registrationAllowed,omitempty"`
	RememberMe                          *bool     `json:"rememberMe,omitempty"`
	VerifyEmail                         *bool     `json:"verifyEmail,omitempty"`
	LoginWithEmailAllowed               *bool     `json:"loginWithEmailAllowed,omitempty"`
	DuplicateEmailsAllowed              *bool     `json:"duplicateEmailsAllowed,omitempty"`
	ResetPasswordAllowed                *bool     `json:"resetPasswordAllowed,omitempty"`
	EditUsernameAllowed                 *bool     `json:"editUsernameAllowed,omitempty"`
	OfflineSessionIdleTimeout           *int      `json:"offlineSessionIdleTimeout,omitempty"`
	OfflineSessionMaxLifespanEnabled    *bool     `json:"offlineSessionMaxLifespanEnabled,omitempty"`
	OfflineSessionMaxLifespan           *int      `json:"offlineSessionMaxLifespan,omitempty"`
	ClientSessionIdleTimeout            *int      `json:"clientSessionIdleTimeout,omitempty"`
	ClientSessionMaxLifespan            *int      `json:"clientSessionMaxLifespan,omitempty"`
	AccessCodeLifespan                  *int      `json:"accessCodeLifespan,omitempty"`
	AccessCodeLifespanUserAction        *int      `json:"accessCodeLifespanUserAction,omitempty"`
	AccessCodeLifespanLogin             *int      `json:"accessCodeLifespanLogin,omitempty"`
	ActionTokenGeneratedByAdminLifespan *int      `json:"actionTokenGeneratedByAdminLifespan,omitempty"`
	ActionTokenGeneratedByUserLifespan  *int      `json:"actionTokenGeneratedByUserLifespan,omitempty"`
	EventsEnabled                       *bool     `json:"eventsEnabled,omitempty"`
	EventsExpiration                    *int64    `json:"eventsExpiration,omitempty"`
	EnabledEventTypes                   *[]string `json:"enabledEventTypes,omitempty"`
	EventsListeners                     *[]string `json:"eventsListeners,omitempty"`
	AdminEventsEnabled                  *bool     `json:"adminEventsEnabled,omitempty"`
	AdminEventsDetailsEnabled           *bool     `json:"adminEventsDetailsEnabled,omitempty"`
}

// unsupported refuses settings Gatehouse cannot honour rather than store
// them as if they applied.
func (rep realmRep) unsupported() error {
	if rep.DuplicateEmailsAllowed != nil && *rep.DuplicateEmailsAllowed {
		return badRequest("duplicateEmailsAllowed is not supported: emails are unique per realm")
	}
	// The admin audit log is always kept, with the representation.
	if rep.AdminEventsEnabled != nil && !*rep.AdminEventsEnabled {
		return badRequest("adminEventsEnabled false is not supported: admin events are always recorded")
	}
	if rep.AdminEventsDetailsEnabled != nil && !*rep.AdminEventsDetailsEnabled {
		return badRequest("adminEventsDetailsEnabled false is not supported: admin events always carry the representation")
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// setIf copies a field present in a representation (non-nil) onto its
// record, so a PUT changes only what it sends.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func toRealmRep(r store.Realm) realmRep {
	// Realms stored before a setting existed show Keycloak's default.
	realms.ApplyRealmDefaults(&r)
	bf := r.BruteForce
	attrs := r.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	rep := realmRep{
		ID: ptr(r.ID), Realm: ptr(r.Name), DisplayName: ptr(r.DisplayName), Enabled: ptr(r.Enabled),
		AccessTokenLifespan: ptr(r.AccessTokenLifespan), SSOSessionIdleTimeout: ptr(r.SSOSessionIdleTimeout),
		SSOSessionMaxLifespan: ptr(r.SSOSessionMaxLifespan), DefaultSignatureAlgorithm: ptr(r.DefaultSignatureAlgorithm),
		RevokeRefreshToken: ptr(r.RevokeRefreshToken), RefreshTokenMaxReuse: ptr(r.RefreshTokenMaxReuse),
		RefreshTokenReuseGraceSeconds: ptr(r.RefreshTokenReuseGraceSeconds), NotBefore: ptr(r.NotBefore),
		BruteForceProtected: ptr(bf.Protected), PermanentLockout: ptr(bf.PermanentLockout),
		FailureFactor: ptr(bf.FailureFactor), WaitIncrementSeconds: ptr(bf.WaitIncrementSeconds),
		MaxFailureWaitSeconds: ptr(bf.MaxFailureWaitSeconds), MaxDeltaTimeSeconds: ptr(bf.MaxDeltaTimeSeconds),
		QuickLoginCheckMilliSeconds: ptr(bf.QuickLoginCheckMilliSeconds), MinimumQuickLoginWaitSeconds: ptr(bf.MinimumQuickLoginWaitSeconds),
		Attributes: attrs, credentialSettingsRep: toCredentialSettings(r),

		DisplayNameHTML: ptr(r.DisplayNameHTML), SSLRequired: ptr(r.SSLRequired),
		RegistrationAllowed: ptr(r.RegistrationAllowed), RememberMe: ptr(r.RememberMe), VerifyEmail: ptr(r.VerifyEmail),
		LoginWithEmailAllowed: ptr(!r.NoLoginWithEmail), DuplicateEmailsAllowed: ptr(false),
		ResetPasswordAllowed: ptr(r.ResetPasswordAllowed), EditUsernameAllowed: ptr(r.EditUsernameAllowed),
		OfflineSessionIdleTimeout:        ptr(r.OfflineSessionIdleTimeout),
		OfflineSessionMaxLifespanEnabled: ptr(r.OfflineSessionMaxLifespanEnabled),
		OfflineSessionMaxLifespan:        ptr(r.OfflineSessionMaxLifespan),
		ClientSessionIdleTimeout:         ptr(r.ClientSessionIdleTimeout), ClientSessionMaxLifespan: ptr(r.ClientSessionMaxLifespan),
		AccessCodeLifespan: ptr(r.AccessCodeLifespan), AccessCodeLifespanUserAction: ptr(r.AccessCodeLifespanUserAction),
		AccessCodeLifespanLogin:             ptr(r.AccessCodeLifespanLogin),
		ActionTokenGeneratedByAdminLifespan: ptr(r.ActionTokenGeneratedByAdminLifespan),
		ActionTokenGeneratedByUserLifespan:  ptr(r.ActionTokenGeneratedByUserLifespan),
		EventsEnabled:                       ptr(r.Events.Enabled), EnabledEventTypes: ptr(nonNil(r.Events.EnabledTypes)),
		EventsListeners: ptr(nonNil(r.Events.Listeners)), AdminEventsEnabled: ptr(true), AdminEventsDetailsEnabled: ptr(true),
	}
	if r.Events.ExpirationSeconds > 0 {
		rep.EventsExpiration = ptr(r.Events.ExpirationSeconds)
	}
	return rep
}

// apply copies the fields present in the representation onto r.
func (rep realmRep) apply(r *store.Realm) {
	setIf(&r.Name, rep.Realm)
	setIf(&r.DisplayName, rep.DisplayName)
	setIf(&r.Enabled, rep.Enabled)
	setIf(&r.AccessTokenLifespan, rep.AccessTokenLifespan)
	setIf(&r.SSOSessionIdleTimeout, rep.SSOSessionIdleTimeout)
	setIf(&r.SSOSessionMaxLifespan, rep.SSOSessionMaxLifespan)
	setIf(&r.DefaultSignatureAlgorithm, rep.DefaultSignatureAlgorithm)
	setIf(&r.RevokeRefreshToken, rep.RevokeRefreshToken)
	setIf(&r.RefreshTokenMaxReuse, rep.RefreshTokenMaxReuse)
	setIf(&r.RefreshTokenReuseGraceSeconds, rep.RefreshTokenReuseGraceSeconds)
	setIf(&r.NotBefore, rep.NotBefore)
	bf := &r.BruteForce
	setIf(&bf.Protected, rep.BruteForceProtected)
	setIf(&bf.PermanentLockout, rep.PermanentLockout)
	setIf(&bf.FailureFactor, rep.FailureFactor)
	setIf(&bf.WaitIncrementSeconds, rep.WaitIncrementSeconds)
	setIf(&bf.MaxFailureWaitSeconds, rep.MaxFailureWaitSeconds)
	setIf(&bf.MaxDeltaTimeSeconds, rep.MaxDeltaTimeSeconds)
	setIf(&bf.QuickLoginCheckMilliSeconds, rep.QuickLoginCheckMilliSeconds)
	setIf(&bf.MinimumQuickLoginWaitSeconds, rep.MinimumQuickLoginWaitSeconds)
	rep.credentialSettingsRep.apply(r)
	if rep.Attributes != nil {
		r.Attributes = rep.Attributes
	}
	setIf(&r.DisplayNameHTML, rep.DisplayNameHTML)
	setIf(&r.SSLRequired, rep.SSLRequired)
	setIf(&r.RegistrationAllowed, rep.RegistrationAllowed)
	setIf(&r.RememberMe, rep.RememberMe)
	setIf(&r.VerifyEmail, rep.VerifyEmail)
	if rep.LoginWithEmailAllowed != nil {
		r.NoLoginWithEmail = !*rep.LoginWithEmailAllowed
	}
	setIf(&r.ResetPasswordAllowed, rep.ResetPasswordAllowed)
	setIf(&r.EditUsernameAllowed, rep.EditUsernameAllowed)
	setIf(&r.OfflineSessionIdleTimeout, rep.OfflineSessionIdleTimeout)
	setIf(&r.OfflineSessionMaxLifespanEnabled, rep.OfflineSessionMaxLifespanEnabled)
	setIf(&r.OfflineSessionMaxLifespan, rep.OfflineSessionMaxLifespan)
	setIf(&r.ClientSessionIdleTimeout, rep.ClientSessionIdleTimeout)
	setIf(&r.ClientSessionMaxLifespan, rep.ClientSessionMaxLifespan)
	setIf(&r.AccessCodeLifespan, rep.AccessCodeLifespan)
	setIf(&r.AccessCodeLifespanUserAction, rep.AccessCodeLifespanUserAction)
	setIf(&r.AccessCodeLifespanLogin, rep.AccessCodeLifespanLogin)
	setIf(&r.ActionTokenGeneratedByAdminLifespan, rep.ActionTokenGeneratedByAdminLifespan)
	setIf(&r.ActionTokenGeneratedByUserLifespan, rep.ActionTokenGeneratedByUserLifespan)
	setIf(&r.Events.Enabled, rep.EventsEnabled)
	if rep.EventsExpiration != nil {
		r.Events.ExpirationSeconds = *rep.EventsExpiration
	}
	if rep.EnabledEventTypes != nil {
		r.Events.EnabledTypes = *rep.EnabledEventTypes
	}
	if rep.EventsListeners != nil {
		r.Events.Listeners = *rep.EventsListeners
	}
}

// listRealms returns the realms the caller may view.
func (a *API) listRealms(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r)
	all, err := a.svc.Realms(r.Context())
	if err != nil {
		return err
	}
	out := []realmRep{}
	for _, rl := range all {
		if c.can(rl, viewRealm) || c.can(rl, queryUsers) || c.can(rl, queryClients) {
			out = append(out, toRealmRep(rl))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) createRealm(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r)
	if !c.createRealm {
		return withReason(errForbidden, "caller lacks create-realm")
	}
	// A create takes the whole RealmRepresentation, as a Keycloak export
	// writes it: the settings and the realm's roles, groups, clients and
	// users, read as a realm file is (parseRealmFile).
	body, err := readBody(r, maxRealmBody)
	if err != nil {
		return err
	}
	full, rl, rpt, err := parseRealmFile(body)
	if err != nil {
		return err
	}
	created_, err := a.svc.ImportRealm(r.Context(), rl, full.RealmImport)
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return withReason(conflict("Conflict detected. See logs for details"), "realm exists")
	}
	if err != nil {
		return err
	}
	// Keycloak answers a create with 201, a Location and no body, and its
	// clients read nothing else: what was not imported goes in headers,
	// the log and the admin event, never nowhere.
	if !rpt.empty() {
		if len(rpt.NotSupported) > 0 {
			w.Header().Set(headerNotSupported, strings.Join(rpt.NotSupported, ", "))
		}
		if len(rpt.Unknown) > 0 {
			w.Header().Set(headerUnknown, strings.Join(rpt.Unknown, ", "))
		}
		a.log.Warn("admin: realm created; fields not imported", "realm", created_.Name, "report", rpt.String())
	}
	a.audit(r, c.token.Realm.ID, "CREATE", "REALM", "realms/"+created_.Name, createdRealmRep{toRealmRep(created_), rpt})
	created(w, r, created_.Name)
	return nil
}

// Response headers of POST /admin/realms naming what was not imported
// (RealmFileReport), comma-separated.
const (
	headerNotSupported = "X-Gatehouse-Not-Imported"
	headerUnknown      = "X-Gatehouse-Unknown-Fields"
)

// maxRealmBody bounds a realm create: it may carry a whole export with
// users, far beyond other representations.
const maxRealmBody = 64 << 20

// createdRealmRep is a realm create's admin event: the realm as created
// and what the representation carried that was not imported.
type createdRealmRep struct {
	realmRep
	NotImported RealmFileReport `json:"gatehouseNotImported"`
}

func (a *API) getRealm(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, viewRealm)
	if err != nil {
		return err
	}
	rep := toRealmRep(rl)
	if rep.DefaultRole, err = a.defaultRoleRep(r.Context(), rl); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (a *API) updateRealm(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageRealm)
	if err != nil {
		return err
	}
	var rep realmRep
	if err := decodeStrict(r, &rep); err != nil {
		return err
	}
	if err := rep.unsupported(); err != nil {
		return err
	}
	defaultRole := rl.DefaultRoleID
	if rep.DefaultRole != nil {
		if defaultRole, err = a.defaultRoleID(r, rl, rep.DefaultRole); err != nil {
			return err
		}
	}
	updated, err := a.svc.UpdateRealm(r.Context(), rl.Name, func(x *store.Realm) error {
		rep.apply(x)
		x.DefaultRoleID = defaultRole
		return nil
	})
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return withReason(conflict("Realm "+ce.Value+" already exists"), "realm exists")
	}
	if err != nil {
		return err
	}
	return a.changed(w, r, updated.ID, "UPDATE", "REALM", "", toRealmRep(updated))
}

func (a *API) deleteRealm(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageRealm)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteRealm(r.Context(), rl.Name); err != nil {
		return err
	}
	// The realm's own log went with it; the caller's realm keeps the record.
	c := callerOf(r)
	if c.token.Realm.ID != rl.ID {
		a.audit(r, c.token.Realm.ID, "DELETE", "REALM", "realms/"+rl.Name, nil)
	}
	noContent(w)
	return nil
}

// adminEvents is GET /admin/realms/{realm}/admin-events, newest first,
// with the filters of adminEventFilter.
func (a *API) adminEvents(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, viewEvents)
	if err != nil {
		return err
	}
	f, err := adminEventFilter(r)
	if err != nil {
		return err
	}
	events, err := a.svc.AdminEvents(r.Context(), rl, f)
	if err != nil {
		return err
	}
	type authDetails struct {
		RealmID   string `json:"realmId"`
		ClientID  string `json:"clientId"`
		UserID    string `json:"userId"`
		Username  string `json:"username"`
		IPAddress string `json:"ipAddress"`
	}
	type eventRep struct {
		ID             string      `json:"id"`
		Time           int64       `json:"time"`
		RealmID        string      `json:"realmId"`
		AuthDetails    authDetails `json:"authDetails"`
		OperationType  string      `json:"operationType"`
		ResourceType   string      `json:"resourceType"`
		ResourcePath   string      `json:"resourcePath"`
		Representation string      `json:"representation,omitempty"`
	}
	out := []eventRep{}
	for _, e := range events {
		out = append(out, eventRep{ID: e.ID, Time: millis(e.Time), RealmID: rl.ID,
			AuthDetails: authDetails{RealmID: e.AuthRealmID, ClientID: e.AuthClient, UserID: e.AuthUserID,
				Username: e.AuthUser, IPAddress: e.IPAddress},
			OperationType: e.OperationType, ResourceType: e.ResourceType, ResourcePath: e.ResourcePath,
			Representation: e.Representation})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
