-- Leaving the programme (退出, issue 6): a family that moves out of Linyi (or leaves for another
-- stated reason) is proposed by its caseworker and approved by the county; from the month the
-- timing rule gives, nothing more is due, and what was paid for later months is recovered.
-- Deaths, later children, moves between counties and re-assessments are facts of the archive.
CREATE TABLE family_exit (
    exit_id        TEXT PRIMARY KEY,
    family_id      TEXT NOT NULL REFERENCES family(family_id),
    reason         TEXT NOT NULL,        -- moved_out | other
    detail         TEXT NOT NULL,        -- where to, or why
    exit_on        TEXT NOT NULL,
    status         TEXT NOT NULL,        -- proposed | approved | rejected
    proposed_by    TEXT NOT NULL,
    proposed_at    BIGINT NOT NULL,
    decided_by     TEXT,
    decided_at     BIGINT,
    decision_note  TEXT
);
CREATE UNIQUE INDEX family_exit_open ON family_exit(family_id) WHERE status <> 'rejected';
