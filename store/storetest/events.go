package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// eventTests cover admin and login events.
var eventTests = []conformanceTest{
	{"AdminEventsNewestFirst", testAdminEvents},
	{"LoginEventsFilterAndDelete", testLoginEvents},
}

func testAdminEvents(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	base := time.Now().UTC()
	for i := range 5 {
		must(t, s.AppendAdminEvent(ctx, r.ID, store.AdminEvent{ID: fmt.Sprint(i), Time: base.Add(time.Duration(i) * time.Second), OperationType: "CREATE"}))
	}
	got, err := s.ListAdminEvents(ctx, r.ID, store.Page{First: 1, Max: 2})
	must(t, err)
	if len(got) != 2 || got[0].ID != "3" || got[1].ID != "2" {
		t.Fatalf("events = %v", got)
	}
	other := mustRealm(t, s, "other")
	must(t, s.AppendAdminEvent(ctx, other.ID, store.AdminEvent{ID: "o", Time: base, OperationType: "CREATE"}))
	must(t, s.DeleteAdminEvents(ctx, r.ID))
	if got := try(s.ListAdminEvents(ctx, r.ID, store.Page{})).must(t); len(got) != 0 {
		t.Errorf("after delete: %v", got)
	}
	must(t, s.AppendAdminEvent(ctx, r.ID, store.AdminEvent{ID: "after", Time: base, OperationType: "DELETE"}))
	if got := try(s.ListAdminEvents(ctx, r.ID, store.Page{})).must(t); len(got) != 1 {
		t.Errorf("append after delete: %v", got)
	}
	if got := try(s.ListAdminEvents(ctx, other.ID, store.Page{})).must(t); len(got) != 1 {
		t.Errorf("other realm's events: %v", got)
	}
	wantErr(t, s.DeleteAdminEvents(ctx, "missing"), store.ErrNotFound)
}

func testLoginEvents(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	base := clock()
	ev := func(i int, typ, client, user, ip string) store.LoginEvent {
		return store.LoginEvent{ID: fmt.Sprintf("e%d", i), Time: base.Add(time.Duration(i) * time.Second), Type: typ,
			ClientID: client, UserID: user, SessionID: "s" + user, IPAddress: ip, Details: map[string]string{"grant_type": "password"}}
	}
	all := []store.LoginEvent{
		ev(0, "LOGIN", "app", "u1", "192.0.2.1"),
		ev(1, "LOGIN_ERROR", "app", "", "192.0.2.2"),
		ev(2, "CLIENT_LOGIN", "svc", "u2", "192.0.2.1"),
		ev(3, "REFRESH_TOKEN", "app", "u1", "192.0.2.1"),
		ev(4, "LOGIN", "other", "u1", "192.0.2.3"),
	}
	all[1].Error = "invalid_user_credentials"
	must(t, s.AppendLoginEvents(ctx, r.ID, all[:2]))
	must(t, s.AppendLoginEvents(ctx, r.ID, all[2:]))
	must(t, s.AppendLoginEvents(ctx, other.ID, []store.LoginEvent{ev(9, "LOGIN", "app", "u9", "")}))
	wantErr(t, s.AppendLoginEvents(ctx, "missing", all[:1]), store.ErrNotFound)
	ids := func(q store.LoginEventQuery) []string {
		t.Helper()
		got, err := s.ListLoginEvents(ctx, r.ID, q)
		must(t, err)
		out := []string{}
		for _, e := range got {
			out = append(out, e.ID)
		}
		return out
	}
	for name, tc := range map[string]struct {
		q    store.LoginEventQuery
		want []string
	}{
		"all newest first":  {store.LoginEventQuery{}, []string{"e4", "e3", "e2", "e1", "e0"}},
		"types":             {store.LoginEventQuery{Types: []string{"LOGIN", "LOGIN_ERROR"}}, []string{"e4", "e1", "e0"}},
		"client":            {store.LoginEventQuery{ClientID: "app"}, []string{"e3", "e1", "e0"}},
		"user":              {store.LoginEventQuery{UserID: "u1"}, []string{"e4", "e3", "e0"}},
		"ip":                {store.LoginEventQuery{IPAddress: "192.0.2.1"}, []string{"e3", "e2", "e0"}},
		"from and to":       {store.LoginEventQuery{From: base.Add(time.Second), To: base.Add(3 * time.Second)}, []string{"e3", "e2", "e1"}},
		"page after filter": {store.LoginEventQuery{Page: store.Page{First: 1, Max: 1}, ClientID: "app"}, []string{"e1"}},
		"nothing":           {store.LoginEventQuery{UserID: "nobody"}, []string{}},
	} {
		if got := ids(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
	got, err := s.ListLoginEvents(ctx, r.ID, store.LoginEventQuery{Types: []string{"LOGIN_ERROR"}})
	must(t, err)
	wantEqual(t, "event", got[0], all[1])
	n, err := s.DeleteLoginEvents(ctx, r.ID, base.Add(2*time.Second), 100)
	must(t, err)
	if n != 2 || !slices.Equal(ids(store.LoginEventQuery{}), []string{"e4", "e3", "e2"}) {
		t.Errorf("delete before e2: %d gone, left %v", n, ids(store.LoginEventQuery{}))
	}
	n, err = s.DeleteLoginEvents(ctx, r.ID, time.Time{}, 2)
	must(t, err)
	if n != 2 || !slices.Equal(ids(store.LoginEventQuery{}), []string{"e4"}) {
		t.Errorf("delete all, limit 2: %d gone, left %v", n, ids(store.LoginEventQuery{}))
	}
	if got, err := s.ListLoginEvents(ctx, other.ID, store.LoginEventQuery{}); err != nil || len(got) != 1 {
		t.Errorf("the other realm's events: %v %v", got, err)
	}
}
