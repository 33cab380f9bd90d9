// Package migrate copies a whole store into another, record by record,
// through store.Store (`gatehouse migrate`, bbolt to PostgreSQL). Sealed
// values (client secrets, signing keys, identity-provider secrets) and
// hashes are copied as stored, so the copy needs no master key; the target
// serves them only under the key the source was sealed with.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Source is a store that can also walk, in one pass, the records store.Store
// reaches only through a secret's hash or an owner, or in pages (the bbolt
// store offers it).
type Source interface {
	store.Store
	EachUser(ctx context.Context, realmID string, fn func(store.User) error) error
	EachAdminEvent(ctx context.Context, realmID string, fn func(store.AdminEvent) error) error // oldest first
	EachLoginEvent(ctx context.Context, realmID string, fn func(store.LoginEvent) error) error // oldest first
	EachSession(ctx context.Context, realmID string, fn func(store.Session) error) error
	EachRefreshToken(ctx context.Context, realmID string, fn func(store.RefreshToken) error) error
	EachAuthCode(ctx context.Context, realmID string, fn func(store.AuthCode) error) error
	EachDeviceCode(ctx context.Context, realmID string, fn func(store.DeviceCode) error) error
	EachRevokedAccessToken(ctx context.Context, realmID string, fn func(jti string, exp time.Time) error) error
	EachNonce(ctx context.Context, realmID string, fn func(nonce string, exp time.Time) error) error
}

// Options tunes Copy. The zero value copies into an empty target, quietly.
type Options struct {
	// Force copies into a target that already holds realms or topologies
	// (re-running an interrupted migration): records already there are
	// kept as they are.
	Force bool
	// Progress receives one line per realm and kind; nil = none.
	Progress io.Writer
	// Now judges expiry: sessions, tokens, codes and nonces already
	// expired are not copied. Default time.Now.
	Now func() time.Time
}

// ErrTargetNotEmpty: the target holds records and Options.Force is not set.
var ErrTargetNotEmpty = errors.New("migrate: the target store is not empty (use --force to copy into it anyway)")

// ErrRealmClash: a forced copy found a realm of the same name but another
// ID in the target.
var ErrRealmClash = errors.New("migrate: realm name taken in the target by another realm")

// Counts is how many records of each kind a store holds (or a copy wrote).
type Counts map[string]int

// Kinds are the record kinds Copy reports, in copy order.
var Kinds = []string{
	"realms", "keys", "clientScopes", "roles", "clients", "groups", "authzScopes", "authzPolicies", "authzResources",
	"users", "identityProviders",
	"apiKeys", "accessKeys", "knoxTokens", "loginFailures", "adminEvents", "loginEvents",
	"sessions", "refreshTokens", "authCodes", "deviceCodes", "revokedAccessTokens", "nonces", "topologies",
}

// Report is the outcome of a copy.
type Report struct {
	// Copied counts the records written to the target; Kept those already
	// there (Options.Force); Skipped those expired or orphaned in the
	// source (refresh tokens of ended sessions).
	Copied, Kept, Skipped Counts
	// Source and Target are the verification counts: each kind listed back
	// from both stores (see Inventory), plus the sessions, refresh tokens,
	// device codes and revoked access tokens copied from the source and
	// looked up one by one on the target.
	Source, Target Counts
}

// pageSize is the page used to list source and target.
const pageSize = 500

