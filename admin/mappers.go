package admin

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// mapperRep is Keycloak's ProtocolMapperRepresentation.
type mapperRep struct {
	ID             string `json:"id,omitempty"`
	Name           string `json:"name"`
	Protocol       string `json:"protocol,omitempty"`
	ProtocolMapper string `json:"protocolMapper"`
	// ConsentRequired is deprecated in Keycloak and always false.
	ConsentRequired *bool             `json:"consentRequired,omitempty"`
	Config          map[string]string `json:"config"`
}

func toMapperRep(m store.ProtocolMapper) mapperRep {
	cfg := m.Config
	if cfg == nil {
		cfg = map[string]string{}
	}
	return mapperRep{ID: m.ID, Name: m.Name, Protocol: m.Protocol, ProtocolMapper: m.ProtocolMapper, ConsentRequired: ptr(false), Config: cfg}
}

func fromMapperReps(reps []mapperRep) ([]store.ProtocolMapper, error) {
	out := make([]store.ProtocolMapper, 0, len(reps))
	for _, rep := range reps {
		m, err := rep.mapper()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (rep mapperRep) mapper() (store.ProtocolMapper, error) {
	if rep.ConsentRequired != nil && *rep.ConsentRequired {
		return store.ProtocolMapper{}, badRequest("Unsupported field consentRequired=true")
	}
	return store.ProtocolMapper{ID: rep.ID, Name: rep.Name, Protocol: rep.Protocol, ProtocolMapper: rep.ProtocolMapper, Config: rep.Config}, nil
}

// mapperOwner resolves the client ({id}) or client scope ({scope}) whose
// mappers or scope mappings a request addresses, with the right a write
// (or read) needs. path is the owner's admin-event path.
func (a *API) mapperOwner(r *http.Request, write bool) (rl store.Realm, o realms.MapperOwner, path string, err error) {
	if _, isClient := mux.Vars(r)["id"]; isClient {
		var c store.Client
		if write {
			rl, c, err = a.targetManagedClient(r)
		} else {
			rl, c, err = a.targetClient(r, viewClients)
		}
		return rl, realms.MapperOwner{ClientUUID: c.ID}, "clients/" + c.ID, err
	}
	if write {
		rl, err = a.targetRealm(r, manageClient)
	} else {
		rl, err = a.targetRealmAny(r, viewClients, viewRealm)
	}
	var cs store.ClientScope
	if err == nil {
		cs, err = a.loadClientScope(r, rl)
	}
	if err != nil {
		return rl, o, "", err
	}
	return rl, realms.MapperOwner{ScopeID: cs.ID}, "client-scopes/" + cs.ID, nil
}

func mapperResource(realms.MapperOwner) string { return "PROTOCOL_MAPPER" }

// ownerMappers is the mappers of the owner a read addresses.
func (a *API) ownerMappers(r *http.Request) ([]store.ProtocolMapper, error) {
	rl, o, _, err := a.mapperOwner(r, false)
	if err != nil {
		return nil, err
	}
	return a.svc.Mappers(r.Context(), rl.Name, o)
}

func (a *API) listMappers(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.ownerMappers(r)
	if err != nil {
		return err
	}
	protocol, byProtocol := mux.Vars(r)["protocol"]
	out := []mapperRep{}
	for _, m := range ms {
		if !byProtocol || m.Protocol == protocol {
			out = append(out, toMapperRep(m))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getMapper(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.ownerMappers(r)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ms, func(m store.ProtocolMapper) bool { return m.ID == mux.Vars(r)["mapper"] })
	if i < 0 {
		return notFound("protocol mapper")
	}
	writeJSON(w, http.StatusOK, toMapperRep(ms[i]))
	return nil
}

// createMapper is POST .../protocol-mappers/models (one mapper, 201) and
// addMappers POST .../protocol-mappers/add-models (a list, 204).
func (a *API) createMapper(w http.ResponseWriter, r *http.Request) error {
	var rep mapperRep
	if err := decodeKnown(r, &rep); err != nil {
		return err
	}
	return a.addMappers(w, r, []mapperRep{rep}, true)
}

func (a *API) addModels(w http.ResponseWriter, r *http.Request) error {
	var reps []mapperRep
	if err := decodeKnown(r, &reps); err != nil {
		return err
	}
	return a.addMappers(w, r, reps, false)
}

func (a *API) addMappers(w http.ResponseWriter, r *http.Request, reps []mapperRep, one bool) error {
	rl, o, path, err := a.mapperOwner(r, true)
	if err != nil {
		return err
	}
	ms, err := fromMapperReps(reps)
	if err == nil {
		ms, err = a.svc.AddMappers(r.Context(), rl.Name, o, ms...)
	}
	if err != nil {
		return err
	}
	for _, m := range ms {
		a.audit(r, rl.ID, "CREATE", mapperResource(o), path+"/protocol-mappers/models/"+m.ID, toMapperRep(m))
	}
	if one {
		w.Header().Set("Location", requestURL(r)+"/"+ms[0].ID)
		w.WriteHeader(http.StatusCreated)
		return nil
	}
	noContent(w)
	return nil
}

func (a *API) updateMapper(w http.ResponseWriter, r *http.Request) error {
	var rep mapperRep
	if err := decodeKnown(r, &rep); err != nil {
		return err
	}
	rl, o, path, err := a.mapperOwner(r, true)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["mapper"]
	if rep.ID != "" && rep.ID != id {
		return badRequest("Cannot change the id of a protocol mapper")
	}
	m, err := rep.mapper()
	if err == nil {
		err = a.svc.UpdateMapper(r.Context(), rl.Name, o, id, m)
	}
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("protocol mapper")
	}
	if err != nil {
		return err
	}
	m.ID = id
	a.audit(r, rl.ID, "UPDATE", mapperResource(o), path+"/protocol-mappers/models/"+id, toMapperRep(m))
	noContent(w)
	return nil
}

func (a *API) deleteMapper(w http.ResponseWriter, r *http.Request) error {
	rl, o, path, err := a.mapperOwner(r, true)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["mapper"]
	err = a.svc.DeleteMapper(r.Context(), rl.Name, o, id)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("protocol mapper")
	}
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "DELETE", mapperResource(o), path+"/protocol-mappers/models/"+id, nil)
	noContent(w)
	return nil
}
