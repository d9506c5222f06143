//! Census import (`guanai import`): validated families from a census file go into the archive.
//! All-or-nothing by default — any bad row, in the file or against the archive, and nothing is
//! written; `partial` loads the good families and reports the rest. Re-importing the same file
//! changes nothing: a family already imported with the same content is skipped. Each committed
//! transaction appends one audit entry (`census.import`) with the number of families it added —
//! one, not one per family, so that large imports stay fast.

use std::collections::HashMap;

use guanai_census::{CensusFamily, CensusPerson, RowError};
use guanai_rules::ResidentId;

use crate::archive::{Archive, ID_NUMBER_DOMAIN, now_micros};
use crate::error::StoreError;
use crate::model::{Actor, FactValue, NewFamily, NewPerson};
use crate::on_db;

/// Families checked and written together: a few queries and multi-row INSERTs per batch.
const BATCH: usize = 500;

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Load the good families even when some rows are bad.
    pub partial: bool,
    pub actor: Actor,
    /// New families come in as applications (申请, issue 6), not enrolled: each gets an
    /// application awaiting the village check, and no run pays it until one is approved.
    pub applications: Option<ApplicationsFrom>,
}

/// The application every family of an import opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationsFrom {
    pub applied_on: jiff::civil::Date,
    /// The evidence received with the applications (e.g. 申请表、户口簿、独生子女证).
    pub evidence: String,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: usize,
    pub added: usize,
    /// Families already in the archive with the same content.
    pub unchanged: usize,
    /// Every bad row; when not empty and not partial, nothing was written.
    pub errors: Vec<RowError>,
    /// Whether anything was written.
    pub committed: bool,
}

