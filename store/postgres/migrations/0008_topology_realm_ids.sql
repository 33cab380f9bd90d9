-- Gatehouse schema, version 8: gateway topologies bind to their realm's ID
-- (realm_id, and realmId in the record) instead of its name, so renaming a
-- realm keeps its topologies and a realm created later under a deleted
-- realm's name inherits none. Existing rows are bound to the realm that
-- holds their name now; a row whose realm is gone stays unbound (it served
-- nothing before either). No foreign key, as on bbolt: deleting a realm
-- leaves its topologies unbound rather than deleting them.
ALTER TABLE topologies ADD COLUMN IF NOT EXISTS realm_id text COLLATE "C";

UPDATE topologies AS t
   SET realm_id = r.id,
       data = convert_to(((convert_from(t.data, 'UTF8')::jsonb - 'realm')
                          || jsonb_build_object('realmId', r.id))::text, 'UTF8')
  FROM realms AS r
 WHERE t.realm_id IS NULL
   AND r.name = convert_from(t.data, 'UTF8')::jsonb ->> 'realm';
