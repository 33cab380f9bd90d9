package realms

import (
	"context"
	"errors"

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

// Bootstrap creates, on an empty store, realm master with the public client
// admin-cli (direct access grants on) and an admin user holding the master
// realm role admin. An empty password is replaced by a generated one. On a
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
	// Keycloak's master realm keeps admin tokens short-lived.
	if _, err := s.CreateRealm(ctx, store.Realm{Name: MasterRealm, DisplayName: "Keycloak", Enabled: true, AccessTokenLifespan: 60}); err != nil {
		return Bootstrap{}, err
	}
	if _, _, err := s.CreateClient(ctx, MasterRealm, NewClient{Client: store.Client{
		ClientID: AdminCLIClientID, Name: "${client_admin-cli}", Enabled: true,
		PublicClient: true, DirectAccessGrantsEnabled: true,
	}}); err != nil {
		return Bootstrap{}, err
	}
	u, err := s.CreateUser(ctx, MasterRealm, NewUser{User: store.User{Username: adminUser, Enabled: true}, Password: adminPassword})
	if err != nil {
		return Bootstrap{}, err
	}
	st, err := s.Realm(ctx, MasterRealm)
	if err != nil {
		return Bootstrap{}, err
	}
	for _, name := range []string{AdminRole, CreateRealmRole} {
		role, err := s.store.GetRoleByName(ctx, st.Realm.ID, "", name)
		if err != nil {
			return Bootstrap{}, err
		}
		if err := s.GrantRoles(ctx, MasterRealm, u.ID, role.ID); err != nil {
			return Bootstrap{}, err
		}
	}
	return out, nil
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
	u, err := s.findLoginUser(ctx, master.ID, adminUser)
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
