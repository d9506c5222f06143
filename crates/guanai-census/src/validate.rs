//! The row and family rules of the census sheet. A raw row (cell texts by column) becomes a
//! [`ParsedRow`] carrying its errors; the contiguous rows of one 家庭编号 become a
//! [`CensusFamily`] or the list of everything wrong with them. State across the file — the ID
//! numbers and family numbers already seen — lives in [`Validator`], and is all it keeps.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use guanai_rules::{Disability, Hukou, ResidentId, Sex, VillageCode};
use jiff::civil::Date;

use crate::columns::Col;
use crate::error::RowError;
use crate::family::{CensusFamily, CensusPerson, Relation};
use crate::fields;
use crate::source::RawRow;

/// A row after the row rules: its family-level fields (even when other cells are wrong) and the
/// person, built only when the row has no error.
#[derive(Debug)]
pub(crate) struct ParsedRow {
    pub row: usize,
    pub family_no: String,
    relation: Option<Relation>,
    hukou: Option<Hukou>,
    village: Option<VillageCode>,
    person: Option<CensusPerson>,
    errors: Vec<RowError>,
}

/// Collects one row's errors.
struct Check {
    row: usize,
    errors: Vec<RowError>,
}

impl Check {
    fn fail(&mut self, col: Col, reason: impl Into<String>) {
        self.errors
            .push(RowError::new(self.row, col.header(), reason));
    }

    /// The value of a parse, or the reason recorded against `col`.
    fn ok<T>(&mut self, col: Col, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|why| self.fail(col, why)).ok()
    }
}

/// The file-wide state of the rules: ID numbers and family numbers already seen, with the row
/// where each first appeared. This is all the memory that grows with the file: keys are kept
/// small (an ID number's first 17 digits as a `u64`, rows as `u32`) so that a million rows
/// cost tens of megabytes, not hundreds.
#[derive(Debug)]
pub(crate) struct Validator {
    today: Date,
    ids: HashMap<u64, u32>,
    families: HashMap<Box<str>, u32>,
}

/// An ID number's first 17 digits, which determine the check character and so the number.
fn id_key(id: &ResidentId) -> u64 {
    id.as_str()
        .bytes()
        .take(17)
        .fold(0u64, |acc, b| acc * 10 + u64::from(b.wrapping_sub(b'0')))
}

/// Rows past `u32::MAX` (no spreadsheet has them) are remembered as `u32::MAX`.
fn small_row(row: usize) -> u32 {
    u32::try_from(row).unwrap_or(u32::MAX)
}

/// Birth dates before this are typing errors (nobody in the census was born before 1900).
const EARLIEST_BIRTH: Date = Date::constant(1900, 1, 1);

fn text(raw: &RawRow, col: Col) -> Option<String> {
    let t = raw.get(col);
    (!t.is_empty()).then(|| t.to_owned())
}

impl Validator {
    /// A validator for one file read on `today` (dates after it are rejected).
    pub fn new(today: Date) -> Validator {
        Validator {
            today,
            ids: HashMap::new(),
            families: HashMap::new(),
        }
    }

