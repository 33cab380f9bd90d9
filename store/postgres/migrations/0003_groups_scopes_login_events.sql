-- Gatehouse schema, version 3: what the Store interface gained after
-- version 2 (groups, client scopes, login events, the address a session
-- started from). It only adds, so replicas of the previous version keep
-- working while the others are upgraded (their sessions get an empty
-- address).

-- The group tree. parent_id is "" for a top-level group, so (parent,
-- name) is unique among siblings at every level; parent_ref is the same
-- parent as a nullable reference, so a parent must exist and deleting a
-- group deletes its whole subtree in the same statement.
CREATE TABLE IF NOT EXISTS groups (
	realm_id   text COLLATE "C" NOT NULL,
	id         text COLLATE "C" NOT NULL,
	parent_id  text COLLATE "C" NOT NULL,
	parent_ref text COLLATE "C",
	name       text COLLATE "C" NOT NULL,
	data       bytea NOT NULL,
	CONSTRAINT groups_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT groups_name_key UNIQUE (realm_id, parent_id, name),
	CONSTRAINT groups_parent_fkey FOREIGN KEY (realm_id, parent_ref) REFERENCES groups (realm_id, id) ON DELETE CASCADE,
	CONSTRAINT groups_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS groups_parent_ref_idx ON groups (realm_id, parent_ref);

CREATE TABLE IF NOT EXISTS client_scopes (
	realm_id text COLLATE "C" NOT NULL,
	id       text COLLATE "C" NOT NULL,
	name     text COLLATE "C" NOT NULL,
	data     bytea NOT NULL,
	CONSTRAINT client_scopes_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT client_scopes_name_key UNIQUE (realm_id, name),
	CONSTRAINT client_scopes_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);

-- Login events, newest first by at_ns (Unix nanoseconds) as admin events;
-- the filtered fields have columns of their own.
CREATE TABLE IF NOT EXISTS login_events (
	realm_id   text COLLATE "C" NOT NULL,
	at_ns      bigint NOT NULL,
	id         text COLLATE "C" NOT NULL,
	type       text COLLATE "C" NOT NULL,
	client_id  text COLLATE "C" NOT NULL,
	user_id    text COLLATE "C" NOT NULL,
	ip_address text COLLATE "C" NOT NULL,
	data       bytea NOT NULL,
	CONSTRAINT login_events_pkey PRIMARY KEY (realm_id, at_ns, id),
	CONSTRAINT login_events_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);

ALTER TABLE sessions ADD COLUMN IF NOT EXISTS ip_address text NOT NULL DEFAULT '';
