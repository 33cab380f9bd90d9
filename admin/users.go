package admin

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// userRep is Keycloak's UserRepresentation.
type userRep struct {
	ID                         *string             `json:"id,omitempty"`
	Username                   *string             `json:"username,omitempty"`
	Email                      *string             `json:"email,omitempty"`
	EmailVerified              *bool               `json:"emailVerified,omitempty"`
	FirstName                  *string             `json:"firstName,omitempty"`
	LastName                   *string             `json:"lastName,omitempty"`
	Enabled                    *bool               `json:"enabled,omitempty"`
	CreatedTimestamp           *int64              `json:"createdTimestamp,omitempty"`
	Attributes                 map[string][]string `json:"attributes,omitempty"`
	RequiredActions            []string            `json:"requiredActions,omitempty"`
	ServiceAccountClientID     *string             `json:"serviceAccountClientId,omitempty"`
	Totp                       *bool               `json:"totp,omitempty"`
	DisableableCredentialTypes []string            `json:"disableableCredentialTypes,omitempty"`
	NotBefore                  *int64              `json:"notBefore,omitempty"`
	// Input only.
	Credentials []passwordRep `json:"credentials,omitempty"`
	// Groups are full paths of groups to join, on create only.
	Groups []string `json:"groups,omitempty"`
}

// passwordRep is Keycloak's CredentialRepresentation as sent to
// reset-password or embedded in a new user.
type passwordRep struct {
	Type      string `json:"type"`
	Value     string `json:"value"`
	Temporary bool   `json:"temporary"`
}

func toUserRep(u store.User) userRep {
	rep := userRep{
		ID: ptr(u.ID), Username: ptr(u.Username), EmailVerified: ptr(u.EmailVerified),
		Enabled: ptr(u.Enabled), CreatedTimestamp: ptr(millis(u.CreatedAt)), Totp: ptr(false),
		DisableableCredentialTypes: []string{}, RequiredActions: nonNil(u.RequiredActions),
		NotBefore: ptr(u.NotBefore),
	}
	if u.Email != "" {
		rep.Email = ptr(u.Email)
	}
	if u.FirstName != "" {
		rep.FirstName = ptr(u.FirstName)
	}
	if u.LastName != "" {
		rep.LastName = ptr(u.LastName)
	}
	if len(u.Attributes) > 0 {
		rep.Attributes = u.Attributes
	}
	return rep
}

func (rep userRep) apply(u *store.User) {
	setIf(&u.Username, rep.Username)
	setIf(&u.Email, rep.Email)
	setIf(&u.FirstName, rep.FirstName)
	setIf(&u.LastName, rep.LastName)
	setIf(&u.EmailVerified, rep.EmailVerified)
	setIf(&u.Enabled, rep.Enabled)
	if rep.Attributes != nil {
		u.Attributes = rep.Attributes
	}
	if rep.RequiredActions != nil {
		u.RequiredActions = rep.RequiredActions
	}
}

func (a *API) loadUser(r *http.Request, rl store.Realm) (store.User, error) {
	u, err := a.svc.User(r.Context(), rl.ID, mux.Vars(r)["id"])
	return u, mapNotFound(err, "user")
}

// userSearch is the realm (query-users) and the query of GET /users and
// GET /users/count, which must find the same users.
func (a *API) userSearch(r *http.Request) (store.Realm, store.UserQuery, error) {
	rl, err := a.targetRealm(r, queryUsers)
	if err != nil {
		return rl, store.UserQuery{}, err
	}
	q, err := userQuery(r)
	return rl, q, err
}

func userQuery(r *http.Request) (store.UserQuery, error) {
	p, err := page(r)
	if err != nil {
		return store.UserQuery{}, err
	}
	q := r.URL.Query()
	uq := store.UserQuery{Page: p, Search: q.Get("search"), Username: q.Get("username"),
		Email: q.Get("email"), Exact: q.Get("exact") == "true"}
	if err := searchFilters(q, &uq); err != nil {
		return uq, err
	}
	// Searches hide service accounts, as Keycloak's do; an exact username
	// lookup finds them (kcadm add-roles --uusername service-account-x).
	uq.ServiceAccounts = uq.Exact && uq.Username != ""
	if v := q.Get("enabled"); v != "" {
		b := v == "true"
		if !b && v != "false" {
			return uq, badRequest("query parameter enabled must be true or false")
		}
		uq.Enabled = &b
	}
	return uq, nil
}

