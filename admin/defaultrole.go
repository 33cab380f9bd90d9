package admin

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse/store"
)

// defaultRoleRep is RealmRepresentation.defaultRole: the composite every
// new user is given.
func (a *API) defaultRoleRep(ctx context.Context, rl store.Realm) (*roleRep, error) {
	if rl.DefaultRoleID == "" {
		return nil, nil
	}
	role, err := a.svc.Role(ctx, rl.ID, rl.DefaultRoleID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rep := toRoleRepBrief(rl.ID, role, true)
	return &rep, nil
}

// defaultRoleID resolves a PUT realm's defaultRole (by id, else by name) to
// a realm role. Every new user gets it, so it takes what granting it takes.
func (a *API) defaultRoleID(r *http.Request, rl store.Realm, rep *roleRep) (string, error) {
	var role store.Role
	var err error
	if rep.ID != "" {
		role, err = a.svc.Role(r.Context(), rl.ID, rep.ID)
	} else {
		role, err = a.svc.RoleByName(r.Context(), rl.ID, "", rep.Name)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && role.ClientID != "") {
		return "", badRequest("defaultRole: no such realm role")
	}
	if err != nil {
		return "", err
	}
	if role.ID == rl.DefaultRoleID {
		return role.ID, nil
	}
	if ok, err := a.mayGrant(r, rl, role); err != nil {
		return "", err
	} else if !ok {
		return "", withReason(errForbidden, "default role confers rights the caller lacks")
	}
	return role.ID, nil
}
