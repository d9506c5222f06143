//! The audit log (审计日志): who changed or revealed what, when and why. Append-only and
//! hash-chained, so that an altered, deleted or inserted entry is found by
//! [`Archive::verify_audit`]. This module owns appending ([`Archive::audit`] in a transaction of
//! its own, `append_audit!` inside a caller's), chaining the entries written before the chain
//! existed (on open), browsing ([`Archive::audit_entries`]) and verification.
//!
//! Entry `seq` (1, 2, 3 … without gaps) carries `prev_hash` (the hash of entry `seq - 1`; 32 zero
//! bytes for the first) and `hash = SHA-256(prev_hash ‖ seq ‖ at ‖ actor ‖ action ‖ target ‖
//! reason)`, each field preceded by its length in bytes as a u64, big-endian; `seq` and `at`
//! (microseconds) are 8-byte big-endian integers, text is UTF-8. The `audit_id` is only a row key
//! and not covered. The one-row table `audit_head` holds the last seq and hash: an appender takes
//! it with `UPDATE … RETURNING`, which queues concurrent appenders on PostgreSQL (on SQLite the
//! write transaction does), and a deleted tail shows as a head ahead of the last entry.
//!
//! The hash has no secret: whoever can write the database can rewrite every hash after an entry
//! and the head. `guanai audit verify` prints the head; kept outside the database (a report, a
//! letter to the inspector) and checked later against [`Archive::audit_hash`] of the same seq
//! (`guanai audit verify --head SEQ:HASH`), it makes such a rewrite visible too.
//!
//! Audit text never holds resident ID numbers, phones or bank accounts: targets are archive ids
//! (`F…`, `F…/X…`), area codes, run ids; reasons are what the person doing the work wrote.

use futures_util::TryStreamExt;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::archive::Archive;
use crate::db::Db;
use crate::error::StoreError;
use crate::model::Actor;
use crate::on_db;

/// The `prev_hash` of the first entry, and the head's hash while the log is empty.
pub const GENESIS: [u8; 32] = [0; 32];

/// Rows read and chained per statement when chaining the entries written before the chain.
const CHAIN_PAGE: i64 = 1000;

/// One entry of the log, as browsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub reason: String,
}

/// What to browse: every filter is optional; entries come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Exactly this actor.
    pub actor: Option<String>,
    /// Actions starting with this, e.g. `pay.` or `fact.correct`.
    pub action_prefix: Option<String>,
    /// Targets starting with this, e.g. a family id (its facts are `F…/X…`).
    pub target_prefix: Option<String>,
    /// At or after this moment.
    pub from: Option<Timestamp>,
    /// Before this moment.
    pub to: Option<Timestamp>,
    /// Entries to skip (pages).
    pub offset: u64,
    /// At most this many entries; `None` for all.
    pub limit: Option<u64>,
}

/// The first place where the chain is not what was appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditBreak {
    /// The entry's content (or its seq or prev_hash) is not what its hash covers.
    Altered { seq: i64 },
    /// The entry's prev_hash is not the previous entry's hash: one of the two was rewritten
    /// with a recomputed hash, or an entry was replaced.
    Unlinked { seq: i64 },
    /// Entries `seq..=through` are missing (deleted); later entries exist.
    Missing { seq: i64, through: i64 },
    /// The newest entries `seq..=head` are missing (deleted): the head counts `head`.
    TailMissing { seq: i64, head: i64 },
    /// The head's hash is not the hash of its last entry `seq`.
    HeadMismatch { seq: i64 },
    /// Entry `seq` lies beyond the head: written around the log.
    BeyondHead { seq: i64 },
    /// The head row (`audit_head`) is missing.
    HeadMissing,
    /// A row without a sequence number: inserted around the log.
    Unchained { audit_id: String },
}

