//! The archive's operations: register a family, record or correct a fact under optimistic
//! concurrency, read a family's file, look a person up by resident ID number, list families by
//! area. Every change appends its audit entry (`crate::audit`) in its own transaction. Sealed
//! facts are encrypted here and nowhere else.

use std::collections::HashMap;

use guanai_crypto::Keyring;
use guanai_rules::{CountyCode, ResidentId};
use jiff::Timestamp;
use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;
use crate::file::FamilyFile;
use crate::model::{
    Actor, FactId, FactRecord, FactValue, FamilyId, NewFact, NewFamily, PersonId, PersonRecord,
    Relation,
};
use crate::on_db;
use crate::reads::Read;

/// The blind-index domain of resident ID numbers.
pub const ID_NUMBER_DOMAIN: &str = "resident_id";

/// The archive: a database and the keys that seal its private data. Cloning is cheap (the
/// pool is shared), so work can be spread over tasks.
#[derive(Clone)]
pub struct Archive {
    db: Db,
    keys: Keyring,
    /// Sessions whose last use this process refreshed lately (`access`).
    pub(crate) touched: crate::access::Touched,
}

/// One line of a family list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilySummary {
    pub family_id: FamilyId,
    pub family_no: String,
    pub county_code: String,
    pub version: i64,
}

/// A fact row as stored, before decryption.
struct StoredFact {
    fact_id: String,
    person_id: Option<String>,
    kind: String,
    valid_from: Option<String>,
    value: Option<String>,
    sealed: Option<Vec<u8>>,
    recorded_at: i64,
    recorded_by: String,
    reason: String,
    replaces: Option<String>,
}

pub(crate) fn now_micros() -> i64 {
    Timestamp::now().as_microsecond()
}

fn micros_to_timestamp(micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {micros}: {e}")))
}

/// Associated data binding a sealed value to its fact and kind.
pub(crate) fn fact_aad(fact_id: &str, kind: &str) -> Vec<u8> {
    format!("fact:{fact_id}:{kind}").into_bytes()
}

/// The stored form of a fact's value: plain JSON, or sealed JSON with its key id.
pub(crate) struct Encoded {
    pub value: Option<String>,
    pub sealed: Option<Vec<u8>>,
    pub key_id: Option<i64>,
}

/// Which facts a whole-archive pass reads with the family files.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FileKinds {
    All,
    Payment,
    Care,
}

