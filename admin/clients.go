package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// clientRep is Keycloak's ClientRepresentation (the fields Gatehouse
// supports; the rest are accepted and ignored).
type clientRep struct {
	ID                        *string   `json:"id,omitempty"`
	ClientID                  *string   `json:"clientId,omitempty"`
	Name                      *string   `json:"name,omitempty"`
	Description               *string   `json:"description,omitempty"`
	Enabled                   *bool     `json:"enabled,omitempty"`
	PublicClient              *bool     `json:"publicClient,omitempty"`
	BearerOnly                *bool     `json:"bearerOnly,omitempty"`
	ConsentRequired           *bool     `json:"consentRequired,omitempty"`
	Secret                    *string   `json:"secret,omitempty"`
	ServiceAccountsEnabled    *bool     `json:"serviceAccountsEnabled,omitempty"`
	DirectAccessGrantsEnabled *bool     `json:"directAccessGrantsEnabled,omitempty"`
	StandardFlowEnabled       *bool     `json:"standardFlowEnabled,omitempty"`
	ImplicitFlowEnabled       *bool     `json:"implicitFlowEnabled,omitempty"`
	RedirectURIs              []string  `json:"redirectUris,omitempty"`
	WebOrigins                []string  `json:"webOrigins,omitempty"`
	Attributes                stringMap `json:"attributes,omitempty"`
	Protocol                  string    `json:"protocol,omitempty"`
	ClientAuthenticatorType   string    `json:"clientAuthenticatorType,omitempty"`
	FullScopeAllowed          *bool     `json:"fullScopeAllowed,omitempty"`
	NotBefore                 *int64    `json:"notBefore,omitempty"`
	// Client scopes by name, and the client's own mappers (see
	// clientscopes.go).
	DefaultClientScopes  []string    `json:"defaultClientScopes,omitempty"`
	OptionalClientScopes []string    `json:"optionalClientScopes,omitempty"`
	ProtocolMappers      []mapperRep `json:"protocolMappers,omitempty"`
	// AuthorizationServicesEnabled makes the client a resource server
	// (authz.go) with Keycloak's default settings but none of Keycloak's
	// default records (its "Default Policy" is JavaScript, which does not
	// exist here, so its default permission would grant nothing). Turning
	// it off keeps the server's records, unreachable until it is turned
	// on again.
	AuthorizationServicesEnabled *bool `json:"authorizationServicesEnabled,omitempty"`
}

// Attributes Keycloak derives from the secret records.
const (
	attrSecretCreation   = "client.secret.creation.time"
	attrSecretExpiration = "client.secret.expiration.time"
	attrRotated          = "client.secret.rotated"
	attrRotatedCreation  = "client.secret.rotated.creation.time"
	attrRotatedExpires   = "client.secret.rotated.expiration.time"
)

var derivedAttrs = []string{attrSecretCreation, attrSecretExpiration, attrRotated, attrRotatedCreation, attrRotatedExpires}

func secs(unixMillis int64) string { return strconv.FormatInt(unixMillis/1000, 10) }