impl AuditBreak {
    /// The sequence number of the first broken entry, when there is one.
    pub fn seq(&self) -> Option<i64> {
        match self {
            AuditBreak::Altered { seq }
            | AuditBreak::Unlinked { seq }
            | AuditBreak::Missing { seq, .. }
            | AuditBreak::TailMissing { seq, .. }
            | AuditBreak::HeadMismatch { seq }
            | AuditBreak::BeyondHead { seq } => Some(*seq),
            AuditBreak::HeadMissing | AuditBreak::Unchained { .. } => None,
        }
    }
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditBreak::Altered { seq } => write!(
                f,
                "第 {seq} 条记录被改动（哈希不符）/ entry {seq} was altered: its hash does not match its content"
            ),
            AuditBreak::Unlinked { seq } => write!(
                f,
                "第 {seq} 条记录与前一条不相连 / entry {seq} does not follow entry {}: one of them was rewritten or replaced",
                seq - 1
            ),
            AuditBreak::Missing { seq, through } if seq == through => {
                write!(f, "第 {seq} 条记录缺失 / entry {seq} is missing (deleted)")
            }
            AuditBreak::Missing { seq, through } => write!(
                f,
                "第 {seq}–{through} 条记录缺失 / entries {seq} to {through} are missing (deleted)"
            ),
            AuditBreak::TailMissing { seq, head } if seq == head => write!(
                f,
                "最后一条（第 {seq} 条）记录缺失 / the newest entry {seq} is missing (deleted): the head counts {head}"
            ),
            AuditBreak::TailMissing { seq, head } => write!(
                f,
                "最后的第 {seq}–{head} 条记录缺失 / the newest entries {seq} to {head} are missing (deleted): the head counts {head}"
            ),
            AuditBreak::HeadMismatch { seq } => write!(
                f,
                "链头与第 {seq} 条记录的哈希不符 / the head's hash is not the hash of its last entry {seq}"
            ),
            AuditBreak::BeyondHead { seq } => write!(
                f,
                "第 {seq} 条记录在链头之后 / entry {seq} lies beyond the head: written around the log"
            ),
            AuditBreak::HeadMissing => {
                write!(f, "链头缺失 / the head row (audit_head) is missing")
            }
            AuditBreak::Unchained { audit_id } => write!(
                f,
                "记录 {audit_id} 没有序号 / entry {audit_id} has no sequence number: inserted around the log"
            ),
        }
    }
}

/// The outcome of [`Archive::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Entries found intact, in order (all of them when nothing is broken).
    pub entries: u64,
    /// The head as stored: the last seq and its hash (`None` when the row is missing).
    pub head: Option<(i64, Vec<u8>)>,
    /// The first break, in seq order; `None` when the log is intact.
    pub first_break: Option<AuditBreak>,
}

