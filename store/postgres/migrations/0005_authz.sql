-- Gatehouse schema, version 5: authorization services (resource servers'
-- resources, scopes, policies and permissions). It only adds tables.
--
-- Every record belongs to its resource server's client row and goes with
-- it. A resource's parent_ref points at a resource of the same server;
-- the default NO ACTION rule refuses to delete a parent that still has
-- children, yet lets a whole server (or realm) go in one statement.
CREATE TABLE IF NOT EXISTS authz_resources (
	realm_id        text COLLATE "C" NOT NULL,
	id              text COLLATE "C" NOT NULL,
	server_id       text COLLATE "C" NOT NULL,
	name            text COLLATE "C" NOT NULL,
	owner_id        text COLLATE "C" NOT NULL,
	parent_id       text COLLATE "C" NOT NULL,
	parent_ref      text COLLATE "C",
	access_key_hash text COLLATE "C",
	data            bytea NOT NULL,
	CONSTRAINT authz_resources_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT authz_resources_server_id_key UNIQUE (realm_id, server_id, id),
	CONSTRAINT authz_resources_name_key UNIQUE (realm_id, server_id, name),
	CONSTRAINT authz_resources_access_key_key UNIQUE (realm_id, access_key_hash),
	CONSTRAINT authz_resources_server_fkey FOREIGN KEY (realm_id, server_id) REFERENCES clients (realm_id, id) ON DELETE CASCADE,
	CONSTRAINT authz_resources_parent_fkey FOREIGN KEY (realm_id, server_id, parent_ref) REFERENCES authz_resources (realm_id, server_id, id)
);
CREATE INDEX IF NOT EXISTS authz_resources_parent_idx ON authz_resources (realm_id, parent_ref);
CREATE INDEX IF NOT EXISTS authz_resources_owner_idx ON authz_resources (realm_id, server_id, owner_id);

CREATE TABLE IF NOT EXISTS authz_scopes (
	realm_id  text COLLATE "C" NOT NULL,
	id        text COLLATE "C" NOT NULL,
	server_id text COLLATE "C" NOT NULL,
	name      text COLLATE "C" NOT NULL,
	data      bytea NOT NULL,
	CONSTRAINT authz_scopes_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT authz_scopes_name_key UNIQUE (realm_id, server_id, name),
	CONSTRAINT authz_scopes_server_fkey FOREIGN KEY (realm_id, server_id) REFERENCES clients (realm_id, id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS authz_policies (
	realm_id  text COLLATE "C" NOT NULL,
	id        text COLLATE "C" NOT NULL,
	server_id text COLLATE "C" NOT NULL,
	name      text COLLATE "C" NOT NULL,
	data      bytea NOT NULL,
	CONSTRAINT authz_policies_pkey PRIMARY KEY (realm_id, id),
	CONSTRAINT authz_policies_name_key UNIQUE (realm_id, server_id, name),
	CONSTRAINT authz_policies_server_fkey FOREIGN KEY (realm_id, server_id) REFERENCES clients (realm_id, id) ON DELETE CASCADE
);
