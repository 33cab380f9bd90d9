package bounded

import (
	"fmt"
	"testing"
)

// The map stays within its bound however many distinct keys arrive, and
// makes room by dropping stale entries first.
func TestMapStaysBounded(t *testing.T) {
	m := New[string, int](64, func(v int) bool { return v < 0 })
	for i := range 63 {
		m.Put(fmt.Sprint("stale-", i), -1)
	}
	m.Put("keep", 1)
	m.Put("new", 2) // full: the 63 stale entries make room
	if v, ok := m.Get("keep"); m.Len() != 2 || !ok || v != 1 {
		t.Fatalf("after dropping stale entries: %d entries, keep=%v", m.Len(), ok)
	}
	for i := range 10_000 {
		m.Put(fmt.Sprint("live-", i), i)
		if m.Len() > 64 {
			t.Fatalf("%d entries after %d puts, bound 64", m.Len(), i+1)
		}
	}
	if v, ok := m.Get("live-9999"); !ok || v != 9999 {
		t.Fatal("the latest entry was dropped")
	}
	m.Put("live-9999", 7) // replacing an entry never evicts
	if v, _ := m.Get("live-9999"); v != 7 {
		t.Fatalf("replaced value = %d", v)
	}
}
