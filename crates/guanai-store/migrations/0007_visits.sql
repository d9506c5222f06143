-- Visits (二(一), issue 6): what was done (visit), what is due (visit_period, worked out by the
-- planner of guanai-care from the facts and the policy), and who visits the families that need a
-- dedicated visitor (dedicated_visitor). Portable SQLite + PostgreSQL. Dates are YYYY-MM-DD text;
-- times are microseconds since the Unix epoch (UTC).

-- A visit made to a family. Never edited: a wrong record is withdrawn (with a reason) and
-- recorded again.
CREATE TABLE visit (
    visit_id          TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL REFERENCES family(family_id),
    visited_on        TEXT NOT NULL,
    occasion          TEXT NOT NULL,        -- regular | spring_festival | mid_autumn
    visitor           TEXT NOT NULL,        -- who went (name and unit)
    found             TEXT NOT NULL,        -- what was found
    needs             TEXT NOT NULL,        -- needs raised ('' none)
    follow_up         TEXT NOT NULL,        -- follow-up agreed ('' none)
    follow_up_due     TEXT,
    follow_up_done_at BIGINT,
    follow_up_done_by TEXT,
    follow_up_result  TEXT,
    recorded_at       BIGINT NOT NULL,
    recorded_by       TEXT NOT NULL,
    withdrawn_at      BIGINT,
    withdrawn_by      TEXT,
    withdrawn_reason  TEXT
);
CREATE INDEX visit_family ON visit(family_id, visited_on);
CREATE INDEX visit_follow_up ON visit(follow_up_due);

-- The visits due for a family in a year, as the planner worked them out; `visit_id` is the visit
-- that satisfied the period. Replaced per family and year whenever the plan is made again.
CREATE TABLE visit_period (
    family_id  TEXT NOT NULL REFERENCES family(family_id),
    year       INTEGER NOT NULL,
    period_no  INTEGER NOT NULL,
    kind       TEXT NOT NULL,               -- regular | spring_festival | mid_autumn
    level      TEXT NOT NULL,               -- regular | high (the need of the period's months)
    starts_on  TEXT NOT NULL,
    due_on     TEXT NOT NULL,
    visit_id   TEXT REFERENCES visit(visit_id),
    PRIMARY KEY (family_id, year, period_no)
);
CREATE INDEX visit_period_due ON visit_period(due_on, family_id);

-- When each year's plan was last made for the whole archive, and with which policy.
CREATE TABLE visit_plan (
    year          INTEGER PRIMARY KEY,
    planned_at    BIGINT NOT NULL,
    planned_by    TEXT NOT NULL,
    policy_name   TEXT NOT NULL,
    families      BIGINT NOT NULL,
    periods       BIGINT NOT NULL
);

-- The dedicated visitor (专人) of a family with a bereaved parent aged 60+ or chronically ill.
-- A new assignment ends the current one.
CREATE TABLE dedicated_visitor (
    assignment_id TEXT PRIMARY KEY,
    family_id     TEXT NOT NULL REFERENCES family(family_id),
    visitor       TEXT NOT NULL,
    unit          TEXT NOT NULL,
    assigned_at   BIGINT NOT NULL,
    assigned_by   TEXT NOT NULL,
    ended_at      BIGINT,
    ended_by      TEXT
);
CREATE INDEX dedicated_visitor_family ON dedicated_visitor(family_id, ended_at);
