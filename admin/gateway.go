package admin

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// idpRep is Keycloak's IdentityProviderRepresentation (OIDC only).
type idpRep struct {
	Alias       string    `json:"alias"`
	DisplayName string    `json:"displayName,omitempty"`
	ProviderID  string    `json:"providerId"`
	Enabled     *bool     `json:"enabled,omitempty"`
	Config      stringMap `json:"config"`
}

// toIDPRep shows a provider as Keycloak does, its client secret masked (in
// responses and admin events alike).
func toIDPRep(p store.IdentityProvider) idpRep {
	cfg := make(stringMap, len(p.Config)+1)
	for k, v := range p.Config {
		cfg[k] = v
	}
	if len(p.SealedClientSecret) > 0 || cfg["clientSecret"] != "" {
		cfg["clientSecret"] = realms.MaskedSecret
	}
	return idpRep{Alias: p.Alias, DisplayName: p.DisplayName, ProviderID: p.ProviderID, Enabled: ptr(p.Enabled), Config: cfg}
}

func (rep idpRep) record() store.IdentityProvider {
	p := store.IdentityProvider{Alias: rep.Alias, DisplayName: rep.DisplayName, ProviderID: rep.ProviderID, Enabled: true, Config: rep.Config}
	if rep.Enabled != nil {
		p.Enabled = *rep.Enabled
	}
	return p
}

func (a *API) listIDPs(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, viewRealm)
	if err != nil {
		return err
	}
	ps, err := a.svc.IdentityProviders(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	out := []idpRep{}
	for _, p := range ps {
		out = append(out, toIDPRep(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) createIDP(w http.ResponseWriter, r *http.Request) error {
	rl, rep, err := targetBody[idpRep](a, r, manageRealm, decode)
	if err != nil {
		return err
	}
	p, err := a.svc.CreateIdentityProvider(r.Context(), rl.Name, rep.record())
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return withReason(conflict("Identity Provider "+p.Alias+" already exists"), "identity provider exists")
	}
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "CREATE", "IDENTITY_PROVIDER", "identity-provider/instances/"+p.Alias, toIDPRep(p))
	created(w, r, p.Alias)
	return nil
}

func (a *API) getIDP(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, viewRealm)
	if err != nil {
		return err
	}
	p, err := a.svc.IdentityProvider(r.Context(), rl.ID, mux.Vars(r)["alias"])
	if err != nil {
		return mapNotFound(err, "identity provider")
	}
	writeJSON(w, http.StatusOK, toIDPRep(p))
	return nil
}

func (a *API) updateIDP(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageRealm)
	if err != nil {
		return err
	}
	alias := mux.Vars(r)["alias"]
	var rep idpRep
	if err := decode(r, &rep); err != nil {
		return err
	}
	if rep.Alias != "" && rep.Alias != alias {
		return badRequest("alias cannot be changed")
	}
	updated, err := a.svc.UpdateIdentityProvider(r.Context(), rl.Name, alias, func(p *store.IdentityProvider) error {
		if rep.DisplayName != "" {
			p.DisplayName = rep.DisplayName
		}
		if rep.ProviderID != "" {
			p.ProviderID = rep.ProviderID
		}
		if rep.Enabled != nil {
			p.Enabled = *rep.Enabled
		}
		if rep.Config != nil {
			p.Config = rep.Config
		}
		return nil
	})
	if err != nil {
		return mapNotFound(err, "identity provider")
	}
	return a.changed(w, r, rl.ID, "UPDATE", "IDENTITY_PROVIDER", "identity-provider/instances/"+alias, toIDPRep(updated))
}

func (a *API) deleteIDP(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageRealm)
	if err != nil {
		return err
	}
	alias := mux.Vars(r)["alias"]
	err = a.svc.DeleteIdentityProvider(r.Context(), rl.Name, alias)
	if err != nil {
		return mapNotFound(err, "identity provider")
	}
	return a.changed(w, r, rl.ID, "DELETE", "IDENTITY_PROVIDER", "identity-provider/instances/"+alias, nil)
}

