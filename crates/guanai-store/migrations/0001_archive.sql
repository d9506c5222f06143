-- The family archive (专门档案, 信息数据库: 二(一), 二(二)). One portable schema for SQLite and
-- PostgreSQL. Nothing is overwritten: facts are appended; a correction is a new fact that names
-- the fact it replaces. Times are microseconds since the Unix epoch (UTC); dates are YYYY-MM-DD.

-- City → county-level area → township → village (NBS 2021 codes; see data/regions/README.md).
CREATE TABLE area (
    code        TEXT PRIMARY KEY,
    level       TEXT NOT NULL,          -- city | county | town | village
    name        TEXT NOT NULL,
    parent_code TEXT
);

-- Contact persons per area and level (联系人, 二(一)). Append-only: a change is a new row that
-- names the row it replaces.
CREATE TABLE area_contact (
    contact_id  TEXT PRIMARY KEY,
    area_code   TEXT NOT NULL REFERENCES area(code),
    name        TEXT NOT NULL,
    duty        TEXT NOT NULL,
    phone       BYTEA,                  -- sealed
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    replaces    TEXT REFERENCES area_contact(contact_id),
    retired     BOOLEAN NOT NULL
);

CREATE TABLE family (
    family_id   TEXT PRIMARY KEY,
    family_no   TEXT NOT NULL,          -- the county's census number (家庭编号)
    county_code TEXT NOT NULL,          -- county of the census registration
    import_hash BYTEA,                  -- digest of the imported census rows (re-import changes nothing)
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    version     BIGINT NOT NULL,        -- optimistic concurrency: every write bumps it
    UNIQUE (county_code, family_no)
);

CREATE TABLE person (
    person_id   TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES family(family_id),
    relation    TEXT NOT NULL,          -- mother | father | child | guardian
    created_at  BIGINT NOT NULL
);
CREATE INDEX person_family ON person(family_id);

-- Dated facts. valid_from: the date the fact is about (an event date, or since when it holds);
-- recorded_at: when the archive learned it. value: JSON, or NULL when the fact is sealed
-- (ID number, phone, bank account, health and disability details) and kept in `sealed`.
CREATE TABLE fact (
    fact_id     TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES family(family_id),
    person_id   TEXT REFERENCES person(person_id),
    kind        TEXT NOT NULL,
    valid_from  TEXT,
    value       TEXT,
    sealed      BYTEA,
    key_id      BIGINT,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    reason      TEXT NOT NULL,
    replaces    TEXT REFERENCES fact(fact_id),
    retracted   BOOLEAN NOT NULL
);
CREATE INDEX fact_family ON fact(family_id, recorded_at);
CREATE INDEX fact_key ON fact(key_id);

-- Blind index for exact lookup by resident ID number (HMAC; the number itself is sealed).
CREATE TABLE person_lookup (
    blind_index BYTEA NOT NULL,
    person_id   TEXT NOT NULL REFERENCES person(person_id),
    family_id   TEXT NOT NULL REFERENCES family(family_id),
    fact_id     TEXT NOT NULL REFERENCES fact(fact_id),
    PRIMARY KEY (blind_index, person_id)
);
CREATE INDEX person_lookup_person ON person_lookup(person_id);

-- Append-only audit of reveals, exports and other reads of unmasked values.
CREATE TABLE audit (
    audit_id    TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    reason      TEXT NOT NULL
);
