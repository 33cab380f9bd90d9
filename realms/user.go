package realms

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/store"
)

// RequiredActionUpdatePassword is Keycloak's action for a temporary password.
const RequiredActionUpdatePassword = "UPDATE_PASSWORD"

// NewUser is what CreateUser needs; Password, when set, becomes the user's
// password credential (hashed here, never stored in clear).
type NewUser struct {
	User      store.User
	Password  string
	Temporary bool
}

// NormalizeUsername is the one rule usernames follow wherever they are
// stored or looked up: surrounding ASCII spaces and control characters
// trimmed (as Java's String.trim) and lower-cased, as Keycloak does.
// Anything else invisible stays, for ValidateUser to refuse.
func NormalizeUsername(s string) string {
	return strings.ToLower(strings.TrimFunc(s, func(r rune) bool { return r <= ' ' }))
}

// ValidateUser checks a user's fields and normalizes username and email to
// lower case, as Keycloak does. Usernames with invisible characters are
// refused: they would let one user pass for another in every list.
func ValidateUser(u *store.User) error { return validateUser(u, "") }

// validateUser is ValidateUser for an update of a user stored as
// storedName: a name stored before invisible characters were refused is
// kept as it is, so that the user can still be managed (disabled, above
// all) until renamed.
func validateUser(u *store.User, storedName string) error {
	u.Username = NormalizeUsername(u.Username)
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if err := printableName("username", u.Username, 255); err != nil {
		return err
	}
	if u.Username != storedName {
		if err := visibleName("username", u.Username); err != nil {
			return err
		}
	}
	if err := validateEmail(u.Email); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"firstName", u.FirstName}, {"lastName", u.LastName}} {
		if len(f.v) > 255 {
			return invalid(f.name, "%s must be at most 255 bytes", f.name)
		}
	}
	return nil
}

// CreateUser validates and stores a user with the realm's default roles and,
// if given, a hashed password.
func (s *Service) CreateUser(ctx context.Context, realmName string, nu NewUser) (store.User, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return store.User{}, err
	}
	u, err := s.newUserRecord(st.Realm, nu.User)
	if err != nil {
		return store.User{}, err
	}
	if nu.Password != "" {
		cred, err := s.newPasswordCredential(nu.Password, nu.Temporary)
		if err != nil {
			return store.User{}, err
		}
		u.Credentials = []store.Credential{cred}
		if nu.Temporary {
			u.RequiredActions = appendOnce(u.RequiredActions, RequiredActionUpdatePassword)
		}
	}
	defer s.changed(ctx, st.Realm.ID)
	if err := s.store.CreateUser(ctx, st.Realm.ID, u); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// newUserRecord checks u and completes it as a new user of realm r: an ID
// if it has none, its creation time and the realm's default role.
func (s *Service) newUserRecord(r store.Realm, u store.User) (store.User, error) {
	if u.ID == "" {
		u.ID = NewID()
	}
	if err := ValidateUser(&u); err != nil {
		return store.User{}, err
	}
	if strings.HasPrefix(u.Username, ServiceAccountPrefix) && u.ServiceAccountClientID == "" {
		return store.User{}, invalid("username", "usernames starting with %q are reserved for service accounts", ServiceAccountPrefix)
	}
	u.CreatedAt = s.now().UTC()
	if r.DefaultRoleID != "" && !slices.Contains(u.RoleIDs, r.DefaultRoleID) {
		u.RoleIDs = append(u.RoleIDs, r.DefaultRoleID)
	}
	return u, nil
}

func (s *Service) newPasswordCredential(password string, temporary bool) (store.Credential, error) {
	if password == "" {
		return store.Credential{}, invalid("password", "password must not be empty")
	}
	if len(password) > 4096 {
		return store.Credential{}, invalid("password", "password must be at most 4096 bytes")
	}
	var cred store.Credential
	var err error
	s.hashing(func() { cred, err = HashPassword(password, s.now().UTC()) })
	if err != nil {
		return store.Credential{}, err
	}
	cred.Temporary = temporary
	return cred, nil
}

