//! The statistical tables a county office reports upward besides families and persons
//! ([`crate::register::families_table`]): payments by month and by area with the funding split
//! (二(二): higher-level funds and county finance), one-time grants, services (spec §6) and visits
//! (二(一)). The storage layer sums; this module lays the sums out, with totals and notes.

use std::collections::BTreeMap;

use guanai_rules::engine::ServiceKind;
use guanai_rules::{Fen, Month};

use crate::table::{Cell, Column, ColumnKind, Label, Table, share};

/// Payments of approved runs summed for one month (the run's), area, kind and nature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentTotal {
    pub month: Month,
    pub area: String,
    pub kind: String,
    pub nature: String,
    pub lines: i64,
    pub families: i64,
    pub amount: i64,
    pub standard_fen: i64,
    pub county_fen: i64,
}

/// Visit periods of a year for one area and kind of period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitTally {
    pub area: String,
    /// regular | spring_festival | mid_autumn
    pub kind: String,
    pub planned: i64,
    /// Due by the day the report is made.
    pub due: i64,
    /// Visited, of those due.
    pub done: i64,
}

/// The payment kinds, as the runs store them, with their names (二(二), 二(三), 二(五)).
pub const PAYMENT_KINDS: [(&str, &str, &str); 7] = [
    (
        "bereaved_assistance",
        "失独特别扶助金",
        "Bereaved assistance",
    ),
    (
        "disabled_assistance",
        "伤残特别扶助金",
        "Disabled assistance",
    ),
    ("bereaved_grant", "失独一次性救助金", "Bereaved grant"),
    ("orphan_grant", "孤儿一次性救助金", "Orphan grant"),
    ("disabled_grant", "伤残一次性救助金", "Disabled grant"),
    (
        "funeral_reimbursement",
        "丧葬费报销",
        "Funeral reimbursement",
    ),
    ("medical_relief", "医疗救助", "Medical relief"),
];

fn payment_columns(first: Column) -> Vec<Column> {
    let mut columns = vec![first];
    for (_, zh, en) in PAYMENT_KINDS {
        columns.push(Column::new(ColumnKind::Fen, zh, en));
    }
    columns.extend([
        Column::new(ColumnKind::Fen, "其中：补发", "of which arrears"),
        Column::new(ColumnKind::Fen, "其中：追回", "of which recovered"),
        Column::new(ColumnKind::Fen, "上级资金", "Higher-level funds"),
        Column::new(ColumnKind::Fen, "县级财政", "County finance"),
        Column::new(ColumnKind::Fen, "合计", "Total"),
    ]);
    columns
}

#[derive(Default, Clone, Copy)]
struct Sums {
    by_kind: [i64; 7],
    arrears: i64,
    recovered: i64,
    standard: i64,
    county: i64,
    amount: i64,
}

impl Sums {
    fn add(&mut self, t: &PaymentTotal) {
        if let Some(i) = PAYMENT_KINDS.iter().position(|(k, _, _)| *k == t.kind) {
            self.by_kind[i] += t.amount;
        }
        match t.nature.as_str() {
            "arrears" => self.arrears += t.amount,
            "recovery" => self.recovered += t.amount,
            _ => {}
        }
        self.standard += t.standard_fen;
        self.county += t.county_fen;
        self.amount += t.amount;
    }

    fn row(&self, first: Cell) -> Vec<Cell> {
        let mut row = vec![first];
        row.extend(self.by_kind.iter().map(|a| Cell::Fen(Fen(*a))));
        row.extend(
            [
                self.arrears,
                self.recovered,
                self.standard,
                self.county,
                self.amount,
            ]
            .map(|a| Cell::Fen(Fen(a))),
        );
        row
    }
}

fn payment_notes() -> Vec<Label> {
    vec![
        Label::new(
            "按发放月份统计已批准的发放批次（含补发与追回，追回为负数）；金额单位：元。",
            "Approved payment runs by the month they paid (arrears included, recoveries negative); yuan.",
        ),
        Label::new(
            "上级资金为国家和省级标准部分，县级财政为提高部分及一次性救助（二(二)），二者之和等于合计。",
            "Higher-level funds pay the national/provincial standard; county finance the local top-up and the grants (二(二)); the two add up to the total.",
        ),
    ]
}

