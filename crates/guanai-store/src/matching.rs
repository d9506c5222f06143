//! Cross-checks (数据比对): deceased persons reported by civil affairs or funeral homes against
//! the registered parents, and one person registered in more than one family or county.

use guanai_rules::{Month, ResidentId};
use jiff::civil::Date;

use crate::archive::{Archive, ID_NUMBER_DOMAIN};
use crate::error::StoreError;
use crate::model::{FactValue, FamilyId, PersonId, Relation};
use crate::on_db;

/// A reported death that the archive does not reflect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeathFinding {
    pub number: ResidentId,
    pub reported: Date,
    pub family_id: FamilyId,
    pub person_id: PersonId,
    pub relation: Relation,
    /// The death on file, if any (when it differs from the report).
    pub on_file: Option<Date>,
    /// The first month nothing is due any more (timing rule: the month after the death).
    pub stop_from: Month,
}

/// One resident ID number registered to persons of several families.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub number: ResidentId,
    pub registrations: Vec<(FamilyId, PersonId, String)>,
}

impl Archive {
    /// Checks reported deaths: every registered person with the number whose death is not on
    /// file, or on file with another date.
    pub async fn match_deaths(
        &self,
        reported: &[(ResidentId, Date)],
    ) -> Result<Vec<DeathFinding>, StoreError> {
        let mut findings = Vec::new();
        for (number, died) in reported {
            for (family_id, person_id) in self.find_by_id_number(number).await? {
                let file = self.family_file(&family_id).await?;
                let Some(person) = file.persons.iter().find(|p| p.person_id == person_id) else {
                    continue;
                };
                let on_file = file
                    .current(None)
                    .into_iter()
                    .filter(|f| f.person_id.as_ref() == Some(&person_id))
                    .filter_map(|f| match f.value {
                        Some(FactValue::Death { .. }) => f.valid_from,
                        _ => None,
                    })
                    .min();
                if on_file != Some(*died) {
                    findings.push(DeathFinding {
                        number: *number,
                        reported: *died,
                        family_id,
                        person_id,
                        relation: person.relation,
                        on_file,
                        stop_from: Month::effective_from(*died),
                    });
                }
            }
        }
        Ok(findings)
    }

    /// Keeps reported deaths the archive does not reflect as flags: a payment run blocks any
    /// transfer to a flagged person until the death is recorded (or the report found wrong and
    /// the flag's date recorded as it is). Returns how many flags are new; new flags are written
    /// in one transaction with one audit entry (`death.flag`, target the list's source).
    pub async fn flag_deaths(
        &self,
        findings: &[DeathFinding],
        source: &str,
        actor: &crate::model::Actor,
    ) -> Result<u64, StoreError> {
        let now = crate::archive::now_micros();
        let mut added = 0;
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            for f in findings {
                added += sqlx::query(
                    "INSERT INTO death_flag (person_id, family_id, reported, source, recorded_at, recorded_by) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person_id, reported) DO NOTHING",
                )
                .bind(f.person_id.as_str())
                .bind(f.family_id.as_str())
                .bind(f.reported.to_string())
                .bind(source)
                .bind(now)
                .bind(&actor.name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            if added > 0 {
                // One entry for the whole list: counts, never the persons.
                crate::audit::append_audit!(&mut *tx, actor, "death.flag", source, &format!("{added} 人 / {added} persons flagged"));
            }
            tx.commit().await?;
        });
        Ok(added)
    }

    /// Resident ID numbers registered in more than one family (across counties too).
    pub async fn duplicates(&self) -> Result<Vec<Duplicate>, StoreError> {
        let groups: Vec<(Vec<u8>,)> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT blind_index FROM person_lookup GROUP BY blind_index HAVING COUNT(DISTINCT family_id) > 1 ORDER BY blind_index",
            )
            .fetch_all(pool)
            .await?
        });
        let mut out = Vec::new();
        for (index,) in groups {
            let rows: Vec<(String, String, String, String)> = on_db!(self.db(), pool => {
                sqlx::query_as(
                    "SELECT l.family_id, l.person_id, f.county_code, l.fact_id FROM person_lookup l JOIN family f ON f.family_id = l.family_id \
                     WHERE l.blind_index = $1 ORDER BY f.county_code, l.family_id",
                )
                .bind(&index)
                .fetch_all(pool)
                .await?
            });
            let Some((first_family, _, _, fact_id)) = rows.first() else {
                continue;
            };
            let file = self
                .family_file(&FamilyId::from_db(first_family.clone()))
                .await?;
            let number = file
                .facts
                .iter()
                .find(|f| f.fact_id.as_str() == fact_id)
                .and_then(|f| match &f.value {
                    Some(FactValue::IdNumber { number }) => Some(*number),
                    _ => None,
                });
            let Some(number) = number else { continue };
            debug_assert_eq!(
                self.keys()
                    .blind_index(ID_NUMBER_DOMAIN, number.as_str())
                    .as_slice(),
                index.as_slice()
            );
            out.push(Duplicate {
                number,
                registrations: rows
                    .into_iter()
                    .map(|(f, p, county, _)| (FamilyId::from_db(f), PersonId::from_db(p), county))
                    .collect(),
            });
        }
        Ok(out)
    }
}
