//! Seeds the `area` table with Linyi's divisions (city, county-level areas incl. the retired
//! development zones, townships, villages) from the data embedded in `guanai-rules`.

use guanai_rules::area::all_areas;

use crate::db::Db;
use crate::error::StoreError;
use crate::on_db;

/// Inserts every area not yet present; a no-op once seeded.
pub async fn seed(db: &Db) -> Result<(), StoreError> {
    let areas = all_areas();
    let present: i64 =
        on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM area").fetch_one(pool).await?);
    if usize::try_from(present).is_ok_and(|n| n >= areas.len()) {
        return Ok(());
    }
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        for a in &areas {
            sqlx::query("INSERT INTO area (code, level, name, parent_code) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING")
                .bind(&a.code)
                .bind(a.level)
                .bind(a.name)
                .bind(&a.parent)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// The name of an area by code.
pub async fn name_of(archive: &crate::Archive, code: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = crate::on_db!(archive.db(), pool => {
        sqlx::query_as("SELECT name FROM area WHERE code = $1").bind(code).fetch_optional(pool).await?
    });
    Ok(row.map(|r| r.0))
}