// SetPassword replaces the user's password and ends the user's sessions, so
// whoever learnt the old password keeps nothing it obtained with it
// (Keycloak signs out only when the admin asks; here it is the default). A
// temporary password adds the UPDATE_PASSWORD required action (so the
// password grant refuses it until it is changed), a permanent one clears it.
func (s *Service) SetPassword(ctx context.Context, realmName, userID, password string, temporary bool) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	// Hash outside the store transaction.
	cred, err := s.newPasswordCredential(password, temporary)
	if err != nil {
		return err
	}
	_, err = s.store.UpdateUser(ctx, realmID, userID, func(u *store.User) error {
		if u.ServiceAccountClientID != "" {
			return invalid("type", "service accounts have no password")
		}
		u.Credentials = replacePassword(u.Credentials, cred)
		u.RequiredActions = removeString(u.RequiredActions, RequiredActionUpdatePassword)
		if temporary {
			u.RequiredActions = append(u.RequiredActions, RequiredActionUpdatePassword)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.endUserSessions(ctx, realmID, userID)
}

// endUserSessions deletes every session of a user with its refresh tokens;
// access tokens carrying those sessions' sid stop verifying with them.
func (s *Service) endUserSessions(ctx context.Context, realmID, userID string) error {
	sessions, err := s.store.ListSessions(ctx, realmID, store.SessionQuery{UserID: userID})
	if err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	for _, sess := range sessions {
		if err := s.store.DeleteSession(ctx, realmID, sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("end sessions: %w", err)
		}
	}
	return nil
}

// AuthenticateUser checks a username (or email) and password for the direct
// grant and Knox Basic auth. Every path costs one password hash so response
// time does not tell whether a user exists. Errors: ErrUserNotFound (also for
// a user locked by brute-force detection, as Keycloak answers),
// ErrBadPassword, ErrUserDisabled (only after the password matched),
// ErrUserNotSetUp (with the user, whose password matched). ip is recorded
// with failures.
func (s *Service) AuthenticateUser(ctx context.Context, r store.Realm, username, password, ip string) (store.User, error) {
	realmID := r.ID
	u, err := s.findLoginUser(ctx, r, username)
	if err != nil {
		s.hashing(func() { DummyVerify(password) })
		if errors.Is(err, ErrUserNotFound) {
			s.metrics.LoginFailure(r.Name, metrics.LoginUnknownUser)
		}
		return store.User{}, err
	}
	now := s.now()
	key := UserFailureKey(u.ID)
	locked, recorded, err := s.failureState(ctx, r, key, now)
	if err != nil {
		return store.User{}, err
	}
	if locked {
		s.hashing(func() { DummyVerify(password) })
		s.metrics.LoginFailure(r.Name, metrics.LoginLocked)
		return store.User{}, &LoginError{UserID: u.ID, Err: ErrUserLocked}
	}
	i := passwordIndex(u.Credentials)
	if i < 0 {
		s.hashing(func() { DummyVerify(password) })
		s.metrics.LoginFailure(r.Name, metrics.LoginBadPassword)
		return store.User{}, &LoginError{UserID: u.ID, Err: ErrBadPassword}
	}
	cred := u.Credentials[i]
	var ok, rehash bool
	s.hashing(func() { ok, rehash, err = VerifyPassword(cred, password) })
	if errors.Is(err, ErrInvalidCredential) {
		// A stored hash that cannot be checked (corrupt, or an import with
		// parameters beyond the work bounds) cannot log anyone in.
		s.metrics.LoginFailure(r.Name, metrics.LoginBadPassword)
		return store.User{}, &LoginError{UserID: u.ID, Err: ErrBadPassword}
	}
	if err != nil {
		return store.User{}, err
	}
	if !ok {
		s.metrics.LoginFailure(r.Name, metrics.LoginBadPassword)
		if err := s.recordFailure(ctx, r, key, ip, now); err != nil {
			return store.User{}, err
		}
		return store.User{}, &LoginError{UserID: u.ID, Err: ErrBadPassword}
	}
	s.recordSuccess(ctx, r, key, recorded)
	if !u.Enabled {
		s.metrics.LoginFailure(r.Name, metrics.LoginDisabled)
		return store.User{}, &LoginError{UserID: u.ID, Err: ErrUserDisabled}
	}
	if cred.Temporary || len(u.RequiredActions) > 0 {
		s.metrics.LoginFailure(r.Name, metrics.LoginNotSetUp)
		// The user comes back with the error: the browser login goes on
		// to the required action, for which the password just proved
		// the identity.
		return u, &LoginError{UserID: u.ID, Err: ErrUserNotSetUp}
	}
	if rehash {
		s.rehash(ctx, realmID, u.ID, cred.ID, password)
	}
	return u, nil
}

func (s *Service) findLoginUser(ctx context.Context, r store.Realm, username string) (store.User, error) {
	username = NormalizeUsername(username)
	u, err := s.store.GetUserByUsername(ctx, r.ID, username)
	if errors.Is(err, store.ErrNotFound) && strings.Contains(username, "@") && !r.NoLoginWithEmail {
		// Keycloak's loginWithEmailAllowed.
		u, err = s.store.GetUserByEmail(ctx, r.ID, username)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrUserNotFound
	}
	if err != nil {
		return store.User{}, err
	}
	if u.ServiceAccountClientID != "" {
		return store.User{}, ErrUserNotFound
	}
	return u, nil
}

// rehash upgrades an imported or outdated hash to the current argon2id
// parameters after a successful login. Failure only costs the upgrade.
func (s *Service) rehash(ctx context.Context, realmID, userID, credID, password string) {
	var cred store.Credential
	var err error
	s.hashing(func() { cred, err = HashPassword(password, s.now().UTC()) })
	if err != nil {
		return
	}
	defer s.changed(ctx, realmID)
	_, _ = s.store.UpdateUser(ctx, realmID, userID, func(u *store.User) error {
		i := passwordIndex(u.Credentials)
		if i < 0 || u.Credentials[i].ID != credID {
			return nil // changed meanwhile; keep the newer one
		}
		cred.ID, cred.UserLabel, cred.CreatedAt = credID, u.Credentials[i].UserLabel, u.Credentials[i].CreatedAt
		u.Credentials[i] = cred
		return nil
	})
}

func passwordIndex(creds []store.Credential) int {
	return slices.IndexFunc(creds, func(c store.Credential) bool { return c.Type == credTypePassword })
}

func replacePassword(creds []store.Credential, c store.Credential) []store.Credential {
	out := creds[:0:0]
	for _, old := range creds {
		if old.Type != "password" {
			out = append(out, old)
		}
	}
	return append(out, c)
}

func appendOnce(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

func removeString(xs []string, x string) []string {
	out := xs[:0:0]
	for _, v := range xs {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

// DeleteUser removes a user and ends all its sessions. The last enabled
// holder of master's admin role cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, realmName, id string) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	realmID := st.Realm.ID
	defer s.guardMasterAdmins(st.Realm)()
	if err := s.checkLastMasterAdmin(ctx, st.Realm, id, nil, msgLastAdminDelete); err != nil {
		return err
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	return s.store.DeleteUser(ctx, realmID, id)
}

// UpdateUser applies fn and re-validates. A change that would disable the
// last enabled holder of master's admin role is refused.
func (s *Service) UpdateUser(ctx context.Context, realmName, id string, fn func(*store.User) error) (store.User, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return store.User{}, err
	}
	realmID := st.Realm.ID
	defer s.guardMasterAdmins(st.Realm)()
	if err := s.checkLastMasterAdmin(ctx, st.Realm, id, fn, msgLastAdminDisable); err != nil {
		return store.User{}, err
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	return s.store.UpdateUser(ctx, realmID, id, func(u *store.User) error {
		stored := u.Username
		if err := fn(u); err != nil {
			return err
		}
		return validateUser(u, stored)
	})
}

// cloneUser copies u deeply enough for a mutation function to run on it
// without touching u.
func cloneUser(u store.User) store.User {
	c := u
	c.RoleIDs = slices.Clone(u.RoleIDs)
	c.GroupIDs = slices.Clone(u.GroupIDs)
	c.Credentials = slices.Clone(u.Credentials)
	c.RequiredActions = slices.Clone(u.RequiredActions)
	c.Attributes = maps.Clone(u.Attributes)
	return c
}

// UserByUsername returns the realm user now named username.
func (s *Service) UserByUsername(ctx context.Context, realmID, username string) (store.User, error) {
	return s.store.GetUserByUsername(ctx, realmID, username)
}

// User returns the realm user with that ID, read from the store (not the
// token cache): admin callers change their copy and must see every field.
func (s *Service) User(ctx context.Context, realmID, id string) (store.User, error) {
	return s.store.GetUser(ctx, realmID, id)
}

// Users lists the realm's users as q selects, by lower-cased username.
func (s *Service) Users(ctx context.Context, realmID string, q store.UserQuery) ([]store.User, error) {
	return s.store.ListUsers(ctx, realmID, q)
}

// CountUsers counts the realm's users q selects (ignoring its page).
func (s *Service) CountUsers(ctx context.Context, realmID string, q store.UserQuery) (int, error) {
	return s.store.CountUsers(ctx, realmID, q)
}
