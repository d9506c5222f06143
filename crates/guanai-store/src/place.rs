//! The search and scope index of families (migration 0005): where each family is registered now
//! (`family_place`) and its members' current names (`person_name`). Both are projections of the
//! facts, rewritten inside the transaction that writes a registration or an identity, and
//! rebuilt on open for families that have none (an archive from before the index, a restore).

use crate::archive::Archive;
use crate::error::StoreError;
use crate::model::FactValue;
use crate::on_db;

/// The current (not replaced, not withdrawn) facts of one kind in a family, newest valid date
/// first; the first row per person is the current value.
pub(crate) const CURRENT_OF_KIND: &str = "SELECT person_id, value FROM fact f \
     WHERE family_id = $1 AND kind = $2 AND retracted = FALSE \
     AND NOT EXISTS (SELECT 1 FROM fact n WHERE n.replaces = f.fact_id) \
     ORDER BY COALESCE(valid_from, '0000-00-00') DESC, recorded_at DESC, fact_id DESC";

/// The village of a registration fact's JSON value, or the names of identities.
pub(crate) fn village_of(json: &str) -> Result<String, StoreError> {
    match serde_json::from_str::<FactValue>(json) {
        Ok(FactValue::Registration { village, .. }) => Ok(village.to_string()),
        Ok(other) => Err(StoreError::Corrupt(format!(
            "a {} fact stored as a registration",
            other.kind()
        ))),
        Err(e) => Err(StoreError::Corrupt(format!("registration: {e}"))),
    }
}

pub(crate) fn name_of(json: &str) -> Result<String, StoreError> {
    match serde_json::from_str::<FactValue>(json) {
        Ok(FactValue::Identity { name, .. }) => Ok(name),
        Ok(other) => Err(StoreError::Corrupt(format!(
            "a {} fact stored as an identity",
            other.kind()
        ))),
        Err(e) => Err(StoreError::Corrupt(format!("identity: {e}"))),
    }
}

/// The search key of a name: its UTF-8 bytes in lower-case hex (see migration 0005).
pub fn name_key(name: &str) -> String {
    crate::bulk::hex(name.trim().as_bytes())
}

/// Rewrites the index rows of one family from its current facts, inside an open transaction
/// (`$tx` is `&mut *tx` of either backend).
#[macro_export]
macro_rules! refresh_family_index {
    ($tx:expr, $family:expr) => {{
        let family: &str = $family;
        let registrations: Vec<(Option<String>, Option<String>)> =
            sqlx::query_as(sqlx::AssertSqlSafe($crate::place::CURRENT_OF_KIND))
                .bind(family)
                .bind("registration")
                .fetch_all(&mut *$tx)
                .await?;
        sqlx::query("DELETE FROM family_place WHERE family_id = $1")
            .bind(family)
            .execute(&mut *$tx)
            .await?;
        if let Some((_, Some(json))) = registrations.first() {
            sqlx::query("INSERT INTO family_place (family_id, village_code) VALUES ($1, $2)")
                .bind(family)
                .bind($crate::place::village_of(json)?)
                .execute(&mut *$tx)
                .await?;
        }
        let identities: Vec<(Option<String>, Option<String>)> =
            sqlx::query_as(sqlx::AssertSqlSafe($crate::place::CURRENT_OF_KIND))
                .bind(family)
                .bind("identity")
                .fetch_all(&mut *$tx)
                .await?;
        sqlx::query("DELETE FROM person_name WHERE family_id = $1")
            .bind(family)
            .execute(&mut *$tx)
            .await?;
        let village: Option<String> = match registrations.first() {
            Some((_, Some(json))) => Some($crate::place::village_of(json)?),
            _ => None,
        };
        let mut seen: Vec<&str> = Vec::new();
        for (person, json) in &identities {
            let (Some(person), Some(json)) = (person, json) else { continue };
            if seen.contains(&person.as_str()) {
                continue;
            }
            seen.push(person);
            let name = $crate::place::name_of(json)?;
            sqlx::query("INSERT INTO person_name (person_id, family_id, name, name_key, village_code) VALUES ($1, $2, $3, $4, $5)")
                .bind(person)
                .bind(family)
                .bind(&name)
                .bind($crate::place::name_key(&name))
                .bind(village.as_deref())
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// Families per transaction when the index is rebuilt.
const REBUILD_CHUNK: i64 = 500;

impl Archive {
    /// Builds the index for every family that has none (the archive predates it, or was
    /// restored row by row). Cheap when nothing is missing: two counts.
    pub(crate) async fn ensure_family_index(&self) -> Result<(), StoreError> {
        loop {
            let missing: Vec<String> = on_db!(self.db(), pool => {
                let (families, placed): (i64, i64) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM family), (SELECT COUNT(*) FROM family_place)",
                )
                .fetch_one(pool)
                .await?;
                if families == placed {
                    return Ok(());
                }
                sqlx::query_scalar(
                    "SELECT family_id FROM family f WHERE NOT EXISTS \
                     (SELECT 1 FROM family_place p WHERE p.family_id = f.family_id) \
                     ORDER BY family_id LIMIT $1",
                )
                .bind(REBUILD_CHUNK)
                .fetch_all(pool)
                .await?
            });
            if missing.is_empty() {
                return Ok(());
            }
            on_db!(self.db(), pool => {
                let mut tx = pool.begin().await?;
                for family in &missing {
                    crate::refresh_family_index!(&mut *tx, family.as_str());
                    // A family without any registration would be found missing forever.
                    sqlx::query(
                        "INSERT INTO family_place (family_id, village_code) SELECT $1, '' \
                         WHERE NOT EXISTS (SELECT 1 FROM family_place WHERE family_id = $1)",
                    )
                    .bind(family.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            });
        }
    }
}

impl Archive {
    /// Villages by the number of families registered there now, most first (for choosing the
    /// demo's caseworkers' areas).
    pub async fn busiest_villages(&self, limit: i64) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT village_code, CAST(COUNT(*) AS BIGINT) AS n FROM family_place \
                 GROUP BY village_code ORDER BY n DESC, village_code LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }
}
