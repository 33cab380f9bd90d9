package store

import "context"

// Generations is implemented by stores that several processes share (the
// PostgreSQL store). Each realm has a durable write generation there: a
// process bumps it after every write it commits to the realm, and reads it
// to learn that another process changed the realm, so its caches are not
// trusted past another replica's write. A store that only one process can
// open (bbolt, with its file lock) does not implement it.
type Generations interface {
	// BumpGeneration advances the realm's generation (after the write
	// committed, so whoever reads the new value reads the write too) and
	// tells the listening processes.
	BumpGeneration(ctx context.Context, realmID string) error
	// RealmGeneration returns the ID and current generation of the realm
	// named name (0 before its first bump), or ErrNotFound.
	RealmGeneration(ctx context.Context, name string) (id string, gen uint64, err error)
	// ListenGenerations calls fn with every generation another process
	// announces, until ctx ends; after each (re)connection of the listener
	// it calls fn with every realm's current generation, so announcements
	// missed while disconnected are made up for.
	ListenGenerations(ctx context.Context, fn func(realmID string, gen uint64)) error
}
