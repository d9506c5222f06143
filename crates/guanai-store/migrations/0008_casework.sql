-- Casework (issue 6): applications from the family's request to enrolment, with the public notice
-- (公示) and its objections; and the annual re-confirmation (年度资格确认) of enrolled parents.
-- Portable SQLite + PostgreSQL. Dates are YYYY-MM-DD text; times microseconds since the epoch.

-- An application (申请). A family imported by the census without one is enrolled; a family with
-- applications is enrolled once one of them is approved — until then no payment run pays it.
CREATE TABLE application (
    application_id TEXT PRIMARY KEY,
    family_id      TEXT NOT NULL REFERENCES family(family_id),
    -- applied | checked | notice | reviewed | approved | rejected
    status         TEXT NOT NULL,
    applied_on     TEXT NOT NULL,
    applicant      TEXT NOT NULL,          -- who applied (name, relation)
    notice_from    TEXT,
    notice_until   TEXT,                   -- the last day of the public notice
    -- the step whose rejection stands (village_check | township_review | county_approval)
    rejected_at    TEXT,
    appealed       BOOLEAN NOT NULL,
    version        BIGINT NOT NULL,        -- bumped by every step (a concurrent step is refused)
    created_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL
);
CREATE INDEX application_family ON application(family_id);
CREATE INDEX application_status ON application(status);

-- Every step of an application, in order: who, when, the evidence seen and the decision.
CREATE TABLE application_step (
    application_id TEXT NOT NULL REFERENCES application(application_id),
    step_no        INTEGER NOT NULL,
    -- apply | village_check | notice | objection | objection_resolved | township_review
    -- | county_approval | appeal
    step           TEXT NOT NULL,
    decision       TEXT NOT NULL,          -- pass | reject | '' (a step without a decision)
    evidence       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    on_date        TEXT NOT NULL,
    actor          TEXT NOT NULL,
    at             BIGINT NOT NULL,
    PRIMARY KEY (application_id, step_no)
);

-- Objections raised during the public notice; each must be resolved before the township review.
CREATE TABLE objection (
    objection_id   TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES application(application_id),
    raised_on      TEXT NOT NULL,
    raised_by      TEXT NOT NULL,          -- e.g. 邻居 (kept general: the objector's privacy)
    content        TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    recorded_at    BIGINT NOT NULL,
    resolution     TEXT,
    upheld         BOOLEAN,
    resolved_by    TEXT,
    resolved_at    BIGINT
);
CREATE INDEX objection_application ON objection(application_id);

-- A year's re-confirmation, opened for the whole archive: its deadline and how many parents.
CREATE TABLE reconfirm_campaign (
    year        INTEGER PRIMARY KEY,
    deadline    TEXT NOT NULL,
    opened_at   BIGINT NOT NULL,
    opened_by   TEXT NOT NULL,
    persons     BIGINT NOT NULL
);

-- The parents to re-confirm in a year (enrolled and paid when the year was opened), and when
-- each was confirmed (alive, no later child, still in the area).
CREATE TABLE reconfirm_roster (
    year          INTEGER NOT NULL,
    person_id     TEXT NOT NULL,
    family_id     TEXT NOT NULL REFERENCES family(family_id),
    confirmed_on  TEXT,
    confirmed_by  TEXT,
    confirmed_at  BIGINT,
    note          TEXT,
    PRIMARY KEY (year, person_id)
);
CREATE INDEX reconfirm_roster_family ON reconfirm_roster(family_id, year);
