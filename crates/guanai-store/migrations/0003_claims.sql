-- Claims paid through payment runs: funeral fee reimbursement (二(五)) and medical relief (二(三)).
-- Every decision is kept, granted or refused, with the evidence the caseworker saw and the
-- rendered explanation. Amounts are fen; dates YYYY-MM-DD; times microseconds since the Unix epoch.
-- A claim is never updated except to attach it to the payment line that pays it.
CREATE TABLE claim (
    claim_id    TEXT PRIMARY KEY,         -- "C" + 32 hex digits, time-ordered
    family_id   TEXT NOT NULL REFERENCES family(family_id),
    person_id   TEXT NOT NULL REFERENCES person(person_id),
    kind        TEXT NOT NULL CHECK (kind IN ('funeral_reimbursement', 'medical_relief')),
    status      TEXT NOT NULL CHECK (status IN ('approved', 'refused')),
    amount      BIGINT NOT NULL CHECK (amount >= 0),   -- granted; 0 when refused
    claimed     BIGINT NOT NULL,          -- the invoice, or the personal burden after insurance
    event_date  TEXT NOT NULL,            -- treatment date; date of death (the filing date when none is on file)
    year        BIGINT NOT NULL,          -- calendar year of event_date (the medical annual cap)
    details     TEXT NOT NULL,            -- JSON: hospital, level, amounts, invoice number, funeral home …
    evidence    TEXT NOT NULL,            -- what the caseworker saw (invoice no., cremation certificate …)
    decision    TEXT NOT NULL,            -- the rendered explanation (Chinese), or the refusal
    policy_name TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    run_id      TEXT,                     -- the payment line that pays it, set by the run builder
    line_no     BIGINT,
    CHECK (status = 'approved' OR amount = 0),
    CHECK ((run_id IS NULL) = (line_no IS NULL)),
    CHECK (run_id IS NULL OR status = 'approved'),
    FOREIGN KEY (run_id, line_no) REFERENCES pay_line(run_id, line_no)
);
-- Once per deceased parent; refused claims do not count.
CREATE UNIQUE INDEX claim_funeral_once ON claim(person_id) WHERE kind = 'funeral_reimbursement' AND status = 'approved';
CREATE INDEX claim_person ON claim(person_id, kind, year);
CREATE INDEX claim_family ON claim(family_id);
CREATE INDEX claim_run ON claim(run_id);
