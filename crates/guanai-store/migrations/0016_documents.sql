-- Documents on the family file (材料, issue 5): the evidence a caseworker attaches — death and
-- disability certificates, hukou pages, cremation certificates and funeral invoices (二(五)),
-- hospital invoices (二(三)), signed application forms, bank cards, visit photos. Portable SQLite +
-- PostgreSQL. Times are microseconds since the Unix epoch (UTC).
--
-- A document is never edited or deleted: a mistaken one is withdrawn with a reason and leaves the
-- default list. The content and the label (title and original file name, free text that may name
-- a person, an illness or an ID number) are sealed with the archive's key like every private
-- value; `key_id` is the key of both, for rotation.
CREATE TABLE family_document (
    document_id      TEXT PRIMARY KEY,          -- D…, time-ordered
    family_id        TEXT NOT NULL REFERENCES family(family_id),
    kind             TEXT NOT NULL,             -- death_certificate | disability_certificate | …
    content_type     TEXT NOT NULL,             -- application/pdf | image/jpeg | image/png (sniffed)
    size_bytes       BIGINT NOT NULL,
    sha256           TEXT NOT NULL,             -- of the content as uploaded, hex
    label            BYTEA NOT NULL,            -- sealed JSON {"title", "file_name"}
    content          BYTEA NOT NULL,            -- sealed
    key_id           BIGINT NOT NULL,
    uploaded_at      BIGINT NOT NULL,
    uploaded_by      TEXT NOT NULL,
    withdrawn_at     BIGINT,
    withdrawn_by     TEXT,
    withdrawn_reason TEXT
);
CREATE INDEX family_document_family ON family_document(family_id, uploaded_at);
CREATE INDEX family_document_key ON family_document(key_id);