/// Table 2: payments per month of the period (every month shown, empty ones as zero).
pub fn payments_by_month(
    totals: &[PaymentTotal],
    from: Month,
    to: Month,
    subtitle: Label,
) -> Table {
    let mut months: BTreeMap<Month, Sums> = BTreeMap::new();
    let mut m = from;
    while m <= to {
        months.insert(m, Sums::default());
        m = m.next();
    }
    for t in totals {
        months.entry(t.month).or_default().add(t);
    }
    let table = Table {
        key: "payments_by_month".to_owned(),
        title: Label::new("扶助资金发放情况表（按月）", "Payments by month"),
        subtitle,
        columns: payment_columns(Column::new(ColumnKind::Text, "月份", "Month")),
        rows: months
            .iter()
            .map(|(m, s)| s.row(Cell::Text(m.to_string())))
            .collect(),
        totals: None,
        notes: payment_notes(),
    };
    with_totals(table)
}

/// Table 3: payments per area (rows in the order of `areas`, which names each code).
pub fn payments_by_area(
    totals: &[PaymentTotal],
    areas: &[(String, Label)],
    subtitle: Label,
) -> Table {
    let mut sums: BTreeMap<&str, Sums> = BTreeMap::new();
    for t in totals {
        sums.entry(t.area.as_str()).or_default().add(t);
    }
    let table = Table {
        key: "payments_by_area".to_owned(),
        title: Label::new("扶助资金发放情况表（按地区）", "Payments by area"),
        subtitle,
        columns: payment_columns(Column::new(ColumnKind::Text, "地区", "Area")),
        rows: areas
            .iter()
            .map(|(code, name)| {
                sums.get(code.as_str())
                    .copied()
                    .unwrap_or_default()
                    .row(Cell::Text(name.zh.clone()))
            })
            .collect(),
        totals: None,
        notes: payment_notes(),
    };
    with_totals(table)
}

/// Table 4: one-time grants (二(二), county finance) per kind: families and amounts.
pub fn grants_table(totals: &[PaymentTotal], subtitle: Label) -> Table {
    let rows = PAYMENT_KINDS
        .iter()
        .filter(|(k, _, _)| k.ends_with("_grant"))
        .map(|(kind, zh, _)| {
            let of_kind = totals.iter().filter(|t| t.kind == *kind);
            let (families, amount, county) = of_kind.fold((0, 0, 0), |(f, a, c), t| {
                (
                    f + if t.nature == "grant" { t.families } else { 0 },
                    a + t.amount,
                    c + t.county_fen,
                )
            });
            vec![
                Cell::Text((*zh).to_owned()),
                Cell::Count(families),
                Cell::Fen(Fen(amount)),
                Cell::Fen(Fen(county)),
            ]
        })
        .collect();
    with_totals(Table {
        key: "grants".to_owned(),
        title: Label::new("一次性救助金发放情况表", "One-time grants"),
        subtitle,
        columns: vec![
            Column::new(ColumnKind::Text, "救助类别", "Grant"),
            Column::new(ColumnKind::Count, "发放户数", "Families paid"),
            Column::new(ColumnKind::Fen, "金额", "Amount"),
            Column::new(ColumnKind::Fen, "其中：县级财政", "of which county finance"),
        ],
        rows,
        totals: None,
        notes: vec![Label::new(
            "一次性救助每户每类只发放一次，由县级财政承担（二(二)）；金额含追回。",
            "Each grant is paid once per family and kind, by county finance (二(二)); recoveries included.",
        )],
    })
}

/// A service's name with its clause (spec §6).
pub fn service_label(kind: ServiceKind) -> Label {
    let (zh, en) = match kind {
        ServiceKind::MedicalRelief => ("医疗救助", "Medical relief"),
        ServiceKind::InsuranceContributionPaid => ("代缴居民养老保险", "Pension contribution paid"),
        ServiceKind::DibaoUplift => ("低保提标", "Dibao uplift"),
        ServiceKind::NursingHomePriority => ("优先入住养老机构", "Nursing-home priority"),
        ServiceKind::NursingHomeFeeHalf => ("养老机构费用减半", "Nursing-home fee halved"),
        ServiceKind::WubaoInclusion => ("纳入五保", "Wubao inclusion"),
        ServiceKind::HousingPriority => ("保障性住房优先", "Housing priority"),
        ServiceKind::FuneralReimbursement => ("丧葬费报销", "Funeral reimbursement"),
        ServiceKind::HolidayVisits => ("节日走访慰问", "Holiday visits"),
        ServiceKind::RegularVisits => ("定期走访", "Regular visits"),
        ServiceKind::DedicatedVisitor => ("专人联系", "Dedicated visitor"),
    };
    let clause = kind.clause();
    Label::new(format!("{zh}（{clause}）"), format!("{en} ({clause})"))
}

