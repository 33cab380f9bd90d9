// Package storetest is the conformance suite every store.Store backend
// must pass unchanged: RunTests(t, newStore) from the backend's own tests.
//
//	func TestConformance(t *testing.T) {
//		storetest.RunTests(t, func(t *testing.T) store.Store {
//			return openEmptyStore(t)
//		})
//	}
//
// Cases are grouped by resource, one file and one t.Run each (realms,
// clients, users, roles, groups, clientScopes, keys, sessions, codes,
// events, identityProviders, topologies, knox, loginFailures, credentials,
// generations; records holds the promises every kind keeps). A new case
// goes into its resource's table. Each case gets a fresh, empty store and
// is named after the behaviour it proves (unique keys and ConflictError
// fields, index moves on rename, cascades, compound writes that fail
// halfway, the refresh-token rotation and reuse policy, expiry, copies), so
// a failing backend reports which promise of the store.Store interface it
// breaks. The suite needs nothing of a backend beyond that interface (and
// store.Generations, for the generations cases, when it has it).
package storetest
