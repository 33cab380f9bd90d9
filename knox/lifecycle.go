package knox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// fail answers a lifecycle call as Knox: {"<op>":"false","error":…,"code":N}.
func fail(w http.ResponseWriter, status int, op, msg string, code int) {
	oidc.WriteJSON(w, status, map[string]any{op: "false", "error": msg, "code": code})
}

// Knox's token lifecycle API error codes.
const (
	codeUnauthorized    = 20
	codeInternal        = 30
	codeInvalid         = 40
	codeUnknownToken    = 50
	codeAlreadyDisabled = 60
	codeAlreadyEnabled  = 70
	codeExpired         = 90
)

// maxBodyBytes bounds a lifecycle body: a token ID or a Knox JWT.
const maxBodyBytes = 16 << 10

// errUnknownToken: the body names no managed token of the realm.
var errUnknownToken = errors.New("unknown Knox token")

// readBody reads a lifecycle request body (a token id or a JWT).
func readBody(r *http.Request) (string, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(b) > maxBodyBytes {
		return "", false
	}
	return strings.TrimSpace(string(b)), len(b) > 0
}

// target resolves a lifecycle body (token id or Knox JWT) to its record;
// errUnknownToken when there is none.
func (a *API) target(ctx context.Context, g *gateway, body string) (store.KnoxToken, error) {
	id := body
	if strings.Count(body, ".") == 2 {
		kid, err := a.verifier.KnoxTokenID(g.realm, body)
		if err != nil {
			return store.KnoxToken{}, errUnknownToken
		}
		id = kid
	}
	rec, err := a.tokens.Token(ctx, g.realmID(), id)
	if errors.Is(err, store.ErrNotFound) {
		return rec, errUnknownToken
	}
	return rec, err
}

// lifecycleTarget reads the body and resolves it, answering the failures
// itself (ok false).
func (a *API) lifecycleTarget(w http.ResponseWriter, r *http.Request, g *gateway, op, missing string) (store.KnoxToken, bool) {
	body, ok := readBody(r)
	if !ok {
		fail(w, http.StatusBadRequest, op, missing, codeInvalid)
		return store.KnoxToken{}, false
	}
	rec, err := a.target(r.Context(), g, body)
	if errors.Is(err, errUnknownToken) {
		fail(w, http.StatusBadRequest, op, "Unknown token", codeUnknownToken)
		return rec, false
	}
	if err != nil {
		a.storeError(w, g, "knox "+op, err)
		return rec, false
	}
	return rec, true
}

// isRenewer: the caller is a configured renewer of this topology and the
// token was issued by it (a renewer of one topology has no say over
// another's tokens). A realm user is a renewer by the ID bound when the
// topology was saved; a name that had no realm user then matches only a
// principal with none (a subject of another issuer).
func (g *gateway) isRenewer(rec store.KnoxToken) bool {
	if rec.Topology != g.topo.Name {
		return false
	}
	for i, name := range g.topo.Renewers {
		id := ""
		if i < len(g.topo.RenewerIDs) {
			id = g.topo.RenewerIDs[i]
		}
		if g.user != nil && id != "" && id == g.user.ID || g.user == nil && id == "" && name == g.principal {
			return true
		}
	}
	return false
}

// owns: the caller is the token's owner, by user ID.
func (g *gateway) owns(rec store.KnoxToken) bool {
	return g.user != nil && rec.UserID != "" && rec.UserID == g.user.ID
}

// mayRenew: configured renewers, and the owner who proved their password.
// A token never renews itself, whether presented as JWT or passcode.
func (g *gateway) mayRenew(rec store.KnoxToken) bool {
	if g.viaToken == rec.ID {
		return false
	}
	return g.isRenewer(rec) || (g.byPassword && g.owns(rec))
}

// isRealmAdmin: realm-admin or manage-users in the topology's realm,
// resolved by the built-in roles' IDs (a renamed role grants nothing).
func (a *API) isRealmAdmin(ctx context.Context, g *gateway) bool {
	if g.user == nil {
		return false
	}
	rights, err := a.realms.AdminRights(ctx, g.realm.Realm, *g.user)
	return err == nil && (rights.Has(realms.RealmAdminRole) || rights.Has("manage-users"))
}

