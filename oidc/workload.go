package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// CDP control-plane workload tokens: POST generateWorkloadAuthToken,
// authenticated only by an access key's request signature, answers a JWT of
// the realm for the key's user with the workload as audience. Errors are
// CDP's {"code","message"}.

// workloadTokenType is the typ claim of workload tokens: they are accepted
// where the realm's tokens are trusted as bearer credentials (gateway
// topologies, token exchange), not as the realm's access tokens.
const workloadTokenType = "Workload"

// DefaultIAMRealm serves the unprefixed IAM path unless configured.
const DefaultIAMRealm = "master"

var workloadNames = map[string]bool{"DE": true, "DF": true, "OPDB": true}

func cdpError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}

func (s *Server) workloadRoutes() {
	const p = "/api/v1/iam/generateWorkloadAuthToken"
	s.Router.HandleFunc(p, s.iamRealm(s.generateWorkloadAuthToken)).Methods(http.MethodPost)
	s.Router.HandleFunc("/realms/{realm}"+p, s.iamRealm(s.generateWorkloadAuthToken)).Methods(http.MethodPost)

	const a = "/realms/{realm}/account/access-keys"
	s.Router.HandleFunc(a, s.accountHandler(s.createAccessKey)).Methods(http.MethodPost)
	s.Router.HandleFunc(a, s.accountHandler(s.listAccessKeys)).Methods(http.MethodGet)
	s.Router.HandleFunc(a+"/{keyId}", s.accountHandler(s.updateAccessKey)).Methods(http.MethodPut)
	s.Router.HandleFunc(a+"/{keyId}", s.accountHandler(s.deleteAccessKey)).Methods(http.MethodDelete)
}

// iamRealm resolves the realm of an IAM request: {realm}, or the configured
// IAM realm on the unprefixed path. Errors are CDP-shaped.
func (s *Server) iamRealm(h func(http.ResponseWriter, *http.Request, *realmProvider)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, ok := mux.Vars(r)["realm"]
		if !ok {
			name = s.cfg.IAMRealm
			if name == "" {
				name = DefaultIAMRealm
			}
		}
		var rp *realmProvider
		err := realms.ErrRealmNotFound
		if realms.ValidRealmName(name) {
			rp, err = s.providers.realm(r.Context(), name)
		}
		if errors.Is(err, realms.ErrRealmNotFound) {
			cdpError(w, http.StatusNotFound, "NOT_FOUND", "Realm does not exist")
			return
		}
		if errors.Is(err, store.ErrUnavailable) {
			s.log.Error("iam: load realm: store unavailable", "realm", name, "err", err)
			cdpError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "The server cannot reach its store right now; try again later")
			return
		}
		if err != nil {
			s.log.Error("iam: load realm", "realm", name, "err", err)
			cdpError(w, http.StatusInternalServerError, "INTERNAL", "Internal server error")
			return
		}
		infoOf(r.Context()).realm = name
		if !rp.realm.Enabled {
			cdpError(w, http.StatusForbidden, "PERMISSION_DENIED", "Realm not enabled")
			return
		}
		h(w, r, rp)
	}
}

// signedRequestError answers err, a refused request signature.
func (s *Server) signedRequestError(w http.ResponseWriter, rp *realmProvider, err error) {
	// Checked in order: the first match answers.
	failures := []struct {
		err           error
		status        int
		code, message string
	}{
		{realms.ErrSignatureDate, http.StatusUnauthorized, "UNAUTHENTICATED", "The x-altus-date header is missing, malformed or more than 5 minutes from the server's clock"},
		{realms.ErrSignatureInvalid, http.StatusUnauthorized, "UNAUTHENTICATED", "The request signature (x-altus-auth) is not valid for any access key"},
		{realms.ErrSignatureReplayed, http.StatusUnauthorized, "UNAUTHENTICATED", "This request signature was already used; sign each request afresh"},
		{realms.ErrAccessKeyInactive, http.StatusForbidden, "PERMISSION_DENIED", "The access key is INACTIVE"},
		{realms.ErrUserDisabled, http.StatusForbidden, "PERMISSION_DENIED", "The access key's user is disabled, or their credentials were revoked (not-before)"},
		{store.ErrUnavailable, http.StatusServiceUnavailable, "UNAVAILABLE", "The server cannot record the request right now; try again later"},
	}
	for _, f := range failures {
		if errors.Is(err, f.err) {
			cdpError(w, f.status, f.code, f.message)
			return
		}
	}
	s.log.Error("iam: signed request", "realm", rp.realm.Name, "err", err)
	cdpError(w, http.StatusInternalServerError, "INTERNAL", "Internal server error")
}

