// Package storetest is the conformance suite every store.Store backend
// must pass unchanged: RunTests(t, newStore) from the backend's own tests.
//
//	func TestConformance(t *testing.T) {
//		storetest.RunTests(t, func(t *testing.T) store.Store {
//			return openEmptyStore(t)
//		})
//	}
//
// Each sub-test gets a fresh, empty store and is named after the behaviour
// it proves (unique keys and ConflictError fields, index moves on rename,
// cascades, the refresh-token rotation and reuse policy, expiry, copies), so
// a failing backend reports which promise of the store.Store interface it
// breaks. The suite needs nothing of a backend beyond that interface.
package storetest
