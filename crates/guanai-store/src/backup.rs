//! Consistent online backup and restore, the same on both backends: every row of the archive,
//! read in one snapshot transaction and written as JSON Lines (sealed values stay sealed,
//! base64). A backup taken from SQLite restores into PostgreSQL and back.

use std::io::{BufRead, Write};

use base64ct::{Base64, Encoding};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::archive::Archive;
use crate::error::StoreError;
use crate::on_db;

const FORMAT: &str = "guanai-backup";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    backend: String,
    created_at: i64,
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
    // The format covers the archive, not yet the payment side: refuse rather than write a backup
    // that silently lacks the ledger.
    let (runs, claims): (i64, i64) = on_db!(archive.db(), pool => {
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM pay_run), (SELECT COUNT(*) FROM claim)")
            .fetch_one(pool)
            .await?
    });
    if runs > 0 || claims > 0 {
        return Err(StoreError::Backup(format!(
            "this archive has {runs} payment run(s) and {claims} claim(s), which this backup format does not carry yet; \
             back the database up with its own tools instead (SQLite: sqlite3 guanai.db \".backup FILE\"; PostgreSQL: pg_dump)"
        )));
    }
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        backend: archive.db().backend().into(),
        created_at: crate::archive::now_micros(),
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
            let mut s = sqlx::query_as::<_, (String, i64, String, String, String, String)>(
                "SELECT audit_id, at, actor, action, target, reason FROM audit ORDER BY at, audit_id",
            )
            .fetch(&mut *tx);
            while let Some((audit_id, at, actor, action, target, reason)) = s.try_next().await? {
                write_line(out, &Line::Audit { audit_id, at, actor, action, target, reason })?;
                rows += 1;
            }
        }
        tx.commit().await?;
    });
    write_line(out, &Line::End { rows })?;
    out.flush()?;
    Ok(rows)
}

/// Restores a backup into an archive that holds no families yet, in one transaction: a broken
/// or truncated backup restores nothing.
pub async fn restore(archive: &Archive, input: &mut dyn BufRead) -> Result<u64, StoreError> {
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
    on_db!(archive.db(), pool => {
        let mut tx = pool.begin().await?;
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
                Line::Audit { audit_id, at, actor, action, target, reason } => {
                    sqlx::query("INSERT INTO audit (audit_id, at, actor, action, target, reason) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(audit_id).bind(at).bind(actor).bind(action).bind(target).bind(reason)
                        .execute(&mut *tx).await?;
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
        tx.commit().await?;
    });
    Ok(rows)
}
