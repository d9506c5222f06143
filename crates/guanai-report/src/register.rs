//! The statistical register (三(三)): what the rules engine says of a family month by month, kept
//! as segments of months in which nothing a report counts changes — the category (spec §3), the
//! hukou, which parents receive the monthly assistance (§4) and whether a dedicated visitor is
//! needed (§6) — with the parents' birth dates for age bands. The storage layer evaluates the
//! engine at every month in which something can change ([`candidate_months`]) and keeps the
//! encoded profile; reports tally profiles ([`FamilyTally`]) without evaluating again.

use std::collections::BTreeSet;

use guanai_rules::engine::{Category, Evaluation, ServiceKind};
use guanai_rules::{Family, Hukou, Month, calendar};
use jiff::civil::Date;
use thiserror::Error;

use crate::table::{Cell, Column, ColumnKind, Label, Table};

/// What a report counts of a family in one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthState {
    pub category: Category,
    pub hukou: Hukou,
    /// Bit `i` set: parent `i` (the engine's parent order) receives the monthly assistance.
    pub paid: u8,
    /// A parent needs a dedicated visitor (专人, 二(一)).
    pub dedicated: bool,
}

impl MonthState {
    /// The state of `family` in the month `evaluation` was made for.
    pub fn of(family: &Family, evaluation: &Evaluation) -> MonthState {
        let paid = evaluation
            .monthly()
            .fold(0u8, |mask, (i, _)| mask | (1 << i));
        MonthState {
            category: evaluation.category,
            hukou: family.hukou(),
            paid,
            dedicated: evaluation
                .parent_services
                .iter()
                .any(|s| s.contains(ServiceKind::DedicatedVisitor)),
        }
    }

    /// A special-difficulty family (bereaved, orphan or disabled).
    pub fn special(&self) -> bool {
        self.category != Category::None
    }
}

/// A family's register entry: the parents' birth dates (engine order) and the segments, each
/// holding from its month until the next one. Before the first segment the family is not on
/// the register (its file could not be evaluated then, e.g. no registration yet).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub parents: [Option<Date>; 2],
    pub segments: Vec<(Month, MonthState)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("statistical register profile {text:?}: {problem}")]
pub struct ProfileError {
    pub text: String,
    pub problem: &'static str,
}

impl Profile {
    /// Appends the state of a month later than every month pushed before; a state equal to
    /// the current segment's extends it.
    pub fn push(&mut self, month: Month, state: MonthState) {
        if self.segments.last().is_some_and(|(_, s)| *s == state) {
            return;
        }
        self.segments.push((month, state));
    }

    /// Ends the register at `month` (the file can no longer be evaluated): represented by a
    /// segment of category none without parents paid, keeping the last hukou.
    pub fn push_unreadable(&mut self, month: Month) {
        if let Some(&(_, last)) = self.segments.last() {
            self.push(
                month,
                MonthState {
                    category: Category::None,
                    hukou: last.hukou,
                    paid: 0,
                    dedicated: false,
                },
            );
        }
    }

    /// The state in force in `month`, if the family is on the register by then.
    pub fn at(&self, month: Month) -> Option<&MonthState> {
        let i = self.segments.partition_point(|(m, _)| *m <= month);
        i.checked_sub(1).map(|i| &self.segments[i].1)
    }

