-- Gatehouse schema, version 2: what the Store interface gained after
-- version 1 (realm names unique case-insensitively, federated identity
-- links, Knox tokens owned by user IDs, authorization and device codes,
-- single-use nonces, personal API keys and access keys). It keeps every
-- table and column version 1 uses (it drops only two indexes of columns
-- no longer looked up by), so replicas of the previous version keep
-- working while the others are upgraded.

-- Realm names are unique whatever their case. The index folds with the
-- database's lower(), which on COLLATE "C" text folds ASCII letters only:
-- the letters realm names may contain, folded as Go's strings.ToLower
-- folds them. An index (not a column Gatehouse fills) stays right whatever
-- writes the row, a replica of the previous version included.
CREATE UNIQUE INDEX IF NOT EXISTS realms_name_fold_key ON realms (lower(name));

-- Federated identity links, also kept in the user's JSON: this table is
-- their index and makes (provider, account) unique per realm, and one link
-- per provider per user. Links go with their user.
CREATE TABLE IF NOT EXISTS federated_identities (
	realm_id         text COLLATE "C" NOT NULL,
	alias            text COLLATE "C" NOT NULL,
	provider_user_id text COLLATE "C" NOT NULL,
	user_id          text COLLATE "C" NOT NULL,
	CONSTRAINT federated_identities_pkey PRIMARY KEY (realm_id, alias, provider_user_id),
	CONSTRAINT federated_identities_user_alias_key UNIQUE (realm_id, user_id, alias),
	CONSTRAINT federated_identities_user_fkey FOREIGN KEY (realm_id, user_id) REFERENCES users (realm_id, id) ON DELETE CASCADE
);

-- Knox tokens belong to their owner's user ID, never to a name a later
-- user could take. Rows written before this migration (or by a replica of
-- the previous version while the others are upgraded) have none and match
-- no user. The username columns stay, written for such replicas, but are
-- no longer looked up by.
DROP INDEX IF EXISTS knox_tokens_user_idx;
DROP INDEX IF EXISTS knox_tokens_creator_idx;
ALTER TABLE knox_tokens ADD COLUMN IF NOT EXISTS user_id text COLLATE "C";
ALTER TABLE knox_tokens ADD COLUMN IF NOT EXISTS created_by_id text COLLATE "C";
CREATE INDEX IF NOT EXISTS knox_tokens_user_id_idx ON knox_tokens (realm_id, user_id);
CREATE INDEX IF NOT EXISTS knox_tokens_created_by_id_idx ON knox_tokens (realm_id, created_by_id);

-- The per-user limit locks one row per owner ID (knox_token_owners, by
-- name, is left to replicas of the previous version).
CREATE TABLE IF NOT EXISTS knox_token_holders (
	realm_id text COLLATE "C" NOT NULL,
	user_id  text COLLATE "C" NOT NULL,
	CONSTRAINT knox_token_holders_pkey PRIMARY KEY (realm_id, user_id),
	CONSTRAINT knox_token_holders_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);

-- Authorization codes by the hash of the code. used_at is a column of its
-- own so redeeming is one conditional UPDATE: of any number of replicas
-- redeeming a code at once, exactly one sets it.
CREATE TABLE IF NOT EXISTS auth_codes (
	realm_id   text COLLATE "C" NOT NULL,
	hash       text COLLATE "C" NOT NULL,
	expires_at timestamptz,
	used_at    timestamptz,
	data       bytea NOT NULL,
	CONSTRAINT auth_codes_pkey PRIMARY KEY (realm_id, hash),
	CONSTRAINT auth_codes_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS auth_codes_expires_idx ON auth_codes (expires_at);

-- Device authorization requests by the hash of the device code; the user
-- code is unique in the realm until the janitor removes the expired row.
CREATE TABLE IF NOT EXISTS device_codes (
	realm_id   text COLLATE "C" NOT NULL,
	hash       text COLLATE "C" NOT NULL,
	user_code  text COLLATE "C" NOT NULL,
	expires_at timestamptz,
	data       bytea NOT NULL,
	CONSTRAINT device_codes_pkey PRIMARY KEY (realm_id, hash),
	CONSTRAINT device_codes_user_code_key UNIQUE (realm_id, user_code),
	CONSTRAINT device_codes_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS device_codes_expires_idx ON device_codes (expires_at);

-- Single-use values (signatures of signed requests) until they expire.
CREATE TABLE IF NOT EXISTS nonces (
	realm_id   text COLLATE "C" NOT NULL,
	nonce      text COLLATE "C" NOT NULL,
	expires_at timestamptz NOT NULL,
	CONSTRAINT nonces_pkey PRIMARY KEY (realm_id, nonce),
	CONSTRAINT nonces_realm_fkey FOREIGN KEY (realm_id) REFERENCES realms (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS nonces_expires_idx ON nonces (expires_at);

-- Personal API keys and access keys of users, gone with their user.
CREATE TABLE IF NOT EXISTS api_keys (
	realm_id text COLLATE "C" NOT NULL,
	id       text COLLATE "C" NOT NULL,
	user_id  text COLLATE "C" NOT NULL,
	data     bytea NOT NULL,
	CONSTRAINT api_keys_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT api_keys_user_fkey FOREIGN KEY (realm_id, user_id) REFERENCES users (realm_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS api_keys_user_idx ON api_keys (realm_id, user_id);

CREATE TABLE IF NOT EXISTS access_keys (
	realm_id text COLLATE "C" NOT NULL,
	id       text COLLATE "C" NOT NULL,
	user_id  text COLLATE "C" NOT NULL,
	data     bytea NOT NULL,
	CONSTRAINT access_keys_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT access_keys_user_fkey FOREIGN KEY (realm_id, user_id) REFERENCES users (realm_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS access_keys_user_idx ON access_keys (realm_id, user_id);