impl Archive {
    /// Opens (and migrates) the database and seeds Linyi's areas on first use.
    pub async fn open(url: &str, keys: Keyring) -> Result<Archive, StoreError> {
        let db = Db::open(url).await?;
        crate::areas::seed(&db).await?;
        crate::audit::start_chain(&db).await?;
        let archive = Archive {
            db,
            keys,
            touched: Default::default(),
        };
        archive.ensure_family_index().await?;
        Ok(archive)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// See [`Db::refresh_statistics`].
    pub async fn refresh_statistics(&self, tables: &[&str]) -> Result<(), StoreError> {
        self.db.refresh_statistics(tables).await
    }

    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// Replaces the keyring (after a rotation saved to the key file).
    pub fn set_keys(&mut self, keys: Keyring) {
        self.keys = keys;
    }

    pub(crate) fn encode(&self, fact_id: &str, value: &FactValue) -> Result<Encoded, StoreError> {
        let json = serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if value.is_sealed() {
            let sealed = self
                .keys
                .encrypt(json.as_bytes(), &fact_aad(fact_id, value.kind()));
            Ok(Encoded {
                value: None,
                sealed: Some(sealed),
                key_id: Some(i64::from(self.keys.active_id())),
            })
        } else {
            Ok(Encoded {
                value: Some(json),
                sealed: None,
                key_id: None,
            })
        }
    }

    fn decode(&self, row: StoredFact) -> Result<FactRecord, StoreError> {
        let value = match (&row.value, &row.sealed) {
            (Some(json), _) => Some(
                serde_json::from_str::<FactValue>(json)
                    .map_err(|e| StoreError::Corrupt(format!("fact {}: {e}", row.fact_id)))?,
            ),
            (None, Some(sealed)) => {
                let plain = self
                    .keys
                    .decrypt(sealed, &fact_aad(&row.fact_id, &row.kind))?;
                Some(
                    serde_json::from_slice::<FactValue>(&plain)
                        .map_err(|e| StoreError::Corrupt(format!("fact {}: {e}", row.fact_id)))?,
                )
            }
            (None, None) => None,
        };
        let valid_from = row
            .valid_from
            .as_deref()
            .map(guanai_rules::parse_date)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("fact {}: {e}", row.fact_id)))?;
        Ok(FactRecord {
            fact_id: FactId::from_db(row.fact_id),
            person_id: row.person_id.map(PersonId::from_db),
            value,
            kind: row.kind,
            valid_from,
            recorded_at: micros_to_timestamp(row.recorded_at)?,
            recorded_by: row.recorded_by,
            reason: row.reason,
            replaces: row.replaces.map(FactId::from_db),
        })
    }

    /// Registers a new family with its persons and first facts, in one transaction.
    pub async fn create_family(
        &self,
        new: &NewFamily,
        actor: &Actor,
        reason: &str,
    ) -> Result<FamilyId, StoreError> {
        let plan = self.plan_family(new)?;
        let now = now_micros();
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(self.db.begin_write()).await?;
            crate::insert_families!(&mut *tx, std::slice::from_ref(&plan), actor, reason, now);
            crate::audit::append_audit!(&mut *tx, actor, "family.create", plan.family_id.as_str(), reason);
            tx.commit().await?;
        });
        Ok(plan.family_id)
    }

    /// Checks a new family and prepares its rows (ids, sealed values, blind indexes).
    pub(crate) fn plan_family(
        &self,
        new: &NewFamily,
    ) -> Result<crate::write::FamilyPlan, StoreError> {
        crate::write::plan_family(self, new)
    }

    /// Records a new fact on a family whose version the caller read as `expected_version`;
    /// returns the fact id and the family's new version.
    pub async fn record(
        &self,
        family: &FamilyId,
        expected_version: i64,
        fact: NewFact,
        actor: &Actor,
        reason: &str,
    ) -> Result<(FactId, i64), StoreError> {
        check_fact_shape(&fact)?;
        self.write_fact(family, expected_version, Some(fact), None, actor, reason)
            .await
    }

    /// Corrects a fact: the new record replaces `replaces` (or, with `None`, withdraws it).
    pub async fn correct(
        &self,
        family: &FamilyId,
        expected_version: i64,
        replaces: &FactId,
        replacement: Option<NewFact>,
        actor: &Actor,
        reason: &str,
    ) -> Result<(FactId, i64), StoreError> {
        if reason.trim().is_empty() {
            return Err(StoreError::invalid("reason", "a correction must say why"));
        }
        if let Some(f) = &replacement {
            check_fact_shape(f)?;
        }
        self.write_fact(
            family,
            expected_version,
            replacement,
            Some(replaces),
            actor,
            reason,
        )
        .await
    }

    async fn write_fact(
        &self,
        family: &FamilyId,
        expected_version: i64,
        fact: Option<NewFact>,
        replaces: Option<&FactId>,
        actor: &Actor,
        reason: &str,
    ) -> Result<(FactId, i64), StoreError> {
        let fact_id = FactId::generate();
        let (person_id, kind, valid_from, encoded) = match &fact {
            Some(f) => (
                f.person_id.clone(),
                f.value.kind().to_owned(),
                f.valid_from,
                self.encode(fact_id.as_str(), &f.value)?,
            ),
            None => (
                None,
                String::new(),
                None,
                Encoded {
                    value: None,
                    sealed: None,
                    key_id: None,
                },
            ),
        };
        let id_number = match fact.as_ref().map(|f| &f.value) {
            Some(FactValue::IdNumber { number }) => {
                Some(self.keys.blind_index(ID_NUMBER_DOMAIN, number.as_str()))
            }
            _ => None,
        };
        let now = now_micros();
        let action = if replaces.is_some() {
            "fact.correct"
        } else {
            "fact.record"
        };
        let target = format!("{family}/{fact_id}");
        let new_version = on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(self.db.begin_write()).await?;
            let updated = sqlx::query("UPDATE family SET version = version + 1 WHERE family_id = $1 AND version = $2")
                .bind(family.as_str())
                .bind(expected_version)
                .execute(&mut *tx)
                .await?;
            let found: Option<i64> = sqlx::query_scalar("SELECT version FROM family WHERE family_id = $1")
                .bind(family.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(found) = found else { return Err(StoreError::FamilyNotFound(family.to_string())) };
            if updated.rows_affected() == 0 {
                return Err(StoreError::Conflict { family: family.clone(), expected: expected_version, found });
            }
            // A person must belong to this family; a replaced fact must be this family's.
            if let Some(p) = &person_id {
                let owner: Option<String> = sqlx::query_scalar("SELECT family_id FROM person WHERE person_id = $1")
                    .bind(p.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                if owner.as_deref() != Some(family.as_str()) {
                    return Err(StoreError::invalid("person", format!("{p} is not a member of family {family}")));
                }
            }
            let mut kind = kind;
            let mut person_id = person_id;
            // A new phone, account, ID number … replaces the current one of the person.
            let implied: Option<String> = match (&fact, replaces, &person_id) {
                (Some(f), None, Some(p)) if f.value.is_single_valued() => {
                    sqlx::query_scalar(
                        "SELECT fact_id FROM fact f WHERE family_id = $1 AND person_id = $2 AND kind = $3 AND retracted = FALSE \
                         AND NOT EXISTS (SELECT 1 FROM fact n WHERE n.replaces = f.fact_id) \
                         ORDER BY recorded_at DESC, fact_id DESC LIMIT 1",
                    )
                    .bind(family.as_str())
                    .bind(p.as_str())
                    .bind(&kind)
                    .fetch_optional(&mut *tx)
                    .await?
                }
                _ => None,
            };
            let implied = implied.map(FactId::from_db);
            let replaces = replaces.or(implied.as_ref());
            if let Some(old) = replaces {
                let row = sqlx::query("SELECT kind, person_id FROM fact WHERE fact_id = $1 AND family_id = $2")
                    .bind(old.as_str())
                    .bind(family.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else { return Err(StoreError::FactNotFound(old.clone(), family.clone())) };
                let old_kind: String = row.try_get("kind")?;
                let old_person: Option<String> = row.try_get("person_id")?;
                if kind.is_empty() {
                    kind = old_kind;
                    person_id = old_person.map(PersonId::from_db);
                } else if kind != old_kind {
                    return Err(StoreError::invalid("kind", format!("a {kind} fact cannot replace a {old_kind} fact")));
                }
                // An ID number that is replaced or withdrawn leaves the blind index.
                sqlx::query("DELETE FROM person_lookup WHERE fact_id = $1").bind(old.as_str()).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO fact (fact_id, family_id, person_id, kind, valid_from, value, sealed, key_id, \
                 recorded_at, recorded_by, reason, replaces, retracted) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(fact_id.as_str())
            .bind(family.as_str())
            .bind(person_id.as_ref().map(PersonId::as_str))
            .bind(&kind)
            .bind(valid_from.map(|d| d.to_string()))
            .bind(&encoded.value)
            .bind(&encoded.sealed)
            .bind(encoded.key_id)
            .bind(now)
            .bind(&actor.name)
            .bind(reason)
            .bind(replaces.map(FactId::as_str))
            .bind(fact.is_none())
            .execute(&mut *tx)
            .await?;
            if kind == "registration" || kind == "identity" {
                crate::refresh_family_index!(&mut *tx, family.as_str());
            }
            if let (Some(index), Some(p)) = (id_number, &person_id) {
                sqlx::query(
                    "INSERT INTO person_lookup (blind_index, person_id, family_id, fact_id) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (blind_index, person_id) DO UPDATE SET fact_id = excluded.fact_id",
                )
                .bind(index.as_slice())
                .bind(p.as_str())
                .bind(family.as_str())
                .bind(fact_id.as_str())
                .execute(&mut *tx)
                .await?;
            }
            crate::audit::append_audit!(&mut *tx, actor, action, &target, reason);
            tx.commit().await?;
            found
        });
        Ok((fact_id, new_version))
    }

    /// A family's whole file: persons and every fact record, decrypted.
    pub async fn family_file(&self, family: &FamilyId) -> Result<FamilyFile, StoreError> {
        self.family_files(std::slice::from_ref(family))
            .await?
            .pop()
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))
    }

    /// The files of several families, read in one snapshot per chunk of 500 families (three
    /// queries a chunk, however many families); unknown ids are left out. Order follows `families`.
    pub async fn family_files(&self, families: &[FamilyId]) -> Result<Vec<FamilyFile>, StoreError> {
        self.files(families, FileKinds::All).await
    }

    /// Family files with only the facts the visit planner's evaluation needs (illness
    /// included), for whole-archive passes.
    pub async fn care_files(&self, families: &[FamilyId]) -> Result<Vec<FamilyFile>, StoreError> {
        self.files(families, FileKinds::Care).await
    }

    /// The files of several families with only the facts money depends on: registration,
    /// identity, deaths, later children, disability, welfare and bank accounts — no ID numbers,
    /// phones, health, certificates, living situation or notes, and no recorder or reason. For
    /// payment runs and forecasts over the whole archive (services computed from it are
    /// incomplete); never for showing a family.
    pub async fn payment_files(
        &self,
        families: &[FamilyId],
    ) -> Result<Vec<FamilyFile>, StoreError> {
        self.files(families, FileKinds::Payment).await
    }

    async fn files(
        &self,
        families: &[FamilyId],
        only: FileKinds,
    ) -> Result<Vec<FamilyFile>, StoreError> {
        let mut out = Vec::with_capacity(families.len());
        for chunk in families.chunks(500) {
            let rows = self.files_read(chunk, only).large().rows(&self.db).await?;
            out.extend(self.files_from(chunk, rows)?);
        }
        Ok(out)
    }

    /// The files of these families (at most a chunk: one placeholder each) as one JSON value.
    pub(crate) fn files_read(&self, families: &[FamilyId], only: FileKinds) -> Read {
        // Each family's head, persons (with when they were added) and facts aggregated as JSON
        // by the database. Handing over one value instead of a row per fact is what makes
        // whole-archive passes fast. A withdrawal has no kind: it comes along with what it
        // withdraws.
        let (kinds, recorder) = match only {
            FileKinds::Payment => (
                " AND x.kind IN ('registration', 'identity', 'death', 'later_child', 'disability', 'welfare', 'bank_account', '')",
                "'', ''",
            ),
            FileKinds::Care => (
                " AND x.kind IN ('registration', 'identity', 'death', 'later_child', 'disability', 'welfare', 'health', '')",
                "'', ''",
            ),
            FileKinds::All => ("", "x.recorded_by, x.reason"),
        };
        let sql = match &self.db {
            // SQLite builds the text by concatenation: wrapping each family's arrays in json()
            // would parse and re-serialise them.
            Db::Sqlite(..) => format!(
                "SELECT COALESCE('[' || group_concat('[' || json_quote(f.family_id) || ',' || json_quote(f.family_no) || ',' || \
                 json_quote(f.county_code) || ',' || f.version || ',' || f.created_at || ',' || json_quote(f.created_by) || ',' || \
                 (SELECT json_group_array(json_array(p.person_id, p.relation, p.created_at)) FROM person p WHERE p.family_id = f.family_id) || ',' || \
                 (SELECT json_group_array(json_array(x.fact_id, x.person_id, x.kind, x.valid_from, x.value, \
                   CASE WHEN x.sealed IS NULL THEN NULL ELSE hex(x.sealed) END, x.recorded_at, {recorder}, x.replaces)) \
                   FROM fact x WHERE x.family_id = f.family_id{kinds}) || ']', ',') || ']', '[]') \
                 FROM family f WHERE f.family_id IN ("
            ),
            Db::Pg(_) => format!(
                "SELECT CAST(COALESCE(json_agg(json_build_array(f.family_id, f.family_no, f.county_code, f.version, f.created_at, f.created_by, \
                 (SELECT COALESCE(json_agg(json_build_array(p.person_id, p.relation, p.created_at)), '[]') FROM person p WHERE p.family_id = f.family_id), \
                 (SELECT COALESCE(json_agg(json_build_array(x.fact_id, x.person_id, x.kind, x.valid_from, x.value, \
                   encode(x.sealed, 'hex'), x.recorded_at, {recorder}, x.replaces)), '[]') \
                   FROM fact x WHERE x.family_id = f.family_id{kinds}))), '[]') AS TEXT) \
                 FROM family f WHERE f.family_id IN ("
            ),
        };
        let list = (1..=families.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        families.iter().fold(
            Read::raw("family files", format!("{sql}{list})")),
            |read, id| read.arg(id.as_str()),
        )
    }

    /// Family files from their rows, in the order of `families` (unknown ids left out).
    pub(crate) fn files_from(
        &self,
        families: &[FamilyId],
        rows: Vec<FileRow>,
    ) -> Result<Vec<FamilyFile>, StoreError> {
        let mut files: HashMap<String, FamilyFile> = HashMap::with_capacity(rows.len());
        for (
            family_id,
            family_no,
            county,
            version,
            created_at,
            created_by,
            mut persons,
            mut facts,
        ) in rows
        {
            // Ordered here, not by the database: an ORDER BY inside SQLite's aggregate builds
            // a temporary b-tree per family.
            persons.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
            facts.sort_by(|a, b| (a.6, &a.0).cmp(&(b.6, &b.0)));
            let mut file = FamilyFile {
                family_id: FamilyId::from_db(family_id.clone()),
                family_no,
                county_code: CountyCode::parse(&county)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                version,
                created_at: micros_to_timestamp(created_at)?,
                created_by,
                persons: Vec::with_capacity(persons.len()),
                facts: Vec::with_capacity(facts.len()),
            };
            for (person_id, relation, _) in persons {
                let relation = Relation::parse(&relation)
                    .ok_or_else(|| StoreError::Corrupt(format!("relation {relation:?}")))?;
                file.persons.push(PersonRecord {
                    person_id: PersonId::from_db(person_id),
                    relation,
                });
            }
            for fact in facts {
                file.facts.push(self.decode(fact.into_stored()?)?);
            }
            // A stable order for files and for the engine's parent order: mother, father, child, guardians.
            file.persons.sort_by_key(|p| p.relation.rank());
            files.insert(family_id, file);
        }
        Ok(families
            .iter()
            .filter_map(|id| files.remove(id.as_str()))
            .collect())
    }

    /// Families and persons registered with this resident ID number (exact match, via the blind
    /// index of every key in the keyring, so lookups keep working during a key rotation).
    pub async fn find_by_id_number(
        &self,
        number: &ResidentId,
    ) -> Result<Vec<(FamilyId, PersonId)>, StoreError> {
        let mut found = Vec::new();
        for (key_id, _) in self.keys.keys() {
            let index = self
                .keys
                .blind_index_with(key_id, ID_NUMBER_DOMAIN, number.as_str())?;
            let rows: Vec<(String, String)> = on_db!(&self.db, pool => {
                sqlx::query_as("SELECT family_id, person_id FROM person_lookup WHERE blind_index = $1 ORDER BY family_id, person_id")
                    .bind(index.as_slice())
                    .fetch_all(pool)
                    .await?
            });
            for (f, p) in rows {
                let pair = (FamilyId::from_db(f), PersonId::from_db(p));
                if !found.contains(&pair) {
                    found.push(pair);
                }
            }
        }
        Ok(found)
    }

    /// Families registered in an area: a county (6 digits), township (9) or village (12) code,
    /// or `3713` for the whole city. Ordered by census number.
    pub async fn list_families(&self, area: &str) -> Result<Vec<FamilySummary>, StoreError> {
        if area.len() < 4 || !area.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StoreError::invalid(
                "area",
                format!("not an area code: {area}"),
            ));
        }
        let county_prefix: String = area.chars().take(6).collect();
        let rows: Vec<(String, String, String, i64)> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT family_id, family_no, county_code, version FROM family \
                 WHERE county_code LIKE $1 ORDER BY county_code, family_no",
            )
            .bind(format!("{county_prefix}%"))
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, no, county, version)| FamilySummary {
                family_id: FamilyId::from_db(id),
                family_no: no,
                county_code: county,
                version,
            })
            .collect())
    }
}

