//! Consistent online backup and restore, the same on both backends: every row of the archive,
//! read in one snapshot transaction and written as JSON Lines (sealed values stay sealed,
//! base64). A backup taken from SQLite restores into PostgreSQL and back. The audit log travels
//! with its hash chain and head, so a restored log verifies exactly when the original did.

use std::io::{BufRead, Write};

use base64ct::{Base64, Encoding};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::archive::Archive;
use crate::error::StoreError;
use crate::model::Actor;
use crate::on_db;

const FORMAT: &str = "guanai-backup";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    backend: String,
    created_at: i64,
    /// The audit rows carry their chain (seq, prev_hash, hash) and an `audit_head` line follows
    /// them. Older backups have none: their entries are chained anew on restore.
    #[serde(default)]
    audit_chain: bool,
}

/// One row of one table; blobs are base64.
#[derive(Serialize, Deserialize, Debug)]
#[serde(tag = "table", rename_all = "snake_case")]
enum Line {
    AreaContact {
        contact_id: String,
        area_code: String,
        name: String,
        duty: String,
        phone: Option<String>,
        recorded_at: i64,
        recorded_by: String,
        replaces: Option<String>,
        retired: bool,
    },
    Family {
        family_id: String,
        family_no: String,
        county_code: String,
        import_hash: Option<String>,
        created_at: i64,
        created_by: String,
        version: i64,
    },
    Person {
        person_id: String,
        family_id: String,
        relation: String,
        created_at: i64,
    },
    Fact {
        fact_id: String,
        family_id: String,
        person_id: Option<String>,
        kind: String,
        valid_from: Option<String>,
        value: Option<String>,
        sealed: Option<String>,
        key_id: Option<i64>,
        recorded_at: i64,
        recorded_by: String,
        reason: String,
        replaces: Option<String>,
        retracted: bool,
    },
    PersonLookup {
        blind_index: String,
        person_id: String,
        family_id: String,
        fact_id: String,
    },
    Audit {
        audit_id: String,
        at: i64,
        actor: String,
        action: String,
        target: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prev_hash: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hash: Option<String>,
    },
    AuditHead {
        seq: i64,
        hash: String,
    },
    End {
        rows: u64,
    },
}

fn b64(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes.map(|b| Base64::encode_string(&b))
}

fn unb64(text: Option<String>) -> Result<Option<Vec<u8>>, StoreError> {
    text.map(|t| Base64::decode_vec(&t).map_err(|e| StoreError::Backup(format!("bad base64: {e}"))))
        .transpose()
}

fn write_line(out: &mut dyn Write, line: &impl Serialize) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *out, line).map_err(|e| StoreError::Backup(e.to_string()))?;
    out.write_all(b"\n")?;
    Ok(())
}

type ContactRow = (
    String,
    String,
    String,
    String,
    Option<Vec<u8>>,
    i64,
    String,
    Option<String>,
    bool,
);
type FamilyRow = (String, String, String, Option<Vec<u8>>, i64, String, i64);
type AuditRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);
type FactRow = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
    Option<i64>,
    i64,
    String,
    String,
    Option<String>,
    bool,
);

