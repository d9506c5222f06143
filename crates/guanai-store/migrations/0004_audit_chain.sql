-- The audit log becomes a hash chain (审计日志, tamper-evident): every entry gets a sequence
-- number without gaps and hash = SHA-256(prev_hash ‖ seq ‖ at ‖ actor ‖ action ‖ target ‖ reason)
-- (the encoding is in crates/guanai-store/src/audit.rs, which computes it: SQL cannot, portably).
-- Portable SQLite + PostgreSQL.
ALTER TABLE audit ADD COLUMN seq BIGINT;
ALTER TABLE audit ADD COLUMN prev_hash BYTEA;
ALTER TABLE audit ADD COLUMN hash BYTEA;
-- One entry per position; NULL only for rows written before the chain existed, until the archive
-- is next opened and chains them (in (at, audit_id) order).
CREATE UNIQUE INDEX audit_seq ON audit(seq);
-- Inspectors browse by time.
CREATE INDEX audit_at ON audit(at);

-- The end of the chain: the last entry's seq and hash (seq 0 and 32 zero bytes for an empty log).
-- Appenders take this row with UPDATE … RETURNING, which queues them; a head ahead of the last
-- entry shows a deleted tail. The row is not created here but by the archive on open, in the
-- same transaction that chains the rows written before this migration: so "no head row" means
-- "not chained yet", and rows inserted around the chain later are never chained silently.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
