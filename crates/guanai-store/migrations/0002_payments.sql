-- Payments (社会化发放, 二(二)): payment runs, their lines and bank transfers, one-time grant
-- awards, what has been booked per family, and the double-entry ledger. Amounts are fen (BIGINT);
-- months are YYYY-MM; times are microseconds since the Unix epoch (UTC). Nothing of an approved
-- run is ever updated except the status of its transfers as the bank reports them.
-- Lines, transfers and positions name families, persons and facts without foreign keys: they are
-- built from those very rows, which are never deleted, and checking a million references one by
-- one made a run three times slower. `guanai ledger reconcile` checks the references instead.

-- Deployment settings of the payment side, e.g. the ledger's first month.
CREATE TABLE pay_setting (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every policy pack a run used, verbatim, so each fen can be traced to its parameters.
CREATE TABLE pay_policy (
    digest    TEXT PRIMARY KEY,         -- SHA-256 of the pack's text
    name      TEXT NOT NULL,
    text      TEXT NOT NULL,
    stored_at BIGINT NOT NULL
);

-- One row per county: a run commits only if the county's generation is what it read when it
-- started and no other run for the county is open, so two runs built at once cannot both pay.
CREATE TABLE pay_county (
    county_code TEXT PRIMARY KEY,
    generation  BIGINT NOT NULL,
    open_run    TEXT                    -- the run not yet exported to the bank, if any
);

CREATE TABLE pay_run (
    run_id        TEXT PRIMARY KEY,     -- YYYYMM-SCOPE-SEQ, e.g. 202612-371302-1
    month         TEXT NOT NULL,
    scope         TEXT NOT NULL,        -- a county code, or "all"
    seq           BIGINT NOT NULL,
    status        TEXT NOT NULL,        -- draft | checked | approved | exported | settled | closed | discarded
    known_at      BIGINT NOT NULL,      -- facts as recorded up to this moment
    ledger_first  TEXT NOT NULL,        -- the window: ledger's first month …
    arrears_from  TEXT NOT NULL,        -- … and the furthest month arrears go back to
    policy_digest TEXT NOT NULL REFERENCES pay_policy(digest),
    beyond_limit  BIGINT NOT NULL,      -- arrears older than the limit: reported, not paid
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    checked_at    BIGINT,
    checked_by    TEXT,
    approved_at   BIGINT,
    approved_by   TEXT,
    exported_at   BIGINT,
    exported_by   TEXT,
    settled_at    BIGINT,
    closed_at     BIGINT,
    closed_by     TEXT,
    UNIQUE (month, scope, seq)
);

-- One line per person, kind and month (grants: per family and kind), with its reason.
CREATE TABLE pay_line (
    run_id         TEXT NOT NULL REFERENCES pay_run(run_id),
    line_no        BIGINT NOT NULL,
    family_id      TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    county_code    TEXT NOT NULL,       -- the county whose finance pays the county part
    kind           TEXT NOT NULL,
    nature         TEXT NOT NULL,       -- regular | arrears | recovery | grant | claim
    for_month      TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    standard_fen   BIGINT NOT NULL,     -- higher-level funds
    county_fen     BIGINT NOT NULL,     -- county finance
    booked_before  BIGINT NOT NULL,
    due            BIGINT NOT NULL,
    family_version BIGINT NOT NULL,
    claim_id       TEXT,
    PRIMARY KEY (run_id, line_no)
);
CREATE INDEX pay_line_family ON pay_line(family_id);

-- What the bank is asked to pay: one transfer per person with money owed after netting.
CREATE TABLE pay_transfer (
    run_id       TEXT NOT NULL REFERENCES pay_run(run_id),
    transfer_no  BIGINT NOT NULL,
    family_id    TEXT NOT NULL,
    person_id    TEXT NOT NULL,
    county_code  TEXT NOT NULL,
    amount       BIGINT NOT NULL,
    account_fact TEXT,                -- the bank account used (a sealed fact)
    blind_index  BYTEA,                           -- of the payee's ID number: duplicates across runs
    status       TEXT NOT NULL,       -- pending | held | sent | paid | failed
    note         TEXT NOT NULL,       -- why held, or the bank's reason for a failure
    PRIMARY KEY (run_id, transfer_no)
);
CREATE INDEX pay_transfer_family ON pay_transfer(family_id);
CREATE INDEX pay_transfer_blind ON pay_transfer(blind_index);

-- Problems found when the run was built; blocking ones must be resolved before it is checked.
CREATE TABLE pay_problem (
    run_id      TEXT NOT NULL REFERENCES pay_run(run_id),
    problem_no  BIGINT NOT NULL,
    family_id   TEXT NOT NULL,
    person_id   TEXT,
    code        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    blocking    BOOLEAN NOT NULL,
    transfer_no BIGINT,
    PRIMARY KEY (run_id, problem_no)
);

-- A one-time grant (二(二)) is awarded at most once per family and kind.
CREATE TABLE grant_award (
    family_id TEXT NOT NULL REFERENCES family(family_id),
    kind      TEXT NOT NULL,
    run_id    TEXT NOT NULL REFERENCES pay_run(run_id),
    line_no   BIGINT NOT NULL,
    PRIMARY KEY (family_id, kind)
);

-- What has been booked per family (the sum of its lines per person, kind and month), compact.
CREATE TABLE pay_position (
    family_id TEXT PRIMARY KEY,
    booked    TEXT NOT NULL
);

-- The postings a run's approval makes beyond the lines' own (netting within families, debts and
-- debts set off), planned when it is built so approval posts exactly what the checker saw.
CREATE TABLE pay_plan_posting (
    run_id     TEXT NOT NULL REFERENCES pay_run(run_id),
    posting_no BIGINT NOT NULL,
    account    TEXT NOT NULL,
    family_id  TEXT,
    amount     BIGINT NOT NULL,
    PRIMARY KEY (run_id, posting_no)
);

-- The double-entry ledger. A posting's amount is positive for a debit, negative for a credit;
-- every entry sums to zero.
CREATE TABLE ledger_entry (
    entry_id TEXT PRIMARY KEY,
    at       BIGINT NOT NULL,
    run_id   TEXT REFERENCES pay_run(run_id),
    kind     TEXT NOT NULL,           -- approve | export | bank_paid | bank_failed
    memo     TEXT NOT NULL,
    actor    TEXT NOT NULL
);
CREATE TABLE ledger_posting (
    entry_id   TEXT NOT NULL REFERENCES ledger_entry(entry_id),
    posting_no BIGINT NOT NULL,
    account    TEXT NOT NULL,
    family_id  TEXT,
    amount     BIGINT NOT NULL,
    PRIMARY KEY (entry_id, posting_no)
);
CREATE INDEX ledger_posting_account ON ledger_posting(account);
CREATE INDEX ledger_posting_family ON ledger_posting(family_id);
-- Running balances per account, kept with the postings in the same transaction.
CREATE TABLE ledger_balance (
    account   TEXT PRIMARY KEY,
    family_id TEXT,
    balance   BIGINT NOT NULL
);
CREATE INDEX ledger_balance_family ON ledger_balance(family_id);

-- Bank return files imported, by digest: the same file is never applied twice.
CREATE TABLE bank_return (
    run_id      TEXT NOT NULL REFERENCES pay_run(run_id),
    digest      TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    paid        BIGINT NOT NULL,
    failed      BIGINT NOT NULL,
    PRIMARY KEY (run_id, digest)
);

-- Deaths reported by the cross-check (数据比对) and not yet reflected in the archive.
CREATE TABLE death_flag (
    person_id   TEXT NOT NULL REFERENCES person(person_id),
    family_id   TEXT NOT NULL REFERENCES family(family_id),
    reported    TEXT NOT NULL,        -- the reported date of death
    source      TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (person_id, reported)
);
CREATE INDEX death_flag_family ON death_flag(family_id);

-- A run reads the blind indexes of a chunk of families at a time.
CREATE INDEX person_lookup_family ON person_lookup(family_id);