    /// The compact text kept in the database: `BIRTH,BIRTH;YYYYMM` + category (B bereaved,
    /// O orphan, D disabled, N none) + hukou (U/R) + paid mask (0–3) + dedicated (d or -),
    /// segments separated by spaces; a missing birth date is `-`.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(24 + self.segments.len() * 11);
        for (i, b) in self.parents.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match b {
                Some(d) => out.push_str(&d.to_string()),
                None => out.push('-'),
            }
        }
        out.push(';');
        for (i, (m, s)) in self.segments.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&format!("{:04}{:02}", m.year(), m.month()));
            out.push(match s.category {
                Category::Bereaved => 'B',
                Category::Orphan => 'O',
                Category::Disabled => 'D',
                Category::None => 'N',
            });
            out.push(match s.hukou {
                Hukou::Urban => 'U',
                Hukou::Rural => 'R',
            });
            out.push(char::from(b'0' + (s.paid & 3)));
            out.push(if s.dedicated { 'd' } else { '-' });
        }
        out
    }

    /// Reads [`Profile::encode`]'s text.
    pub fn parse(text: &str) -> Result<Profile, ProfileError> {
        let bad = |problem| ProfileError {
            text: text.chars().take(80).collect(),
            problem,
        };
        let (births, segments) = text.split_once(';').ok_or_else(|| bad("no ';'"))?;
        let mut profile = Profile::default();
        let mut births = births.split(',');
        for slot in &mut profile.parents {
            match births.next() {
                Some("-") | None => {}
                Some(d) => {
                    *slot = Some(calendar::parse_date(d).map_err(|_| bad("bad birth date"))?)
                }
            }
        }
        for segment in segments.split(' ').filter(|s| !s.is_empty()) {
            let b = segment.as_bytes();
            if b.len() != 10 || !b[..6].iter().all(u8::is_ascii_digit) {
                return Err(bad("bad segment"));
            }
            let year = segment[..4].parse().map_err(|_| bad("bad year"))?;
            let month = segment[4..6].parse().map_err(|_| bad("bad month"))?;
            let month = Month::new(year, month).ok_or_else(|| bad("bad month"))?;
            let category = match b[6] {
                b'B' => Category::Bereaved,
                b'O' => Category::Orphan,
                b'D' => Category::Disabled,
                b'N' => Category::None,
                _ => return Err(bad("bad category")),
            };
            let hukou = match b[7] {
                b'U' => Hukou::Urban,
                b'R' => Hukou::Rural,
                _ => return Err(bad("bad hukou")),
            };
            let paid = match b[8] {
                d @ b'0'..=b'3' => d - b'0',
                _ => return Err(bad("bad paid mask")),
            };
            let dedicated = match b[9] {
                b'd' => true,
                b'-' => false,
                _ => return Err(bad("bad dedicated flag")),
            };
            if profile.segments.last().is_some_and(|(m, _)| *m >= month) {
                return Err(bad("segments out of order"));
            }
            profile.segments.push((
                month,
                MonthState {
                    category,
                    hukou,
                    paid,
                    dedicated,
                },
            ));
        }
        Ok(profile)
    }
}

/// The months in which a family's state can change, from `start` on: the month after every
/// dated fact (timing rule, spec §1), the month after each birthday at the ages the pack's
/// rules look at, and the pack's own start months. Evaluating the engine at exactly these
/// months gives the same profile as evaluating every month (a property test checks it).
pub fn candidate_months(
    start: Month,
    events: impl IntoIterator<Item = Date>,
    births: impl IntoIterator<Item = Date>,
    ages: &[i16],
    fixed: &[Month],
) -> Vec<Month> {
    let mut months = BTreeSet::new();
    months.insert(start);
    for d in events {
        months.insert(Month::effective_from(d));
    }
    for b in births {
        months.insert(Month::effective_from(b));
        for &age in ages {
            if let Some(d) = calendar::birthday(b, age) {
                months.insert(Month::effective_from(d));
            }
        }
    }
    months.extend(fixed.iter().copied());
    months.into_iter().filter(|m| *m >= start).collect()
}

/// Age bands of the parents receiving the monthly assistance (age at the end of the month).
pub const AGE_BANDS: [(i16, &str, &str); 5] = [
    (0, "49岁以下", "under 49"),
    (49, "49–59岁", "49–59"),
    (60, "60–69岁", "60–69"),
    (70, "70–79岁", "70–79"),
    (80, "80岁及以上", "80 and over"),
];

/// The age completed by the last day of `month`.
pub fn age_at_end(birth: Date, month: Month) -> i16 {
    // The birthday falls inside its month (29 February on the 28th), so by the month's last
    // day it has been reached exactly when its month is not later than `month`'s.
    let age = month.year() - birth.year() - i16::from(birth.month() > month.month());
    age.max(0)
}

