//! Preparing and inserting a new family: ids, sealed values and blind indexes are computed
//! before the transaction, so the transaction itself only writes.

use crate::archive::{Archive, ID_NUMBER_DOMAIN};
use crate::error::StoreError;
use crate::model::{FactId, FactValue, FamilyId, NewFamily, PersonId, Relation};

/// One fact row ready to insert.
pub struct FactRow {
    pub fact_id: FactId,
    pub person_id: Option<PersonId>,
    pub kind: &'static str,
    pub valid_from: Option<String>,
    pub value: Option<String>,
    pub sealed: Option<Vec<u8>>,
    pub key_id: Option<i64>,
}

/// Everything one new family writes.
pub struct FamilyPlan {
    pub family_id: FamilyId,
    pub family_no: String,
    pub county_code: String,
    pub import_hash: Option<Vec<u8>>,
    pub persons: Vec<(PersonId, Relation)>,
    pub facts: Vec<FactRow>,
    /// (blind index, person, fact) for each resident ID number.
    pub lookups: Vec<([u8; 32], PersonId, FactId)>,
}

pub(crate) fn plan_family(archive: &Archive, new: &NewFamily) -> Result<FamilyPlan, StoreError> {
    if new.family_no.trim().is_empty() {
        return Err(StoreError::invalid(
            "family_no",
            "a family needs its census number",
        ));
    }
    let children = new
        .persons
        .iter()
        .filter(|p| p.relation == Relation::Child)
        .count();
    if children != 1 {
        return Err(StoreError::invalid(
            "persons",
            format!("a family has exactly one only child, found {children}"),
        ));
    }
    for relation in [Relation::Mother, Relation::Father] {
        if new
            .persons
            .iter()
            .filter(|p| p.relation == relation)
            .count()
            > 1
        {
            return Err(StoreError::invalid(
                "persons",
                format!("more than one {}", relation.as_str()),
            ));
        }
    }
    let family_id = FamilyId::generate();
    let mut plan = FamilyPlan {
        family_id,
        family_no: new.family_no.clone(),
        county_code: new.county_code.to_string(),
        import_hash: new.import_hash.clone(),
        persons: Vec::with_capacity(new.persons.len()),
        facts: Vec::new(),
        lookups: Vec::new(),
    };
    let (hukou, village, since) = new.registration;
    plan.facts.push(row(
        archive,
        None,
        &FactValue::Registration { hukou, village },
        since,
    )?);
    for person in &new.persons {
        let person_id = PersonId::generate();
        if !person
            .facts
            .iter()
            .any(|(v, _)| matches!(v, FactValue::Identity { .. }))
        {
            return Err(StoreError::invalid(
                "persons",
                format!(
                    "the {} has no name, sex and birth date",
                    person.relation.as_str()
                ),
            ));
        }
        for (value, valid_from) in &person.facts {
            if value.is_dated() && valid_from.is_none() {
                return Err(StoreError::invalid(
                    "valid_from",
                    format!("a {} fact needs its date", value.kind()),
                ));
            }
            let fact = row(archive, Some(&person_id), value, *valid_from)?;
            if let FactValue::IdNumber { number } = value {
                let index = archive
                    .keys()
                    .blind_index(ID_NUMBER_DOMAIN, number.as_str());
                plan.lookups
                    .push((index, person_id.clone(), fact.fact_id.clone()));
            }
            plan.facts.push(fact);
        }
        plan.persons.push((person_id, person.relation));
    }
    Ok(plan)
}

fn row(
    archive: &Archive,
    person: Option<&PersonId>,
    value: &FactValue,
    valid_from: Option<jiff::civil::Date>,
) -> Result<FactRow, StoreError> {
    let fact_id = FactId::generate();
    let encoded = archive.encode(fact_id.as_str(), value)?;
    Ok(FactRow {
        fact_id,
        person_id: person.cloned(),
        kind: value.kind(),
        valid_from: valid_from.map(|d| d.to_string()),
        value: encoded.value,
        sealed: encoded.sealed,
        key_id: encoded.key_id,
    })
}

/// Inserts a planned family inside an open transaction (`$tx` is `&mut *tx` of either backend).
#[macro_export]
macro_rules! insert_family {
    ($tx:expr, $plan:expr, $actor:expr, $reason:expr, $now:expr) => {{
        let plan: &$crate::write::FamilyPlan = $plan;
        sqlx::query(
            "INSERT INTO family (family_id, family_no, county_code, import_hash, created_at, created_by, version) \
             VALUES ($1, $2, $3, $4, $5, $6, 1)",
        )
        .bind(plan.family_id.as_str())
        .bind(&plan.family_no)
        .bind(&plan.county_code)
        .bind(&plan.import_hash)
        .bind($now)
        .bind(&$actor.name)
        .execute(&mut *$tx)
        .await?;
        for (person_id, relation) in &plan.persons {
            sqlx::query("INSERT INTO person (person_id, family_id, relation, created_at) VALUES ($1, $2, $3, $4)")
                .bind(person_id.as_str())
                .bind(plan.family_id.as_str())
                .bind(relation.as_str())
                .bind($now)
                .execute(&mut *$tx)
                .await?;
        }
        for f in &plan.facts {
            sqlx::query(
                "INSERT INTO fact (fact_id, family_id, person_id, kind, valid_from, value, sealed, key_id, \
                 recorded_at, recorded_by, reason, replaces, retracted) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, FALSE)",
            )
            .bind(f.fact_id.as_str())
            .bind(plan.family_id.as_str())
            .bind(f.person_id.as_ref().map(|p| p.as_str()))
            .bind(f.kind)
            .bind(&f.valid_from)
            .bind(&f.value)
            .bind(&f.sealed)
            .bind(f.key_id)
            .bind($now)
            .bind(&$actor.name)
            .bind($reason)
            .execute(&mut *$tx)
            .await?;
        }
        for (index, person_id, fact_id) in &plan.lookups {
            sqlx::query("INSERT INTO person_lookup (blind_index, person_id, family_id, fact_id) VALUES ($1, $2, $3, $4)")
                .bind(index.as_slice())
                .bind(person_id.as_str())
                .bind(plan.family_id.as_str())
                .bind(fact_id.as_str())
                .execute(&mut *$tx)
                .await?;
        }
    }};
}
