//! Death lists for 数据比对 (data comparison): civil affairs offices and funeral homes send the
//! deceased persons of a period as a spreadsheet, one row per person, with the columns
//! 公民身份号码 and 死亡日期 (both required) and 姓名 (optional). [`read_death_list`] reads such a
//! file — .csv in UTF-8 (with or without BOM) or GBK/GB18030, or .xlsx — through the same row
//! sources and cell parsers as the census, and returns every death it could read together with
//! every row error. Matching the deaths against the archive is the storage layer's work.
//!
//! Rows: the header row is the first with a 公民身份号码 cell among the first non-blank rows
//! (title rows above it are allowed); rows whose known cells are all blank are skipped. For
//! XLSX, the first sheet whose header row has the required columns is read.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::path::Path;

use guanai_rules::ResidentId;
use jiff::civil::Date;

use crate::columns::{Column, Kind, Schema};
use crate::error::{CensusError, RowError};
use crate::fields;
use crate::source::{RawRow, RowSource};

/// Index of 公民身份号码 in [`COLUMNS`] and in each raw row.
const ID: usize = 0;
/// Index of 死亡日期.
const DEATH_DATE: usize = 1;
/// Index of 姓名.
const NAME: usize = 2;

/// The death list's columns; a raw row's cells follow this order.
const COLUMNS: [Column; 3] = [
    Column {
        header: "公民身份号码",
        aliases: crate::columns::ID_ALIASES,
        required: true,
        kind: Kind::LongNumber,
        comment: "必填：18 位（15 位旧号自动转换）",
        width: 22.0,
    },
    Column {
        header: "死亡日期",
        aliases: &["死亡时间", "去世日期", "去世时间"],
        required: true,
        kind: Kind::Date,
        comment: "必填：如 2024-03-15，不晚于今天，不早于出生日期",
        width: 13.0,
    },
    Column {
        header: "姓名",
        aliases: &[],
        required: false,
        kind: Kind::Text,
        comment: "选填，仅供核对",
        width: 10.0,
    },
];

/// The death list sheet: header row marked by 公民身份号码, no preferred worksheet.
const SCHEMA: Schema = Schema {
    columns: &COLUMNS,
    anchor: COLUMNS[ID].header,
    preferred_sheet: None,
};

/// One valid row of a death list: who died, and when.
///
/// `Debug` masks the ID number and leaves out the name, so that a person never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ReportedDeath {
    /// The row number as Excel shows it (of the first row, when the person was listed twice).
    pub row: usize,
    /// 公民身份号码; a 15-character legacy number in the file is converted to 18 characters.
    pub id_number: ResidentId,
    /// 死亡日期: not after the reading date, not before the birth date in the ID number.
    pub death_date: Date,
    /// 姓名 as written (trimmed), when given; only for a person to cross-check, never matched.
    pub name: Option<String>,
}

impl fmt::Debug for ReportedDeath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportedDeath")
            .field("row", &self.row)
            .field("id_number", &self.id_number)
            .field("death_date", &self.death_date)
            .finish_non_exhaustive()
    }
}

/// What a death list holds: the valid deaths in file order, each ID number once, and every row
/// error ordered by row. A file with errors still yields the rows that are valid; whether to
/// act on them before the sender corrects the file is the caller's decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeathList {
    pub deaths: Vec<ReportedDeath>,
    pub errors: Vec<RowError>,
}

