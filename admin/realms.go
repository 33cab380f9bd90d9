package admin

import (
	"errors"
	"net/http"
	"strings"

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
	DefaultRole                   *roleRep  `json:"defaultRole,omitempty"`
}

func ptr[T any](v T) *T { return &v }

func toRealmRep(r store.Realm) realmRep {
	bf := r.BruteForce
	attrs := r.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	return realmRep{
		ID: ptr(r.ID), Realm: ptr(r.Name), DisplayName: ptr(r.DisplayName), Enabled: ptr(r.Enabled),
		AccessTokenLifespan: ptr(r.AccessTokenLifespan), SSOSessionIdleTimeout: ptr(r.SSOSessionIdleTimeout),
		SSOSessionMaxLifespan: ptr(r.SSOSessionMaxLifespan), DefaultSignatureAlgorithm: ptr(r.DefaultSignatureAlgorithm),
		RevokeRefreshToken: ptr(r.RevokeRefreshToken), RefreshTokenMaxReuse: ptr(r.RefreshTokenMaxReuse),
		RefreshTokenReuseGraceSeconds: ptr(r.RefreshTokenReuseGraceSeconds), NotBefore: ptr(r.NotBefore),
		BruteForceProtected: ptr(bf.Protected), PermanentLockout: ptr(bf.PermanentLockout),
		FailureFactor: ptr(bf.FailureFactor), WaitIncrementSeconds: ptr(bf.WaitIncrementSeconds),
		MaxFailureWaitSeconds: ptr(bf.MaxFailureWaitSeconds), MaxDeltaTimeSeconds: ptr(bf.MaxDeltaTimeSeconds),
		QuickLoginCheckMilliSeconds: ptr(bf.QuickLoginCheckMilliSeconds), MinimumQuickLoginWaitSeconds: ptr(bf.MinimumQuickLoginWaitSeconds),
		Attributes: attrs,
	}
}

// apply copies the fields present in the representation onto r.
func (rep realmRep) apply(r *store.Realm) {
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setB := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	if rep.Realm != nil {
		r.Name = *rep.Realm
	}
	if rep.DisplayName != nil {
		r.DisplayName = *rep.DisplayName
	}
	setB(&r.Enabled, rep.Enabled)
	set(&r.AccessTokenLifespan, rep.AccessTokenLifespan)
	set(&r.SSOSessionIdleTimeout, rep.SSOSessionIdleTimeout)
	set(&r.SSOSessionMaxLifespan, rep.SSOSessionMaxLifespan)
	if rep.DefaultSignatureAlgorithm != nil {
		r.DefaultSignatureAlgorithm = *rep.DefaultSignatureAlgorithm
	}
	setB(&r.RevokeRefreshToken, rep.RevokeRefreshToken)
	set(&r.RefreshTokenMaxReuse, rep.RefreshTokenMaxReuse)
	set(&r.RefreshTokenReuseGraceSeconds, rep.RefreshTokenReuseGraceSeconds)
	if rep.NotBefore != nil {
		r.NotBefore = *rep.NotBefore
	}
	bf := &r.BruteForce
	setB(&bf.Protected, rep.BruteForceProtected)
	setB(&bf.PermanentLockout, rep.PermanentLockout)
	set(&bf.FailureFactor, rep.FailureFactor)
	set(&bf.WaitIncrementSeconds, rep.WaitIncrementSeconds)
	set(&bf.MaxFailureWaitSeconds, rep.MaxFailureWaitSeconds)
	set(&bf.MaxDeltaTimeSeconds, rep.MaxDeltaTimeSeconds)
	set(&bf.QuickLoginCheckMilliSeconds, rep.QuickLoginCheckMilliSeconds)
	set(&bf.MinimumQuickLoginWaitSeconds, rep.MinimumQuickLoginWaitSeconds)
	if rep.Attributes != nil {
		r.Attributes = rep.Attributes
	}
}

// listRealms returns the realms the caller may view.
func (a *API) listRealms(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	all, err := a.svc.Store().ListRealms(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := []realmRep{}
	for _, rl := range all {
		if c.can(rl, viewRealm) || c.can(rl, queryUsers) || c.can(rl, queryClients) {
			out = append(out, toRealmRep(rl))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) createRealm(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if !c.createRealm {
		a.writeError(w, r, withReason(errForbidden, "caller lacks create-realm"))
		return
	}
	var rep realmRep
	if err := decode(r, &rep); err != nil {
		a.writeError(w, r, err)
		return
	}
	if rep.Realm == nil || *rep.Realm == "" {
		a.writeError(w, r, badRequest("Realm name cannot be empty"))
		return
	}
	// A new realm's default role is always default-roles-<realm>; an
	// export naming it is accepted, any other is refused rather than
	// dropped.
	if d := rep.DefaultRole; d != nil && d.Name != "default-roles-"+strings.ToLower(*rep.Realm) {
		a.writeError(w, r, badRequest("unsupported field defaultRole: a new realm's default role is default-roles-%s", strings.ToLower(*rep.Realm)))
		return
	}
	var rl store.Realm
	rep.apply(&rl)
	created_, err := a.svc.CreateRealm(r.Context(), rl)
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		a.writeError(w, r, withReason(conflict("Conflict detected. See logs for details"), "realm exists"))
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r, c.token.Realm.ID, "CREATE", "REALM", "realms/"+created_.Name, toRealmRep(created_))
	created(w, r, created_.Name)
}

func (a *API) getRealm(w http.ResponseWriter, r *http.Request) {
	rl, err := a.targetRealm(r, viewRealm)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	rep := toRealmRep(rl)
	if rep.DefaultRole, err = a.defaultRoleRep(r.Context(), rl); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *API) updateRealm(w http.ResponseWriter, r *http.Request) {
	rl, err := a.targetRealm(r, manageRealm)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var rep realmRep
	if err := decode(r, &rep); err != nil {
		a.writeError(w, r, err)
		return
	}
	defaultRole := rl.DefaultRoleID
	if rep.DefaultRole != nil {
		if defaultRole, err = a.defaultRoleID(r, rl, rep.DefaultRole); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	updated, err := a.svc.UpdateRealm(r.Context(), rl.Name, func(x *store.Realm) error {
		rep.apply(x)
		x.DefaultRoleID = defaultRole
		return nil
	})
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		a.writeError(w, r, withReason(conflict("Realm "+ce.Value+" already exists"), "realm exists"))
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r, updated.ID, "UPDATE", "REALM", "", toRealmRep(updated))
	noContent(w)
}

func (a *API) deleteRealm(w http.ResponseWriter, r *http.Request) {
	rl, err := a.targetRealm(r, manageRealm)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.svc.DeleteRealm(r.Context(), rl.Name); err != nil {
		a.writeError(w, r, err)
		return
	}
	// The realm's own log went with it; the caller's realm keeps the record.
	c := callerOf(r)
	if c.token.Realm.ID != rl.ID {
		a.audit(r, c.token.Realm.ID, "DELETE", "REALM", "realms/"+rl.Name, nil)
	}
	noContent(w)
}

// adminEvents is GET /admin/realms/{realm}/admin-events, newest first.
func (a *API) adminEvents(w http.ResponseWriter, r *http.Request) {
	rl, err := a.targetRealm(r, viewEvents)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, err := page(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	events, err := a.svc.Store().ListAdminEvents(r.Context(), rl.ID, p)
	if err != nil {
		a.writeError(w, r, err)
		return
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
}
