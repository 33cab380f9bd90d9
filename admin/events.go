package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// eventRep is Keycloak's EventRepresentation (empty fields omitted, as
// Keycloak omits nulls).
type eventRep struct {
	ID        string            `json:"id"`
	Time      int64             `json:"time"`
	Type      string            `json:"type"`
	RealmID   string            `json:"realmId"`
	ClientID  string            `json:"clientId,omitempty"`
	UserID    string            `json:"userId,omitempty"`
	SessionID string            `json:"sessionId,omitempty"`
	IPAddress string            `json:"ipAddress,omitempty"`
	Error     string            `json:"error,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
}

// dateRange reads dateFrom/dateTo as Keycloak does: yyyy-MM-dd (UTC), the
// end date counting whole; epoch milliseconds are accepted too.
func dateRange(q url.Values) (from, to time.Time, err error) {
	parse := func(name, label string, end bool) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
			return time.UnixMilli(ms).UTC(), nil
		}
		d, err := time.Parse("2006-01-02", v)
		if err != nil {
			return time.Time{}, badRequest("Invalid value for '%s', expected format is yyyy-MM-dd", label)
		}
		if end {
			d = d.Add(24*time.Hour - time.Nanosecond)
		}
		return d, nil
	}
	if from, err = parse("dateFrom", "Date(From)", false); err != nil {
		return
	}
	to, err = parse("dateTo", "Date(To)", true)
	return
}

// loginEvents is GET /events.
func (a *API) loginEvents(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, viewEvents)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, to, err := dateRange(q)
	if err != nil {
		return err
	}
	events, err := a.svc.LoginEvents(r.Context(), rl, store.LoginEventQuery{Page: p, Types: q["type"],
		ClientID: q.Get("client"), UserID: q.Get("user"), IPAddress: q.Get("ipAddress"), From: from, To: to})
	if err != nil {
		return err
	}
	out := []eventRep{}
	for _, e := range events {
		out = append(out, eventRep{ID: e.ID, Time: millis(e.Time), Type: e.Type, RealmID: rl.ID, ClientID: e.ClientID,
			UserID: e.UserID, SessionID: e.SessionID, IPAddress: e.IPAddress, Error: e.Error, Details: e.Details})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// clearLoginEvents is DELETE /events.
func (a *API) clearLoginEvents(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageEvents)
	if err != nil {
		return err
	}
	if err := a.svc.ClearLoginEvents(r.Context(), rl); err != nil {
		return err
	}
	noContent(w)
	return nil
}

// eventsConfigRep is Keycloak's RealmEventsConfigRepresentation.
type eventsConfigRep struct {
	EventsEnabled             *bool     `json:"eventsEnabled,omitempty"`
	EventsExpiration          *int64    `json:"eventsExpiration,omitempty"`
	EventsListeners           *[]string `json:"eventsListeners,omitempty"`
	EnabledEventTypes         *[]string `json:"enabledEventTypes,omitempty"`
	AdminEventsEnabled        *bool     `json:"adminEventsEnabled,omitempty"`
	AdminEventsDetailsEnabled *bool     `json:"adminEventsDetailsEnabled,omitempty"`
}

// realmEventFields projects the events settings onto the realm
// representation, so one piece of code applies and refuses them.
func (c eventsConfigRep) realmEventFields() realmRep {
	return realmRep{EventsEnabled: c.EventsEnabled, EventsExpiration: c.EventsExpiration, EventsListeners: c.EventsListeners,
		EnabledEventTypes: c.EnabledEventTypes, AdminEventsEnabled: c.AdminEventsEnabled, AdminEventsDetailsEnabled: c.AdminEventsDetailsEnabled}
}

func toEventsConfigRep(r store.Realm) eventsConfigRep {
	rep := toRealmRep(r)
	return eventsConfigRep{EventsEnabled: rep.EventsEnabled, EventsExpiration: rep.EventsExpiration, EventsListeners: rep.EventsListeners,
		EnabledEventTypes: rep.EnabledEventTypes, AdminEventsEnabled: rep.AdminEventsEnabled, AdminEventsDetailsEnabled: rep.AdminEventsDetailsEnabled}
}

// eventsConfig is GET /events/config.
func (a *API) eventsConfig(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, viewEvents)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEventsConfigRep(rl))
	return nil
}

// putEventsConfig is PUT /events/config: the fields sent replace the
// current ones.
func (a *API) putEventsConfig(w http.ResponseWriter, r *http.Request) error {
	rl, rep, err := targetBody[eventsConfigRep](a, r, manageEvents, decodeStrict)
	if err != nil {
		return err
	}
	fields := rep.realmEventFields()
	if err := fields.unsupported(); err != nil {
		return err
	}
	updated, err := a.svc.UpdateRealm(r.Context(), rl.Name, func(x *store.Realm) error {
		fields.apply(x)
		return nil
	})
	if err != nil {
		return err
	}
	a.audit(r, updated.ID, "UPDATE", "REALM", "events/config", toEventsConfigRep(updated))
	noContent(w)
	return nil
}

// adminEventFilter reads GET /admin-events' query parameters.
func adminEventFilter(r *http.Request) (realms.AdminEventFilter, error) {
	p, err := page(r)
	if err != nil {
		return realms.AdminEventFilter{}, err
	}
	q := r.URL.Query()
	from, to, err := dateRange(q)
	if err != nil {
		return realms.AdminEventFilter{}, err
	}
	return realms.AdminEventFilter{Page: p, OperationTypes: q["operationTypes"], ResourceTypes: q["resourceTypes"],
		ResourcePath: q.Get("resourcePath"), AuthRealm: q.Get("authRealm"), AuthClient: q.Get("authClient"),
		AuthUser: q.Get("authUser"), AuthIPAddress: q.Get("authIpAddress"), From: from, To: to}, nil
}

// clearAdminEvents is DELETE /admin-events.
func (a *API) clearAdminEvents(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageEvents)
	if err != nil {
		return err
	}
	if err := a.svc.ClearAdminEvents(r.Context(), rl); err != nil {
		return err
	}
	noContent(w)
	return nil
}