// targetManagedUser is targetUser with manage-users for a change that could
// take the user over (edit, disable, delete, password or credential
// changes). It is refused (403) when the user holds admin rights the caller
// lacks: manage-users alone must not reset a realm admin's password and
// sign in as them.
func (a *API) targetManagedUser(r *http.Request) (store.Realm, store.User, error) {
	rl, u, err := a.targetUser(r, manageUsers)
	if err != nil {
		return rl, u, err
	}
	rights, err := a.svc.AdminRights(r.Context(), rl, u)
	if err == nil && !callerOf(r).covers(rl, rights) {
		err = errForbidden
	}
	if err != nil {
		return store.Realm{}, store.User{}, err
	}
	return rl, u, nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	rl, q, err := a.userSearch(r)
	if err != nil {
		return err
	}
	users, err := a.svc.Users(r.Context(), rl.ID, q)
	if err != nil {
		return err
	}
	// query-users finds users; only view-users reads their profiles (as
	// GET /users/{id} requires), so a query-only caller gets id and
	// username.
	view := callerOf(r).can(rl, viewUsers)
	brief := r.URL.Query().Get("briefRepresentation") == "true"
	out := []userRep{}
	for _, u := range users {
		switch {
		case !view:
			out = append(out, userRep{ID: ptr(u.ID), Username: ptr(u.Username)})
		case brief:
			out = append(out, briefUserRep(u))
		default:
			out = append(out, toUserRep(u))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) countUsers(w http.ResponseWriter, r *http.Request) error {
	rl, q, err := a.userSearch(r)
	if err != nil {
		return err
	}
	n, err := a.svc.CountUsers(r.Context(), rl.ID, q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

// passwordOf returns the password of an embedded credentials list.
func passwordOf(creds []passwordRep) (*passwordRep, error) {
	for i := range creds {
		c := &creds[i]
		if c.Type != "" && c.Type != "password" {
			return nil, badRequest("unsupported credential type %q", c.Type)
		}
		return c, nil
	}
	return nil, nil
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	rl, rep, err := targetBody[userRep](a, r, manageUsers, decode)
	if err != nil {
		return err
	}
	if rep.Username == nil || strings.TrimSpace(*rep.Username) == "" {
		return badRequest("User name is missing")
	}
	pw, err := passwordOf(rep.Credentials)
	if err != nil {
		return err
	}
	var u store.User // Keycloak creates users disabled unless told otherwise
	rep.apply(&u)
	if u.GroupIDs, err = a.groupsByPath(r, rl, rep.Groups); err != nil {
		return err
	}
	nu := realms.NewUser{User: u}
	if pw != nil {
		nu.Password, nu.Temporary = pw.Value, pw.Temporary
	}
	created_, err := a.svc.CreateUser(r.Context(), rl.Name, nu)
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "CREATE", "USER", "users/"+created_.ID, toUserRep(created_))
	created(w, r, created_.ID)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	_, u, err := a.targetUser(r, viewUsers)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserRep(u))
	return nil
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetManagedUser(r)
	if err != nil {
		return err
	}
	var rep userRep
	if err := decode(r, &rep); err != nil {
		return err
	}
	if rep.Groups != nil {
		return badRequest("unsupported field groups: change memberships through /users/{id}/groups/{groupId}")
	}
	if u.ServiceAccountClientID != "" && rep.Username != nil && !strings.EqualFold(*rep.Username, u.Username) {
		return badRequest("Service account usernames cannot be changed")
	}
	pw, err := passwordOf(rep.Credentials)
	if err != nil {
		return err
	}
	updated, err := a.svc.UpdateUser(r.Context(), rl.Name, u.ID, func(x *store.User) error {
		rep.apply(x)
		return nil
	})
	if err != nil {
		return err
	}
	if pw != nil {
		if err := a.svc.SetPassword(r.Context(), rl.Name, u.ID, pw.Value, pw.Temporary); err != nil {
			return err
		}
	}
	return a.changed(w, r, rl.ID, "UPDATE", "USER", "users/"+u.ID, toUserRep(updated))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetManagedUser(r)
	if err != nil {
		return err
	}
	if u.ServiceAccountClientID != "" {
		return badRequest("Service account users are deleted with their client")
	}
	if err := a.svc.DeleteUser(r.Context(), rl.Name, u.ID); err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "DELETE", "USER", "users/"+u.ID, nil)
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetManagedUser(r)
	if err != nil {
		return err
	}
	var pw passwordRep
	if err := decode(r, &pw); err != nil {
		return err
	}
	if pw.Type != "" && pw.Type != "password" {
		return badRequest("unsupported credential type %q", pw.Type)
	}
	if pw.Value == "" {
		return badRequest("Password cannot be empty")
	}
	if err := a.svc.SetPassword(r.Context(), rl.Name, u.ID, pw.Value, pw.Temporary); err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "ACTION", "USER", "users/"+u.ID+"/reset-password", nil)
}

// credentials lists a user's credentials without their secrets.
func (a *API) credentials(w http.ResponseWriter, r *http.Request) error {
	_, u, err := a.targetUser(r, viewUsers)
	if err != nil {
		return err
	}
	type credRep struct {
		ID             string `json:"id"`
		Type           string `json:"type"`
		UserLabel      string `json:"userLabel,omitempty"`
		CreatedDate    int64  `json:"createdDate"`
		CredentialData string `json:"credentialData"`
	}
	out := []credRep{}
	for _, c := range u.Credentials {
		_, data, err := realms.ExportKeycloakCredential(c)
		if err != nil {
			return err
		}
		out = append(out, credRep{ID: c.ID, Type: c.Type, UserLabel: c.UserLabel, CreatedDate: millis(c.CreatedAt), CredentialData: data})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) deleteCredential(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetManagedUser(r)
	if err != nil {
		return err
	}
	cid := mux.Vars(r)["cid"]
	found := false
	_, err = a.svc.UpdateUser(r.Context(), rl.Name, u.ID, func(x *store.User) error {
		found = false
		kept := x.Credentials[:0:0]
		for _, c := range x.Credentials {
			if c.ID == cid {
				found = true
				continue
			}
			kept = append(kept, c)
		}
		x.Credentials = kept
		return nil
	})
	if err != nil {
		return err
	}
	if !found {
		return notFound("credential")
	}
	return a.changed(w, r, rl.ID, "DELETE", "USER", "users/"+u.ID+"/credentials/"+cid, nil)
}
