-- Changes of a family's facts that need approval (变更审批, issue 6): a death, a later child or
-- adoption, a move between counties or villages, a disability re-assessment or recovery. The
-- policy pack names the approving level per kind; until it approves, nothing is recorded. On
-- approval the fact is recorded (its reason names the request) and takes effect by its date.
CREATE TABLE change_request (
    change_id      TEXT PRIMARY KEY,
    family_id      TEXT NOT NULL REFERENCES family(family_id),
    kind           TEXT NOT NULL,        -- the fact kind (death | later_child | registration | …)
    person_id      TEXT,
    replaces       TEXT,                 -- the fact corrected or withdrawn, if any
    value          TEXT,                 -- the fact value as JSON; NULL when sealed or a withdrawal
    sealed         BYTEA,                -- the JSON sealed, for sealed kinds (disability …)
    key_id         BIGINT,
    valid_from     TEXT,
    reason         TEXT NOT NULL,
    proposed_by    TEXT NOT NULL,
    proposed_at    BIGINT NOT NULL,
    status         TEXT NOT NULL,        -- proposed | approved | rejected
    decided_by     TEXT,
    decided_at     BIGINT,
    decision_note  TEXT,
    fact_id        TEXT                  -- the fact recorded on approval
);
CREATE INDEX change_request_family ON change_request(family_id, proposed_at);
CREATE INDEX change_request_open ON change_request(status, proposed_at);