/// Writes every row to `out` from one consistent snapshot; returns the number of rows.
pub async fn backup(archive: &Archive, out: &mut dyn Write) -> Result<u64, StoreError> {
    // The format covers the archive, not yet the payment side nor the documents on family files:
    // refuse rather than write a backup that silently lacks the ledger or the evidence.
    let (runs, claims, documents): (i64, i64, i64) = on_db!(archive.db(), pool => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM pay_run), (SELECT COUNT(*) FROM claim), (SELECT COUNT(*) FROM family_document)",
        )
        .fetch_one(pool)
        .await?
    });
    if runs > 0 || claims > 0 || documents > 0 {
        return Err(StoreError::Backup(format!(
            "this archive has {runs} payment run(s), {claims} claim(s) and {documents} document(s), which this backup format does not carry yet; \
             back the database up with its own tools instead (SQLite: sqlite3 guanai.db \".backup FILE\"; PostgreSQL: pg_dump)"
        )));
    }
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        backend: archive.db().backend().into(),
        created_at: crate::archive::now_micros(),
        audit_chain: true,
    };
    write_line(out, &header)?;
    let mut rows = 0u64;
    on_db!(archive.db(), pool => {
        let mut tx = pool.begin().await?;
        if archive.db().backend() == "postgres" {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        }
        {
            let mut s = sqlx::query_as::<_, ContactRow>(
                "SELECT contact_id, area_code, name, duty, phone, recorded_at, recorded_by, replaces, retired FROM area_contact ORDER BY recorded_at, contact_id",
            )
            .fetch(&mut *tx);
            while let Some((contact_id, area_code, name, duty, phone, recorded_at, recorded_by, replaces, retired)) = s.try_next().await? {
                write_line(out, &Line::AreaContact { contact_id, area_code, name, duty, phone: b64(phone), recorded_at, recorded_by, replaces, retired })?;
                rows += 1;
            }
        }
        {
            let mut s = sqlx::query_as::<_, FamilyRow>(
                "SELECT family_id, family_no, county_code, import_hash, created_at, created_by, version FROM family ORDER BY family_id",
            )
            .fetch(&mut *tx);
            while let Some((family_id, family_no, county_code, import_hash, created_at, created_by, version)) = s.try_next().await? {
                write_line(out, &Line::Family { family_id, family_no, county_code, import_hash: b64(import_hash), created_at, created_by, version })?;
                rows += 1;
            }
        }
        {
            let mut s = sqlx::query_as::<_, (String, String, String, i64)>(
                "SELECT person_id, family_id, relation, created_at FROM person ORDER BY person_id",
            )
            .fetch(&mut *tx);
            while let Some((person_id, family_id, relation, created_at)) = s.try_next().await? {
                write_line(out, &Line::Person { person_id, family_id, relation, created_at })?;
                rows += 1;
            }
        }
        {
            // Ordered so that a fact always comes after the fact it replaces.
            let mut s = sqlx::query_as::<_, FactRow>(
                "SELECT fact_id, family_id, person_id, kind, valid_from, value, sealed, key_id, recorded_at, recorded_by, reason, replaces, retracted \
                 FROM fact ORDER BY recorded_at, fact_id",
            )
            .fetch(&mut *tx);
            while let Some(r) = s.try_next().await? {
                let (fact_id, family_id, person_id, kind, valid_from, value, sealed, key_id, recorded_at, recorded_by, reason, replaces, retracted) = r;
                write_line(out, &Line::Fact { fact_id, family_id, person_id, kind, valid_from, value, sealed: b64(sealed), key_id, recorded_at, recorded_by, reason, replaces, retracted })?;
                rows += 1;
            }
        }
        {
            let mut s = sqlx::query_as::<_, (Vec<u8>, String, String, String)>(
                "SELECT blind_index, person_id, family_id, fact_id FROM person_lookup ORDER BY person_id, fact_id",
            )
            .fetch(&mut *tx);
            while let Some((blind_index, person_id, family_id, fact_id)) = s.try_next().await? {
                write_line(out, &Line::PersonLookup { blind_index: Base64::encode_string(&blind_index), person_id, family_id, fact_id })?;
                rows += 1;
            }
        }
        {
            // In chain order; rows outside the chain (if someone wrote around it) come last.
            let mut s = sqlx::query_as::<_, AuditRow>(
                "SELECT audit_id, at, actor, action, target, reason, seq, prev_hash, hash FROM audit \
                 ORDER BY CASE WHEN seq IS NULL THEN 1 ELSE 0 END, seq, at, audit_id",
            )
            .fetch(&mut *tx);
            while let Some((audit_id, at, actor, action, target, reason, seq, prev_hash, hash)) = s.try_next().await? {
                write_line(out, &Line::Audit { audit_id, at, actor, action, target, reason, seq, prev_hash: b64(prev_hash), hash: b64(hash) })?;
                rows += 1;
            }
        }
        let head: Option<(i64, Vec<u8>)> = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((seq, hash)) = head {
            write_line(out, &Line::AuditHead { seq, hash: Base64::encode_string(&hash) })?;
            rows += 1;
        }
        tx.commit().await?;
    });
    write_line(out, &Line::End { rows })?;
    out.flush()?;
    Ok(rows)
}