/// A family as `Archive::files_read` returns it: id, census number, county, version, created
/// at and by, persons (id, relation, added at), facts.
pub(crate) type FileRow = (
    String,
    String,
    String,
    i64,
    i64,
    String,
    Vec<(String, String, i64)>,
    Vec<AggregatedFact>,
);

/// A fact as the aggregated query returns it: the columns in order, `sealed` in hex.
type AggregatedFact = (
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    String,
    String,
    Option<String>,
);

trait IntoStored {
    fn into_stored(self) -> Result<StoredFact, StoreError>;
}

impl IntoStored for AggregatedFact {
    fn into_stored(self) -> Result<StoredFact, StoreError> {
        let (
            fact_id,
            person_id,
            kind,
            valid_from,
            value,
            sealed,
            recorded_at,
            recorded_by,
            reason,
            replaces,
        ) = self;
        let sealed = sealed
            .map(|h| {
                crate::bulk::from_hex(&h).ok_or_else(|| {
                    StoreError::Corrupt(format!("fact {fact_id}: sealed value is not hex"))
                })
            })
            .transpose()?;
        Ok(StoredFact {
            fact_id,
            person_id,
            kind,
            valid_from,
            value,
            sealed,
            recorded_at,
            recorded_by,
            reason,
            replaces,
        })
    }
}

/// A fact must carry a date when its kind is dated, and a person unless it is about the family.
pub(crate) fn check_fact_shape(fact: &NewFact) -> Result<(), StoreError> {
    let kind = fact.value.kind();
    if fact.value.is_dated() && fact.valid_from.is_none() {
        return Err(StoreError::invalid(
            "valid_from",
            format!("a {kind} fact needs the date it happened"),
        ));
    }
    if !fact.value.is_family_level() && fact.person_id.is_none() {
        return Err(StoreError::invalid(
            "person",
            format!("a {kind} fact is about a person: name them"),
        ));
    }
    if fact.value.is_family_level() && fact.person_id.is_some() {
        return Err(StoreError::invalid(
            "person",
            format!("a {kind} fact is about the family, not a person"),
        ));
    }
    Ok(())
}
