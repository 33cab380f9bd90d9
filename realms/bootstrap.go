package realms

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/store"
)

// AdminCLIClientID is the public client admins log in through, as in
// Keycloak.
const AdminCLIClientID = "admin-cli"

// Bootstrap is the outcome of Bootstrap.
type Bootstrap struct {
	// Created is true when this call created the master realm.
	Created bool
	// Username and GeneratedPassword are set when an admin user was created
	// with a generated password; it is shown once and never stored in clear.
	Username          string
	GeneratedPassword string
	// PasswordIgnored is set on a store that was already bootstrapped when
	// the given admin password does not log Username in: the password only
	// applies on first start, so the operator is told rather than left to
	// find out at login.
	PasswordIgnored bool
}

// Bootstrap creates, on an empty store, realm master (with the default
// clients, admin-cli among them) and an admin user holding the master
// realm role admin, all in one store transaction (a failure anywhere leaves
// no master realm). An empty password is replaced by a generated one. On a
// store that already has a master realm it changes nothing, and only checks
// that a given password is the admin's (see PasswordIgnored).
func (s *Service) Bootstrap(ctx context.Context, adminUser, adminPassword string) (Bootstrap, error) {
	if adminUser == "" {
		adminUser = "admin"
	}
	if master, err := s.store.GetRealm(ctx, MasterRealm); err == nil {
		return s.checkBootstrapPassword(ctx, master, adminUser, adminPassword)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Bootstrap{}, err
	}
	var out Bootstrap
	out.Created = true
	out.Username = adminUser
	if adminPassword == "" {
		p, err := GenerateSecret()
		if err != nil {
			return Bootstrap{}, err
		}
		adminPassword, out.GeneratedPassword = p, p
	}
	// The admin user, its password and its roles commit with the realm: a
	// crash or a failed write never leaves a master realm nobody can
	// administer, and a replica that loses the race to create master adds
	// nothing (its create fails on the realm name as a whole).
	addAdmin := func(r store.Realm, init *store.RealmContents) error {
		u, err := s.newUserRecord(r, store.User{Username: adminUser, Enabled: true})
		if err != nil {
			return err
		}
		cred, err := s.newPasswordCredential(adminPassword, false)
		if err != nil {
			return err
		}
		u.Credentials = []store.Credential{cred}
		for _, name := range []string{AdminRole, CreateRealmRole} {
			id := r.AdminRoleIDs[name]
			if id == "" {
				return fmt.Errorf("bootstrap: the new master realm has no %s role", name)
			}
			u.RoleIDs = appendOnce(u.RoleIDs, id)
		}
		init.Users = append(init.Users, u)
		return nil
	}
	// Keycloak's master realm keeps admin tokens short-lived.
	master := store.Realm{Name: MasterRealm, DisplayName: "Keycloak", Enabled: true, AccessTokenLifespan: 60}
	if _, err := s.createRealmWith(ctx, master, addAdmin); err != nil {
		return Bootstrap{}, err
	}
	return out, nil
}

// BootstrapAdminResult is the outcome of BootstrapAdmin.
type BootstrapAdminResult struct {
	// Created is true when the user did not exist and was created.
	Created bool
	UserID  string
}