/// The statuses of the service checklist, in order.
pub const SERVICE_STATUSES: [(&str, &str, &str); 4] = [
    ("offered", "已告知", "Offered"),
    ("in_progress", "办理中", "In progress"),
    ("granted", "已落实", "Granted"),
    ("declined", "本人谢绝", "Declined"),
];

/// Table 5: the service checklist's current statuses per service (persons).
pub fn services_table(counts: &[(String, String, i64)], subtitle: Label) -> Table {
    let rows = ServiceKind::ALL
        .iter()
        .filter(|k| {
            !matches!(
                k,
                ServiceKind::HolidayVisits
                    | ServiceKind::RegularVisits
                    | ServiceKind::DedicatedVisitor
            )
        })
        .map(|kind| {
            let mut row = vec![Cell::Text(service_label(*kind).zh)];
            let mut all = 0;
            for (status, _, _) in SERVICE_STATUSES {
                let n: i64 = counts
                    .iter()
                    .filter(|(s, st, _)| s == kind.as_str() && st == status)
                    .map(|c| c.2)
                    .sum();
                all += n;
                row.push(Cell::Count(n));
            }
            row.push(Cell::Count(all));
            row
        })
        .collect();
    let mut columns = vec![Column::new(ColumnKind::Text, "服务项目", "Service")];
    for (_, zh, en) in SERVICE_STATUSES {
        columns.push(Column::new(ColumnKind::Count, zh, en));
    }
    columns.push(Column::new(ColumnKind::Count, "合计（人）", "Persons"));
    with_totals(Table {
        key: "services".to_owned(),
        title: Label::new("扶助关怀服务落实情况表", "Services"),
        subtitle,
        columns,
        rows,
        totals: None,
        notes: vec![Label::new(
            "按服务清单每人每项的最新状态统计（政策规则 §6）；走访见走访情况表。",
            "Each person's latest status per service on the checklist (spec §6); visits are in the visits table.",
        )],
    })
}

/// Table 6: visits of a year per area: periods due so far and visited, holiday visits apart.
pub fn visits_table(tallies: &[VisitTally], areas: &[(String, Label)], subtitle: Label) -> Table {
    let rows: Vec<Vec<Cell>> = areas
        .iter()
        .map(|(code, name)| {
            let of = |holiday: bool| {
                tallies
                    .iter()
                    .filter(|t| t.area == *code && (t.kind != "regular") == holiday)
                    .fold((0, 0, 0), |(p, d, v), t| {
                        (p + t.planned, d + t.due, v + t.done)
                    })
            };
            let (planned, due, done) = of(false);
            let (h_planned, h_due, h_done) = of(true);
            vec![
                Cell::Text(name.zh.clone()),
                Cell::Count(planned),
                Cell::Count(due),
                Cell::Count(done),
                Cell::Share(share(done, due)),
                Cell::Count(h_planned),
                Cell::Count(h_due),
                Cell::Count(h_done),
                Cell::Share(share(h_done, h_due)),
            ]
        })
        .collect();
    let table = Table {
        key: "visits".to_owned(),
        title: Label::new("走访慰问情况表", "Visits"),
        subtitle,
        columns: vec![
            Column::new(ColumnKind::Text, "地区", "Area"),
            Column::new(ColumnKind::Count, "全年应访（次）", "Planned for the year"),
            Column::new(ColumnKind::Count, "至今应访", "Due so far"),
            Column::new(ColumnKind::Count, "已访", "Visited"),
            Column::new(ColumnKind::Share, "走访覆盖率", "Coverage"),
            Column::new(
                ColumnKind::Count,
                "节日走访全年应访",
                "Holiday visits planned",
            ),
            Column::new(ColumnKind::Count, "节日至今应访", "Holiday visits due"),
            Column::new(ColumnKind::Count, "节日已访", "Holiday visits made"),
            Column::new(ColumnKind::Share, "节日走访完成率", "Holiday completion"),
        ],
        rows,
        totals: None,
        notes: vec![Label::new(
            "按走访计划统计（二(一)）：定期走访与专人联系按周期，春节、中秋走访按节前窗口；覆盖率 = 已访 ÷ 至今应访。",
            "From the visit plan (二(一)): regular and dedicated visits by period, Spring Festival and Mid-Autumn by the window before each; coverage = visited ÷ due.",
        )],
    };
    let totals = table.sum_rows(|row, i| {
        let n = |j: usize| row.get(j).and_then(Cell::number).unwrap_or(0);
        if i == 4 {
            share(n(3), n(2))
        } else {
            share(n(7), n(6))
        }
    });
    Table {
        totals: Some(totals),
        ..table
    }
}