// toClientRep renders a client; secret is the revealed current secret
// (empty to omit it), rotated the revealed rotated one.
func toClientRep(c store.Client, secret, rotated string) clientRep {
	attrs := map[string]string{}
	for k, v := range c.Attributes {
		attrs[k] = v
	}
	if c.Secret != nil {
		attrs[attrSecretCreation] = secs(millis(c.Secret.CreatedAt))
		if !c.Secret.ExpiresAt.IsZero() {
			attrs[attrSecretExpiration] = secs(millis(c.Secret.ExpiresAt))
		}
	}
	if c.Rotated != nil && rotated != "" {
		attrs[attrRotated] = rotated
		attrs[attrRotatedCreation] = secs(millis(c.Rotated.CreatedAt))
		attrs[attrRotatedExpires] = secs(millis(c.Rotated.ExpiresAt))
	}
	rep := clientRep{
		ID: ptr(c.ID), ClientID: ptr(c.ClientID), Name: ptr(c.Name), Description: ptr(c.Description),
		Enabled: ptr(c.Enabled), PublicClient: ptr(c.PublicClient), BearerOnly: ptr(c.BearerOnly),
		ConsentRequired: ptr(c.ConsentRequired), ServiceAccountsEnabled: ptr(c.ServiceAccountsEnabled),
		DirectAccessGrantsEnabled: ptr(c.DirectAccessGrantsEnabled), StandardFlowEnabled: ptr(c.StandardFlowEnabled),
		ImplicitFlowEnabled: ptr(false), RedirectURIs: nonNil(c.RedirectURIs), WebOrigins: nonNil(c.WebOrigins),
		Attributes: attrs, Protocol: "openid-connect", ClientAuthenticatorType: "client-secret",
		FullScopeAllowed: ptr(!c.RestrictScope), NotBefore: ptr(c.NotBefore),
		AuthorizationServicesEnabled: ptr(c.Authorization != nil),
	}
	if secret != "" {
		rep.Secret = ptr(secret)
	}
	return rep
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// apply copies the present fields onto c; derived secret attributes in the
// input are ignored (the secret endpoints own them).
func (rep clientRep) apply(c *store.Client) {
	setIf(&c.ClientID, rep.ClientID)
	setIf(&c.Name, rep.Name)
	setIf(&c.Description, rep.Description)
	setIf(&c.Enabled, rep.Enabled)
	setIf(&c.PublicClient, rep.PublicClient)
	setIf(&c.BearerOnly, rep.BearerOnly)
	setIf(&c.ConsentRequired, rep.ConsentRequired)
	setIf(&c.ServiceAccountsEnabled, rep.ServiceAccountsEnabled)
	setIf(&c.DirectAccessGrantsEnabled, rep.DirectAccessGrantsEnabled)
	setIf(&c.StandardFlowEnabled, rep.StandardFlowEnabled)
	setIf(&c.NotBefore, rep.NotBefore)
	switch {
	case rep.AuthorizationServicesEnabled == nil:
	case !*rep.AuthorizationServicesEnabled:
		c.Authorization = nil
	case c.Authorization == nil:
		st := realms.DefaultAuthzSettings()
		c.Authorization = &st
	}
	if rep.FullScopeAllowed != nil {
		c.RestrictScope = !*rep.FullScopeAllowed
	}
	if rep.RedirectURIs != nil {
		c.RedirectURIs = rep.RedirectURIs
	}
	if rep.WebOrigins != nil {
		c.WebOrigins = rep.WebOrigins
	}
	if rep.Attributes != nil {
		attrs := map[string]string{}
		for k, v := range rep.Attributes {
			attrs[k] = v
		}
		for _, k := range derivedAttrs {
			delete(attrs, k)
		}
		c.Attributes = attrs
	}
}

// redacted drops the secret from a representation bound for the audit log.
func (rep clientRep) redacted() clientRep {
	rep.Secret = nil
	if rep.Attributes != nil {
		attrs := map[string]string{}
		for k, v := range rep.Attributes {
			if k != attrRotated {
				attrs[k] = v
			}
		}
		rep.Attributes = attrs
	}
	return rep
}

func (a *API) loadClient(r *http.Request, rl store.Realm) (store.Client, error) {
	c, err := a.svc.StoredClient(r.Context(), rl.ID, mux.Vars(r)["id"])
	return c, mapNotFound(err, "client")
}

// masked stands for a secret the caller may not read, as Keycloak shows it.
const masked = "**********"

// mayManageClient: manage-clients, and every admin right the client's
// service account holds. Whoever holds (or sets) a client's secret acts
// with those rights, so manage-clients alone must not take over a client
// whose service account is, say, realm-admin. The account is looked up
// even while service accounts are off: turning them on is a client update.
func (a *API) mayManageClient(r *http.Request, rl store.Realm, c store.Client) (bool, error) {
	caller := callerOf(r)
	if !caller.can(rl, manageClient) {
		return false, nil
	}
	sa, err := a.svc.ServiceAccount(r.Context(), rl.ID, c)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	rights, err := a.svc.AdminRights(r.Context(), rl, sa)
	if err != nil {
		return false, err
	}
	return caller.covers(rl, rights), nil
}

// targetManagedClient is targetClient for changes and secret reads: 403
// unless mayManageClient.
func (a *API) targetManagedClient(r *http.Request) (store.Realm, store.Client, error) {
	rl, c, err := a.targetClient(r, manageClient)
	if err != nil {
		return rl, c, err
	}
	may, err := a.mayManageClient(r, rl, c)
	if err == nil && !may {
		err = errForbidden
	}
	if err != nil {
		return store.Realm{}, store.Client{}, err
	}
	return rl, c, nil
}

// reveal opens a client's secrets for an admin who may manage the client;
// anyone else (view-clients) sees them masked: reading a secret is
// acting as the client.
func (a *API) reveal(r *http.Request, rl store.Realm, c store.Client) (secret, rotated string, err error) {
	may, err := a.mayManageClient(r, rl, c)
	if err != nil {
		return "", "", err
	}
	if !may {
		if c.Secret != nil {
			secret = masked
		}
		if c.Rotated != nil {
			rotated = masked
		}
		return secret, rotated, nil
	}
	if secret, err = a.svc.ClientSecret(r.Context(), rl.Name, c.ID); err != nil {
		return "", "", err
	}
	if c.Rotated != nil {
		rotated, err = a.svc.RotatedClientSecret(r.Context(), rl.Name, c.ID)
	}
	return secret, rotated, err
}

func (a *API) listClients(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, queryClients)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	clients, err := a.svc.Clients(r.Context(), rl.ID, store.ClientQuery{
		Page: p, ClientID: q.Get("clientId"), Search: q.Get("search") == "true"})
	if err != nil {
		return err
	}
	// query-clients lists clients; view-clients shows that a secret exists
	// (masked), manage-clients reads it.
	view := callerOf(r).can(rl, viewClients)
	out := []clientRep{}
	for _, c := range clients {
		secret := ""
		if view {
			// Lists show no rotated secret: reveal only the current one.
			current := c
			current.Rotated = nil
			if secret, _, err = a.reveal(r, rl, current); err != nil {
				return err
			}
		}
		rep := toClientRep(c, secret, "")
		if err := a.withScopes(r, rl, c, &rep); err != nil {
			return err
		}
		out = append(out, rep)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) createClient(w http.ResponseWriter, r *http.Request) error {
	rl, rep, err := targetBody[clientRep](a, r, createClient, decode)
	if err != nil {
		return err
	}
	if rep.ClientID == nil || *rep.ClientID == "" {
		return badRequest("clientId is required")
	}
	// Keycloak's defaults for a client created through the REST API.
	c := store.Client{Enabled: true, StandardFlowEnabled: true}
	if rep.ID != nil {
		c.ID = *rep.ID
	}
	rep.apply(&c)
	se, err := a.scopeEdit(r, rl, rep)
	if err != nil {
		return err
	}
	se.apply(rl, &c)
	secret := ""
	if rep.Secret != nil {
		secret = *rep.Secret
	}
	nc, _, err := a.svc.CreateClient(r.Context(), rl.Name, realms.NewClient{Client: c, Secret: secret})
	var ce *store.ConflictError
	if errors.As(err, &ce) && ce.Field == "clientId" {
		return withReason(conflict("Client "+c.ClientID+" already exists"), "client exists")
	}
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "CREATE", "CLIENT", "clients/"+nc.ID, toClientRep(nc, "", "").redacted())
	created(w, r, nc.ID)
	return nil
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request) error {
	rl, c, err := a.targetClient(r, viewClients)
	if err != nil {
		return err
	}
	secret, rotated, err := a.reveal(r, rl, c)
	if err != nil {
		return err
	}
	rep := toClientRep(c, secret, rotated)
	if err := a.withScopes(r, rl, c, &rep); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (a *API) updateClient(w http.ResponseWriter, r *http.Request) error {
	rl, c, err := a.targetManagedClient(r)
	if err != nil {
		return err
	}
	var rep clientRep
	if err := decode(r, &rep); err != nil {
		return err
	}
	if rep.ID != nil && *rep.ID != c.ID {
		return badRequest("id cannot be changed")
	}
	if c.ClientID == realms.RealmManagementClientID && rep.ClientID != nil && *rep.ClientID != c.ClientID {
		return badRequest("The realm-management client cannot be renamed")
	}
	se, err := a.scopeEdit(r, rl, rep)
	if err != nil {
		return err
	}
	updated, err := a.svc.UpdateClient(r.Context(), rl.Name, c.ID, func(x *store.Client) error {
		rep.apply(x)
		se.apply(rl, x)
		return nil
	})
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return withReason(conflict("Client "+ce.Value+" already exists"), "client exists")
	}
	if err != nil {
		return err
	}
	if rep.Secret != nil && *rep.Secret != "" && !updated.PublicClient {
		if err := a.svc.SetClientSecret(r.Context(), rl.Name, c.ID, *rep.Secret); err != nil {
			return err
		}
	}
	return a.changed(w, r, rl.ID, "UPDATE", "CLIENT", "clients/"+c.ID, toClientRep(updated, "", "").redacted())
}