/// Imports families from `families` (a census reader), calling `progress` with rows read so far.
/// Without `partial` the whole file is one transaction; with it, each batch commits on its own.
pub async fn import<I>(
    archive: &Archive,
    families: I,
    rows_read: impl Fn() -> usize,
    options: &ImportOptions,
    mut progress: impl FnMut(usize),
) -> Result<ImportReport, StoreError>
where
    I: Iterator<Item = Result<CensusFamily, Vec<RowError>>>,
{
    let mut report = ImportReport::default();
    let reason = "普查导入 census import";
    let mut families = families;
    // Families written since the last commit, for its audit entry.
    let mut uncommitted = 0usize;
    on_db!(archive.db(), pool => {
        let mut tx = pool.begin_with(archive.db().begin_write()).await?;
        if matches!(archive.db(), crate::db::Db::Sqlite(..)) {
            // A bulk import keeps more pages off the disk until commit than everyday work needs.
            sqlx::query("PRAGMA cache_size = -65536").execute(&mut *tx).await?;
        }
        loop {
            let mut batch: Vec<CensusFamily> = Vec::with_capacity(BATCH);
            for item in families.by_ref() {
                match item {
                    Ok(f) => batch.push(f),
                    Err(mut errors) => report.errors.append(&mut errors),
                }
                if batch.len() == BATCH {
                    break;
                }
            }
            progress(rows_read());
            if batch.is_empty() {
                break;
            }
            // 1. Families already in the archive (same county and census number), one indexed
            //    query per county in the batch.
            let mut counties: Vec<String> = batch.iter().map(|f| f.county().to_string()).collect();
            counties.sort();
            counties.dedup();
            let mut existing: Vec<(String, String, String, Option<Vec<u8>>)> = Vec::new();
            for county in &counties {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT county_code, family_no, family_id, import_hash FROM family WHERE county_code = ",
                );
                q.push_bind(county.as_str());
                q.push(" AND family_no IN (");
                let mut list = q.separated(", ");
                for f in batch.iter().filter(|f| f.county().to_string() == *county) {
                    list.push_bind(f.family_no.as_str());
                }
                list.push_unseparated(")");
                existing.extend(q.build_query_as::<(String, String, String, Option<Vec<u8>>)>().fetch_all(&mut *tx).await?);
            }
            // 2. Persons already registered: blind indexes under every key.
            let mut numbers: HashMap<[u8; 32], ResidentId> = HashMap::new();
            for f in &batch {
                for p in &f.members {
                    if let Some(number) = p.id_number {
                        for (key_id, _) in archive.keys().keys() {
                            numbers.insert(archive.keys().blind_index_with(key_id, ID_NUMBER_DOMAIN, number.as_str())?, number);
                        }
                    }
                }
            }
            // ID number -> the archive family it is already registered in.
            let mut registered: HashMap<ResidentId, String> = HashMap::new();
            let indexes: Vec<&[u8; 32]> = numbers.keys().collect();
            for chunk in indexes.chunks(crate::write::ROWS_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new("SELECT blind_index, family_id FROM person_lookup WHERE blind_index IN (");
                let mut list = q.separated(", ");
                for index in chunk {
                    list.push_bind(index.as_slice());
                }
                list.push_unseparated(")");
                let rows: Vec<(Vec<u8>, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
                for (index, family_id) in rows {
                    if let Some(number) = <[u8; 32]>::try_from(index.as_slice()).ok().and_then(|i| numbers.get(&i)) {
                        registered.insert(*number, family_id);
                    }
                }
            }
            // 3. Check each family, plan the new ones.
            let mut plans = Vec::with_capacity(batch.len());
            for family in &batch {
                let digests = family_digests(archive, family)?;
                let county = family.county().to_string();
                if let Some((_, _, family_id, hash)) = existing.iter().find(|e| e.0 == county && e.1 == family.family_no) {
                    if hash.as_ref().is_some_and(|h| digests.iter().any(|d| d.as_slice() == h.as_slice())) {
                        report.unchanged += 1;
                    } else {
                        report.errors.push(RowError::new(
                            family.first_row,
                            "家庭编号",
                            format!("家庭编号 {} 已在档案中（{family_id}）且内容不同：请在家庭档案中更正，不要重复导入", family.family_no),
                        ));
                    }
                    continue;
                }
                let mut clash = false;
                for person in &family.members {
                    if let Some(other) = person.id_number.and_then(|n| registered.get(&n)) {
                        clash = true;
                        report.errors.push(RowError::new(
                            person.row,
                            "公民身份号码",
                            format!("该公民身份号码已登记在档案家庭 {other} 中"),
                        ));
                    }
                }
                if clash || (!report.errors.is_empty() && !options.partial) {
                    // A file that will be rejected is still checked to the end, but not written.
                    continue;
                }
                plans.push(archive.plan_family(&new_family(family, digests.into_iter().next())?)?);
            }
            // 4. Write the batch.
            crate::insert_families!(&mut *tx, &plans, &options.actor, reason, now_micros());
            if let Some(from) = &options.applications {
                let now = now_micros();
                for plan in &plans {
                    let id = format!("A{:032x}", rand::random::<u128>());
                    sqlx::query(
                        "INSERT INTO application (application_id, family_id, status, applied_on, applicant, appealed, version, created_at, created_by) \
                         VALUES ($1, $2, 'applied', $3, '见申请表 / per the application form', FALSE, 1, $4, $5)",
                    )
                    .bind(&id)
                    .bind(plan.family_id.as_str())
                    .bind(from.applied_on.to_string())
                    .bind(now)
                    .bind(&options.actor.name)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO application_step (application_id, step_no, step, decision, evidence, reason, on_date, actor, at) \
                         VALUES ($1, 1, 'apply', '', $2, '', $3, $4, $5)",
                    )
                    .bind(&id)
                    .bind(from.evidence.trim())
                    .bind(from.applied_on.to_string())
                    .bind(&options.actor.name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            report.added += plans.len();
            uncommitted += plans.len();
            if options.partial && !plans.is_empty() {
                crate::audit::append_audit!(&mut *tx, &options.actor, "census.import", "census", &import_reason(uncommitted));
                uncommitted = 0;
                tx.commit().await?;
                report.committed = true;
                tx = pool.begin_with(archive.db().begin_write()).await?;
            }
        }
        report.rows = rows_read();
        progress(report.rows);
        if report.errors.is_empty() || options.partial {
            if uncommitted > 0 {
                crate::audit::append_audit!(&mut *tx, &options.actor, "census.import", "census", &import_reason(uncommitted));
            }
            tx.commit().await?;
            report.committed = report.committed || report.added > 0;
        } else {
            tx.rollback().await?;
            report.added = 0;
            report.committed = false;
        }
    });
    if report.committed {
        archive
            .refresh_statistics(&["family", "person", "fact", "person_lookup"])
            .await?;
    }
    Ok(report)
}

/// The audit reason of an import transaction: counts only, never names or numbers.
fn import_reason(families: usize) -> String {
    format!("普查导入 {families} 户 / census import: {families} families added")
}

/// The keyed digest of a family's census content, under every key of the keyring (the first is
/// the active key's): equal content imported before a key rotation is still recognised.
fn family_digests(archive: &Archive, family: &CensusFamily) -> Result<Vec<[u8; 32]>, StoreError> {
    let text = canonical(family);
    let mut out = vec![archive.keys().blind_index("census_family", &text)];
    for (key_id, _) in archive.keys().keys() {
        if key_id != archive.keys().active_id() {
            out.push(
                archive
                    .keys()
                    .blind_index_with(key_id, "census_family", &text)?,
            );
        }
    }
    Ok(out)
}

/// Every field of a census family, in a fixed order, for its digest.
fn canonical(f: &CensusFamily) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = write!(s, "{}|{}|{}", f.family_no, f.village, f.hukou.as_str());
    for p in &f.members {
        let _ = write!(
            s,
            "|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{}{}{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            p.relation.as_zh(),
            p.name,
            p.sex.as_str(),
            p.id_number.as_ref().map_or("", |n| n.as_str()),
            p.birth_date,
            p.phone,
            p.bank_name,
            p.bank_account,
            u8::from(p.dibao),
            u8::from(p.wubao),
            u8::from(p.chronically_ill),
            p.living_situation,
            p.honor_certificate_no,
            p.death_date,
            p.death_certificate_no,
            p.later_child_date,
            p.disability.map(|d| (d.grade.get(), d.assessed)),
            p.disability_certificate_no,
            p.note,
        );
    }
    s
}

fn person_facts(p: &CensusPerson) -> Vec<(FactValue, Option<jiff::civil::Date>)> {
    let mut facts = vec![(
        FactValue::Identity {
            name: p.name.clone(),
            sex: p.sex,
            birth_date: p.birth_date,
        },
        None,
    )];
    if let Some(number) = p.id_number {
        facts.push((FactValue::IdNumber { number }, None));
    }
    if let Some(number) = &p.phone {
        facts.push((
            FactValue::Phone {
                number: number.clone(),
            },
            None,
        ));
    }
    if let Some(account) = &p.bank_account {
        facts.push((
            FactValue::BankAccount {
                bank: p.bank_name.clone().unwrap_or_default(),
                account: account.clone(),
            },
            None,
        ));
    }
    if p.dibao || p.wubao {
        facts.push((
            FactValue::Welfare {
                dibao: p.dibao,
                wubao: p.wubao,
            },
            None,
        ));
    }
    if p.chronically_ill {
        facts.push((
            FactValue::Health {
                chronically_ill: true,
            },
            None,
        ));
    }
    if let Some(situation) = &p.living_situation {
        facts.push((
            FactValue::Living {
                situation: situation.clone(),
            },
            None,
        ));
    }
    if let Some(number) = &p.honor_certificate_no {
        facts.push((
            FactValue::HonorCertificate {
                number: number.clone(),
            },
            None,
        ));
    }
    if let Some(died) = p.death_date {
        facts.push((
            FactValue::Death {
                certificate_no: p.death_certificate_no.clone(),
            },
            Some(died),
        ));
    }
    if let Some(date) = p.later_child_date {
        facts.push((FactValue::LaterChild, Some(date)));
    }
    if let Some(d) = p.disability {
        facts.push((
            FactValue::Disability {
                grade: d.grade,
                certificate_no: p.disability_certificate_no.clone(),
            },
            Some(d.assessed),
        ));
    }
    if let Some(text) = &p.note {
        facts.push((FactValue::Note { text: text.clone() }, None));
    }
    facts
}

fn new_family(f: &CensusFamily, digest: Option<[u8; 32]>) -> Result<NewFamily, StoreError> {
    Ok(NewFamily {
        family_no: f.family_no.clone(),
        county_code: f.county(),
        registration: (f.hukou, f.village, None),
        persons: f
            .members
            .iter()
            .map(|p| NewPerson {
                relation: p.relation,
                facts: person_facts(p),
            })
            .collect(),
        import_hash: digest.map(|d| d.to_vec()),
    })
}