// Copy copies every record of src into dst, then reads dst back and
// compares its counts with the source's: a mismatch is an error naming the
// kinds that differ.
func Copy(ctx context.Context, src Source, dst store.Store, opts Options) (Report, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	now := opts.Now()
	rep := Report{Copied: Counts{}, Kept: Counts{}, Skipped: Counts{}}
	if !opts.Force {
		empty, err := isEmpty(ctx, dst)
		if err != nil {
			return rep, fmt.Errorf("migrate: read target: %w", err)
		}
		if !empty {
			return rep, ErrTargetNotEmpty
		}
	}
	c := &copier{src: src, dst: dst, rep: &rep, now: now, progress: opts.Progress, lookups: Counts{}, found: Counts{}}
	realms, err := src.ListRealms(ctx)
	if err != nil {
		return rep, fmt.Errorf("migrate: list realms: %w", err)
	}
	for _, r := range realms {
		if err := c.realm(ctx, r); err != nil {
			return rep, fmt.Errorf("migrate: realm %s: %w", r.Name, err)
		}
	}
	tops, err := src.ListTopologies(ctx)
	if err != nil {
		return rep, fmt.Errorf("migrate: list topologies: %w", err)
	}
	for _, t := range tops {
		if err := dst.PutTopology(ctx, t); err != nil {
			return rep, fmt.Errorf("migrate: topology %s: %w", t.Name, err)
		}
		rep.Copied["topologies"]++
	}
	fmt.Fprintf(opts.Progress, "topologies: %d\n", len(tops))

	if rep.Source, err = Inventory(ctx, src); err != nil {
		return rep, fmt.Errorf("migrate: count source: %w", err)
	}
	if rep.Target, err = Inventory(ctx, dst); err != nil {
		return rep, fmt.Errorf("migrate: count target: %w", err)
	}
	// Records the interface finds only by hash: the ones copied are looked
	// up on the target.
	for _, k := range []string{"sessions", "refreshTokens", "deviceCodes", "revokedAccessTokens"} {
		rep.Source[k] = c.lookups[k]
		rep.Target[k] = c.found[k]
	}
	var differ []string
	for _, k := range Kinds {
		if rep.Source[k] != rep.Target[k] {
			differ = append(differ, fmt.Sprintf("%s (source %d, target %d)", k, rep.Source[k], rep.Target[k]))
		}
	}
	if len(differ) > 0 {
		return rep, fmt.Errorf("migrate: verification failed, counts differ: %v", differ)
	}
	return rep, nil
}

type copier struct {
	src      Source
	dst      store.Store
	rep      *Report
	now      time.Time
	progress io.Writer
	// lookups and found count, per hash-addressed kind, the records copied
	// and those the target then answered for.
	lookups, found Counts
	// realmName and inRealm are the realm being copied and its counts so
	// far, for progress lines.
	realmName string
	inRealm   Counts
}

// put records the outcome of one write: a conflict on a forced copy is a
// record already there.
func (c *copier) put(kind string, err error) error {
	switch {
	case err == nil:
		c.rep.Copied[kind]++
		c.tick(kind, 1)
	case errors.Is(err, store.ErrAlreadyExists):
		c.rep.Kept[kind]++
	default:
		return fmt.Errorf("%s: %w", kind, err)
	}
	return nil
}

// progressEvery is how many records of one kind pass between progress
// lines within a realm, so a large realm shows it is moving.
const progressEvery = 10000

// tick counts n records of kind copied in the current realm, printing a
// line each time the count passes a multiple of progressEvery.
func (c *copier) tick(kind string, n int) {
	before := c.inRealm[kind]
	c.inRealm[kind] += n
	if c.inRealm[kind]/progressEvery > before/progressEvery {
		fmt.Fprintf(c.progress, "realm %s: %s %d so far\n", c.realmName, kind, c.inRealm[kind])
	}
}

