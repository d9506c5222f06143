//! Census import (`guanai import`): validated families from a census file go into the archive.
//! All-or-nothing by default — any bad row, in the file or against the archive, and nothing is
//! written; `partial` loads the good families and reports the rest. Re-importing the same file
//! changes nothing: a family already imported with the same content is skipped.

use guanai_census::{CensusFamily, CensusPerson, RowError};

use crate::archive::{Archive, ID_NUMBER_DOMAIN, now_micros};
use crate::error::StoreError;
use crate::model::{Actor, FactValue, NewFamily, NewPerson, Relation};
use crate::on_db;

/// Families per transaction when loading partially.
const PARTIAL_BATCH: usize = 500;

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Load the good families even when some rows are bad.
    pub partial: bool,
    pub actor: Actor,
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
    on_db!(archive.db(), pool => {
        let mut tx = pool.begin().await?;
        let mut in_batch = 0usize;
        for item in families {
            progress(rows_read());
            let family = match item {
                Ok(f) => f,
                Err(mut errors) => {
                    report.errors.append(&mut errors);
                    continue;
                }
            };
            let digests = family_digests(archive, &family)?;
            let existing: Option<(String, Option<Vec<u8>>)> = sqlx::query_as(
                "SELECT family_id, import_hash FROM family WHERE county_code = $1 AND family_no = $2",
            )
            .bind(family.county().to_string())
            .bind(&family.family_no)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((family_id, hash)) = existing {
                if hash.is_some_and(|h| digests.iter().any(|d| d.as_slice() == h.as_slice())) {
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
            // The same person already registered in another family of the archive.
            let mut clash = false;
            for person in &family.members {
                let Some(number) = person.id_number else { continue };
                for (key_id, _) in archive.keys().keys() {
                    let index = archive.keys().blind_index_with(key_id, ID_NUMBER_DOMAIN, number.as_str())?;
                    let other: Option<String> = sqlx::query_scalar("SELECT family_id FROM person_lookup WHERE blind_index = $1 LIMIT 1")
                        .bind(index.as_slice())
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(other) = other {
                        clash = true;
                        report.errors.push(RowError::new(
                            person.row,
                            "公民身份号码",
                            format!("该公民身份号码已登记在档案家庭 {other} 中"),
                        ));
                        break;
                    }
                }
            }
            if clash {
                continue;
            }
            if !report.errors.is_empty() && !options.partial {
                // The file will be rejected: keep validating, stop writing.
                continue;
            }
            let new = new_family(&family, digests.into_iter().next())?;
            let plan = archive.plan_family(&new)?;
            let now = now_micros();
            crate::insert_family!(&mut *tx, &plan, &options.actor, reason, now);
            report.added += 1;
            in_batch += 1;
            if options.partial && in_batch >= PARTIAL_BATCH {
                tx.commit().await?;
                report.committed = true;
                tx = pool.begin().await?;
                in_batch = 0;
            }
        }
        report.rows = rows_read();
        progress(report.rows);
        if report.errors.is_empty() || options.partial {
            tx.commit().await?;
            report.committed = report.committed || report.added > 0;
        } else {
            tx.rollback().await?;
            report.added = 0;
            report.committed = false;
        }
    });
    Ok(report)
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

fn relation(r: guanai_census::Relation) -> Relation {
    match r {
        guanai_census::Relation::Mother => Relation::Mother,
        guanai_census::Relation::Father => Relation::Father,
        guanai_census::Relation::Child => Relation::Child,
        guanai_census::Relation::Guardian => Relation::Guardian,
    }
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
                relation: relation(p.relation),
                facts: person_facts(p),
            })
            .collect(),
        import_hash: digest.map(|d| d.to_vec()),
    })
}