// generateWorkloadAuthToken answers {"token","expireAt"} for a request
// signed with an active access key of an enabled user.
func (s *Server) generateWorkloadAuthToken(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	ctx := r.Context()
	k, u, err := s.svc.AuthenticateSignedRequest(ctx, rp.realm, realms.SignedRequest{
		Method: r.Method, ContentType: r.Header.Get("Content-Type"),
		Date: r.Header.Get("x-altus-date"), Auth: r.Header.Get("x-altus-auth"),
		Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
	})
	if err != nil {
		s.signedRequestError(w, rp, err)
		return
	}
	infoOf(ctx).client = k.ID
	var in struct {
		WorkloadName   string `json:"workloadName"`
		EnvironmentCrn string `json:"environmentCrn"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil || json.Unmarshal(body, &in) != nil {
		cdpError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "The body must be a JSON object")
		return
	}
	if !workloadNames[in.WorkloadName] {
		cdpError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "workloadName must be one of DE, DF, OPDB")
		return
	}
	now := rp.now()
	exp := now.Add(realms.WorkloadTokenLifespan(rp.realm))
	claims := map[string]any{
		"iss": s.issuer(r, rp.realm.Name), "sub": u.ID, "aud": in.WorkloadName, "typ": workloadTokenType,
		"iat": now.Unix(), "exp": exp.Unix(), "jti": realms.NewID(),
		"preferred_username": u.Username, "workload_name": in.WorkloadName, "access_key_id": k.ID,
	}
	if in.EnvironmentCrn != "" {
		claims["environment_crn"] = in.EnvironmentCrn
	}
	payload, err := json.Marshal(claims)
	if err == nil {
		var tok string
		if tok, err = rp.signer.SignJSON(payload, "JWT"); err == nil {
			writeJSON(w, http.StatusOK, map[string]string{"token": tok, "expireAt": cdpTime(time.Unix(exp.Unix(), 0))})
			return
		}
	}
	s.log.Error("iam: sign workload token", "realm", rp.realm.Name, "err", err)
	cdpError(w, http.StatusInternalServerError, "INTERNAL", "Internal server error")
}

// cdpTime is CDP's timestamp form: ISO 8601 with microseconds and +00:00.
func cdpTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") + "+00:00" }

// verifyWorkloadToken checks a workload token of realm rp: our signature,
// its claims, its user's current state and its access key, still active:
// disabling or deleting the key ends the tokens it minted.
func (rp *realmProvider) verifyWorkloadToken(ctx context.Context, token string) (*trustedToken, error) {
	payload, _, err := rp.signer.Verify(token)
	if err != nil {
		return nil, errInactive
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, errInactive
	}
	exp, ok1 := claimTime(m, "exp")
	iat, ok2 := claimTime(m, "iat")
	sub, keyID := claimString(m, "sub"), claimString(m, "access_key_id")
	if !ok1 || !ok2 || !exp.After(rp.now()) || claimString(m, "typ") != workloadTokenType ||
		!strings.HasSuffix(claimString(m, "iss"), "/realms/"+rp.realm.Name) || sub == "" || keyID == "" {
		return nil, errInactive
	}
	u, err := rp.svc.TokenOwner(ctx, rp.realm, sub, iat)
	if errors.Is(err, realms.ErrUserNotFound) || errors.Is(err, realms.ErrUserDisabled) || errors.Is(err, realms.ErrTokenStale) {
		return nil, errInactive
	}
	if err != nil {
		return nil, err
	}
	live, err := rp.svc.AccessKeyLive(ctx, rp.realm.ID, keyID, sub)
	if err != nil {
		return nil, err
	}
	if !live {
		return nil, errInactive
	}
	t := trustedFromClaims(m, exp, rp)
	t.username, t.user = u.Username, &u
	return t, nil
}

// isWorkloadToken tells a workload token by its typ claim (unverified: the
// verifier that follows decides).
func isWorkloadToken(m map[string]any) bool { return claimString(m, "typ") == workloadTokenType }

// accessKeyRep is an access key as listed.
type accessKeyRep struct {
	AccessKeyID string `json:"accessKeyId"`
	Type        string `json:"type"`
	Status      string `json:"status"`
	CreatedAt   string `json:"createdAt"`
	// PrivateKey is set only in the answer that generates the pair.
	PrivateKey string `json:"privateKey,omitempty"`
}

// AccessKeyRep renders an access key for the account and admin APIs.
func AccessKeyRep(k store.AccessKey) any { return toAccessKeyRep(k) }

// NewAccessKeyRep renders a key just created, with its private key (""
// for an uploaded public key).
func NewAccessKeyRep(k store.AccessKey, private string) any {
	out := toAccessKeyRep(k)
	out.PrivateKey = private
	return out
}

func toAccessKeyRep(k store.AccessKey) accessKeyRep {
	return accessKeyRep{AccessKeyID: k.ID, Type: k.Type, Status: k.Status, CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339)}
}

func (s *Server) createAccessKey(w http.ResponseWriter, r *http.Request, c *accountCaller) {
	var in struct {
		Type      string `json:"type"`
		PublicKey string `json:"publicKey"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	k, private, err := s.svc.CreateAccessKey(r.Context(), c.rp.realm.Name, c.user.ID,
		realms.NewAccessKey{Type: in.Type, PublicKeyPEM: in.PublicKey}, c.who)
	if err = s.eventLost(c, err); err != nil {
		s.writeKeyError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, NewAccessKeyRep(k, private))
}

func (s *Server) listAccessKeys(w http.ResponseWriter, r *http.Request, c *accountCaller) {
	keys, err := s.svc.AccessKeys(r.Context(), c.rp.realm.Name, c.user.ID)
	writeKeyList(s, w, r, keys, err, toAccessKeyRep)
}

// updateAccessKey sets {"status": "ACTIVE"|"INACTIVE"}.
func (s *Server) updateAccessKey(w http.ResponseWriter, r *http.Request, c *accountCaller) {
	var in struct {
		Status string `json:"status"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	k, err := s.svc.SetAccessKeyStatus(r.Context(), c.rp.realm.Name, c.user.ID, mux.Vars(r)["keyId"], in.Status, c.who)
	if err = s.eventLost(c, err); err != nil {
		s.writeKeyError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAccessKeyRep(k))
}

func (s *Server) deleteAccessKey(w http.ResponseWriter, r *http.Request, c *accountCaller) {
	s.keyDeleted(w, r, c, s.svc.DeleteAccessKey(r.Context(), c.rp.realm.Name, c.user.ID, mux.Vars(r)["keyId"], c.who))
}