/// Reads a death list (.csv or .xlsx, by extension); `today` is the reading date, after which
/// no death date may lie.
///
/// Each row needs a valid 公民身份号码 (checked with [`ResidentId::parse`]; 15-character legacy
/// numbers are converted with [`ResidentId::from_legacy`]) and a 死亡日期 in the forms the census
/// accepts (`YYYY-MM-DD`, `YYYY/M/D`, `YYYY.M.D`, `YYYYMMDD`, `YYYY年M月D日`, or an Excel date
/// cell), neither after `today` nor before the birth date encoded in the ID number. Otherwise
/// the row is left out and each problem becomes a [`RowError`] naming the row and column.
///
/// The same ID number listed again with the same death date is merged silently into the first
/// row (taking its 姓名 if the first row had none); with a different death date the later row
/// is a row error naming the first.
///
/// A file that cannot be opened, has no header row, or lacks 公民身份号码 or 死亡日期 is a
/// [`CensusError`] naming what is missing. A read failure in the middle of the file (a damaged
/// XLSX part, an I/O error) ends the reading and is the last row error, marked 导入中止.
pub fn read_death_list(path: &Path, today: Date) -> Result<DeathList, CensusError> {
    let mut source = RowSource::open(path, SCHEMA)?;
    let mut raw = RawRow::default();
    let mut list = DeathList::default();
    // Each ID number accepted so far, with its index in `list.deaths`.
    let mut seen: HashMap<ResidentId, usize> = HashMap::new();
    loop {
        match source.read_into(&mut raw) {
            Ok(true) => {}
            Ok(false) => break,
            Err(failure) => {
                list.errors.push(failure);
                break;
            }
        }
        if raw.is_blank() {
            continue;
        }
        let death = match parse_row(&raw, today) {
            Ok(death) => death,
            Err(errors) => {
                list.errors.extend(errors);
                continue;
            }
        };
        match seen.entry(death.id_number) {
            Entry::Vacant(slot) => {
                slot.insert(list.deaths.len());
                list.deaths.push(death);
            }
            Entry::Occupied(first) => {
                let Some(first) = list.deaths.get_mut(*first.get()) else {
                    continue;
                };
                if first.death_date == death.death_date {
                    if first.name.is_none() {
                        first.name = death.name;
                    }
                } else {
                    list.errors.push(RowError::new(
                        death.row,
                        COLUMNS[ID].header,
                        format!(
                            "与第 {} 行的公民身份号码重复，但死亡日期不同（第 {} 行为 {}，本行为 {}）",
                            first.row, first.row, first.death_date, death.death_date
                        ),
                    ));
                }
            }
        }
    }
    Ok(list)
}

/// Applies the row rules to one non-blank row: the death, or every problem with the row.
fn parse_row(raw: &RawRow, today: Date) -> Result<ReportedDeath, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut fail = |col: usize, reason: String| {
        errors.push(RowError::new(raw.row, COLUMNS[col].header, reason));
    };
    let id_number = match raw.cell(ID) {
        "" => {
            fail(ID, "必填，不能为空".to_owned());
            None
        }
        text => fields::parse_id(text, raw.is_number(ID), today)
            .map_err(|why| fail(ID, why))
            .ok(),
    };
    let death_date = match raw.cell(DEATH_DATE) {
        "" => {
            fail(DEATH_DATE, "必填，不能为空".to_owned());
            None
        }
        text => match fields::parse_date(text) {
            Err(why) => {
                fail(DEATH_DATE, why);
                None
            }
            Ok(d) if d > today => {
                fail(DEATH_DATE, format!("{d} 晚于今天（{today}）"));
                None
            }
            Ok(d) => match id_number.map(|id| id.birth_date()).filter(|&b| d < b) {
                Some(birth) => {
                    fail(DEATH_DATE, format!("{d} 早于身份号码中的出生日期 {birth}"));
                    None
                }
                None => Some(d),
            },
        },
    };
    match (id_number, death_date) {
        (Some(id_number), Some(death_date)) if errors.is_empty() => Ok(ReportedDeath {
            row: raw.row,
            id_number,
            death_date,
            name: Some(raw.cell(NAME))
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        text.parse().expect("test date")
    }

    fn row(cells: [&str; 3]) -> RawRow {
        let mut raw = RawRow::new(5, COLUMNS.len());
        for (cell, text) in raw.cells.iter_mut().zip(cells) {
            cell.push_str(text);
        }
        raw
    }

    #[test]
    fn a_valid_row_becomes_a_death_with_a_trimmed_name() {
        let death = parse_row(
            &row(["372822196503120173", "2024/3/15", "\u{3000}李建国 "]),
            d("2026-06-30"),
        )
        .expect("valid");
        assert_eq!(death.row, 5);
        assert_eq!(death.id_number.as_str(), "372822196503120173");
        assert_eq!(death.death_date, d("2024-03-15"));
        assert_eq!(death.name.as_deref(), Some("李建国"));
        let shown = format!("{death:?}");
        assert!(!shown.contains("李建国"), "{shown}");
        assert!(!shown.contains("372822196503120173"), "{shown}");
    }

    #[test]
    fn blank_required_cells_are_both_reported() {
        let errors = parse_row(&row(["", "", "李建国"]), d("2026-06-30")).expect_err("blank");
        assert_eq!(
            errors,
            [
                RowError::new(5, "公民身份号码", "必填，不能为空"),
                RowError::new(5, "死亡日期", "必填，不能为空"),
            ]
        );
    }

    #[test]
    fn the_schema_is_anchored_on_the_id_number() {
        assert_eq!(SCHEMA.anchor, "公民身份号码");
        assert_eq!(COLUMNS[DEATH_DATE].header, "死亡日期");
        assert_eq!(COLUMNS[NAME].header, "姓名");
    }
}
