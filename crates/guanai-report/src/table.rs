//! The shape every report takes: a titled table of typed cells with a totals row, in Chinese and
//! English. Screens, XLSX, CSV and the public summary all render this one model, so the figure on
//! screen is the figure in the file.

use guanai_rules::Fen;
use serde::Serialize;

/// A label in both languages of the application (Chinese first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub zh: String,
    pub en: String,
}

impl Label {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Label {
        Label {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The label in one language: `english` false gives Chinese.
    pub fn pick(&self, english: bool) -> &str {
        if english { &self.en } else { &self.zh }
    }
}

/// What a column holds, which decides how it is written and summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ColumnKind {
    /// A row heading (area, month, category); the totals row says 合计 / Total in the first one.
    Text,
    /// A count of families, persons, visits …; summed in the totals row.
    Count,
    /// Money in fen, written as yuan with two decimals; summed in the totals row.
    Fen,
    /// A share in basis points (10000 = 100 %); the totals row holds the share of the totals,
    /// given by the report, never a sum.
    Share,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub label: Label,
    pub kind: ColumnKind,
}

impl Column {
    pub fn new(kind: ColumnKind, zh: &str, en: &str) -> Column {
        Column {
            label: Label::new(zh, en),
            kind,
        }
    }
}

/// One cell. `Suppressed` is a figure withheld from publication because it is small enough to
/// identify a family, or would let one be worked out (三(四), see `publicity`); it is written as
/// "*", with the threshold in the table's notes, never as a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Cell {
    Text(String),
    Count(i64),
    /// Serialised as the integer number of fen (`Fen` itself carries no serde impl).
    #[serde(serialize_with = "serialize_fen")]
    Fen(Fen),
    /// Basis points; `None` when there is nothing to divide (no periods due, say).
    Share(Option<i64>),
    Suppressed,
}

impl Cell {
    /// The integer a numeric cell holds (a count, fen, or basis points).
    pub fn number(&self) -> Option<i64> {
        match self {
            Cell::Count(n) => Some(*n),
            Cell::Fen(f) => Some(f.get()),
            Cell::Share(s) => *s,
            Cell::Text(_) | Cell::Suppressed => None,
        }
    }
}

/// Writes an amount as its integer number of fen.
fn serialize_fen<S: serde::Serializer>(fen: &Fen, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(fen.get())
}

/// A report table: title, what it covers, columns, rows and (for counts and money) a totals row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// A short stable name, used for file and sheet names (`families`, `payments` …).
    pub key: String,
    pub title: Label,
    /// The area and period covered, e.g. 兰山区 2026-01 至 2026-12.
    pub subtitle: Label,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    pub totals: Option<Vec<Cell>>,
    /// Definitions and the clauses the figures answer to.
    pub notes: Vec<Label>,
}

impl Table {
    /// The totals row of the numeric columns (counts and money summed; shares left to the
    /// caller through `share_of`, which gets the summed row and the column index).
    pub fn sum_rows(&self, share_of: impl Fn(&[Cell], usize) -> Option<i64>) -> Vec<Cell> {
        let mut totals: Vec<Cell> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| match c.kind {
                ColumnKind::Text if i == 0 => Cell::Text("合计".to_owned()),
                ColumnKind::Text => Cell::Text(String::new()),
                ColumnKind::Count => Cell::Count(
                    self.rows
                        .iter()
                        .filter_map(|r| r.get(i).and_then(Cell::number))
                        .sum(),
                ),
                ColumnKind::Fen => Cell::Fen(Fen(self
                    .rows
                    .iter()
                    .filter_map(|r| r.get(i).and_then(Cell::number))
                    .sum())),
                ColumnKind::Share => Cell::Share(None),
            })
            .collect();
        for (i, c) in self.columns.iter().enumerate() {
            if c.kind == ColumnKind::Share {
                totals[i] = Cell::Share(share_of(&totals, i));
            }
        }
        totals
    }

    /// The column index of a key column by its Chinese label.
    pub fn column(&self, zh: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.label.zh == zh)
    }
}

/// A share in basis points, rounded half up; `None` when the whole is zero.
pub fn share(part: i64, whole: i64) -> Option<i64> {
    if whole <= 0 {
        return None;
    }
    Some((part * 20000 + whole) / (whole * 2))
}

/// A share written as a percentage with one decimal ("87.5%"), or "—".
pub fn share_text(basis_points: Option<i64>) -> String {
    match basis_points {
        Some(bp) => {
            let tenths = (bp + 5) / 10;
            format!("{}.{}%", tenths / 10, tenths % 10)
        }
        None => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_half_up_and_refuse_an_empty_whole() {
        assert_eq!(share(1, 3), Some(3333));
        assert_eq!(share(2, 3), Some(6667));
        assert_eq!(share(1, 8), Some(1250));
        assert_eq!(share(0, 0), None);
        assert_eq!(share_text(Some(8750)), "87.5%");
        assert_eq!(share_text(Some(10000)), "100.0%");
        assert_eq!(share_text(Some(3333)), "33.3%");
        assert_eq!(share_text(None), "—");
    }

    #[test]
    fn totals_sum_counts_and_money_and_ask_for_shares() {
        let table = Table {
            key: "t".into(),
            title: Label::new("表", "Table"),
            subtitle: Label::new("", ""),
            columns: vec![
                Column::new(ColumnKind::Text, "县区", "County"),
                Column::new(ColumnKind::Count, "户数", "Families"),
                Column::new(ColumnKind::Fen, "金额", "Amount"),
                Column::new(ColumnKind::Share, "占比", "Share"),
            ],
            rows: vec![
                vec![
                    Cell::Text("a".into()),
                    Cell::Count(2),
                    Cell::Fen(Fen(150)),
                    Cell::Share(Some(5000)),
                ],
                vec![
                    Cell::Text("b".into()),
                    Cell::Count(3),
                    Cell::Fen(Fen(50)),
                    Cell::Share(None),
                ],
            ],
            totals: None,
            notes: vec![],
        };
        let totals = table.sum_rows(|row, _| share(row[1].number()?, 10));
        assert_eq!(
            totals,
            vec![
                Cell::Text("合计".into()),
                Cell::Count(5),
                Cell::Fen(Fen(200)),
                Cell::Share(Some(5000))
            ]
        );
    }
}
