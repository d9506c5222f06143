//! Key rotation (`guanai key rotate`): every sealed value not made with the active key is
//! re-encrypted, and every blind index recomputed, in batches of one transaction each. Values
//! under old and new keys can both be read at any moment, so a rotation killed half-way is
//! finished by running it again. Documents on family files (content and label) are re-encrypted
//! one per transaction (each may be ten megabytes). The last transaction re-encrypts the contact
//! phones and the sealed values of proposed changes, and appends the rotation's one audit entry
//! (`key.rotate`, with the counts).

use crate::archive::{Archive, ID_NUMBER_DOMAIN, fact_aad};
use crate::documents::document_aad;
use crate::error::StoreError;
use crate::model::{Actor, FactValue};
use crate::on_db;

const BATCH: i64 = 500;

/// fact_id, person_id, family_id, kind, sealed value.
type SealedRow = (String, Option<String>, String, String, Vec<u8>);

/// Counts of one rotation pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotation {
    pub facts: u64,
    pub contacts: u64,
    pub documents: u64,
}

/// Re-encrypts everything not yet under the active key, and audits it as done by `actor`.
pub async fn reencrypt(archive: &Archive, actor: &Actor) -> Result<Rotation, StoreError> {
    let keys = archive.keys();
    let active = i64::from(keys.active_id());
    let mut done = Rotation::default();
    loop {
        let batch: Vec<SealedRow> = on_db!(archive.db(), pool => {
            sqlx::query_as(
                "SELECT fact_id, person_id, family_id, kind, sealed FROM fact \
                 WHERE sealed IS NOT NULL AND key_id <> $1 ORDER BY fact_id LIMIT $2",
            )
            .bind(active)
            .bind(BATCH)
            .fetch_all(pool)
            .await?
        });
        if batch.is_empty() {
            break;
        }
        let mut updates = Vec::with_capacity(batch.len());
        for (fact_id, person_id, family_id, kind, sealed) in batch {
            let aad = fact_aad(&fact_id, &kind);
            let plain = keys.decrypt(&sealed, &aad)?;
            let resealed = keys.encrypt(&plain, &aad);
            let index = match serde_json::from_slice::<FactValue>(&plain) {
                Ok(FactValue::IdNumber { number }) => {
                    Some(keys.blind_index(ID_NUMBER_DOMAIN, number.as_str()))
                }
                Ok(_) => None,
                Err(e) => return Err(StoreError::Corrupt(format!("fact {fact_id}: {e}"))),
            };
            updates.push((fact_id, person_id, family_id, resealed, index));
        }
        on_db!(archive.db(), pool => {
            let mut tx = pool.begin().await?;
            for (fact_id, person_id, family_id, resealed, index) in &updates {
                sqlx::query("UPDATE fact SET sealed = $1, key_id = $2 WHERE fact_id = $3")
                    .bind(resealed)
                    .bind(active)
                    .bind(fact_id)
                    .execute(&mut *tx)
                    .await?;
                if let (Some(index), Some(person_id)) = (index, person_id) {
                    // Only a lookup row that still points at this fact is current.
                    let current: Option<String> = sqlx::query_scalar("SELECT person_id FROM person_lookup WHERE fact_id = $1")
                        .bind(fact_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if current.is_some() {
                        sqlx::query("DELETE FROM person_lookup WHERE fact_id = $1").bind(fact_id).execute(&mut *tx).await?;
                        sqlx::query("INSERT INTO person_lookup (blind_index, person_id, family_id, fact_id) VALUES ($1, $2, $3, $4)")
                            .bind(index.as_slice())
                            .bind(person_id)
                            .bind(family_id)
                            .bind(fact_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await?;
        });
        done.facts += updates.len() as u64;
    }
    // Documents, one at a time: the ids of a batch first, then each document read, resealed
    // and written in its own transaction.
    loop {
        let batch: Vec<(String, String)> = on_db!(archive.db(), pool => {
            sqlx::query_as(
                "SELECT document_id, family_id FROM family_document WHERE key_id <> $1 ORDER BY document_id LIMIT $2",
            )
            .bind(active)
            .bind(BATCH)
            .fetch_all(pool)
            .await?
        });
        if batch.is_empty() {
            break;
        }
        for (document_id, family_id) in batch {
            let label_aad = document_aad(&document_id, &family_id, "label");
            let content_aad = document_aad(&document_id, &family_id, "content");
            on_db!(archive.db(), pool => {
                let mut tx = pool.begin_with(archive.db().begin_write()).await?;
                let sealed: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
                    "SELECT label, content FROM family_document WHERE document_id = $1 AND key_id <> $2",
                )
                .bind(&document_id)
                .bind(active)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((label, content)) = sealed {
                    let label = keys.encrypt(&keys.decrypt(&label, &label_aad)?, &label_aad);
                    let content = keys.encrypt(&keys.decrypt(&content, &content_aad)?, &content_aad);
                    sqlx::query("UPDATE family_document SET label = $1, content = $2, key_id = $3 WHERE document_id = $4")
                        .bind(&label)
                        .bind(&content)
                        .bind(active)
                        .bind(&document_id)
                        .execute(&mut *tx)
                        .await?;
                    done.documents += 1;
                }
                tx.commit().await?;
            });
        }
    }
    // Contact phones (a few per area), with the audit entry, in one transaction.
    let contacts: Vec<(String, Vec<u8>)> = on_db!(archive.db(), pool => {
        sqlx::query_as("SELECT contact_id, phone FROM area_contact WHERE phone IS NOT NULL").fetch_all(pool).await?
    });
    let mut resealed = Vec::new();
    for (contact_id, phone) in contacts {
        if guanai_crypto::Keyring::key_id_of(&phone)? == keys.active_id() {
            continue;
        }
        let aad = crate::contacts::phone_aad(&contact_id);
        resealed.push((contact_id, keys.encrypt(&keys.decrypt(&phone, &aad)?, &aad)));
    }
    done.contacts = resealed.len() as u64;
    // Sealed values of proposed changes (few: those awaiting approval and their history).
    let changes: Vec<(String, String, Vec<u8>)> = on_db!(archive.db(), pool => {
        sqlx::query_as("SELECT change_id, kind, sealed FROM change_request WHERE sealed IS NOT NULL AND key_id <> $1")
            .bind(active)
            .fetch_all(pool)
            .await?
    });
    let mut changes_resealed = Vec::with_capacity(changes.len());
    for (change_id, kind, sealed) in changes {
        let aad = crate::changes::change_aad(&change_id, &kind);
        changes_resealed.push((change_id, keys.encrypt(&keys.decrypt(&sealed, &aad)?, &aad)));
    }
    let target = format!("key {}", keys.active_id());
    let reason = format!(
        "{}: 重新加密 {} 条事实、{} 个联系人电话、{} 份材料 / {} facts, {} contact phones and {} documents re-encrypted",
        keys.active_algorithm().as_str(),
        done.facts,
        done.contacts,
        done.documents,
        done.facts,
        done.contacts,
        done.documents
    );
    on_db!(archive.db(), pool => {
        let mut tx = pool.begin_with(archive.db().begin_write()).await?;
        for (contact_id, phone) in &resealed {
            sqlx::query("UPDATE area_contact SET phone = $1 WHERE contact_id = $2").bind(phone).bind(contact_id).execute(&mut *tx).await?;
        }
        for (change_id, sealed) in &changes_resealed {
            sqlx::query("UPDATE change_request SET sealed = $1, key_id = $2 WHERE change_id = $3").bind(sealed).bind(active).bind(change_id).execute(&mut *tx).await?;
        }
        crate::audit::append_audit!(&mut *tx, actor, "key.rotate", &target, &reason);
        tx.commit().await?;
    });
    Ok(done)
}
