-- The care network (二(一), issue 6): volunteers registered with their organisation, a family's
-- refusal of one-to-one pairing, volunteers' service records by type, and the counselling team's
-- referrals and sessions (session notes sealed: only the counsellor reads them).
CREATE TABLE volunteer_profile (
    user_id        TEXT PRIMARY KEY REFERENCES app_user(user_id),
    organisation   TEXT NOT NULL,
    skills         TEXT NOT NULL,
    registered_at  BIGINT NOT NULL,
    registered_by  TEXT NOT NULL
);

-- A family that does not want a volunteer: no pairing is made while the refusal stands.
CREATE TABLE pairing_refusal (
    family_id    TEXT PRIMARY KEY REFERENCES family(family_id),
    refused_on   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL
);

CREATE TABLE volunteer_service (
    service_id   TEXT PRIMARY KEY,
    family_id    TEXT NOT NULL REFERENCES family(family_id),
    user_id      TEXT NOT NULL REFERENCES app_user(user_id),
    on_date      TEXT NOT NULL,
    kind         TEXT NOT NULL,     -- medical_help | daily_care | emotional_comfort | legal_aid
    minutes      BIGINT NOT NULL,
    note         TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL
);
CREATE INDEX volunteer_service_family ON volunteer_service(family_id, on_date);

CREATE TABLE counselling_referral (
    referral_id    TEXT PRIMARY KEY,
    family_id      TEXT NOT NULL REFERENCES family(family_id),
    counsellor_id  TEXT NOT NULL REFERENCES app_user(user_id),
    reason         TEXT NOT NULL,
    referred_on    TEXT NOT NULL,
    referred_by    TEXT NOT NULL,
    referred_at    BIGINT NOT NULL,
    closed_on      TEXT
);
CREATE INDEX counselling_referral_counsellor ON counselling_referral(counsellor_id, family_id);
CREATE INDEX counselling_referral_family ON counselling_referral(family_id);

CREATE TABLE counselling_session (
    session_id    TEXT PRIMARY KEY,
    referral_id   TEXT NOT NULL REFERENCES counselling_referral(referral_id),
    on_date       TEXT NOT NULL,
    minutes       BIGINT NOT NULL,
    notes         BYTEA NOT NULL,   -- sealed
    recorded_by   TEXT NOT NULL,
    recorded_at   BIGINT NOT NULL
);
CREATE INDEX counselling_session_referral ON counselling_session(referral_id, on_date);
