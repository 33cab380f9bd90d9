package realms

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// knoxEnv is realm demo with token owner alice, another user bob, carol
// (a renewer of topology "sandbox" by ID), an administrator holding
// manage-users, and topologies "sandbox" and "other", both without a
// per-user limit.
type knoxEnv struct {
	svc                       *Service
	knox                      *KnoxService
	realm                     store.Realm
	now                       time.Time
	sandbox, other            store.Topology
	alice, bob, carol, admin  store.User
	asAlice, asBob, asCarol   KnoxCaller
	asAdmin, asExt, asImpost  KnoxCaller
	aliceByPassword, asOthers KnoxCaller
}

func newKnoxEnv(t *testing.T) *knoxEnv {
	t.Helper()
	ctx := context.Background()
	e := &knoxEnv{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e.svc = NewService(openTestStore(t), zeroSealer(), func() time.Time { return e.now })
	e.knox = NewKnoxService(e.svc)
	r, err := e.svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	e.realm = r
	for _, u := range []*store.User{&e.alice, &e.bob, &e.carol, &e.admin} {
		name := map[*store.User]string{&e.alice: "alice", &e.bob: "bob", &e.carol: "carol", &e.admin: "boss"}[u]
		if *u, err = e.svc.CreateUser(ctx, "demo", NewUser{User: store.User{Username: name, Enabled: true}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.GrantRoles(ctx, "demo", e.admin.ID, r.AdminRoleIDs["manage-users"]); err != nil {
		t.Fatal(err)
	}
	// The caller is the user as authentication reads it: with the grant.
	if e.admin, err = e.svc.store.GetUser(ctx, r.ID, e.admin.ID); err != nil {
		t.Fatal(err)
	}
	for _, topo := range []*store.Topology{&e.sandbox, &e.other} {
		name := map[*store.Topology]string{&e.sandbox: "sandbox", &e.other: "other"}[topo]
		*topo = store.Topology{Name: name, Realm: "demo", Authentication: AuthBasic, Managed: true, LimitPerUser: -1,
			Renewers: []string{"carol", "ext-svc"}}
		if name == "other" {
			topo.Renewers = []string{"bob"}
		}
		ApplyTopologyDefaults(topo)
		if err := e.knox.ValidateTopology(ctx, topo); err != nil {
			t.Fatal(err)
		}
		if _, err := e.knox.PutTopology(ctx, *topo); err != nil {
			t.Fatal(err)
		}
	}
	e.asAlice = KnoxCaller{Principal: "alice", User: &e.alice}
	e.aliceByPassword = KnoxCaller{Principal: "alice", User: &e.alice, ByPassword: true}
	e.asBob = KnoxCaller{Principal: "bob", User: &e.bob, ByPassword: true}
	e.asCarol = KnoxCaller{Principal: "carol", User: &e.carol, ByPassword: true}
	e.asAdmin = KnoxCaller{Principal: "boss", User: &e.admin, ByPassword: true}
	// A subject of another issuer, named as a renewer, with no local user.
	e.asExt = KnoxCaller{Principal: "ext-svc"}
	// Someone later given carol's name: renewal rights stay with carol's ID.
	impostor := store.User{ID: NewID(), Username: "carol", Enabled: true}
	e.asImpost = KnoxCaller{Principal: "carol", User: &impostor, ByPassword: true}
	return e
}

// token issues a managed token of owner, created by creator, through
// topology t, issued at issued and expiring at exp.
func (e *knoxEnv) token(t *testing.T, topo store.Topology, owner, creator store.User, issued, exp time.Time) store.KnoxToken {
	t.Helper()
	rec := store.KnoxToken{ID: NewID(), UserID: owner.ID, Username: owner.Username, CreatedByID: creator.ID, CreatedBy: creator.Username,
		IssuedAt: issued, ExpiresAt: exp, Enabled: true}
	if _, err := e.knox.IssueManaged(context.Background(), e.realm.ID, topo, rec); err != nil {
		t.Fatal(err)
	}
	got, err := e.knox.Token(context.Background(), e.realm.ID, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Renewal belongs to the topology's renewers (by ID, or by name for a
// principal with no local user) and to the owner who proved their
// password; a token never renews itself, and a renewer of one topology has
// no say over another's tokens.
func TestKnoxRenewRules(t *testing.T) {
	ctx := context.Background()
	e := newKnoxEnv(t)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name    string
		caller  func(rec store.KnoxToken) KnoxCaller
		topo    func() store.Topology
		issued  time.Duration // before now
		expires time.Duration // after now
		disable bool
		unknown bool
		wantErr error
		wantExp time.Duration // after now
	}{
		{name: "owner by password", caller: func(store.KnoxToken) KnoxCaller { return e.aliceByPassword }, wantExp: day},
		{name: "owner by token", caller: func(store.KnoxToken) KnoxCaller { return e.asAlice }, wantErr: ErrKnoxForbidden},
		{name: "token renewing itself", caller: func(rec store.KnoxToken) KnoxCaller {
			c := e.aliceByPassword
			c.ViaToken = rec.ID
			return c
		}, wantErr: ErrKnoxForbidden},
		{name: "renewer by ID", caller: func(store.KnoxToken) KnoxCaller { return e.asCarol }, wantExp: day},
		{name: "renewer of another topology", caller: func(store.KnoxToken) KnoxCaller { return e.asCarol },
			topo: func() store.Topology { return e.other }, wantErr: ErrKnoxForbidden},
		{name: "renewer with no local user, by name", caller: func(store.KnoxToken) KnoxCaller { return e.asExt }, wantExp: day},
		{name: "later holder of a renewer's name", caller: func(store.KnoxToken) KnoxCaller { return e.asImpost }, wantErr: ErrKnoxForbidden},
		{name: "another user", caller: func(store.KnoxToken) KnoxCaller { return e.asBob }, wantErr: ErrKnoxForbidden},
		{name: "realm administrator", caller: func(store.KnoxToken) KnoxCaller { return e.asAdmin }, wantErr: ErrKnoxForbidden},
		{name: "unknown token", caller: func(store.KnoxToken) KnoxCaller { return e.aliceByPassword }, unknown: true, wantErr: ErrKnoxUnknownToken},
		{name: "disabled token", caller: func(store.KnoxToken) KnoxCaller { return e.aliceByPassword }, disable: true, wantErr: ErrKnoxDisabled},
		{name: "expired token", caller: func(store.KnoxToken) KnoxCaller { return e.aliceByPassword },
			issued: 2 * time.Hour, expires: -time.Hour, wantErr: ErrKnoxExpired},
		{name: "past its maximum lifetime", caller: func(store.KnoxToken) KnoxCaller { return e.aliceByPassword },
			issued: 8 * day, expires: time.Hour, wantErr: ErrKnoxRenewalLimit},
		{name: "capped at its maximum lifetime", caller: func(store.KnoxToken) KnoxCaller { return e.asCarol },
			issued: 6*day + 12*time.Hour, expires: time.Hour, wantExp: 12 * time.Hour},
		{name: "topology with a bad renew interval", caller: func(store.KnoxToken) KnoxCaller { return e.asCarol },
			topo: func() store.Topology { bad := e.sandbox; bad.RenewInterval = "soon"; return bad }, wantErr: ErrKnoxRenewInterval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expires := tc.expires
			if expires == 0 {
				expires = time.Hour
			}
			rec := e.token(t, e.sandbox, e.alice, e.alice, e.now.Add(-tc.issued), e.now.Add(expires))
			if tc.disable {
				if err := e.knox.SetTokenEnabled(ctx, e.realm, e.asAlice, rec.ID, false); err != nil {
					t.Fatal(err)
				}
			}
			topo := e.sandbox
			if tc.topo != nil {
				topo = tc.topo()
			}
			id := rec.ID
			if tc.unknown {
				id = NewID()
			}
			exp, err := e.knox.RenewToken(ctx, e.realm.ID, topo, tc.caller(rec), id)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("RenewToken = %v, %v; want %v", exp, err, tc.wantErr)
			}
			stored, _ := e.knox.Token(ctx, e.realm.ID, rec.ID)
			want := rec.ExpiresAt
			if tc.wantErr == nil {
				want = e.now.Add(tc.wantExp)
				if !exp.Equal(want) {
					t.Errorf("renewed expiry %v, want %v", exp, want)
				}
			}
			if !stored.ExpiresAt.Equal(want) {
				t.Errorf("stored expiry %v, want %v", stored.ExpiresAt, want)
			}
		})
	}
}

// Revocation belongs to the owner, the token's creator and the renewers of
// the topology that issued it.
func TestKnoxRevokeRules(t *testing.T) {
	ctx := context.Background()
	e := newKnoxEnv(t)
	for _, tc := range []struct {
		name    string
		caller  KnoxCaller
		unknown bool
		wantErr error
	}{
		{"owner, by token", e.asAlice, false, nil},
		{"creator", e.asBob, false, nil},
		{"renewer of its topology", e.asCarol, false, nil},
		{"renewer with no local user", e.asExt, false, nil},
		{"later holder of a renewer's name", e.asImpost, false, ErrKnoxForbidden},
		{"realm administrator", e.asAdmin, false, ErrKnoxForbidden},
		{"unknown token", e.asAlice, true, ErrKnoxUnknownToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Alice's token, created for her by bob.
			rec := e.token(t, e.sandbox, e.alice, e.bob, e.now, e.now.Add(time.Hour))
			id := rec.ID
			if tc.unknown {
				id = NewID()
			}
			err := e.knox.RevokeToken(ctx, e.realm.ID, e.sandbox, tc.caller, id)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("RevokeToken = %v; want %v", err, tc.wantErr)
			}
			_, err = e.knox.Token(ctx, e.realm.ID, rec.ID)
			if gone := errors.Is(err, store.ErrNotFound); gone != (tc.wantErr == nil) {
				t.Errorf("token gone = %v (%v), want %v", gone, err, tc.wantErr == nil)
			}
		})
	}
	// A renewer of another topology has no say over this one's tokens.
	rec := e.token(t, e.other, e.alice, e.alice, e.now, e.now.Add(time.Hour))
	if err := e.knox.RevokeToken(ctx, e.realm.ID, e.sandbox, e.asCarol, rec.ID); !errors.Is(err, ErrKnoxForbidden) {
		t.Errorf("renewer of sandbox revoking a token of other: %v, want ErrKnoxForbidden", err)
	}
}

// The owner and the realm's administrators enable and disable; what an
// administrator disabled only an administrator enables again, and an
// administrator disabling what the owner disabled takes it over.
func TestKnoxEnableDisableRules(t *testing.T) {
	ctx := context.Background()
	e := newKnoxEnv(t)
	const owner, admin, none = store.KnoxDisabledByOwner, store.KnoxDisabledByAdmin, ""
	for _, tc := range []struct {
		name       string
		by         string // "" enabled, else who disabled it first
		caller     KnoxCaller
		enable     bool
		unknown    bool
		wantErr    error
		wantByThen string // DisabledBy afterwards ("" = enabled)
	}{
		{"owner disables", none, e.asAlice, false, false, nil, owner},
		{"owner enables what they disabled", owner, e.asAlice, true, false, nil, none},
		{"owner disables again", owner, e.asAlice, false, false, ErrKnoxAlreadyDisabled, owner},
		{"owner enables an enabled token", none, e.asAlice, true, false, ErrKnoxAlreadyEnabled, none},
		{"owner enables what an administrator disabled", admin, e.asAlice, true, false, ErrKnoxAdminDisabled, admin},
		{"administrator enables what an administrator disabled", admin, e.asAdmin, true, false, nil, none},
		{"administrator takes over the owner's disabling", owner, e.asAdmin, false, false, nil, admin},
		{"administrator disables again", admin, e.asAdmin, false, false, ErrKnoxAlreadyDisabled, admin},
		{"administrator disables", none, e.asAdmin, false, false, nil, admin},
		{"another user", none, e.asBob, false, false, ErrKnoxForbidden, none},
		{"renewer", none, e.asCarol, false, false, ErrKnoxForbidden, none},
		{"principal with no local user", none, e.asExt, false, false, ErrKnoxForbidden, none},
		{"unknown token", none, e.asAlice, false, true, ErrKnoxUnknownToken, none},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.token(t, e.sandbox, e.alice, e.alice, e.now, e.now.Add(time.Hour))
			if tc.by != none {
				if _, err := e.svc.store.UpdateKnoxToken(ctx, e.realm.ID, rec.ID, func(x *store.KnoxToken) error {
					x.Enabled, x.DisabledBy = false, tc.by
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			id := rec.ID
			if tc.unknown {
				id = NewID()
			}
			err := e.knox.SetTokenEnabled(ctx, e.realm, tc.caller, id, tc.enable)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("SetTokenEnabled = %v; want %v", err, tc.wantErr)
			}
			got, _ := e.knox.Token(ctx, e.realm.ID, rec.ID)
			if got.Enabled != (tc.wantByThen == none) || got.DisabledBy != tc.wantByThen {
				t.Errorf("afterwards enabled %v, disabled by %q; want disabled by %q", got.Enabled, got.DisabledBy, tc.wantByThen)
			}
		})
	}
}

// Anyone lists their own tokens, by their user ID; administrators list
// anyone's, and all of them.
func TestKnoxListRules(t *testing.T) {
	ctx := context.Background()
	e := newKnoxEnv(t)
	mine := e.token(t, e.sandbox, e.alice, e.alice, e.now, e.now.Add(time.Hour))
	forAlice := e.token(t, e.sandbox, e.alice, e.bob, e.now, e.now.Add(time.Hour))
	bobs := e.token(t, e.other, e.bob, e.bob, e.now, e.now.Add(time.Hour))
	for _, tc := range []struct {
		name    string
		caller  KnoxCaller
		filter  KnoxTokenFilter
		wantErr error
		want    []string
	}{
		{"own tokens by default", e.asAlice, KnoxTokenFilter{}, nil, []string{mine.ID, forAlice.ID}},
		{"own tokens by name", e.asAlice, KnoxTokenFilter{UserName: "alice"}, nil, []string{mine.ID, forAlice.ID}},
		{"own tokens created by themself", e.asBob, KnoxTokenFilter{CreatedBy: "bob"}, nil, []string{forAlice.ID, bobs.ID}},
		{"another user's tokens", e.asAlice, KnoxTokenFilter{UserName: "bob"}, ErrKnoxForbidden, nil},
		{"tokens another user created", e.asAlice, KnoxTokenFilter{CreatedBy: "bob"}, ErrKnoxForbidden, nil},
		{"all tokens, not an administrator", e.asAlice, KnoxTokenFilter{All: true}, ErrKnoxListAll, nil},
		{"all tokens, administrator", e.asAdmin, KnoxTokenFilter{All: true, UserName: "ignored"}, nil, []string{mine.ID, forAlice.ID, bobs.ID}},
		{"administrator, one owner", e.asAdmin, KnoxTokenFilter{UserName: "alice"}, nil, []string{mine.ID, forAlice.ID}},
		{"administrator, one creator", e.asAdmin, KnoxTokenFilter{CreatedBy: "bob"}, nil, []string{forAlice.ID, bobs.ID}},
		{"administrator, no such user", e.asAdmin, KnoxTokenFilter{UserName: "nobody"}, nil, nil},
		{"principal with no local user", e.asExt, KnoxTokenFilter{}, nil, nil},
		{"later holder of a name", KnoxCaller{Principal: "alice", User: &store.User{ID: NewID(), Username: "alice"}}, KnoxTokenFilter{}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toks, err := e.knox.ListTokens(ctx, e.realm, tc.caller, tc.filter)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("ListTokens = %v, %v; want %v", toks, err, tc.wantErr)
			}
			var got []string
			for _, tok := range toks {
				got = append(got, tok.ID)
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("listed %v, want %v", got, want)
			}
		})
	}
}