fn band_of(age: i16) -> usize {
    AGE_BANDS
        .iter()
        .rposition(|(from, _, _)| age >= *from)
        .unwrap_or(0)
}

/// How a family stands in the programme besides its facts (casework, 退出).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    /// It has applications and none approved: not yet enrolled.
    pub pending: bool,
    /// The approved exit's date, if it left the programme.
    pub exited_on: Option<Date>,
}

/// The family and person counts of one area for a period `from..=to` (table 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FamilyTally {
    /// Special-difficulty families at the end of the period, by category.
    pub bereaved: i64,
    pub disabled: i64,
    pub orphan: i64,
    pub urban: i64,
    pub rural: i64,
    /// Parents receiving the monthly assistance in the period's last month, and their ages.
    pub paid_parents: i64,
    pub paid_by_age: [i64; 5],
    /// Families that became special-difficulty families within the period.
    pub new: i64,
    /// Families that stopped being special-difficulty families, or left, within the period.
    pub exited: i64,
    /// Families with applications pending (not counted above).
    pub pending: i64,
}

impl FamilyTally {
    /// Counts one family. A family is "in" at a month when its category is special there, it
    /// is enrolled, and it has not left by the end of that month.
    pub fn add(&mut self, profile: &Profile, standing: Standing, from: Month, to: Month) {
        if standing.pending {
            self.pending += 1;
            return;
        }
        let left_by = |m: Month| standing.exited_on.is_some_and(|d| Month::of(d) <= m);
        let before = from.prev();
        let was_in = profile.at(before).is_some_and(|s| s.special()) && !left_by(before);
        let end = profile.at(to).filter(|s| s.special() && !left_by(to));
        if let Some(s) = end {
            match s.category {
                Category::Bereaved => self.bereaved += 1,
                Category::Disabled => self.disabled += 1,
                Category::Orphan => self.orphan += 1,
                Category::None => {}
            }
            match s.hukou {
                Hukou::Urban => self.urban += 1,
                Hukou::Rural => self.rural += 1,
            }
            for (i, birth) in profile.parents.iter().enumerate() {
                if s.paid & (1 << i) != 0 {
                    self.paid_parents += 1;
                    if let Some(b) = birth {
                        self.paid_by_age[band_of(age_at_end(*b, to))] += 1;
                    }
                }
            }
        }
        if end.is_some() && !was_in {
            // Entered within the period (it may have been in before the period and out at its start).
            self.new += 1;
        } else if end.is_none() && (was_in || entered_within(profile, from, to)) {
            self.exited += 1;
        }
    }

    pub fn families(&self) -> i64 {
        self.bereaved + self.disabled + self.orphan
    }

    fn merge(&mut self, other: &FamilyTally) {
        self.bereaved += other.bereaved;
        self.disabled += other.disabled;
        self.orphan += other.orphan;
        self.urban += other.urban;
        self.rural += other.rural;
        self.paid_parents += other.paid_parents;
        for (a, b) in self.paid_by_age.iter_mut().zip(other.paid_by_age) {
            *a += b;
        }
        self.new += other.new;
        self.exited += other.exited;
        self.pending += other.pending;
    }
}

/// Whether a segment inside `from..=to` was special (a family in and out within the period).
fn entered_within(profile: &Profile, from: Month, to: Month) -> bool {
    profile
        .segments
        .iter()
        .any(|(m, s)| *m >= from && *m <= to && s.special())
}