func (c *copier) realm(ctx context.Context, r store.Realm) error {
	c.realmName, c.inRealm = r.Name, Counts{}
	src, dst, id := c.src, c.dst, r.ID
	if err := c.put("realms", dst.CreateRealm(ctx, r)); err != nil {
		return err
	}
	// A forced copy continues into a realm already there only if it is this
	// one; another of the same name (say a replica started on the database
	// first bootstrapped its own master) would be mixed with this one's
	// records.
	if there, err := dst.GetRealm(ctx, r.Name); err != nil {
		return err
	} else if there.ID != r.ID {
		return fmt.Errorf("%w: the target has another realm named %q (ID %s, the source's is %s)", ErrRealmClash, r.Name, there.ID, r.ID)
	}
	keys, err := src.ListKeys(ctx, id)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := c.put("keys", dst.CreateKey(ctx, id, k)); err != nil {
			return err
		}
	}
	scopes, err := src.ListClientScopes(ctx, id)
	if err != nil {
		return err
	}
	for _, cs := range scopes {
		if err := c.put("clientScopes", dst.CreateClientScope(ctx, id, cs)); err != nil {
			return err
		}
	}
	clients, err := all(func(p store.Page) ([]store.Client, error) {
		return src.ListClients(ctx, id, store.ClientQuery{Page: p})
	})
	if err != nil {
		return err
	}
	// Realm roles, then each client's roles.
	for _, owner := range append([]string{""}, ids(clients, func(c store.Client) string { return c.ID })...) {
		roles, err := all(func(p store.Page) ([]store.Role, error) { return src.ListRoles(ctx, id, owner, p) })
		if err != nil {
			return err
		}
		for _, role := range roles {
			if err := c.put("roles", dst.CreateRole(ctx, id, role)); err != nil {
				return err
			}
		}
	}
	for _, cl := range clients {
		if err := c.put("clients", dst.CreateClient(ctx, id, cl)); err != nil {
			return err
		}
	}
	// Groups parent first: a group's parent must exist.
	groups, err := allGroups(ctx, src, id)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if err := c.put("groups", dst.CreateGroup(ctx, id, g)); err != nil {
			return err
		}
	}
	for _, cl := range clients {
		if err := c.authz(ctx, id, cl.ID); err != nil {
			return err
		}
	}
	err = src.EachUser(ctx, id, func(u store.User) error { return c.put("users", dst.CreateUser(ctx, id, u)) })
	if err != nil {
		return err
	}
	idps, err := src.ListIdentityProviders(ctx, id)
	if err != nil {
		return err
	}
	for _, p := range idps {
		if err := c.put("identityProviders", dst.CreateIdentityProvider(ctx, id, p)); err != nil {
			return err
		}
	}
	apiKeys, err := src.ListAPIKeys(ctx, id, "")
	if err != nil {
		return err
	}
	for _, k := range apiKeys {
		if err := c.put("apiKeys", dst.CreateAPIKey(ctx, id, k)); err != nil {
			return err
		}
	}
	accessKeys, err := src.ListAccessKeys(ctx, id, "")
	if err != nil {
		return err
	}
	for _, k := range accessKeys {
		if err := c.put("accessKeys", dst.CreateAccessKey(ctx, id, k)); err != nil {
			return err
		}
	}
	knox, err := src.ListKnoxTokens(ctx, id, store.KnoxTokenQuery{})
	if err != nil {
		return err
	}
	for _, t := range knox {
		// No limit: the source already enforced it when the token was made.
		if err := c.put("knoxTokens", dst.CreateKnoxToken(ctx, id, t, store.KnoxTokenLimit{})); err != nil {
			return err
		}
	}
	failures, err := src.ListLoginFailures(ctx, id, "")
	if err != nil {
		return err
	}
	for _, f := range failures {
		_, err := dst.UpdateLoginFailure(ctx, id, f.Key, func(cur *store.LoginFailure) error { *cur = f; return nil })
		if err := c.put("loginFailures", err); err != nil {
			return err
		}
	}
	if err := c.events(ctx, id); err != nil {
		return err
	}
	if err := c.sessions(ctx, id); err != nil {
		return err
	}
	if err := c.codes(ctx, id); err != nil {
		return err
	}
	line := fmt.Sprintf("realm %s:", r.Name)
	for _, k := range Kinds {
		if n := c.inRealm[k]; n > 0 && k != "realms" {
			line += fmt.Sprintf(" %s %d", k, n)
		}
	}
	fmt.Fprintln(c.progress, line)
	return nil
}

// authz copies a client's authorization-services records (a client that
// is no longer a resource server may keep them), parent resources before
// their children.
func (c *copier) authz(ctx context.Context, realmID, serverID string) error {
	scopes, err := c.src.ListAuthzScopes(ctx, realmID, serverID)
	if err != nil {
		return err
	}
	for _, sc := range scopes {
		if err := c.put("authzScopes", c.dst.CreateAuthzScope(ctx, realmID, sc)); err != nil {
			return err
		}
	}
	policies, err := c.src.ListAuthzPolicies(ctx, realmID, serverID)
	if err != nil {
		return err
	}
	for _, p := range policies {
		if err := c.put("authzPolicies", c.dst.CreateAuthzPolicy(ctx, realmID, p)); err != nil {
			return err
		}
	}
	resources, err := c.src.ListAuthzResources(ctx, realmID, serverID, store.AuthzResourceQuery{})
	if err != nil {
		return err
	}
	for _, r := range parentsFirst(resources) {
		if err := c.put("authzResources", c.dst.CreateAuthzResource(ctx, realmID, r)); err != nil {
			return err
		}
	}
	return nil
}

// parentsFirst orders resources so that each comes after its parent.
func parentsFirst(rs []store.AuthzResource) []store.AuthzResource {
	children := map[string][]store.AuthzResource{}
	known := map[string]bool{}
	for _, r := range rs {
		known[r.ID] = true
	}
	var out []store.AuthzResource
	for _, r := range rs {
		if r.ParentID == "" || !known[r.ParentID] {
			out = append(out, r)
		} else {
			children[r.ParentID] = append(children[r.ParentID], r)
		}
	}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i].ID]...)
	}
	return out
}