func (a *API) renew(w http.ResponseWriter, r *http.Request, g *gateway) {
	const op = "renewed"
	rec, ok := a.lifecycleTarget(w, r, g, op, "A token is required")
	if !ok {
		return
	}
	if !g.mayRenew(rec) {
		fail(w, http.StatusForbidden, op, "Caller ("+g.principal+") not authorized to renew tokens.", codeUnauthorized)
		return
	}
	if !rec.Enabled {
		fail(w, http.StatusBadRequest, op, "Disabled token", codeInvalid)
		return
	}
	now := a.realms.Now()
	if !rec.ExpiresAt.IsZero() && !rec.ExpiresAt.After(now) {
		fail(w, http.StatusBadRequest, op, "Expired token", codeExpired)
		return
	}
	interval, err := realms.ParseISODuration(g.topo.RenewInterval)
	if err != nil {
		fail(w, http.StatusInternalServerError, op, "Invalid renew interval", codeInternal)
		return
	}
	if !rec.MaxLifetime.IsZero() && !rec.MaxLifetime.After(now) {
		fail(w, http.StatusBadRequest, op, "The renewal limit for the token has been exceeded", codeInternal)
		return
	}
	exp := now.Add(interval)
	if !rec.MaxLifetime.IsZero() && exp.After(rec.MaxLifetime) {
		exp = rec.MaxLifetime
	}
	if _, err := a.tokens.UpdateToken(r.Context(), g.realmID(), rec.ID, func(t *store.KnoxToken) error {
		t.ExpiresAt = exp
		return nil
	}); err != nil {
		a.storeError(w, g, "knox renew", err)
		return
	}
	oidc.WriteJSON(w, http.StatusOK, map[string]string{op: "true", "expires": strconv.FormatInt(exp.UnixMilli(), 10)})
}

func (a *API) revoke(w http.ResponseWriter, r *http.Request, g *gateway) {
	const op = "revoked"
	rec, ok := a.lifecycleTarget(w, r, g, op, "A token is required")
	if !ok {
		return
	}
	if !g.owns(rec) && !(g.user != nil && rec.CreatedByID == g.user.ID) && !g.isRenewer(rec) {
		fail(w, http.StatusForbidden, op, "Caller ("+g.principal+") not authorized to revoke tokens.", codeUnauthorized)
		return
	}
	if err := a.tokens.DeleteToken(r.Context(), g.realmID(), rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.storeError(w, g, "knox revoke", err)
		return
	}
	oidc.WriteJSON(w, http.StatusOK, map[string]string{op: "true"})
}

func (a *API) setEnabled(enable bool) func(http.ResponseWriter, *http.Request, *gateway) {
	return func(w http.ResponseWriter, r *http.Request, g *gateway) {
		const op = "setEnabledFlag"
		rec, ok := a.lifecycleTarget(w, r, g, op, "A token id is required")
		if !ok {
			return
		}
		admin := a.isRealmAdmin(r.Context(), g)
		if !admin && !g.owns(rec) {
			fail(w, http.StatusForbidden, op, "Caller ("+g.principal+") not authorized to change this token.", codeUnauthorized)
			return
		}
		// An owner may undo only their own disabling: what an admin
		// disabled stays disabled until an admin enables it.
		if enable && !admin && rec.DisabledBy == store.KnoxDisabledByAdmin {
			fail(w, http.StatusForbidden, op, "Caller ("+g.principal+") not authorized to enable a token an administrator disabled.", codeUnauthorized)
			return
		}
		by := store.KnoxDisabledByOwner
		if admin {
			by = store.KnoxDisabledByAdmin
		}
		if rec.Enabled == enable {
			switch {
			case enable:
				fail(w, http.StatusBadRequest, op, "Token is already enabled", codeAlreadyEnabled)
				return
			case rec.DisabledBy == by || by == store.KnoxDisabledByOwner:
				fail(w, http.StatusBadRequest, op, "Token is already disabled", codeAlreadyDisabled)
				return
			}
			// An admin disabling what its owner disabled takes it over, so
			// the owner can no longer enable it.
		}
		if _, err := a.tokens.UpdateToken(r.Context(), g.realmID(), rec.ID, func(t *store.KnoxToken) error {
			t.Enabled = enable
			t.DisabledBy = ""
			if !enable {
				t.DisabledBy = by
			}
			return nil
		}); err != nil {
			a.storeError(w, g, "knox enable", err)
			return
		}
		oidc.WriteJSON(w, http.StatusOK, map[string]string{op: "true", "isEnabled": boolStr(enable)})
	}
}

