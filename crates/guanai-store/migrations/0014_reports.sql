-- Reports, assessment and spot checks (三(三), 三(四); issue 7).

-- The statistical register: per family, what the rules engine says of it month by month, kept as
-- segments of months in which nothing counted changes (category, hukou, which parents receive
-- the monthly assistance, whether a dedicated visitor is needed), with the parents' birth dates
-- for age bands and the items missing from the file. A projection of the facts, computed with
-- the policy pack named by `policy_digest` from the family's `version`: a row whose version or
-- pack differs is recomputed before a report is made, so reports never read a stale row.
CREATE TABLE stat_family (
    family_id     TEXT PRIMARY KEY REFERENCES family(family_id),
    version       BIGINT NOT NULL,
    policy_digest TEXT NOT NULL,
    county_code   TEXT NOT NULL,        -- the county of the current registration
    village_code  TEXT NOT NULL,        -- the village of the current registration
    profile       TEXT NOT NULL,        -- segments and birth dates (guanai_report::register)
    missing       TEXT NOT NULL         -- what the file lacks, comma-separated ('' when complete)
);
CREATE INDEX stat_family_village ON stat_family(village_code, family_id);

-- A run's lines summed per village, kind, nature and funding source when it is approved (the
-- lines never change afterwards), so a year of payments over a million families is read from a
-- few thousand rows. `village_code` is the family's registration when the run was approved.
CREATE TABLE pay_run_total (
    run_id       TEXT NOT NULL REFERENCES pay_run(run_id),
    month        TEXT NOT NULL,         -- the run's month (when it is paid)
    county_code  TEXT NOT NULL,         -- the paying county
    village_code TEXT NOT NULL,
    kind         TEXT NOT NULL,
    nature       TEXT NOT NULL,         -- regular | arrears | recovery | grant | claim
    lines        BIGINT NOT NULL,
    families     BIGINT NOT NULL,
    amount       BIGINT NOT NULL,
    standard_fen BIGINT NOT NULL,
    county_fen   BIGINT NOT NULL,
    PRIMARY KEY (run_id, village_code, kind, nature)
);
CREATE INDEX pay_run_total_month ON pay_run_total(month, county_code);

-- Runs approved before this table existed.
INSERT INTO pay_run_total (run_id, month, county_code, village_code, kind, nature, lines, families, amount, standard_fen, county_fen)
SELECT l.run_id, r.month, MAX(l.county_code), COALESCE(p.village_code, l.county_code || '000000'), l.kind, l.nature,
       COUNT(*), COUNT(DISTINCT l.family_id), SUM(l.amount), SUM(l.standard_fen), SUM(l.county_fen)
FROM pay_line l JOIN pay_run r ON r.run_id = l.run_id
LEFT JOIN family_place p ON p.family_id = l.family_id
WHERE r.status IN ('approved', 'exported', 'settled', 'closed')
GROUP BY l.run_id, r.month, COALESCE(p.village_code, l.county_code || '000000'), l.kind, l.nature;

-- Unannounced spot checks (不定期抽查, 三(三)): a sample of a county's families drawn from a seed
-- that is recorded with the list it was drawn from, so anyone can draw it again and get the same
-- families; each family's checklist findings feed the county's assessment.
CREATE TABLE spot_check (
    check_id          TEXT PRIMARY KEY,
    county_code       TEXT NOT NULL,
    month             TEXT NOT NULL,     -- the month whose special-difficulty families were the population
    seed              TEXT NOT NULL,     -- a u64, as text (PostgreSQL has no unsigned 64-bit integer)
    sample_size       BIGINT NOT NULL,
    population        BIGINT NOT NULL,
    population_digest TEXT NOT NULL,     -- SHA-256 over the population's family ids, sorted, one per line
    population_ids    TEXT NOT NULL,     -- those ids, one per line: the draw can always be repeated
    drawn_at          BIGINT NOT NULL,
    drawn_by          TEXT NOT NULL,
    note              TEXT NOT NULL
);
CREATE INDEX spot_check_county ON spot_check(county_code, month);

CREATE TABLE spot_check_family (
    check_id    TEXT NOT NULL REFERENCES spot_check(check_id),
    draw_no     BIGINT NOT NULL,         -- the order in which the family was drawn
    family_id   TEXT NOT NULL REFERENCES family(family_id),
    PRIMARY KEY (check_id, draw_no)
);

-- Findings per family and checklist item; a later finding for the same item replaces the
-- earlier one on reading (both kept).
CREATE TABLE spot_check_finding (
    finding_id  TEXT PRIMARY KEY,
    check_id    TEXT NOT NULL REFERENCES spot_check(check_id),
    family_id   TEXT NOT NULL REFERENCES family(family_id),
    item        TEXT NOT NULL,           -- identity | category | payment | visits | services | privacy
    passed      BOOLEAN NOT NULL,
    note        TEXT NOT NULL,
    checked_on  TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX spot_check_finding_check ON spot_check_finding(check_id, family_id, item, recorded_at);