/// Table 1: families and persons per area (rows in the given order) for a period.
pub fn families_table(rows: &[(Label, FamilyTally)], subtitle: Label) -> Table {
    let mut columns = vec![
        Column::new(ColumnKind::Text, "地区", "Area"),
        Column::new(ColumnKind::Count, "特殊困难家庭（户）", "Families"),
        Column::new(ColumnKind::Count, "失独家庭", "Bereaved"),
        Column::new(ColumnKind::Count, "伤残家庭", "Disabled"),
        Column::new(ColumnKind::Count, "孤儿家庭", "Orphan"),
        Column::new(ColumnKind::Count, "城镇户", "Urban"),
        Column::new(ColumnKind::Count, "农村户", "Rural"),
        Column::new(ColumnKind::Count, "特别扶助对象（人）", "Parents assisted"),
    ];
    for (_, zh, en) in AGE_BANDS {
        columns.push(Column::new(ColumnKind::Count, zh, en));
    }
    columns.extend([
        Column::new(ColumnKind::Count, "本期新增（户）", "New"),
        Column::new(ColumnKind::Count, "本期退出（户）", "Exited"),
        Column::new(
            ColumnKind::Count,
            "申请审批中（户）",
            "Applications pending",
        ),
    ]);
    let mut total = FamilyTally::default();
    let mut table_rows = Vec::with_capacity(rows.len());
    for (label, t) in rows {
        total.merge(t);
        table_rows.push(tally_row(Cell::Text(label.zh.clone()), t));
    }
    let totals = tally_row(Cell::Text("合计".to_owned()), &total);
    Table {
        key: "families".to_owned(),
        title: Label::new(
            "计划生育特殊困难家庭及扶助对象情况表",
            "Special-difficulty families and persons assisted",
        ),
        subtitle,
        columns,
        rows: table_rows,
        totals: Some(totals),
        notes: vec![
            Label::new(
                "家庭类别按规则引擎逐月判定（失独、孤儿、伤残，政策规则 §3），以期末月为准；已批准退出的家庭不计。",
                "Categories are the rules engine's for the period's last month (spec §3); families that left are not counted.",
            ),
            Label::new(
                "特别扶助对象为期末月享受特别扶助金的父母（二(二)），年龄为期末月最后一天的周岁。",
                "Parents assisted receive the monthly special assistance in the last month (二(二)); ages on its last day.",
            ),
            Label::new(
                "本期新增：期初前一月不在册、期末在册；本期退出：期初前一月在册（或期内曾在册）、期末不在册。",
                "New: not on the register the month before the period, on it at its end; exited: on it before (or within) the period, not at its end.",
            ),
        ],
    }
}

