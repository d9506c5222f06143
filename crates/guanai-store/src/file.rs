//! A family's file (专门档案): every record ever made about it, and the two questions the
//! archive answers from them — what did we know on date D (record time), and what is true for
//! month M (valid time) — the latter as the rules engine's facts.

use guanai_rules::calendar::counts_in;
use guanai_rules::facts::FactsError;
use guanai_rules::{Child, CountyCode, Disability, Family, Hukou, Month, Parent, Sex, VillageCode};
use jiff::Timestamp;
use jiff::civil::Date;

use crate::model::{FactRecord, FactValue, FamilyId, PersonId, PersonRecord, Relation};

/// Everything the archive holds about one family.
#[derive(Debug, Clone)]
pub struct FamilyFile {
    pub family_id: FamilyId,
    pub family_no: String,
    /// The county of the census registration.
    pub county_code: CountyCode,
    /// Bumped by every write; pass it back when writing (optimistic concurrency).
    pub version: i64,
    pub created_at: Timestamp,
    pub created_by: String,
    pub persons: Vec<PersonRecord>,
    /// Every record, oldest first, corrections and withdrawals included.
    pub facts: Vec<FactRecord>,
}

/// Why the facts cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the family has no registration (hukou and village) in force")]
    NoRegistration,
    #[error("the {0} has no name, sex and birth date on file")]
    NoIdentity(&'static str),
    #[error("the family has no only child on file")]
    NoChild,
    #[error(transparent)]
    Facts(#[from] FactsError),
}

/// A person with the facts currently known about them (identity first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonView<'a> {
    pub person_id: &'a PersonId,
    pub relation: Relation,
    pub facts: Vec<&'a FactRecord>,
}

impl PersonView<'_> {
    /// The person's name as last recorded.
    pub fn name(&self) -> Option<&str> {
        self.facts.iter().rev().find_map(|f| match &f.value {
            Some(FactValue::Identity { name, .. }) => Some(name.as_str()),
            _ => None,
        })
    }
}

impl FamilyFile {
    /// The records in force as known at `known_at` (all records when `None`): recorded by then,
    /// not replaced or withdrawn by a record made by then.
    pub fn current(&self, known_at: Option<Timestamp>) -> Vec<&FactRecord> {
        let known = |f: &FactRecord| known_at.is_none_or(|t| f.recorded_at <= t);
        let replaced: std::collections::HashSet<&str> = self
            .facts
            .iter()
            .filter(|f| known(f))
            .filter_map(|f| f.replaces.as_ref().map(|r| r.as_str()))
            .collect();
        self.facts
            .iter()
            .filter(|f| known(f) && f.value.is_some() && !replaced.contains(f.fact_id.as_str()))
            .collect()
    }

    /// The persons with their current facts.
    pub fn people(&self, known_at: Option<Timestamp>) -> Vec<PersonView<'_>> {
        let current = self.current(known_at);
        self.persons
            .iter()
            .map(|p| {
                let mut facts: Vec<&FactRecord> = current
                    .iter()
                    .copied()
                    .filter(|f| f.person_id.as_ref() == Some(&p.person_id))
                    .collect();
                // Name, sex and birth date first; the rest in the order they were recorded.
                facts.sort_by_key(|f| f.kind != "identity");
                PersonView {
                    person_id: &p.person_id,
                    relation: p.relation,
                    facts,
                }
            })
            .collect()
    }

    /// The registration (hukou, village) in force for `month`: the latest whose date counts
    /// (timing rule), or the first one when none counts yet.
    pub fn registration(
        &self,
        month: Month,
        known_at: Option<Timestamp>,
    ) -> Option<(Hukou, VillageCode)> {
        let mut regs: Vec<(Option<Date>, Hukou, VillageCode)> = self
            .current(known_at)
            .into_iter()
            .filter_map(|f| match f.value {
                Some(FactValue::Registration { hukou, village }) => {
                    Some((f.valid_from, hukou, village))
                }
                _ => None,
            })
            .collect();
        regs.sort_by_key(|r| r.0);
        let in_force = regs
            .iter()
            .rev()
            .find(|r| r.0.is_none_or(|d| counts_in(d, month)));
        in_force.or(regs.first()).map(|r| (r.1, r.2))
    }

    /// The rules engine's facts for `month`, as known at `known_at`.
    pub fn engine_family(
        &self,
        month: Month,
        known_at: Option<Timestamp>,
    ) -> Result<Family, FileError> {
        let (hukou, village) = self
            .registration(month, known_at)
            .ok_or(FileError::NoRegistration)?;
        let people = self.people(known_at);
        let mut parents = Vec::with_capacity(2);
        let mut child = None;
        for person in &people {
            match person.relation {
                Relation::Mother | Relation::Father => parents.push(parent_at(person, month)?),
                Relation::Child => child = Some(child_at(person)?),
                Relation::Guardian => {}
            }
        }
        let child = child.ok_or(FileError::NoChild)?;
        Ok(Family::new(village.county(), hukou, parents, child)?)
    }
}

fn identity(person: &PersonView<'_>) -> Result<(Sex, Date), FileError> {
    person
        .facts
        .iter()
        .rev()
        .find_map(|f| match &f.value {
            Some(FactValue::Identity {
                sex, birth_date, ..
            }) => Some((*sex, *birth_date)),
            _ => None,
        })
        .ok_or(FileError::NoIdentity(person.relation.as_str()))
}

/// The earliest date of a dated event kind (a death, a later child).
fn first_event(person: &PersonView<'_>, kind: &str) -> Option<Date> {
    person
        .facts
        .iter()
        .filter(|f| f.kind == kind)
        .filter_map(|f| f.valid_from)
        .min()
}

/// The latest value of a dated status (welfare, health) whose date counts for `month`.
fn status_at<'a, T>(
    person: &'a PersonView<'_>,
    month: Month,
    pick: impl Fn(&'a FactValue) -> Option<T>,
) -> Option<T> {
    let mut dated: Vec<(Option<Date>, T)> = person
        .facts
        .iter()
        .filter(|f| f.valid_from.is_none_or(|d| counts_in(d, month)))
        .filter_map(|f| f.value.as_ref().and_then(&pick).map(|v| (f.valid_from, v)))
        .collect();
    dated.sort_by_key(|d| d.0);
    dated.pop().map(|d| d.1)
}

fn parent_at(person: &PersonView<'_>, month: Month) -> Result<Parent, FileError> {
    let (sex, birth_date) = identity(person)?;
    let welfare = status_at(person, month, |v| match v {
        FactValue::Welfare { dibao, wubao } => Some((*dibao, *wubao)),
        _ => None,
    });
    let ill = status_at(person, month, |v| match v {
        FactValue::Health { chronically_ill } => Some(*chronically_ill),
        _ => None,
    });
    Ok(Parent {
        sex,
        birth_date,
        death_date: first_event(person, "death"),
        later_child_date: first_event(person, "later_child"),
        dibao: welfare.is_some_and(|w| w.0),
        wubao: welfare.is_some_and(|w| w.1),
        chronically_ill: ill.unwrap_or(false),
    })
}

fn child_at(person: &PersonView<'_>) -> Result<Child, FileError> {
    let (_, birth_date) = identity(person)?;
    let disabilities = person
        .facts
        .iter()
        .filter_map(|f| match (&f.value, f.valid_from) {
            (Some(FactValue::Disability { grade, .. }), Some(assessed)) => Some(Disability {
                grade: *grade,
                assessed,
            }),
            _ => None,
        })
        .collect();
    Ok(Child {
        birth_date,
        death_date: first_event(person, "death"),
        disabilities,
    })
}