/// Restores a backup into an archive that holds no families yet, in one transaction: a broken
/// or truncated backup restores nothing. Into an empty audit log the entries come back with
/// their chain as it was (a break in the backup's log stays visible); otherwise, or from a backup
/// without the chain, they are appended to the target's chain. The restore itself is audited as
/// done by `actor`.
pub async fn restore(
    archive: &Archive,
    input: &mut dyn BufRead,
    actor: &Actor,
) -> Result<u64, StoreError> {
    let mut lines = input.lines();
    let header: Header = match lines.next() {
        Some(line) => {
            serde_json::from_str(&line?).map_err(|e| StoreError::Backup(format!("line 1: {e}")))?
        }
        None => return Err(StoreError::Backup("the file is empty".into())),
    };
    if header.format != FORMAT || header.version != VERSION {
        return Err(StoreError::Backup(format!(
            "not a {FORMAT} v{VERSION} file ({} v{})",
            header.format, header.version
        )));
    }
    let families: i64 = on_db!(archive.db(), pool => sqlx::query_scalar("SELECT COUNT(*) FROM family").fetch_one(pool).await?);
    if families > 0 {
        return Err(StoreError::Backup(format!(
            "the target database already holds {families} families: restore into an empty one"
        )));
    }
    let mut rows = 0u64;
    let mut ended = false;
    let created = jiff::Timestamp::from_microsecond(header.created_at)
        .map_err(|e| StoreError::Backup(format!("line 1: created_at: {e}")))?;
    let summary = format!(
        "{} 备份（{created}）/ backup from {} of {created}",
        header.backend, header.backend
    );
    on_db!(archive.db(), pool => {
        let mut tx = pool.begin_with(archive.db().begin_write()).await?;
        let target_seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?;
        let verbatim = header.audit_chain && target_seq == Some(0);
        // The head to set after verbatim rows: the backup's own, or else its last chained row.
        let mut head: Option<(i64, Vec<u8>)> = None;
        for (n, line) in lines.enumerate() {
            let line = line?;
            if ended {
                return Err(StoreError::Backup(format!("line {}: data after the end marker", n + 2)));
            }
            let parsed: Line = serde_json::from_str(&line).map_err(|e| StoreError::Backup(format!("line {}: {e}", n + 2)))?;
            match parsed {
                Line::AreaContact { contact_id, area_code, name, duty, phone, recorded_at, recorded_by, replaces, retired } => {
                    sqlx::query("INSERT INTO area_contact (contact_id, area_code, name, duty, phone, recorded_at, recorded_by, replaces, retired) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                        .bind(contact_id).bind(area_code).bind(name).bind(duty).bind(unb64(phone)?).bind(recorded_at).bind(recorded_by).bind(replaces).bind(retired)
                        .execute(&mut *tx).await?;
                }
                Line::Family { family_id, family_no, county_code, import_hash, created_at, created_by, version } => {
                    sqlx::query("INSERT INTO family (family_id, family_no, county_code, import_hash, created_at, created_by, version) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(family_id).bind(family_no).bind(county_code).bind(unb64(import_hash)?).bind(created_at).bind(created_by).bind(version)
                        .execute(&mut *tx).await?;
                }
                Line::Person { person_id, family_id, relation, created_at } => {
                    sqlx::query("INSERT INTO person (person_id, family_id, relation, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(person_id).bind(family_id).bind(relation).bind(created_at)
                        .execute(&mut *tx).await?;
                }
                Line::Fact { fact_id, family_id, person_id, kind, valid_from, value, sealed, key_id, recorded_at, recorded_by, reason, replaces, retracted } => {
                    sqlx::query("INSERT INTO fact (fact_id, family_id, person_id, kind, valid_from, value, sealed, key_id, recorded_at, recorded_by, reason, replaces, retracted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
                        .bind(fact_id).bind(family_id).bind(person_id).bind(kind).bind(valid_from).bind(value).bind(unb64(sealed)?).bind(key_id)
                        .bind(recorded_at).bind(recorded_by).bind(reason).bind(replaces).bind(retracted)
                        .execute(&mut *tx).await?;
                }
                Line::PersonLookup { blind_index, person_id, family_id, fact_id } => {
                    sqlx::query("INSERT INTO person_lookup (blind_index, person_id, family_id, fact_id) VALUES ($1, $2, $3, $4)")
                        .bind(unb64(Some(blind_index))?).bind(person_id).bind(family_id).bind(fact_id)
                        .execute(&mut *tx).await?;
                }
                Line::Audit { audit_id, at, actor: by, action, target, reason, seq, prev_hash, hash } => {
                    if verbatim {
                        let hash = unb64(hash)?;
                        if let (Some(seq), Some(hash)) = (seq, &hash) {
                            head = Some((seq, hash.clone()));
                        }
                        sqlx::query("INSERT INTO audit (audit_id, at, actor, action, target, reason, seq, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                            .bind(audit_id).bind(at).bind(by).bind(action).bind(target).bind(reason).bind(seq).bind(unb64(prev_hash)?).bind(hash)
                            .execute(&mut *tx).await?;
                    } else {
                        crate::audit::append_audit!(&mut *tx, &Actor::new(by), &action, &target, &reason, at = at);
                    }
                }
                Line::AuditHead { seq, hash } => {
                    if verbatim {
                        head = Some((seq, unb64(Some(hash))?.unwrap_or_default()));
                    }
                }
                Line::End { rows: expected } => {
                    if expected != rows {
                        return Err(StoreError::Backup(format!("the end marker counts {expected} rows but {rows} were read")));
                    }
                    ended = true;
                    continue;
                }
            }
            rows += 1;
        }
        if !ended {
            return Err(StoreError::Backup("the file is truncated (no end marker): nothing was restored".into()));
        }
        if let Some((seq, hash)) = head {
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1").bind(seq).bind(hash).execute(&mut *tx).await?;
        }
        crate::audit::append_audit!(&mut *tx, actor, "archive.restore", "backup", &format!("{rows} 行 rows: {summary}"));
        tx.commit().await?;
    });
    Ok(rows)
}