impl AuditVerification {
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// `hash` of an entry (see the module comment for the encoding).
pub fn entry_hash(
    prev_hash: &[u8],
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    reason: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    for field in [
        prev_hash,
        &seq.to_be_bytes(),
        &at.to_be_bytes(),
        actor.as_bytes(),
        action.as_bytes(),
        target.as_bytes(),
        reason.as_bytes(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field);
    }
    h.finalize().into()
}

/// The next entry's place in the chain, computed from the head just taken.
#[doc(hidden)]
pub struct Link {
    pub audit_id: String,
    pub seq: i64,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

impl Link {
    /// `head` is what `UPDATE audit_head SET seq = seq + 1 … RETURNING seq, hash` returned: this
    /// entry's seq and the previous entry's hash.
    #[doc(hidden)]
    pub fn next(
        head: Option<(i64, Vec<u8>)>,
        at: i64,
        actor: &str,
        action: &str,
        target: &str,
        reason: &str,
    ) -> Result<Link, StoreError> {
        let Some((seq, prev)) = head else {
            return Err(StoreError::Corrupt(
                "the audit log has no head row (audit_head), so nothing can be recorded: run `guanai audit verify`".into(),
            ));
        };
        let prev_hash = <[u8; 32]>::try_from(prev.as_slice()).map_err(|_| {
            StoreError::Corrupt(format!(
                "the audit log's head holds a hash of {} bytes, not 32: run `guanai audit verify`",
                prev.len()
            ))
        })?;
        Ok(Link {
            audit_id: format!("A{:032x}", rand::random::<u128>()),
            seq,
            prev_hash,
            hash: entry_hash(&prev_hash, seq, at, actor, action, target, reason),
        })
    }
}

/// Appends an entry inside the caller's open write transaction (`$tx` is `&mut *tx` of either
/// backend, as for `insert_families!`), so that a change and its entry commit together or not at
/// all. Evaluates to the entry's seq; `?` converts errors into the caller's error type.
///
/// Append last, just before the commit: on PostgreSQL the head row stays locked until then, and
/// every other appender waits for it (and no lock is taken after it, so appenders never deadlock).
macro_rules! append_audit {
    ($tx:expr, $actor:expr, $action:expr, $target:expr, $reason:expr) => {
        $crate::audit::append_audit!(
            $tx,
            $actor,
            $action,
            $target,
            $reason,
            at = $crate::archive::now_micros()
        )
    };
    ($tx:expr, $actor:expr, $action:expr, $target:expr, $reason:expr, at = $at:expr) => {{
        let actor: &str = &$actor.name;
        let action: &str = $action;
        let target: &str = $target;
        let reason: &str = $reason;
        let at: i64 = $at;
        let head: Option<(i64, Vec<u8>)> =
            sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_optional(&mut *$tx)
                .await?;
        let link = $crate::audit::Link::next(head, at, actor, action, target, reason)?;
        sqlx::query(
            "INSERT INTO audit (audit_id, at, actor, action, target, reason, seq, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(link.audit_id.as_str())
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(reason)
        .bind(link.seq)
        .bind(link.prev_hash.as_slice())
        .bind(link.hash.as_slice())
        .execute(&mut *$tx)
        .await?;
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(link.hash.as_slice())
            .execute(&mut *$tx)
            .await?;
        link.seq
    }};
}
pub(crate) use append_audit;

/// Starts the chain on an archive that has none yet: creates the head and chains the entries
/// written before the chain existed, in (at, audit_id) order, in one write transaction. Runs on
/// every open; once the head exists it is one read. The head is created only while no entry is
/// chained, so a head deleted later is reported by verification, not started afresh.
pub(crate) async fn start_chain(db: &Db) -> Result<(), StoreError> {
    let started: Option<i64> = on_db!(db, pool => {
        sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1").fetch_optional(pool).await?
    });
    if started.is_some() {
        return Ok(());
    }
    type Unchained = (String, i64, String, String, String, String);
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        // Two processes opening at once: the second waits for the first's row, then does nothing.
        let created = sqlx::query(
            "INSERT INTO audit_head (id, seq, hash) SELECT 1, 0, $1 \
             WHERE NOT EXISTS (SELECT 1 FROM audit WHERE seq IS NOT NULL) ON CONFLICT (id) DO NOTHING",
        )
        .bind(GENESIS.as_slice())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if created == 1 {
            let (mut seq, mut prev) = (0i64, GENESIS);
            loop {
                let rows: Vec<Unchained> = sqlx::query_as(
                    "SELECT audit_id, at, actor, action, target, reason FROM audit WHERE seq IS NULL \
                     ORDER BY at, audit_id LIMIT $1",
                )
                .bind(CHAIN_PAGE)
                .fetch_all(&mut *tx)
                .await?;
                if rows.is_empty() {
                    break;
                }
                for (audit_id, at, actor, action, target, reason) in rows {
                    seq += 1;
                    let hash = entry_hash(&prev, seq, at, &actor, &action, &target, &reason);
                    sqlx::query("UPDATE audit SET seq = $1, prev_hash = $2, hash = $3 WHERE audit_id = $4")
                        .bind(seq)
                        .bind(prev.as_slice())
                        .bind(hash.as_slice())
                        .bind(&audit_id)
                        .execute(&mut *tx)
                        .await?;
                    prev = hash;
                }
            }
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(prev.as_slice())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A value bound to a browsing query.
enum Bind {
    Text(String),
    Int(i64),
}

/// ` WHERE …` for a query, with its bound values in placeholder order.
fn filters(query: &AuditQuery) -> (String, Vec<Bind>) {
    let mut sql = String::from(" WHERE seq IS NOT NULL");
    let mut binds = Vec::new();
    let mut push = |sql: &mut String, clause: &str, value: Bind| {
        binds.push(value);
        // Every `?` in the clause is the same value: `$n`, once or twice.
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    if let Some(actor) = &query.actor {
        push(&mut sql, " AND actor = ?", Bind::Text(actor.clone()));
    }
    // An exact prefix on both backends: LIKE would need escaping and ignores ASCII case on SQLite.
    if let Some(prefix) = &query.action_prefix {
        push(
            &mut sql,
            " AND substr(action, 1, length(?)) = ?",
            Bind::Text(prefix.clone()),
        );
    }
    if let Some(prefix) = &query.target_prefix {
        push(
            &mut sql,
            " AND substr(target, 1, length(?)) = ?",
            Bind::Text(prefix.clone()),
        );
    }
    if let Some(from) = query.from {
        push(&mut sql, " AND at >= ?", Bind::Int(from.as_microsecond()));
    }
    if let Some(to) = query.to {
        push(&mut sql, " AND at < ?", Bind::Int(to.as_microsecond()));
    }
    (sql, binds)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// One row of the chain as stored, for verification.
type ChainRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

/// Verification state while the chain is read in seq order.
struct Walk {
    head_seq: Option<i64>,
    expected: i64,
    prev: Vec<u8>,
    entries: u64,
    found: Option<AuditBreak>,
}

impl Walk {
    fn new(head_seq: Option<i64>) -> Walk {
        Walk {
            head_seq,
            expected: 1,
            prev: GENESIS.to_vec(),
            entries: 0,
            found: None,
        }
    }

    /// Checks the next row; false once a break is found.
    fn step(&mut self, row: ChainRow) -> bool {
        let (seq, at, actor, action, target, reason, prev_hash, hash) = row;
        // Without a head every entry counts as below it; the missing head is reported after.
        let head = self.head_seq.unwrap_or(i64::MAX);
        let found = if seq > self.expected && self.expected <= head {
            Some(AuditBreak::Missing {
                seq: self.expected,
                through: (seq - 1).min(head),
            })
        } else if seq > head {
            Some(AuditBreak::BeyondHead { seq })
        } else {
            match (prev_hash, hash) {
                (Some(prev_hash), Some(hash))
                    if seq == self.expected
                        && entry_hash(&prev_hash, seq, at, &actor, &action, &target, &reason)
                            .as_slice()
                            == hash.as_slice() =>
                {
                    if prev_hash != self.prev {
                        Some(AuditBreak::Unlinked { seq })
                    } else {
                        self.prev = hash;
                        None
                    }
                }
                _ => Some(AuditBreak::Altered { seq }),
            }
        };
        match found {
            Some(b) => {
                self.found = Some(b);
                false
            }
            None => {
                self.entries += 1;
                self.expected += 1;
                true
            }
        }
    }

    /// The head against the last entry, then rows outside the chain.
    fn finish(self, head: Option<(i64, Vec<u8>)>, unchained: Option<String>) -> AuditVerification {
        let last = self.expected - 1;
        let first_break = self.found.or_else(|| match &head {
            None => Some(AuditBreak::HeadMissing),
            Some((seq, _)) if *seq > last => Some(AuditBreak::TailMissing {
                seq: last + 1,
                head: *seq,
            }),
            Some((seq, hash)) if *hash != self.prev => Some(AuditBreak::HeadMismatch { seq: *seq }),
            Some(_) => unchained.map(|audit_id| AuditBreak::Unchained { audit_id }),
        });
        AuditVerification {
            entries: self.entries,
            head,
            first_break,
        }
    }
}

impl Archive {
    /// Appends to the audit log in a transaction of its own (reveals of unmasked values, exports,
    /// backups, payment steps). Changes to the archive append inside their own transaction.
    pub async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            append_audit!(&mut *tx, actor, action, target, reason);
            tx.commit().await?;
        });
        Ok(())
    }

    /// A page of the log, newest first.
    pub async fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let (mut sql, binds) = filters(query);
        sql.insert_str(
            0,
            "SELECT seq, at, actor, action, target, reason FROM audit",
        );
        let n = binds.len();
        sql.push_str(&format!(
            " ORDER BY seq DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        ));
        let limit = query.limit.map_or(i64::MAX, to_i64);
        let offset = to_i64(query.offset);
        let rows: Vec<(i64, i64, String, String, String, String)> = on_db!(self.db(), pool => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for b in binds {
                q = match b {
                    Bind::Text(t) => q.bind(t),
                    Bind::Int(i) => q.bind(i),
                };
            }
            q.bind(limit).bind(offset).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(seq, at, actor, action, target, reason)| {
                Ok(AuditEntry {
                    seq,
                    at: Timestamp::from_microsecond(at).map_err(|e| {
                        StoreError::Corrupt(format!("audit entry {seq}: time {at}: {e}"))
                    })?,
                    actor,
                    action,
                    target,
                    reason,
                })
            })
            .collect()
    }

    /// How many entries match (offset and limit aside).
    pub async fn audit_count(&self, query: &AuditQuery) -> Result<u64, StoreError> {
        let (mut sql, binds) = filters(query);
        sql.insert_str(0, "SELECT COUNT(*) FROM audit");
        let count: i64 = on_db!(self.db(), pool => {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
            for b in binds {
                q = match b {
                    Bind::Text(t) => q.bind(t),
                    Bind::Int(i) => q.bind(i),
                };
            }
            q.fetch_one(pool).await?
        });
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The whole log, oldest first: (time, actor, action, target, reason). For browsing a large
    /// log use [`Archive::audit_entries`].
    pub async fn audit_log(
        &self,
    ) -> Result<Vec<(Timestamp, String, String, String, String)>, StoreError> {
        let mut entries = self.audit_entries(&AuditQuery::default()).await?;
        entries.reverse();
        Ok(entries
            .into_iter()
            .map(|e| (e.at, e.actor, e.action, e.target, e.reason))
            .collect())
    }

    /// The stored hash of entry `seq`, to compare with a head recorded earlier: on a chain that
    /// verifies, an equal hash means entries 1 to `seq` are unchanged since.
    pub async fn audit_hash(&self, seq: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let hash: Option<Option<Vec<u8>>> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT hash FROM audit WHERE seq = $1").bind(seq).fetch_optional(pool).await?
        });
        Ok(hash.flatten())
    }

    /// Walks the whole chain in seq order, streamed from one snapshot (memory stays flat however
    /// long the log), and reports the first break: an altered entry, a missing one, a deleted
    /// tail, a head that does not match, or a row written around the chain.
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        on_db!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            if matches!(self.db(), Db::Pg(_)) {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
            }
            let head: Option<(i64, Vec<u8>)> = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?;
            let mut walk = Walk::new(head.as_ref().map(|h| h.0));
            {
                let mut rows = sqlx::query_as::<_, ChainRow>(
                    "SELECT seq, at, actor, action, target, reason, prev_hash, hash FROM audit \
                     WHERE seq IS NOT NULL ORDER BY seq",
                )
                .fetch(&mut *tx);
                while let Some(row) = rows.try_next().await? {
                    if !walk.step(row) {
                        break;
                    }
                }
            }
            let unchained: Option<String> = sqlx::query_scalar(
                "SELECT audit_id FROM audit WHERE seq IS NULL ORDER BY at, audit_id LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            Ok(walk.finish(head, unchained))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, prev: &[u8], reason: &str) -> (ChainRow, Vec<u8>) {
        let hash = entry_hash(prev, seq, 10 * seq, "a", "x", "t", reason).to_vec();
        (
            (
                seq,
                10 * seq,
                "a".into(),
                "x".into(),
                "t".into(),
                reason.into(),
                Some(prev.to_vec()),
                Some(hash.clone()),
            ),
            hash,
        )
    }

    /// A chain of `n` entries and its rows.
    fn chain(n: i64) -> (Vec<ChainRow>, Vec<u8>) {
        let mut prev = GENESIS.to_vec();
        let mut rows = Vec::new();
        for seq in 1..=n {
            let (r, h) = row(seq, &prev, "ok");
            rows.push(r);
            prev = h;
        }
        (rows, prev)
    }

    fn verify(rows: Vec<ChainRow>, head: Option<(i64, Vec<u8>)>) -> AuditVerification {
        let mut walk = Walk::new(head.as_ref().map(|h| h.0));
        for r in rows {
            if !walk.step(r) {
                break;
            }
        }
        walk.finish(head, None)
    }

    #[test]
    fn every_field_is_length_prefixed_so_shifting_text_between_fields_changes_the_hash() {
        assert_ne!(
            entry_hash(&GENESIS, 1, 2, "ab", "c", "t", "r"),
            entry_hash(&GENESIS, 1, 2, "a", "bc", "t", "r")
        );
    }

    #[test]
    fn an_intact_chain_verifies_and_an_empty_one_too() {
        let (rows, last) = chain(5);
        let v = verify(rows, Some((5, last)));
        assert!(v.is_intact(), "{v:?}");
        assert_eq!(v.entries, 5);
        assert!(verify(Vec::new(), Some((0, GENESIS.to_vec()))).is_intact());
    }

    #[test]
    fn a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link() {
        let (mut rows, last) = chain(4);
        let prev = rows[1].6.clone().expect("prev");
        rows[1] = row(2, &prev, "forged").0;
        assert_eq!(
            verify(rows, Some((4, last))).first_break,
            Some(AuditBreak::Unlinked { seq: 3 })
        );
    }

    #[test]
    fn breaks_in_the_head_are_found() {
        let (rows, last) = chain(3);
        assert_eq!(
            verify(rows.clone(), Some((3, GENESIS.to_vec()))).first_break,
            Some(AuditBreak::HeadMismatch { seq: 3 })
        );
        assert_eq!(
            verify(rows.clone(), Some((2, last.clone()))).first_break,
            Some(AuditBreak::BeyondHead { seq: 3 })
        );
        assert_eq!(
            verify(rows, None).first_break,
            Some(AuditBreak::HeadMissing)
        );
    }

    #[test]
    fn a_gap_reaching_past_the_head_is_reported_up_to_the_head() {
        let (mut rows, last) = chain(6);
        rows.drain(3..5);
        assert_eq!(
            verify(rows, Some((5, last))).first_break,
            Some(AuditBreak::Missing { seq: 4, through: 5 })
        );
    }
}
