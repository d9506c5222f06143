-- Complaints and objections (异议/投诉, issue 6): from a family, a neighbour or a volunteer, about
-- a family or an area's work; answered within the pack's days, escalated to the level above when
-- late. The complainant's name and contact are sealed like phone numbers.
CREATE TABLE complaint (
    complaint_id   TEXT PRIMARY KEY,
    area_code      TEXT NOT NULL REFERENCES area(code),  -- the area whose caseworkers answer
    family_id      TEXT REFERENCES family(family_id),    -- the family concerned, if any
    source         TEXT NOT NULL,        -- family | neighbour | volunteer | other
    complainant    BYTEA NOT NULL,       -- sealed: name and contact
    summary        TEXT NOT NULL,
    detail         TEXT NOT NULL,
    received_on    TEXT NOT NULL,
    due_on         TEXT NOT NULL,
    answer         TEXT,
    answered_on    TEXT,
    answered_by    TEXT,
    recorded_by    TEXT NOT NULL,
    recorded_at    BIGINT NOT NULL
);
CREATE INDEX complaint_area ON complaint(area_code, due_on);
CREATE INDEX complaint_family ON complaint(family_id);
