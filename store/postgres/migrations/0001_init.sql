-- Gatehouse schema, version 1.
--
-- Every realm-scoped table is keyed by (realm_id, ...) and cascades from
-- realms, so deleting a realm is one DELETE and no lookup can cross realms.
-- Key columns are text COLLATE "C": byte order, as the Store interface
-- promises for listings (CockroachDB treats "C" as its default byte order).
-- Records whose fields are not queried are JSON in a bytea column, the same
-- encoding the bbolt backend writes (hashes and sealed secrets stay opaque
-- base64 inside it); sessions and refresh tokens, read and written on every
-- refresh, have a column per field.

CREATE TABLE IF NOT EXISTS realms (
	id   text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	data bytea NOT NULL,
	CONSTRAINT realms_pkey PRIMARY KEY (id),
	CONSTRAINT realms_name_key UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS clients (
	realm_id        text COLLATE "C" NOT NULL,
	id              text COLLATE "C" NOT NULL,
	client_id       text COLLATE "C" NOT NULL,
	client_id_lower text COLLATE "C" NOT NULL,
	data            bytea NOT NULL,
	CONSTRAINT clients_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT clients_client_id_key UNIQUE (realm_id, client_id),
	CONSTRAINT clients_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);

-- Lower-cased columns are computed by Gatehouse (Go's strings.ToLower), not
-- by the database, so matching is the same on every backend and collation.
CREATE TABLE IF NOT EXISTS users (
	realm_id       text COLLATE "C" NOT NULL,
	id             text COLLATE "C" NOT NULL,
	username_lower text COLLATE "C" NOT NULL,
	email_lower    text COLLATE "C",
	first_lower    text COLLATE "C" NOT NULL,
	last_lower     text COLLATE "C" NOT NULL,
	enabled        boolean NOT NULL,
	sa_client_id   text COLLATE "C",
	data           bytea NOT NULL,
	CONSTRAINT users_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT users_username_key UNIQUE (realm_id, username_lower),
	CONSTRAINT users_email_key UNIQUE (realm_id, email_lower),
	CONSTRAINT users_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS users_sa_client_idx ON users (realm_id, sa_client_id);

CREATE TABLE IF NOT EXISTS roles (
	realm_id  text COLLATE "C" NOT NULL,
	id        text COLLATE "C" NOT NULL,
	client_id text COLLATE "C" NOT NULL,
	name      text COLLATE "C" NOT NULL,
	data      bytea NOT NULL,
	CONSTRAINT roles_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT roles_name_key UNIQUE (realm_id, client_id, name),
	CONSTRAINT roles_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS signing_keys (
	realm_id text COLLATE "C" NOT NULL,
	kid      text COLLATE "C" NOT NULL,
	data     bytea NOT NULL,
	CONSTRAINT signing_keys_pkey PRIMARY KEY (realm_id, kid),
	CONSTRAINT signing_keys_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS sessions (
	realm_id     text COLLATE "C" NOT NULL,
	id           text COLLATE "C" NOT NULL,
	client_id    text COLLATE "C" NOT NULL,
	user_id      text COLLATE "C" NOT NULL,
	scope        text NOT NULL,
	auth_time    timestamptz,
	last_refresh timestamptz,
	expires_at   timestamptz,
	CONSTRAINT sessions_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT sessions_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions (realm_id, user_id);
CREATE INDEX IF NOT EXISTS sessions_client_idx ON sessions (realm_id, client_id);
CREATE INDEX IF NOT EXISTS sessions_expires_idx ON sessions (expires_at);

-- A refresh token lives only as long as its session: ending the session
-- deletes its tokens in the same statement.
CREATE TABLE IF NOT EXISTS refresh_tokens (
	realm_id   text COLLATE "C" NOT NULL,
	hash       text COLLATE "C" NOT NULL,
	session_id text COLLATE "C" NOT NULL,
	client_id  text COLLATE "C" NOT NULL,
	user_id    text COLLATE "C" NOT NULL,
	scope      text NOT NULL,
	issued_at  timestamptz,
	expires_at timestamptz,
	used_at    timestamptz,
	use_count  integer NOT NULL,
	CONSTRAINT refresh_tokens_pkey PRIMARY KEY (realm_id, hash),
	CONSTRAINT refresh_tokens_session_fkey FOREIGN KEY (realm_id, session_id) REFERENCES sessions (realm_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_idx ON refresh_tokens (realm_id, session_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_expires_idx ON refresh_tokens (expires_at);

CREATE TABLE IF NOT EXISTS revoked_jti (
	realm_id   text COLLATE "C" NOT NULL,
	jti        text COLLATE "C" NOT NULL,
	expires_at timestamptz NOT NULL,
	CONSTRAINT revoked_jti_pkey PRIMARY KEY (realm_id, jti),
	CONSTRAINT revoked_jti_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS revoked_jti_expires_idx ON revoked_jti (expires_at);

-- at_ns is the event time in Unix nanoseconds: newest first, as bbolt keys.
CREATE TABLE IF NOT EXISTS admin_events (
	realm_id text COLLATE "C" NOT NULL,
	at_ns    bigint NOT NULL,
	id       text COLLATE "C" NOT NULL,
	data     bytea NOT NULL,
	CONSTRAINT admin_events_pkey PRIMARY KEY (realm_id, at_ns, id),
	CONSTRAINT admin_events_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS identity_providers (
	realm_id text COLLATE "C" NOT NULL,
	alias    text COLLATE "C" NOT NULL,
	data     bytea NOT NULL,
	CONSTRAINT identity_providers_pkey PRIMARY KEY (realm_id, alias),
	CONSTRAINT identity_providers_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS topologies (
	name text COLLATE "C" NOT NULL,
	data bytea NOT NULL,
	CONSTRAINT topologies_pkey PRIMARY KEY (name)
);

CREATE TABLE IF NOT EXISTS knox_tokens (
	realm_id   text COLLATE "C" NOT NULL,
	id         text COLLATE "C" NOT NULL,
	username   text COLLATE "C" NOT NULL,
	created_by text COLLATE "C" NOT NULL,
	expires_at timestamptz,
	data       bytea NOT NULL,
	CONSTRAINT knox_tokens_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT knox_tokens_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS knox_tokens_user_idx ON knox_tokens (realm_id, username);
CREATE INDEX IF NOT EXISTS knox_tokens_creator_idx ON knox_tokens (realm_id, created_by);
CREATE INDEX IF NOT EXISTS knox_tokens_expires_idx ON knox_tokens (expires_at);

-- One row per user that ever held a managed Knox token: creating a token
-- locks it, so the per-user limit holds across replicas (a count alone
-- cannot lock rows that do not exist yet).
CREATE TABLE IF NOT EXISTS knox_token_owners (
	realm_id text COLLATE "C" NOT NULL,
	username text COLLATE "C" NOT NULL,
	CONSTRAINT knox_token_owners_pkey PRIMARY KEY (realm_id, username),
	CONSTRAINT knox_token_owners_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS login_failures (
	realm_id text COLLATE "C" NOT NULL,
	failure_key text COLLATE "C" NOT NULL,
	data     bytea NOT NULL,
	CONSTRAINT login_failures_pkey PRIMARY KEY (realm_id, failure_key),
	CONSTRAINT login_failures_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);

-- Settings shared by every replica (the master-key check value).
CREATE TABLE IF NOT EXISTS gatehouse_meta (
	name  text COLLATE "C" NOT NULL,
	value bytea NOT NULL,
	CONSTRAINT gatehouse_meta_pkey PRIMARY KEY (name)
);