fn with_totals(table: Table) -> Table {
    let totals = table.sum_rows(|_, _| None);
    Table {
        totals: Some(totals),
        ..table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Month {
        Month::parse(s).expect("month")
    }

    fn total(
        month: &str,
        area: &str,
        kind: &str,
        nature: &str,
        amount: i64,
        standard: i64,
    ) -> PaymentTotal {
        PaymentTotal {
            month: m(month),
            area: area.into(),
            kind: kind.into(),
            nature: nature.into(),
            lines: 1,
            families: 1,
            amount,
            standard_fen: standard,
            county_fen: amount - standard,
        }
    }

    #[test]
    fn payments_by_month_show_every_month_and_split_the_funding() {
        let totals = [
            total(
                "2026-01",
                "371302",
                "bereaved_assistance",
                "regular",
                50000,
                50000,
            ),
            total(
                "2026-03",
                "371302",
                "bereaved_assistance",
                "arrears",
                100000,
                100000,
            ),
            total("2026-03", "371311", "disabled_grant", "grant", 300000, 0),
            total(
                "2026-03",
                "371311",
                "disabled_assistance",
                "recovery",
                -46000,
                -46000,
            ),
        ];
        let t = payments_by_month(&totals, m("2026-01"), m("2026-03"), Label::new("", ""));
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[1][0], Cell::Text("2026-02".into()));
        assert_eq!(t.rows[1][12], Cell::Fen(Fen(0)));
        let totals_row = t.totals.expect("totals");
        assert_eq!(totals_row[12], Cell::Fen(Fen(404000)), "total");
        assert_eq!(totals_row[10], Cell::Fen(Fen(104000)), "higher-level");
        assert_eq!(totals_row[11], Cell::Fen(Fen(300000)), "county");
        assert_eq!(totals_row[8], Cell::Fen(Fen(100000)), "arrears");
        assert_eq!(totals_row[9], Cell::Fen(Fen(-46000)), "recovered");
        let areas = [
            ("371302".to_owned(), Label::new("兰山区", "Lanshan")),
            ("371311".to_owned(), Label::new("罗庄区", "Luozhuang")),
            ("371312".to_owned(), Label::new("河东区", "Hedong")),
        ];
        let by_area = payments_by_area(&totals, &areas, Label::new("", ""));
        assert_eq!(by_area.rows[2][12], Cell::Fen(Fen(0)));
        assert_eq!(by_area.totals.expect("totals")[12], Cell::Fen(Fen(404000)));
        let grants = grants_table(&totals, Label::new("", ""));
        assert_eq!(grants.rows[2][1], Cell::Count(1));
        assert_eq!(grants.rows[2][2], Cell::Fen(Fen(300000)));
    }

    #[test]
    fn visits_share_their_totals() {
        let tallies = [
            VisitTally {
                area: "371302".into(),
                kind: "regular".into(),
                planned: 8,
                due: 4,
                done: 3,
            },
            VisitTally {
                area: "371302".into(),
                kind: "spring_festival".into(),
                planned: 2,
                due: 2,
                done: 1,
            },
            VisitTally {
                area: "371311".into(),
                kind: "regular".into(),
                planned: 4,
                due: 4,
                done: 4,
            },
        ];
        let areas = [
            ("371302".to_owned(), Label::new("兰山区", "Lanshan")),
            ("371311".to_owned(), Label::new("罗庄区", "Luozhuang")),
        ];
        let t = visits_table(&tallies, &areas, Label::new("", ""));
        assert_eq!(t.rows[0][4], Cell::Share(Some(7500)));
        assert_eq!(t.rows[1][8], Cell::Share(None));
        let totals = t.totals.expect("totals");
        assert_eq!(totals[2], Cell::Count(8));
        assert_eq!(totals[4], Cell::Share(Some(8750)));
        assert_eq!(totals[8], Cell::Share(Some(5000)));
    }

    #[test]
    fn services_count_the_latest_statuses() {
        let counts = [
            ("medical_relief".to_owned(), "granted".to_owned(), 3),
            ("medical_relief".to_owned(), "declined".to_owned(), 1),
            ("housing_priority".to_owned(), "offered".to_owned(), 2),
        ];
        let t = services_table(&counts, Label::new("", ""));
        assert_eq!(t.rows.len(), 8);
        assert_eq!(t.rows[0][3], Cell::Count(3));
        assert_eq!(t.rows[0][5], Cell::Count(4));
        assert_eq!(t.totals.expect("totals")[5], Cell::Count(6));
        assert_eq!(
            service_label(ServiceKind::HousingPriority).zh,
            "保障性住房优先（二(五)）"
        );
    }
}