func (a *API) deleteClient(w http.ResponseWriter, r *http.Request) error {
	rl, c, err := a.targetManagedClient(r)
	if err != nil {
		return err
	}
	if c.ClientID == realms.RealmManagementClientID {
		return badRequest("The realm-management client cannot be deleted")
	}
	if err := a.svc.DeleteClient(r.Context(), rl.Name, c.ID); err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "DELETE", "CLIENT", "clients/"+c.ID, nil)
}

type credentialRep struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// getClientSecret needs mayManageClient: the clear secret lets its reader
// act as the client (view-clients sees it masked in the representation).
func (a *API) getClientSecret(w http.ResponseWriter, r *http.Request) error {
	rl, c, err := a.targetManagedClient(r)
	if err != nil {
		return err
	}
	secret, err := a.svc.ClientSecret(r.Context(), rl.Name, c.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, credentialRep{Type: "secret", Value: secret})
	return nil
}

func (a *API) regenerateClientSecret(w http.ResponseWriter, r *http.Request) error {
	rl, c, err := a.targetManagedClient(r)
	if err != nil {
		return err
	}
	if c.PublicClient {
		return badRequest("Public clients have no secret")
	}
	secret, err := a.svc.RegenerateSecret(r.Context(), rl.Name, c.ID)
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "ACTION", "CLIENT", "clients/"+c.ID+"/client-secret", nil)
	writeJSON(w, http.StatusOK, credentialRep{Type: "secret", Value: secret})
	return nil
}

