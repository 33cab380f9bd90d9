package realms

import (
	"context"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// AdminEventFilter selects admin events (the filters of Keycloak's
// GET /admin-events). Empty fields do not filter.
type AdminEventFilter struct {
	store.Page
	OperationTypes []string
	ResourceTypes  []string
	// ResourcePath matches the whole path; "*" matches any run of
	// characters.
	ResourcePath  string
	AuthRealm     string // realm ID
	AuthClient    string
	AuthUser      string // user ID
	AuthIPAddress string
	From, To      time.Time // inclusive; zero = open
}

func (f AdminEventFilter) match(e store.AdminEvent) bool {
	switch {
	case len(f.OperationTypes) > 0 && !slices.Contains(f.OperationTypes, e.OperationType),
		len(f.ResourceTypes) > 0 && !slices.Contains(f.ResourceTypes, e.ResourceType),
		f.AuthRealm != "" && e.AuthRealmID != f.AuthRealm,
		f.AuthClient != "" && e.AuthClient != f.AuthClient,
		f.AuthUser != "" && e.AuthUserID != f.AuthUser,
		f.AuthIPAddress != "" && e.IPAddress != f.AuthIPAddress,
		!f.From.IsZero() && e.Time.Before(f.From),
		!f.To.IsZero() && e.Time.After(f.To):
		return false
	}
	return f.ResourcePath == "" || wildcardMatch(f.ResourcePath, e.ResourcePath)
}

// wildcardMatch matches s against pattern where "*" stands for any run of
// characters (slashes included) and everything else is literal.
func wildcardMatch(pattern, s string) bool {
	// path.Match treats [ ] ? \ specially; escape them so only * is a
	// wildcard, and let * cross slashes by matching segment-free text.
	var b strings.Builder
	for _, r := range pattern {
		switch r {
		case '[', ']', '?', '\\':
			b.WriteByte('\\')
		case '/':
			r = '\x00'
		}
		b.WriteRune(r)
	}
	ok, err := path.Match(b.String(), strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}

// adminEventScan is the page size used to scan the log while filtering.
const adminEventScan = 500

// AdminEvents returns realm r's admin events matching f, newest first.
func (s *Service) AdminEvents(ctx context.Context, r store.Realm, f AdminEventFilter) ([]store.AdminEvent, error) {
	max := f.Max
	if max <= 0 {
		max = store.DefaultMax
	}
	skip := f.First
	var out []store.AdminEvent
	for first := 0; ; first += adminEventScan {
		page, err := s.store.ListAdminEvents(ctx, r.ID, store.Page{First: first, Max: adminEventScan})
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if !f.From.IsZero() && e.Time.Before(f.From) {
				// Newest first: nothing older can match.
				return out, nil
			}
			if !f.match(e) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, e)
			if len(out) == max {
				return out, nil
			}
		}
		if len(page) < adminEventScan {
			return out, nil
		}
	}
}

// ClearAdminEvents deletes realm r's admin events.
func (s *Service) ClearAdminEvents(ctx context.Context, r store.Realm) error {
	return s.store.DeleteAdminEvents(ctx, r.ID)
}

// AppendAdminEvent records a committed admin change in realm realmID's
// admin event log.
func (s *Service) AppendAdminEvent(ctx context.Context, realmID string, e store.AdminEvent) error {
	return s.store.AppendAdminEvent(ctx, realmID, e)
}