fn tally_row(first: Cell, t: &FamilyTally) -> Vec<Cell> {
    let mut row = vec![
        first,
        Cell::Count(t.families()),
        Cell::Count(t.bereaved),
        Cell::Count(t.disabled),
        Cell::Count(t.orphan),
        Cell::Count(t.urban),
        Cell::Count(t.rural),
        Cell::Count(t.paid_parents),
    ];
    row.extend(t.paid_by_age.iter().map(|n| Cell::Count(*n)));
    row.extend([
        Cell::Count(t.new),
        Cell::Count(t.exited),
        Cell::Count(t.pending),
    ]);
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use guanai_rules::calendar::parse_date;

    fn m(s: &str) -> Month {
        Month::parse(s).expect("month")
    }

    fn state(category: Category, paid: u8) -> MonthState {
        MonthState {
            category,
            hukou: Hukou::Rural,
            paid,
            dedicated: false,
        }
    }

    #[test]
    fn profiles_round_trip_and_merge_equal_states() {
        let mut p = Profile {
            parents: [Some(parse_date("1960-02-29").expect("date")), None],
            segments: vec![],
        };
        p.push(m("2008-01"), state(Category::None, 0));
        p.push(m("2010-05"), state(Category::None, 0));
        p.push(m("2014-10"), state(Category::Bereaved, 1));
        p.push(
            m("2020-03"),
            MonthState {
                dedicated: true,
                hukou: Hukou::Urban,
                ..state(Category::Bereaved, 3)
            },
        );
        assert_eq!(p.segments.len(), 3);
        let text = p.encode();
        assert_eq!(text, "1960-02-29,-;200801NR0- 201410BR1- 202003BU3d");
        assert_eq!(Profile::parse(&text).expect("profile"), p);
        assert_eq!(p.at(m("2007-12")), None);
        assert_eq!(p.at(m("2014-09")).expect("state").category, Category::None);
        assert_eq!(p.at(m("2014-10")).expect("state").paid, 1);
        assert!(p.at(m("2030-01")).expect("state").dedicated);
    }

    #[test]
    fn bad_profiles_are_refused_with_the_problem() {
        for (text, problem) in [
            ("", "no ';'"),
            ("-,-;2014X0BR1-", "bad segment"),
            ("-,-;201410XR1-", "bad category"),
            ("-,-;201410BR9-", "bad paid mask"),
            ("-,-;201410BR1- 201401BR1-", "segments out of order"),
            ("1960-13-01,-;", "bad birth date"),
        ] {
            assert_eq!(
                Profile::parse(text).expect_err("bad").problem,
                problem,
                "{text}"
            );
        }
    }

    #[test]
    fn candidates_hold_the_month_after_each_event_and_birthday() {
        let months = candidate_months(
            m("2008-01"),
            [
                parse_date("2015-03-31").expect("date"),
                parse_date("2001-01-01").expect("date"),
            ],
            [parse_date("1966-11-30").expect("date")],
            &[49, 60],
            &[m("2014-10")],
        );
        let text: Vec<String> = months.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            ["2008-01", "2014-10", "2015-04", "2015-12", "2026-12"]
        );
    }

    #[test]
    fn ages_are_completed_by_the_end_of_the_month() {
        let b = parse_date("1960-06-15").expect("date");
        assert_eq!(age_at_end(b, m("2020-05")), 59);
        assert_eq!(age_at_end(b, m("2020-06")), 60);
        assert_eq!(age_at_end(b, m("2020-12")), 60);
        assert_eq!(age_at_end(b, m("2021-01")), 60);
        let leap = parse_date("1964-02-29").expect("date");
        assert_eq!(age_at_end(leap, m("2013-01")), 48);
        assert_eq!(age_at_end(leap, m("2013-02")), 49);
        assert_eq!(band_of(48), 0);
        assert_eq!(band_of(49), 1);
        assert_eq!(band_of(80), 4);
    }

    #[test]
    fn the_tally_counts_the_period_end_new_and_exited() {
        let born = Some(parse_date("1950-01-10").expect("date"));
        let mut entering = Profile {
            parents: [born, None],
            segments: vec![],
        };
        entering.push(m("2008-01"), state(Category::None, 0));
        entering.push(m("2026-04"), state(Category::Bereaved, 1));
        let mut leaving = Profile {
            parents: [born, None],
            segments: vec![],
        };
        leaving.push(m("2008-01"), state(Category::Disabled, 1));
        let (from, to) = (m("2026-01"), m("2026-12"));
        let mut t = FamilyTally::default();
        t.add(&entering, Standing::default(), from, to);
        t.add(
            &leaving,
            Standing {
                pending: false,
                exited_on: Some(parse_date("2026-06-30").expect("date")),
            },
            from,
            to,
        );
        t.add(&leaving, Standing::default(), from, to);
        t.add(
            &entering,
            Standing {
                pending: true,
                exited_on: None,
            },
            from,
            to,
        );
        assert_eq!(t.bereaved, 1);
        assert_eq!(t.disabled, 1);
        assert_eq!(t.families(), 2);
        assert_eq!(t.rural, 2);
        assert_eq!(t.paid_parents, 2);
        assert_eq!(t.paid_by_age, [0, 0, 0, 2, 0]);
        assert_eq!(t.new, 1);
        assert_eq!(t.exited, 1);
        assert_eq!(t.pending, 1);
        let table = families_table(
            &[(Label::new("甲", "A"), t), (Label::new("乙", "B"), t)],
            Label::new("", ""),
        );
        assert_eq!(table.rows.len(), 2);
        let totals = table.totals.expect("totals");
        assert_eq!(totals[1], Cell::Count(4));
        assert_eq!(totals[0], Cell::Text("合计".into()));
    }
}
