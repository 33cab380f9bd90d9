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
}

// Bootstrap creates, on an empty store, realm master with the public client
// admin-cli (direct access grants on) and an admin user holding the master
// realm role admin. An empty password is replaced by a generated one. On a
// store that already has a master realm it does nothing.
func (s *Service) Bootstrap(ctx context.Context, adminUser, adminPassword string) (Bootstrap, error) {
	if _, err := s.store.GetRealm(ctx, MasterRealm); err == nil {
		return Bootstrap{}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Bootstrap{}, err
	}
	if adminUser == "" {
		adminUser = "admin"
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
