-- The web application (issue 5): users and roles, server-side sessions, sign-in throttling, API
-- tokens, break-the-glass grants, volunteer pairings, and the search/scope index of families.
-- Portable SQLite + PostgreSQL. Times are microseconds since the Unix epoch (UTC).

-- A user works in one area (city 3713, a county, a township or a village) in one role.
CREATE TABLE app_user (
    user_id        TEXT PRIMARY KEY,
    login          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,        -- village | township | county | city | finance | inspector | volunteer | admin
    area_code      TEXT NOT NULL REFERENCES area(code),
    password_hash  TEXT NOT NULL,        -- Argon2id PHC string
    active         BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    password_set_at BIGINT NOT NULL
);

-- Sessions are kept on the server; the cookie carries a random token whose SHA-256 is the key.
CREATE TABLE app_session (
    token_hash  BYTEA PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES app_user(user_id),
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX app_session_user ON app_session(user_id);

-- Failed sign-ins per login: after a few, the login is locked for a while.
CREATE TABLE login_throttle (
    login        TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);

-- Tokens for system integration (`Authorization: Bearer …`); the token acts as its user.
CREATE TABLE api_token (
    token_hash  BYTEA PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES app_user(user_id),
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked     BOOLEAN NOT NULL
);

-- Break the glass: read access to one family outside the user's area, for a limited time, with
-- a stated reason; shown to the family's own county.
CREATE TABLE access_grant (
    grant_id    TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES app_user(user_id),
    family_id   TEXT NOT NULL REFERENCES family(family_id),
    county_code TEXT NOT NULL,
    reason      TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX access_grant_user ON access_grant(user_id, family_id);
CREATE INDEX access_grant_county ON access_grant(county_code, granted_at);

-- One-to-one volunteer pairing (二(一)); a volunteer sees only the families paired to them.
CREATE TABLE volunteer_pairing (
    user_id     TEXT NOT NULL REFERENCES app_user(user_id),
    family_id   TEXT NOT NULL REFERENCES family(family_id),
    paired_at   BIGINT NOT NULL,
    paired_by   TEXT NOT NULL,
    PRIMARY KEY (user_id, family_id)
);
CREATE INDEX volunteer_pairing_family ON volunteer_pairing(family_id);

-- Where a family is registered now (its current registration's village), kept with every write
-- of a registration: the key of area scoping and of area lists.
CREATE TABLE family_place (
    family_id    TEXT PRIMARY KEY REFERENCES family(family_id),
    village_code TEXT NOT NULL
);
CREATE INDEX family_place_village ON family_place(village_code, family_id);

-- Members' current names, for search by name; kept with every write of an identity. `name_key`
-- is the name's UTF-8 bytes in lower-case hex: a prefix search is a range on it, which orders
-- the same under every collation of either backend.
CREATE TABLE person_name (
    person_id   TEXT PRIMARY KEY REFERENCES person(person_id),
    family_id   TEXT NOT NULL REFERENCES family(family_id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL
);
CREATE INDEX person_name_key ON person_name(name_key, family_id);
CREATE INDEX person_name_family ON person_name(family_id);