func (a *API) getRotatedSecret(w http.ResponseWriter, r *http.Request) error {
	rl, c, err := a.targetManagedClient(r)
	if err != nil {
		return err
	}
	if c.Rotated == nil || !c.Rotated.ExpiresAt.After(a.svc.Now()) {
		return notFound("rotated secret")
	}
	rotated, err := a.svc.RotatedClientSecret(r.Context(), rl.Name, c.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, credentialRep{Type: "secret", Value: rotated})
	return nil
}

func (a *API) deleteRotatedSecret(w http.ResponseWriter, r *http.Request) error {
	rl, c, err := a.targetManagedClient(r)
	if err != nil {
		return err
	}
	if err := a.svc.InvalidateRotatedSecret(r.Context(), rl.Name, c.ID); err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "DELETE", "CLIENT", "clients/"+c.ID+"/client-secret/rotated", nil)
}

func (a *API) serviceAccountUser(w http.ResponseWriter, r *http.Request) error {
	rl, c, err := a.targetClient(r, viewClients)
	if err != nil {
		return err
	}
	if !c.ServiceAccountsEnabled {
		return badRequest("Service account not enabled for the client '%s'", c.ClientID)
	}
	u, err := a.svc.ServiceAccount(r.Context(), rl.ID, c)
	if err != nil {
		return mapNotFound(err, "user")
	}
	writeJSON(w, http.StatusOK, toUserRep(u))
	return nil
}
