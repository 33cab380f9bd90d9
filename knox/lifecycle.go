package knox

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/realms"
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

// readBody reads a lifecycle request body (a token id or a JWT).
func readBody(r *http.Request) (string, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(b) > maxBodyBytes {
		return "", false
	}
	return strings.TrimSpace(string(b)), len(b) > 0
}

// caller is the lifecycle service's view of the authenticated caller.
func (g *gateway) caller() realms.KnoxCaller {
	return realms.KnoxCaller{Principal: g.principal, User: g.user, ByPassword: g.byPassword, ViaToken: g.viaToken}
}

// lifecycleTarget reads the body (a token id or a Knox JWT) and returns the
// token id it names, answering the failures itself (ok false): a missing
// body, or a JWT that does not verify, which names no token.
func (a *API) lifecycleTarget(w http.ResponseWriter, r *http.Request, g *gateway, op, missing string) (string, bool) {
	body, ok := readBody(r)
	if !ok {
		fail(w, http.StatusBadRequest, op, missing, codeInvalid)
		return "", false
	}
	if strings.Count(body, ".") != 2 {
		return body, true
	}
	id, err := a.verifier.KnoxTokenID(g.realm, body)
	if err != nil {
		a.lifecycleFailed(w, g, op, "", realms.ErrKnoxUnknownToken)
		return "", false
	}
	return id, true
}

// lifecycleFailed answers a refused lifecycle call as Knox does; forbidden
// is the 403 message for a caller the rules refuse.
func (a *API) lifecycleFailed(w http.ResponseWriter, g *gateway, op, forbidden string, err error) {
	switch {
	case errors.Is(err, realms.ErrKnoxUnknownToken):
		fail(w, http.StatusBadRequest, op, "Unknown token", codeUnknownToken)
	case errors.Is(err, realms.ErrKnoxAdminDisabled):
		fail(w, http.StatusForbidden, op, "Caller ("+g.principal+") not authorized to enable a token an administrator disabled.", codeUnauthorized)
	case errors.Is(err, realms.ErrKnoxForbidden):
		fail(w, http.StatusForbidden, op, "Caller ("+g.principal+") not authorized to "+forbidden+".", codeUnauthorized)
	case errors.Is(err, realms.ErrKnoxDisabled):
		fail(w, http.StatusBadRequest, op, "Disabled token", codeInvalid)
	case errors.Is(err, realms.ErrKnoxExpired):
		fail(w, http.StatusBadRequest, op, "Expired token", codeExpired)
	case errors.Is(err, realms.ErrKnoxRenewInterval):
		fail(w, http.StatusInternalServerError, op, "Invalid renew interval", codeInternal)
	case errors.Is(err, realms.ErrKnoxRenewalLimit):
		fail(w, http.StatusBadRequest, op, "The renewal limit for the token has been exceeded", codeInternal)
	case errors.Is(err, realms.ErrKnoxAlreadyEnabled):
		fail(w, http.StatusBadRequest, op, "Token is already enabled", codeAlreadyEnabled)
	case errors.Is(err, realms.ErrKnoxAlreadyDisabled):
		fail(w, http.StatusBadRequest, op, "Token is already disabled", codeAlreadyDisabled)
	default:
		a.storeError(w, g, "knox "+op, err)
	}
}

func (a *API) renew(w http.ResponseWriter, r *http.Request, g *gateway) {
	const op = "renewed"
	id, ok := a.lifecycleTarget(w, r, g, op, "A token is required")
	if !ok {
		return
	}
	exp, err := a.tokens.RenewToken(r.Context(), g.realmID(), g.topo, g.caller(), id)
	if err != nil {
		a.lifecycleFailed(w, g, op, "renew tokens", err)
		return
	}
	oidc.WriteJSON(w, http.StatusOK, map[string]string{op: "true", "expires": strconv.FormatInt(exp.UnixMilli(), 10)})
}

func (a *API) revoke(w http.ResponseWriter, r *http.Request, g *gateway) {
	const op = "revoked"
	id, ok := a.lifecycleTarget(w, r, g, op, "A token is required")
	if !ok {
		return
	}
	if err := a.tokens.RevokeToken(r.Context(), g.realmID(), g.topo, g.caller(), id); err != nil {
		a.lifecycleFailed(w, g, op, "revoke tokens", err)
		return
	}
	oidc.WriteJSON(w, http.StatusOK, map[string]string{op: "true"})
}

func (a *API) setEnabled(enable bool) func(http.ResponseWriter, *http.Request, *gateway) {
	return func(w http.ResponseWriter, r *http.Request, g *gateway) {
		const op = "setEnabledFlag"
		id, ok := a.lifecycleTarget(w, r, g, op, "A token id is required")
		if !ok {
			return
		}
		if err := a.tokens.SetTokenEnabled(r.Context(), g.realm.Realm, g.caller(), id, enable); err != nil {
			a.lifecycleFailed(w, g, op, "change this token", err)
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
	f := realms.KnoxTokenFilter{UserName: userName, CreatedBy: createdBy, All: q.Get("allTokens") == "true"}
	toks, err := a.tokens.ListTokens(r.Context(), g.realm.Realm, g.caller(), f)
	switch {
	case errors.Is(err, realms.ErrKnoxListAll):
		oidc.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "Only realm administrators may list all tokens"})
		return
	case errors.Is(err, realms.ErrKnoxForbidden):
		oidc.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "Caller (" + g.principal + ") may list only their own tokens"})
		return
	case err != nil:
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
