-- Search by name inside an area reads only the name index: each member's name row carries the
-- family's current village, so a county caseworker's search for a common surname no longer
-- visits every namesake of the city (see docs/performance.md). Kept together
-- with family_place by the same writes.
ALTER TABLE person_name ADD COLUMN village_code TEXT;
UPDATE person_name SET village_code =
    (SELECT p.village_code FROM family_place p WHERE p.family_id = person_name.family_id);
CREATE INDEX person_name_scope ON person_name(name_key, village_code, family_id);
DROP INDEX person_name_key;
