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
    /// The registration's village and the members' names, for the search and scope index.
    pub village: String,
    pub names: Vec<(PersonId, String)>,
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
        village: new.registration.1.to_string(),
        names: Vec::new(),
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
            if let FactValue::Identity { name, .. } = value {
                plan.names.push((person_id.clone(), name.clone()));
            }
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

/// Rows per multi-row INSERT (13 parameters a fact row: well inside both backends' limits).
pub const ROWS_PER_INSERT: usize = 1000;

/// Inserts planned families inside an open transaction (`$tx` is `&mut *tx` of either backend),
/// with multi-row INSERTs: one statement per table and chunk, not one per row.
#[macro_export]
macro_rules! insert_families {
    ($tx:expr, $plans:expr, $actor:expr, $reason:expr, $now:expr) => {{
        let plans: &[$crate::write::FamilyPlan] = $plans;
        let now: i64 = $now;
        let actor: &str = &$actor.name;
        let reason: &str = $reason;
        for chunk in plans.chunks($crate::write::ROWS_PER_INSERT) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO family (family_id, family_no, county_code, import_hash, created_at, created_by, version) ",
            );
            q.push_values(chunk, |mut b, plan| {
                b.push_bind(plan.family_id.as_str())
                    .push_bind(plan.family_no.as_str())
                    .push_bind(plan.county_code.as_str())
                    .push_bind(plan.import_hash.as_deref())
                    .push_bind(now)
                    .push_bind(actor)
                    .push_bind(1i64);
            });
            q.build().execute(&mut *$tx).await?;
        }
        let persons: Vec<(&$crate::write::FamilyPlan, &($crate::model::PersonId, $crate::model::Relation))> =
            plans.iter().flat_map(|p| p.persons.iter().map(move |x| (p, x))).collect();
        for chunk in persons.chunks($crate::write::ROWS_PER_INSERT) {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO person (person_id, family_id, relation, created_at) ");
            q.push_values(chunk, |mut b, (plan, (person_id, relation))| {
                b.push_bind(person_id.as_str())
                    .push_bind(plan.family_id.as_str())
                    .push_bind(relation.as_str())
                    .push_bind(now);
            });
            q.build().execute(&mut *$tx).await?;
        }
        let facts: Vec<(&$crate::write::FamilyPlan, &$crate::write::FactRow)> =
            plans.iter().flat_map(|p| p.facts.iter().map(move |f| (p, f))).collect();
        for chunk in facts.chunks($crate::write::ROWS_PER_INSERT) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO fact (fact_id, family_id, person_id, kind, valid_from, value, sealed, key_id, \
                 recorded_at, recorded_by, reason, replaces, retracted) ",
            );
            q.push_values(chunk, |mut b, (plan, f)| {
                b.push_bind(f.fact_id.as_str())
                    .push_bind(plan.family_id.as_str())
                    .push_bind(f.person_id.as_ref().map(|p| p.as_str()))
                    .push_bind(f.kind)
                    .push_bind(f.valid_from.as_deref())
                    .push_bind(f.value.as_deref())
                    .push_bind(f.sealed.as_deref())
                    .push_bind(f.key_id)
                    .push_bind(now)
                    .push_bind(actor)
                    .push_bind(reason)
                    .push_bind(None::<&str>)
                    .push_bind(false);
            });
            q.build().execute(&mut *$tx).await?;
        }
        let lookups: Vec<(&$crate::write::FamilyPlan, &([u8; 32], $crate::model::PersonId, $crate::model::FactId))> =
            plans.iter().flat_map(|p| p.lookups.iter().map(move |l| (p, l))).collect();
        for chunk in lookups.chunks($crate::write::ROWS_PER_INSERT) {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO person_lookup (blind_index, person_id, family_id, fact_id) ");
            q.push_values(chunk, |mut b, (plan, (index, person_id, fact_id))| {
                b.push_bind(index.as_slice())
                    .push_bind(person_id.as_str())
                    .push_bind(plan.family_id.as_str())
                    .push_bind(fact_id.as_str());
            });
            q.build().execute(&mut *$tx).await?;
        }
        for chunk in plans.chunks($crate::write::ROWS_PER_INSERT) {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO family_place (family_id, village_code) ");
            q.push_values(chunk, |mut b, plan| {
                b.push_bind(plan.family_id.as_str()).push_bind(plan.village.as_str());
            });
            q.build().execute(&mut *$tx).await?;
        }
        let names: Vec<(&$crate::write::FamilyPlan, &($crate::model::PersonId, String))> =
            plans.iter().flat_map(|p| p.names.iter().map(move |n| (p, n))).collect();
        for chunk in names.chunks($crate::write::ROWS_PER_INSERT) {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO person_name (person_id, family_id, name, name_key, village_code) ");
            q.push_values(chunk, |mut b, (plan, (person_id, name))| {
                b.push_bind(person_id.as_str())
                    .push_bind(plan.family_id.as_str())
                    .push_bind(name.as_str())
                    .push_bind($crate::place::name_key(name))
                    .push_bind(plan.village.as_str());
            });
            q.build().execute(&mut *$tx).await?;
        }
    }};
}