// topologyRep is a gateway topology as the admin API shows it.
type topologyRep struct {
	Name           string    `json:"name,omitempty"`
	Realm          string    `json:"realm"`
	Authentication string    `json:"authentication"`
	TTL            string    `json:"ttl,omitempty"`
	Audiences      []string  `json:"audiences"`
	TargetURL      string    `json:"targetUrl"`
	EndpointCert   string    `json:"endpointPublicCert,omitempty"`
	ClientData     stringMap `json:"clientData"`
	Managed        bool      `json:"managed"`
	Renewers       []string  `json:"renewers"`
	MaxLifetime    string    `json:"maxLifetime,omitempty"`
	RenewInterval  string    `json:"renewInterval,omitempty"`
	LimitPerUser   *int      `json:"limitPerUser,omitempty"`
	LimitAction    string    `json:"limitAction,omitempty"`
}

func toTopologyRep(t store.Topology) topologyRep {
	return topologyRep{Name: t.Name, Realm: t.Realm, Authentication: t.Authentication, TTL: t.TTL, Audiences: t.Audiences,
		TargetURL: t.TargetURL, EndpointCert: t.EndpointCert, ClientData: t.ClientData, Managed: t.Managed, Renewers: t.Renewers,
		MaxLifetime: t.MaxLifetime, RenewInterval: t.RenewInterval, LimitPerUser: ptr(t.LimitPerUser), LimitAction: t.LimitAction}
}

// canSeeTopology: master admins, and those who may view the bound realm
// (by its ID: a realm that takes a renamed realm's old name sees nothing).
func (a *API) canSeeTopology(r *http.Request, t store.Topology) bool {
	c := callerOf(r)
	if c.masterAdmin {
		return true
	}
	st, err := a.svc.RealmByID(r.Context(), t.RealmID)
	return err == nil && c.can(st.Realm, viewRealm)
}

func (a *API) listTopologies(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.knox.Topologies(r.Context())
	if err != nil {
		return err
	}
	out := []topologyRep{}
	for _, t := range ts {
		if a.canSeeTopology(r, t) {
			out = append(out, toTopologyRep(t))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getTopology(w http.ResponseWriter, r *http.Request) error {
	t, err := a.knox.Topology(r.Context(), mux.Vars(r)["name"])
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.canSeeTopology(r, t)) {
		err = notFound("topology")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTopologyRep(t))
	return nil
}

// putTopology creates or replaces a topology: gateway URLs are global, so
// only master admins define them.
func (a *API) putTopology(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r)
	if !c.masterAdmin {
		return errForbidden
	}
	var rep topologyRep
	if err := decode(r, &rep); err != nil {
		return err
	}
	name := mux.Vars(r)["name"]
	if rep.Name != "" && rep.Name != name {
		return badRequest("name must match the URL")
	}
	t := store.Topology{Name: name, Realm: rep.Realm, Authentication: rep.Authentication, TTL: rep.TTL, Audiences: rep.Audiences,
		TargetURL: rep.TargetURL, EndpointCert: rep.EndpointCert, ClientData: rep.ClientData, Managed: rep.Managed,
		Renewers: rep.Renewers, MaxLifetime: rep.MaxLifetime, RenewInterval: rep.RenewInterval, LimitAction: rep.LimitAction,
		LimitPerUser: realms.DefaultKnoxLimitPerUser}
	if rep.LimitPerUser != nil {
		t.LimitPerUser = *rep.LimitPerUser
	}
	realms.ApplyTopologyDefaults(&t)
	if err := a.knox.ValidateTopology(r.Context(), &t); err != nil {
		return err
	}
	created, err := a.knox.PutTopology(r.Context(), t)
	if err != nil {
		return err
	}
	a.audit(r, c.token.Realm.ID, "UPDATE", "GATEWAY_TOPOLOGY", "gateway/topologies/"+name, toTopologyRep(t))
	if created {
		w.Header().Set("Location", requestURL(r))
		writeJSON(w, http.StatusCreated, toTopologyRep(t))
		return nil
	}
	writeJSON(w, http.StatusOK, toTopologyRep(t))
	return nil
}

func (a *API) deleteTopology(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r)
	if !c.masterAdmin {
		return errForbidden
	}
	name := mux.Vars(r)["name"]
	err := a.knox.DeleteTopology(r.Context(), name)
	if err != nil {
		return mapNotFound(err, "topology")
	}
	return a.changed(w, r, c.token.Realm.ID, "DELETE", "GATEWAY_TOPOLOGY", "gateway/topologies/"+name, nil)
}
