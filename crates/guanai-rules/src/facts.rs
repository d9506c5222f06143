//! Facts about a family (spec §2): the only child, its parents, household registration and
//! county. A [`Family`] can only be built consistent — at most two parents, at most one of each
//! sex, no event before the person's birth — so the engine never has to doubt its input.

use jiff::civil::Date;
use thiserror::Error;

use crate::area::CountyCode;
use crate::calendar::{Month, counts_in};

/// A parent's sex; the `Female` parent is the mother.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Female,
    Male,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
        }
    }
}

/// A person's place in a special-difficulty family (成员关系).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// 母亲.
    Mother,
    /// 父亲.
    Father,
    /// 子女: the only child, alive, dead or disabled.
    Child,
    /// 监护人: a guardian (of a 计划生育孤儿); never counted as a parent.
    Guardian,
}

impl Relation {
    /// The stored form: `mother`, `father`, `child`, `guardian`.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Mother => "mother",
            Relation::Father => "father",
            Relation::Child => "child",
            Relation::Guardian => "guardian",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Relation> {
        match text {
            "mother" => Some(Relation::Mother),
            "father" => Some(Relation::Father),
            "child" => Some(Relation::Child),
            "guardian" => Some(Relation::Guardian),
            _ => None,
        }
    }

    /// The word used in the census sheet and on screen.
    pub fn as_zh(self) -> &'static str {
        match self {
            Relation::Mother => "母亲",
            Relation::Father => "父亲",
            Relation::Child => "子女",
            Relation::Guardian => "监护人",
        }
    }

    /// Parses the census sheet's word.
    pub fn from_zh(text: &str) -> Option<Relation> {
        match text {
            "母亲" => Some(Relation::Mother),
            "父亲" => Some(Relation::Father),
            "子女" => Some(Relation::Child),
            "监护人" => Some(Relation::Guardian),
            _ => None,
        }
    }

    /// Mother or father.
    pub fn is_parent(self) -> bool {
        matches!(self, Relation::Mother | Relation::Father)
    }

    /// Order in a family file: mother, father, child, guardians.
    pub fn rank(self) -> u8 {
        match self {
            Relation::Mother => 0,
            Relation::Father => 1,
            Relation::Child => 2,
            Relation::Guardian => 3,
        }
    }
}

/// Household registration (户籍性质): 城镇 or 农村.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hukou {
    Urban,
    Rural,
}

impl Hukou {
    pub fn as_str(self) -> &'static str {
        match self {
            Hukou::Urban => "urban",
            Hukou::Rural => "rural",
        }
    }
}

/// A disability grade (残疾等级) 1–4, 1 most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DisabilityGrade(u8);

impl DisabilityGrade {
    pub fn new(grade: i64) -> Option<DisabilityGrade> {
        (1..=4)
            .contains(&grade)
            .then_some(DisabilityGrade(grade as u8))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// Grades 1–3 (三级以上) make a disabled family; grade 4 does not (spec §3).
    pub fn qualifies(self) -> bool {
        self.0 <= 3
    }
}

/// A disability assessment: the grade and the date it was assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disability {
    pub grade: DisabilityGrade,
    pub assessed: Date,
}

/// A parent of the only child (a divorced parent stays a parent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    pub sex: Sex,
    pub birth_date: Date,
    pub death_date: Option<Date>,
    /// The date this parent had another child by birth or adoption (再生育或收养).
    pub later_child_date: Option<Date>,
    /// Receives 低保 (minimum living guarantee).
    pub dibao: bool,
    /// Receives or meets the conditions of 五保.
    pub wubao: bool,
    pub chronically_ill: bool,
}

/// The only child (独生子女).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub birth_date: Date,
    pub death_date: Option<Date>,
    /// Disability assessments in date order; a reassessment is a later entry.
    pub disabilities: Vec<Disability>,
}

impl Child {
    /// The assessment in force for `month` (timing rule): the latest one that counts.
    pub fn disability_in_force(&self, month: Month) -> Option<Disability> {
        self.disabilities
            .iter()
            .rev()
            .find(|d| counts_in(d.assessed, month))
            .copied()
    }
}

/// A family's facts, consistent by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    county: CountyCode,
    hukou: Hukou,
    parents: Vec<Parent>,
    child: Child,
}

/// Why a set of facts cannot form a family. `field` uses the eval contract's paths.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {problem}")]
pub struct FactsError {
    pub field: String,
    pub problem: String,
}

impl FactsError {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> FactsError {
        FactsError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl Family {
    /// Builds a family, checking: at most two parents, at most one of each sex, and no death,
    /// later-child or disability date before the person's birth date.
    pub fn new(
        county: CountyCode,
        hukou: Hukou,
        parents: Vec<Parent>,
        child: Child,
    ) -> Result<Family, FactsError> {
        if parents.len() > 2 {
            return Err(FactsError::new(
                "parents",
                format!("at most two parents, found {}", parents.len()),
            ));
        }
        if let [a, b] = parents.as_slice()
            && a.sex == b.sex
        {
            return Err(FactsError::new(
                "parents[1].sex",
                format!("two parents are both {}", a.sex.as_str()),
            ));
        }
        for (i, p) in parents.iter().enumerate() {
            before_birth(p.death_date, p.birth_date, || {
                format!("parents[{i}].death_date")
            })?;
            before_birth(p.later_child_date, p.birth_date, || {
                format!("parents[{i}].later_child_date")
            })?;
        }
        before_birth(child.death_date, child.birth_date, || {
            "child.death_date".to_owned()
        })?;
        let single = child.disabilities.len() == 1;
        for (i, d) in child.disabilities.iter().enumerate() {
            before_birth(Some(d.assessed), child.birth_date, || {
                if single {
                    "child.disability_date".to_owned()
                } else {
                    format!("child.disabilities[{i}].assessed")
                }
            })?;
        }
        let mut child = child;
        child.disabilities.sort_by_key(|d| d.assessed);
        Ok(Family {
            county,
            hukou,
            parents,
            child,
        })
    }

    pub fn county(&self) -> CountyCode {
        self.county
    }

    pub fn hukou(&self) -> Hukou {
        self.hukou
    }

    /// The parents in input order.
    pub fn parents(&self) -> &[Parent] {
        &self.parents
    }

    pub fn child(&self) -> &Child {
        &self.child
    }

    /// The mother (the `Female` parent), if listed.
    pub fn mother(&self) -> Option<&Parent> {
        self.parents.iter().find(|p| p.sex == Sex::Female)
    }
}

/// The field name is only formatted when there is an error (this runs for every input line).
fn before_birth(
    date: Option<Date>,
    birth: Date,
    field: impl FnOnce() -> String,
) -> Result<(), FactsError> {
    match date {
        Some(d) if d < birth => Err(FactsError::new(
            field(),
            format!("{d} is before the birth date {birth}"),
        )),
        _ => Ok(()),
    }
}
