-- Gatehouse schema, version 4: a write generation per realm, bumped after
-- every write made through the service, so each replica can tell that its
-- caches of a realm (the realm and its keys, clients, users, roles) are
-- older than another replica's last change. No foreign key: deleting a
-- realm must bump its generation too, and the row outliving the realm
-- costs one small row.
CREATE TABLE IF NOT EXISTS realm_generations (
	realm_id text COLLATE "C" NOT NULL,
	gen      bigint NOT NULL,
	CONSTRAINT realm_generations_pkey PRIMARY KEY (realm_id)
);
