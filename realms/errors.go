package realms

import (
	"errors"
	"fmt"
)

// Authentication outcomes. The protocol layer maps them to wire errors; they
// are deliberately coarse so that nothing below the HTTP edge decides what a
// caller may learn.
var (
	// ErrClientNotFound: no such client, or it is disabled.
	ErrClientNotFound = errors.New("realms: client not found or disabled")
	// ErrClientSecret: the secret is missing, wrong or expired.
	ErrClientSecret = errors.New("realms: invalid client secret")
	// ErrUserNotFound: no such user, or a service-account user, which can
	// never log in with a password.
	ErrUserNotFound = errors.New("realms: user not found")
	// ErrBadPassword: the user exists but the password does not match (or the
	// user has no password).
	ErrBadPassword = errors.New("realms: invalid password")
	// ErrUserDisabled: the password matched but the account is disabled.
	ErrUserDisabled = errors.New("realms: user disabled")
	// ErrUserNotSetUp: the password matched but a required action (such as
	// replacing a temporary password) is pending.
	ErrUserNotSetUp = errors.New("realms: account not fully set up")
	// ErrClientDisabled is an ErrClientNotFound that tells the log the
	// client exists but is disabled.
	ErrClientDisabled = fmt.Errorf("%w: disabled", ErrClientNotFound)
	// ErrUserLocked is an ErrUserNotFound (the caller learns nothing more)
	// that tells the log and metrics the user is locked by brute-force
	// detection.
	ErrUserLocked = fmt.Errorf("%w: locked by brute-force detection", ErrUserNotFound)
	// ErrClientLocked is, likewise, an ErrClientSecret for a client locked by
	// brute-force detection.
	ErrClientLocked = fmt.Errorf("%w: locked by brute-force detection", ErrClientSecret)
	// ErrRealmNotFound: no realm by that name.
	ErrRealmNotFound = errors.New("realms: realm not found")
)

// LoginError is a failed login of a known user: the cause (ErrBadPassword,
// ErrUserDisabled, ErrUserNotSetUp, ErrUserLocked), which errors.Is sees,
// and the user's ID for the login event. It never reaches a caller of the
// protocol endpoints.
type LoginError struct {
	UserID string
	Err    error
}

func (e *LoginError) Error() string { return e.Err.Error() }
func (e *LoginError) Unwrap() error { return e.Err }

// ValidationError says which field of a representation is invalid. The admin
// API turns it into 400 {"errorMessage": ...}.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// StateError is a change refused because of the state it would leave,
// such as a master realm without an admin. The admin API turns it into 409
// {"errorMessage": ...}.
type StateError struct {
	Message string
}

func (e *StateError) Error() string { return e.Message }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrForbidden: the caller may see the record but not make this change
// (the admin API and the protection API answer 403).
var ErrForbidden = errors.New("realms: not allowed")

// ErrUnknownResource: a permission request names no resource of the
// resource server (by ID, name or current access key). A wrong or old
// access key answers exactly like an unknown ID.
var ErrUnknownResource = errors.New("realms: unknown resource")