// events copies the audit and login events oldest first, as they were
// appended, login events in batches.
func (c *copier) events(ctx context.Context, id string) error {
	err := c.src.EachAdminEvent(ctx, id, func(e store.AdminEvent) error {
		return c.put("adminEvents", c.dst.AppendAdminEvent(ctx, id, e))
	})
	if err != nil {
		return err
	}
	var batch []store.LoginEvent
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := c.dst.AppendLoginEvents(ctx, id, batch); err != nil {
			return fmt.Errorf("loginEvents: %w", err)
		}
		c.rep.Copied["loginEvents"] += len(batch)
		c.tick("loginEvents", len(batch))
		batch = batch[:0]
		return nil
	}
	err = c.src.EachLoginEvent(ctx, id, func(e store.LoginEvent) error {
		if batch = append(batch, e); len(batch) == pageSize {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// sessions copies the live sessions, then their live refresh tokens
// (rotated-out ones included, so reuse detection still sees them).
func (c *copier) sessions(ctx context.Context, id string) error {
	err := c.src.EachSession(ctx, id, func(s store.Session) error {
		if !s.ExpiresAt.After(c.now) {
			c.rep.Skipped["sessions"]++
			return nil
		}
		if err := c.put("sessions", c.dst.CreateSession(ctx, id, s, store.RefreshToken{})); err != nil {
			return err
		}
		c.lookups["sessions"]++
		if _, err := c.dst.GetSession(ctx, id, s.ID); err == nil {
			c.found["sessions"]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.src.EachRefreshToken(ctx, id, func(rt store.RefreshToken) error {
		if !rt.ExpiresAt.After(c.now) {
			c.rep.Skipped["refreshTokens"]++
			return nil
		}
		err := c.dst.AddRefreshToken(ctx, id, rt, c.now)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrTokenExpired) {
			// Its session ended (or expired) in the source: the token is
			// dead there too.
			c.rep.Skipped["refreshTokens"]++
			return nil
		}
		if err := c.put("refreshTokens", err); err != nil {
			return err
		}
		c.lookups["refreshTokens"]++
		if _, err := c.dst.GetRefreshToken(ctx, id, rt.Hash); err == nil {
			c.found["refreshTokens"]++
		}
		return nil
	})
}

// codes copies the live authorization and device codes, revoked access
// tokens and claimed nonces.
func (c *copier) codes(ctx context.Context, id string) error {
	err := c.src.EachAuthCode(ctx, id, func(a store.AuthCode) error {
		if !a.ExpiresAt.After(c.now) {
			c.rep.Skipped["authCodes"]++
			return nil
		}
		return c.put("authCodes", c.dst.CreateAuthCode(ctx, id, a))
	})
	if err != nil {
		return err
	}
	err = c.src.EachDeviceCode(ctx, id, func(d store.DeviceCode) error {
		if !d.ExpiresAt.After(c.now) {
			c.rep.Skipped["deviceCodes"]++
			return nil
		}
		if err := c.put("deviceCodes", c.dst.CreateDeviceCode(ctx, id, d)); err != nil {
			return err
		}
		c.lookups["deviceCodes"]++
		if _, err := c.dst.GetDeviceCodeByUserCode(ctx, id, d.UserCode); err == nil {
			c.found["deviceCodes"]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = c.src.EachRevokedAccessToken(ctx, id, func(jti string, exp time.Time) error {
		if !exp.After(c.now) {
			c.rep.Skipped["revokedAccessTokens"]++
			return nil
		}
		if err := c.put("revokedAccessTokens", c.dst.RevokeAccessToken(ctx, id, jti, exp)); err != nil {
			return err
		}
		c.lookups["revokedAccessTokens"]++
		if ok, err := c.dst.IsAccessTokenRevoked(ctx, id, jti); err == nil && ok {
			c.found["revokedAccessTokens"]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.src.EachNonce(ctx, id, func(nonce string, exp time.Time) error {
		if !exp.After(c.now) {
			c.rep.Skipped["nonces"]++
			return nil
		}
		return c.put("nonces", c.dst.ClaimNonce(ctx, id, nonce, exp, c.now))
	})
}

// Inventory counts, through store.Store alone, the records of each kind st
// holds. Authorization codes and nonces cannot be read without spending
// them, and sessions (browser sessions belong to no client), refresh
// tokens, device codes and revoked access tokens are found only by key or
// owner: Inventory leaves those out.
func Inventory(ctx context.Context, st store.Store) (Counts, error) {
	n := Counts{}
	realms, err := st.ListRealms(ctx)
	if err != nil {
		return nil, err
	}
	n["realms"] = len(realms)
	for _, r := range realms {
		id := r.ID
		keys, err := st.ListKeys(ctx, id)
		if err != nil {
			return nil, err
		}
		n["keys"] += len(keys)
		scopes, err := st.ListClientScopes(ctx, id)
		if err != nil {
			return nil, err
		}
		n["clientScopes"] += len(scopes)
		clients, err := all(func(p store.Page) ([]store.Client, error) {
			return st.ListClients(ctx, id, store.ClientQuery{Page: p})
		})
		if err != nil {
			return nil, err
		}
		n["clients"] += len(clients)
		for _, owner := range append([]string{""}, ids(clients, func(c store.Client) string { return c.ID })...) {
			roles, err := all(func(p store.Page) ([]store.Role, error) { return st.ListRoles(ctx, id, owner, p) })
			if err != nil {
				return nil, err
			}
			n["roles"] += len(roles)
		}
		groups, err := allGroups(ctx, st, id)
		if err != nil {
			return nil, err
		}
		n["groups"] += len(groups)
		for _, cl := range clients {
			scopes, err := st.ListAuthzScopes(ctx, id, cl.ID)
			if err != nil {
				return nil, err
			}
			policies, err := st.ListAuthzPolicies(ctx, id, cl.ID)
			if err != nil {
				return nil, err
			}
			resources, err := st.ListAuthzResources(ctx, id, cl.ID, store.AuthzResourceQuery{})
			if err != nil {
				return nil, err
			}
			n["authzScopes"] += len(scopes)
			n["authzPolicies"] += len(policies)
			n["authzResources"] += len(resources)
		}
		users, err := st.CountUsers(ctx, id, store.UserQuery{ServiceAccounts: true})
		if err != nil {
			return nil, err
		}
		n["users"] += users
		idps, err := st.ListIdentityProviders(ctx, id)
		if err != nil {
			return nil, err
		}
		n["identityProviders"] += len(idps)
		apiKeys, err := st.ListAPIKeys(ctx, id, "")
		if err != nil {
			return nil, err
		}
		n["apiKeys"] += len(apiKeys)
		accessKeys, err := st.ListAccessKeys(ctx, id, "")
		if err != nil {
			return nil, err
		}
		n["accessKeys"] += len(accessKeys)
		knox, err := st.ListKnoxTokens(ctx, id, store.KnoxTokenQuery{})
		if err != nil {
			return nil, err
		}
		n["knoxTokens"] += len(knox)
		failures, err := st.ListLoginFailures(ctx, id, "")
		if err != nil {
			return nil, err
		}
		n["loginFailures"] += len(failures)
		admin, err := all(func(p store.Page) ([]store.AdminEvent, error) { return st.ListAdminEvents(ctx, id, p) })
		if err != nil {
			return nil, err
		}
		n["adminEvents"] += len(admin)
		logins, err := all(func(p store.Page) ([]store.LoginEvent, error) {
			return st.ListLoginEvents(ctx, id, store.LoginEventQuery{Page: p})
		})
		if err != nil {
			return nil, err
		}
		n["loginEvents"] += len(logins)
	}
	tops, err := st.ListTopologies(ctx)
	if err != nil {
		return nil, err
	}
	n["topologies"] = len(tops)
	return n, nil
}

// isEmpty reports a store without realms or topologies.
func isEmpty(ctx context.Context, st store.Store) (bool, error) {
	realms, err := st.ListRealms(ctx)
	if err != nil {
		return false, err
	}
	tops, err := st.ListTopologies(ctx)
	if err != nil {
		return false, err
	}
	return len(realms) == 0 && len(tops) == 0, nil
}

// all collects every page of a paged list.
func all[T any](list func(store.Page) ([]T, error)) ([]T, error) {
	var out []T
	for first := 0; ; first += pageSize {
		page, err := list(store.Page{First: first, Max: pageSize})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < pageSize {
			return out, nil
		}
	}
}

// allGroups lists a realm's group tree breadth first, so every parent
// comes before its children.
func allGroups(ctx context.Context, st store.Store, realmID string) ([]store.Group, error) {
	var out []store.Group
	parents := []string{""}
	for len(parents) > 0 {
		parent := parents[0]
		parents = parents[1:]
		children, err := all(func(p store.Page) ([]store.Group, error) { return st.ListGroups(ctx, realmID, parent, p) })
		if err != nil {
			return nil, err
		}
		out = append(out, children...)
		parents = append(parents, ids(children, func(g store.Group) string { return g.ID })...)
	}
	return out, nil
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}