    /// Applies the row rules to one row.
    pub fn row(&mut self, raw: &RawRow) -> ParsedRow {
        let mut c = Check {
            row: raw.row,
            errors: Vec::new(),
        };
        let required = |c: &mut Check, col: Col| {
            let t = raw.get(col);
            if t.is_empty() {
                c.fail(col, "必填，不能为空");
                None
            } else {
                Some(t)
            }
        };

        let family_no = raw.get(Col::FamilyNo).to_owned();
        if family_no.is_empty() {
            c.fail(Col::FamilyNo, "必填，不能为空");
        }
        let relation = required(&mut c, Col::Relation).and_then(|t| {
            let parsed = Relation::from_zh(t)
                .ok_or_else(|| format!("应为「母亲」「父亲」「子女」或「监护人」，实为「{t}」"));
            c.ok(Col::Relation, parsed)
        });
        let name = required(&mut c, Col::Name);
        let sex = required(&mut c, Col::Sex).and_then(|t| c.ok(Col::Sex, fields::parse_sex(t)));
        match (relation, sex) {
            (Some(Relation::Mother), Some(Sex::Male)) => {
                c.fail(Col::Sex, "成员关系为母亲，性别应为女");
            }
            (Some(Relation::Father), Some(Sex::Female)) => {
                c.fail(Col::Sex, "成员关系为父亲，性别应为男");
            }
            _ => {}
        }
        let birth_date = required(&mut c, Col::BirthDate)
            .and_then(|t| c.ok(Col::BirthDate, fields::parse_date(t)))
            .and_then(|d| {
                if d > self.today {
                    c.fail(Col::BirthDate, format!("{d} 晚于今天（{}）", self.today));
                    None
                } else if d < EARLIEST_BIRTH {
                    c.fail(Col::BirthDate, format!("{d} 早于 1900-01-01，请核对"));
                    None
                } else {
                    Some(d)
                }
            });
        let id_number = self.id_number(&mut c, raw, relation, birth_date, sex);
        let hukou =
            required(&mut c, Col::Hukou).and_then(|t| c.ok(Col::Hukou, fields::parse_hukou(t)));
        let village = required(&mut c, Col::Village)
            .and_then(|t| c.ok(Col::Village, fields::parse_village(t)));

        let phone = match raw.get(Col::Phone) {
            "" => None,
            t => c.ok(Col::Phone, fields::normalise_phone(t)),
        };
        let bank_account = match raw.get(Col::BankAccount) {
            "" => None,
            t => c.ok(
                Col::BankAccount,
                fields::normalise_account(t, raw.was_number(Col::BankAccount)),
            ),
        };
        let mut flag = |col: Col| match raw.get(col) {
            "" => false,
            t => c.ok(col, fields::parse_yes_no(t)).unwrap_or(false),
        };
        let dibao = flag(Col::Dibao);
        let wubao = flag(Col::Wubao);
        let chronically_ill = flag(Col::ChronicallyIll);

        let death_date = self.event_date(&mut c, raw, Col::DeathDate, birth_date);
        if relation.is_some_and(|r| !r.is_parent()) && !raw.get(Col::LaterChildDate).is_empty() {
            c.fail(
                Col::LaterChildDate,
                "只有母亲或父亲行可填写再生育或收养日期",
            );
        }
        let later_child_date = self.event_date(&mut c, raw, Col::LaterChildDate, birth_date);
        let disability = self.disability(&mut c, raw, relation, birth_date);

        let person = if c.errors.is_empty() {
            match (relation, name, sex, birth_date) {
                (Some(relation), Some(name), Some(sex), Some(birth_date)) => Some(CensusPerson {
                    row: raw.row,
                    relation,
                    name: name.to_owned(),
                    sex,
                    id_number,
                    birth_date,
                    phone,
                    bank_name: text(raw, Col::BankName),
                    bank_account,
                    dibao,
                    wubao,
                    chronically_ill,
                    living_situation: text(raw, Col::Living),
                    honor_certificate_no: text(raw, Col::HonorCertificate),
                    death_date,
                    death_certificate_no: text(raw, Col::DeathCertificate),
                    later_child_date,
                    disability,
                    disability_certificate_no: text(raw, Col::DisabilityCertificate),
                    note: text(raw, Col::Note),
                }),
                // Unreachable: each `None` above recorded an error.
                _ => None,
            }
        } else {
            None
        };
        ParsedRow {
            row: raw.row,
            family_no,
            relation,
            hukou,
            village,
            person,
            errors: c.errors,
        }
    }

    /// 公民身份号码: required for parents and guardians; valid, unique in the file, and agreeing
    /// with the declared birth date and sex.
    fn id_number(
        &mut self,
        c: &mut Check,
        raw: &RawRow,
        relation: Option<Relation>,
        birth_date: Option<Date>,
        sex: Option<Sex>,
    ) -> Option<ResidentId> {
        let t = raw.get(Col::IdNumber);
        if t.is_empty() {
            if let Some(r) = relation.filter(|&r| r != Relation::Child) {
                c.fail(Col::IdNumber, format!("{}行必填，不能为空", r.as_zh()));
            }
            return None;
        }
        let id = c.ok(
            Col::IdNumber,
            fields::parse_id(t, raw.was_number(Col::IdNumber), self.today),
        )?;
        match self.ids.entry(id_key(&id)) {
            Entry::Occupied(first) => {
                c.fail(
                    Col::IdNumber,
                    format!("与第 {} 行的公民身份号码重复", first.get()),
                );
            }
            Entry::Vacant(slot) => {
                slot.insert(small_row(raw.row));
            }
        }
        if let (Some(b), Some(s)) = (birth_date, sex)
            && let Err(e) = id.check_agrees(b, s)
        {
            c.fail(Col::IdNumber, e.zh());
        }
        Some(id)
    }

    /// An optional event date: real, not after today, not before the person's birth.
    fn event_date(
        &self,
        c: &mut Check,
        raw: &RawRow,
        col: Col,
        birth_date: Option<Date>,
    ) -> Option<Date> {
        let t = raw.get(col);
        if t.is_empty() {
            return None;
        }
        let d = c.ok(col, fields::parse_date(t))?;
        if d > self.today {
            c.fail(col, format!("{d} 晚于今天（{}）", self.today));
        } else if let Some(b) = birth_date.filter(|&b| d < b) {
            c.fail(col, format!("{d} 早于出生日期 {b}"));
        }
        Some(d)
    }