func (a *API) userTokens(w http.ResponseWriter, r *http.Request, g *gateway) {
	q := r.URL.Query()
	userName, createdBy := q.Get("userName"), q.Get("createdBy")
	if v := q.Get("userNameOrCreatedBy"); v != "" {
		userName, createdBy = v, ""
	}
	all := q.Get("allTokens") == "true"
	admin := a.isRealmAdmin(r.Context(), g)
	switch {
	case all && !admin:
		oidc.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "Only realm administrators may list all tokens"})
		return
	case all:
		userName, createdBy = "", ""
	case userName == "" && createdBy == "":
		userName = g.principal
	}
	if !admin && (userName != "" && userName != g.principal || createdBy != "" && createdBy != g.principal) {
		oidc.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "Caller (" + g.principal + ") may list only their own tokens"})
		return
	}
	toks, err := a.listTokens(r.Context(), g, userName, createdBy)
	if err != nil {
		a.storeError(w, g, "knox list", err)
		return
	}
	type metadata struct {
		UserName          string            `json:"userName"`
		CreatedBy         string            `json:"createdBy"`
		Comment           string            `json:"comment,omitempty"`
		Enabled           bool              `json:"enabled"`
		KnoxSSOCookie     bool              `json:"knoxSsoCookie"`
		CustomMetadataMap map[string]string `json:"customMetadataMap"`
	}
	type tokenRep struct {
		TokenID         string   `json:"tokenId"`
		IssueTime       string   `json:"issueTime"`
		Expiration      string   `json:"expiration"`
		MaxLifetime     string   `json:"maxLifetime"`
		IssueTimeLong   int64    `json:"issueTimeLong"`
		ExpirationLong  int64    `json:"expirationLong"`
		MaxLifetimeLong int64    `json:"maxLifetimeLong"`
		Metadata        metadata `json:"metadata"`
	}
	out := []tokenRep{}
	for _, t := range toks {
		md := t.Metadata
		if md == nil {
			md = map[string]string{}
		}
		out = append(out, tokenRep{TokenID: t.ID,
			IssueTime: t.IssuedAt.UTC().Format(time.RFC3339), Expiration: t.ExpiresAt.UTC().Format(time.RFC3339),
			MaxLifetime: t.MaxLifetime.UTC().Format(time.RFC3339), IssueTimeLong: t.IssuedAt.UnixMilli(),
			ExpirationLong: t.ExpiresAt.UnixMilli(), MaxLifetimeLong: t.MaxLifetime.UnixMilli(),
			Metadata: metadata{UserName: t.Username, CreatedBy: t.CreatedBy, Comment: t.Comment, Enabled: t.Enabled, CustomMetadataMap: md}})
	}
	oidc.WriteJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// listTokens lists the tokens of the users named userName and/or createdBy
// (all of the realm's when both are empty). A name means the user who
// holds it now: the caller's own name means the caller, by ID, and the
// tokens of an earlier user of that name belong to nobody who can list them.
func (a *API) listTokens(ctx context.Context, g *gateway, userName, createdBy string) ([]store.KnoxToken, error) {
	ownerID := func(name string) (string, error) {
		if name == g.principal {
			if g.user == nil {
				return "", nil
			}
			return g.user.ID, nil
		}
		return a.tokens.OwnerID(ctx, g.realmID(), name)
	}
	var q store.KnoxTokenQuery
	for _, f := range []struct {
		name string
		id   *string
	}{{userName, &q.UserID}, {createdBy, &q.CreatedByID}} {
		if f.name == "" {
			continue
		}
		id, err := ownerID(f.name)
		if err != nil || id == "" {
			return nil, err
		}
		*f.id = id
	}
	return a.tokens.Tokens(ctx, g.realmID(), q)
}