// BootstrapAdmin restores access to a store whose admins are locked out, as
// Keycloak's `kc.sh bootstrap-admin user`: the master-realm user username is
// created, or re-enabled, given the master admin role and the password,
// and cleared of login failures; admin-cli is re-created or re-enabled. On a
// store without a master realm it bootstraps one. It is meant for a stopped
// server's data (the store's file lock keeps a running server's data out of
// reach).
func (s *Service) BootstrapAdmin(ctx context.Context, username, password string) (BootstrapAdminResult, error) {
	if username == "" {
		return BootstrapAdminResult{}, invalid("username", "username is required")
	}
	if password == "" {
		return BootstrapAdminResult{}, invalid("password", "password is required")
	}
	boot, err := s.Bootstrap(ctx, username, password)
	if err != nil {
		return BootstrapAdminResult{}, err
	}
	st, err := s.Realm(ctx, MasterRealm)
	if err != nil {
		return BootstrapAdminResult{}, err
	}
	if !st.Realm.Enabled {
		if _, err := s.UpdateRealm(ctx, MasterRealm, func(r *store.Realm) error { r.Enabled = true; return nil }); err != nil {
			return BootstrapAdminResult{}, err
		}
	}
	if err := s.ensureAdminCLI(ctx, st.Realm.ID); err != nil {
		return BootstrapAdminResult{}, err
	}
	adminRole := st.Realm.AdminRoleIDs[AdminRole]
	if adminRole == "" {
		return BootstrapAdminResult{}, errors.New("the master realm has no admin role")
	}
	out := BootstrapAdminResult{Created: boot.Created}
	u, err := s.store.GetUserByUsername(ctx, st.Realm.ID, username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u, err = s.CreateUser(ctx, MasterRealm, NewUser{User: store.User{Username: username, Enabled: true}, Password: password})
		if err != nil {
			return BootstrapAdminResult{}, err
		}
		out.Created = true
	case err != nil:
		return BootstrapAdminResult{}, err
	case u.ServiceAccountClientID != "":
		return BootstrapAdminResult{}, invalid("username", "%s is a service account", username)
	default:
		if _, err := s.UpdateUser(ctx, MasterRealm, u.ID, func(x *store.User) error { x.Enabled = true; return nil }); err != nil {
			return BootstrapAdminResult{}, err
		}
		if err := s.SetPassword(ctx, MasterRealm, u.ID, password, false); err != nil {
			return BootstrapAdminResult{}, err
		}
	}
	out.UserID = u.ID
	if err := s.GrantRoles(ctx, MasterRealm, u.ID, adminRole); err != nil {
		return BootstrapAdminResult{}, err
	}
	if err := s.ClearLoginFailure(ctx, MasterRealm, UserFailureKey(u.ID)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return BootstrapAdminResult{}, err
	}
	return out, nil
}

// ensureAdminCLI re-creates or re-enables master's admin-cli client, the one
// the restored admin signs in through.
func (s *Service) ensureAdminCLI(ctx context.Context, realmID string) error {
	c, err := s.store.GetClientByClientID(ctx, realmID, AdminCLIClientID)
	if errors.Is(err, store.ErrNotFound) {
		_, _, err = s.CreateClient(ctx, MasterRealm, NewClient{Client: store.Client{
			ClientID: AdminCLIClientID, Name: "${client_admin-cli}", Enabled: true,
			PublicClient: true, DirectAccessGrantsEnabled: true,
		}})
		return err
	}
	if err != nil || (c.Enabled && c.DirectAccessGrantsEnabled) {
		return err
	}
	_, err = s.UpdateClient(ctx, MasterRealm, c.ID, func(x *store.Client) error {
		x.Enabled, x.DirectAccessGrantsEnabled = true, true
		return nil
	})
	return err
}

// checkBootstrapPassword reports whether adminPassword (when given) logs
// adminUser in. It reads the user directly rather than through
// AuthenticateUser, so a stale password in the environment never counts as
// a brute-force failure or locks the admin out.
func (s *Service) checkBootstrapPassword(ctx context.Context, master store.Realm, adminUser, adminPassword string) (Bootstrap, error) {
	if adminPassword == "" {
		return Bootstrap{}, nil
	}
	out := Bootstrap{Username: adminUser}
	u, err := s.findLoginUser(ctx, master, adminUser)
	if errors.Is(err, ErrUserNotFound) {
		out.PasswordIgnored = true
		return out, nil
	}
	if err != nil {
		return Bootstrap{}, err
	}
	i := passwordIndex(u.Credentials)
	if i < 0 {
		out.PasswordIgnored = true
		return out, nil
	}
	var ok bool
	s.hashing(func() { ok, _, err = VerifyPassword(u.Credentials[i], adminPassword) })
	if err != nil && !errors.Is(err, ErrInvalidCredential) {
		return Bootstrap{}, err
	}
	out.PasswordIgnored = !ok
	return out, nil
}