    /// 残疾等级 and 残疾评定日期 (both or neither), only on the child's row; 残疾证号 likewise.
    fn disability(
        &self,
        c: &mut Check,
        raw: &RawRow,
        relation: Option<Relation>,
        birth_date: Option<Date>,
    ) -> Option<Disability> {
        let cols = [
            Col::DisabilityGrade,
            Col::DisabilityDate,
            Col::DisabilityCertificate,
        ];
        if relation.is_some_and(|r| r != Relation::Child) {
            for col in cols {
                if !raw.get(col).is_empty() {
                    c.fail(col, "只有子女行可填写残疾信息");
                }
            }
            return None;
        }
        let grade = match raw.get(Col::DisabilityGrade) {
            "" => None,
            t => c.ok(Col::DisabilityGrade, fields::parse_grade(t)),
        };
        let assessed = self.event_date(c, raw, Col::DisabilityDate, birth_date);
        let grade_given = !raw.get(Col::DisabilityGrade).is_empty();
        let date_given = !raw.get(Col::DisabilityDate).is_empty();
        if grade_given && !date_given {
            c.fail(Col::DisabilityDate, "填写了残疾等级，须填写残疾评定日期");
        }
        if date_given && !grade_given {
            c.fail(Col::DisabilityGrade, "填写了残疾评定日期，须填写残疾等级");
        }
        if !grade_given && !raw.get(Col::DisabilityCertificate).is_empty() {
            c.fail(Col::DisabilityGrade, "填写了残疾证号，须填写残疾等级");
        }
        Some(Disability {
            grade: grade?,
            assessed: assessed?,
        })
    }

    /// Applies the family rules to the contiguous rows of one 家庭编号 (never empty).
    pub fn family(&mut self, rows: Vec<ParsedRow>) -> Result<CensusFamily, Vec<RowError>> {
        let mut errors: Vec<RowError> = Vec::new();
        let Some(first) = rows.first() else {
            return Err(errors);
        };
        let first_row = first.row;
        let family_no = first.family_no.clone();
        // A row without a family number stands alone and already carries that error; the
        // family rules would only repeat it.
        if !family_no.is_empty() {
            match self.families.entry(family_no.as_str().into()) {
                Entry::Occupied(seen) => errors.push(RowError::new(
                    first_row,
                    Col::FamilyNo.header(),
                    format!(
                        "家庭编号「{family_no}」已在第 {} 行出现；同一家庭的各行须连续排列",
                        seen.get()
                    ),
                )),
                Entry::Vacant(slot) => {
                    slot.insert(small_row(first_row));
                }
            }
            family_rules(&rows, &mut errors);
        }
        let (hukou, village) = (first.hukou, first.village);
        let mut members = Vec::with_capacity(rows.len());
        for row in rows {
            errors.extend(row.errors);
            members.extend(row.person);
        }
        match (hukou, village) {
            (Some(hukou), Some(village)) if errors.is_empty() => Ok(CensusFamily {
                family_no,
                first_row,
                village,
                hukou,
                members,
            }),
            _ => {
                // Row rules first, then family rules, within each row.
                errors.sort_by_key(|e| e.row);
                Err(errors)
            }
        }
    }
}

/// Exactly one child, at most one mother and one father, and one household registration and
/// village for every row.
fn family_rules(rows: &[ParsedRow], errors: &mut Vec<RowError>) {
    let relation = Col::Relation.header();
    let first_of = |r: Relation| -> Option<usize> {
        rows.iter().find(|p| p.relation == Some(r)).map(|p| p.row)
    };
    let (first_child, first_mother, first_father) = (
        first_of(Relation::Child),
        first_of(Relation::Mother),
        first_of(Relation::Father),
    );
    for row in rows {
        let (first, what) = match row.relation {
            Some(Relation::Child) => (first_child, "子女"),
            Some(Relation::Mother) => (first_mother, "母亲"),
            Some(Relation::Father) => (first_father, "父亲"),
            _ => continue,
        };
        if let Some(first) = first.filter(|&f| f != row.row) {
            errors.push(RowError::new(
                row.row,
                relation,
                format!("本家庭已有{what}（第 {first} 行）；每个家庭只能有一行{what}"),
            ));
        }
    }
    let all_relations_known = rows.iter().all(|r| r.relation.is_some());
    if first_child.is_none() && all_relations_known {
        errors.push(RowError::new(
            rows.first().map_or(0, |r| r.row),
            relation,
            "本家庭没有「子女」行；每个家庭须有且只有一行子女",
        ));
    }
    agree(
        rows,
        errors,
        Col::Hukou,
        |r| r.hukou,
        |h| match h {
            Hukou::Urban => "城镇".to_owned(),
            Hukou::Rural => "农村".to_owned(),
        },
    );
    agree(rows, errors, Col::Village, |r| r.village, |v| v.to_string());
}

/// Every row's value in `col` equals the first row's that has one.
fn agree<T: PartialEq + Copy>(
    rows: &[ParsedRow],
    errors: &mut Vec<RowError>,
    col: Col,
    value: impl Fn(&ParsedRow) -> Option<T>,
    show: impl Fn(T) -> String,
) {
    let Some((first_row, first)) = rows.iter().find_map(|r| Some((r.row, value(r)?))) else {
        return;
    };
    for row in rows {
        if let Some(v) = value(row)
            && v != first
        {
            errors.push(RowError::new(
                row.row,
                col.header(),
                format!(
                    "与本家庭第 {first_row} 行不一致（{}），全家应相同",
                    show(first)
                ),
            ));
        }
    }
}
