package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// realmFileRep is the whole RealmRepresentation, as Keycloak exports it and
// as POST /admin/realms takes it: the settings and the realm's contents.
type realmFileRep struct {
	realmRep
	realms.RealmImport
}

// exportRealm builds the representation of a realm with opts.
func exportRealm(ctx context.Context, svc *realms.Service, rl store.Realm, opts realms.ExportOptions) (realmFileRep, error) {
	out := realmFileRep{realmRep: toRealmRep(rl)}
	var err error
	if out.RealmImport, err = svc.ExportRealm(ctx, rl.Name, opts); err != nil {
		return out, err
	}
	if rl.DefaultRoleID != "" {
		role, err := svc.Role(ctx, rl.ID, rl.DefaultRoleID)
		if err == nil {
			rep := toRoleRepBrief(rl.ID, role, true)
			out.DefaultRole = &rep
		}
	}
	return out, nil
}

// partialExport is POST /admin/realms/{realm}/partial-export: the realm's
// settings, with clients and groups and roles on request; never users,
// and secrets masked.
func (a *API) partialExport(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageRealm)
	if err != nil {
		return err
	}
	flag := func(name string) (bool, error) {
		v := r.URL.Query().Get(name)
		if v == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, badRequest("%s must be true or false", name)
		}
		return b, nil
	}
	var opts realms.ExportOptions
	if opts.Clients, err = flag("exportClients"); err != nil {
		return err
	}
	if opts.GroupsAndRoles, err = flag("exportGroupsAndRoles"); err != nil {
		return err
	}
	rep, err := exportRealm(r.Context(), a.svc, rl, opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// ExportRealmFile writes realm name as a Keycloak realm file with
// everything needed to recreate it elsewhere: clear client and provider
// secrets and, with users, the users with their password hashes. It is for
// the offline `gatehouse export`; the file must be kept as secret as the
// database.
func ExportRealmFile(ctx context.Context, svc *realms.Service, name string, users bool) ([]byte, error) {
	st, err := svc.Realm(ctx, name)
	if err != nil {
		return nil, err
	}
	rep, err := exportRealm(ctx, svc, st.Realm, realms.ExportOptions{Clients: true, GroupsAndRoles: true, Users: users, Secrets: true})
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", name, err)
	}
	return append(b, '\n'), nil
}

// RealmFileImport is what ImportRealmFile did with one realm file.
type RealmFileImport struct {
	Realm    string
	Imported bool // false: the realm existed and override was off
	// What the file carried that was not imported: a Keycloak export
	// carries many fields (flows, components, policies) that Gatehouse
	// does not implement.
	RealmFileReport
}

// newRealm checks a create's settings and turns them into the realm
// record CreateRealm takes.
func (rep realmFileRep) newRealm() (store.Realm, error) {
	if err := rep.unsupported(); err != nil {
		return store.Realm{}, err
	}
	if rep.Realm == nil || *rep.Realm == "" {
		return store.Realm{}, badRequest("Realm name cannot be empty")
	}
	// A new realm's default role is always default-roles-<realm>; an
	// export naming it is accepted, any other is refused rather than
	// dropped.
	if d := rep.DefaultRole; d != nil && d.Name != "default-roles-"+strings.ToLower(*rep.Realm) {
		return store.Realm{}, badRequest("unsupported field defaultRole: a new realm's default role is default-roles-%s", strings.ToLower(*rep.Realm))
	}
	var rl store.Realm
	rep.apply(&rl)
	return rl, nil
}

// partialImport is POST /admin/realms/{realm}/partialImport (manage-realm):
// Keycloak's PartialImportRepresentation, answered with its
// PartialImportResults.
func (a *API) partialImport(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageRealm)
	if err != nil {
		return err
	}
	var rep struct {
		IfResourceExists string `json:"ifResourceExists"`
		realms.RealmImport
	}
	if err := decodeStrict(r, &rep); err != nil {
		return err
	}
	res, err := a.svc.PartialImport(r.Context(), rl.Name, rep.IfResourceExists, rep.RealmImport)
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "CREATE", "REALM", "partialImport", res)
	writeJSON(w, http.StatusOK, res)
	return nil
}
