-- The receipt reference is a pure function of the row id (src/reference.rs: a bijection, with
-- an inverse for look-ups), so it is no longer stored; see the SQLite migration of the same name.
ALTER TABLE responses DROP COLUMN reference;
