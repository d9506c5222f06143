//! The county assessment scorecard (目标责任考核, 三(三)): each indicator is a share of things done
//! right (payments on time, visits made, files complete …) measured from the data; the pack's
//! weights turn shares into points, points into a score out of 100 and a rank, and every lost
//! point keeps the items behind it (the month paid late, the family not visited) so a county can
//! see exactly what to fix.

use crate::table::{Cell, Column, ColumnKind, Label, Table, share};

/// The indicators, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Indicator {
    PaymentsOnTime,
    ArrearsOutstanding,
    RecoveriesOutstanding,
    Reconfirmation,
    VisitCoverage,
    HolidayVisits,
    DataCompleteness,
    DedicatedVisitor,
    SpotChecks,
}

impl Indicator {
    pub const ALL: [Indicator; 9] = [
        Indicator::PaymentsOnTime,
        Indicator::ArrearsOutstanding,
        Indicator::RecoveriesOutstanding,
        Indicator::Reconfirmation,
        Indicator::VisitCoverage,
        Indicator::HolidayVisits,
        Indicator::DataCompleteness,
        Indicator::DedicatedVisitor,
        Indicator::SpotChecks,
    ];

    /// The key of the pack's `[assessment.weights]` table.
    pub fn key(self) -> &'static str {
        match self {
            Indicator::PaymentsOnTime => "payments_on_time",
            Indicator::ArrearsOutstanding => "arrears_outstanding",
            Indicator::RecoveriesOutstanding => "recoveries_outstanding",
            Indicator::Reconfirmation => "reconfirmation",
            Indicator::VisitCoverage => "visit_coverage",
            Indicator::HolidayVisits => "holiday_visits",
            Indicator::DataCompleteness => "data_completeness",
            Indicator::DedicatedVisitor => "dedicated_visitor",
            Indicator::SpotChecks => "spot_checks",
        }
    }

    pub fn parse(key: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.key() == key)
    }

    pub fn label(self) -> Label {
        let (zh, en) = match self {
            Indicator::PaymentsOnTime => ("按时发放", "Payments on time"),
            Indicator::ArrearsOutstanding => ("无应发未发", "No arrears outstanding"),
            Indicator::RecoveriesOutstanding => ("无待追回", "No recoveries outstanding"),
            Indicator::Reconfirmation => ("年度资格确认", "Annual re-confirmation"),
            Indicator::VisitCoverage => ("走访覆盖", "Visit coverage"),
            Indicator::HolidayVisits => ("节日走访", "Holiday visits"),
            Indicator::DataCompleteness => ("信息完整", "Data completeness"),
            Indicator::DedicatedVisitor => ("专人联系覆盖", "Dedicated visitors"),
            Indicator::SpotChecks => ("抽查合格", "Spot checks passed"),
        };
        Label::new(zh, en)
    }

    /// What the share counts, for the notes under the table.
    pub fn definition(self) -> Label {
        let (zh, en) = match self {
            Indicator::PaymentsOnTime => (
                "期内各月发放批次在当月规定日前导出银行的月数占比（二(二)）",
                "months whose run was sent to the bank by the pack's day of that month (二(二))",
            ),
            Indicator::ArrearsOutstanding => (
                "最近一次发放中未被暂缓或退票的转账占比",
                "transfers of the latest run not held or returned by the bank",
            ),
            Indicator::RecoveriesOutstanding => (
                "在册家庭中没有待追回款项的占比",
                "families on the register owing nothing to be recovered",
            ),
            Indicator::Reconfirmation => (
                "年度确认名单中已确认的人数占比",
                "parents on the year's re-confirmation list confirmed",
            ),
            Indicator::VisitCoverage => (
                "截至考核日应访的巡访周期中已走访的占比（二(一)）",
                "regular visit periods due by the assessment day that were visited (二(一))",
            ),
            Indicator::HolidayVisits => (
                "截至考核日应访的春节、中秋走访中已走访的占比（二(一)）",
                "Spring Festival and Mid-Autumn visits due by the assessment day that were made (二(一))",
            ),
            Indicator::DataCompleteness => (
                "在册家庭中身份证号、联系电话、扶助对象银行账户齐全的占比",
                "families on the register with ID numbers, a phone and the payees' bank accounts",
            ),
            Indicator::DedicatedVisitor => (
                "需专人联系的家庭中已明确专人的占比（二(一)）",
                "families needing a dedicated visitor that have one (二(一))",
            ),
            Indicator::SpotChecks => (
                "期内抽查的检查项中合格的占比（三(三)）",
                "checklist items of the period's spot checks that passed (三(三))",
            ),
        };
        Label::new(zh, en)
    }
}

/// The checklist of a spot check (不定期抽查, 三(三)): key, Chinese, English.
pub const CHECKLIST: [(&str, &str, &str); 6] = [
    (
        "identity",
        "身份与家庭关系属实",
        "Identity and family relations are true",
    ),
    (
        "category",
        "家庭类别与扶助标准正确",
        "Category and rate are right",
    ),
    (
        "payment",
        "扶助资金足额按时到账",
        "Money arrived in full and on time",
    ),
    (
        "visits",
        "走访记录与实际相符",
        "Visits happened as recorded",
    ),
    (
        "services",
        "应享服务已告知并落实",
        "Services were offered and delivered",
    ),
    (
        "privacy",
        "个人信息未被泄露",
        "Private data was kept private",
    ),
];

/// A checklist item by key.
pub fn checklist_item(key: &str) -> Option<(&'static str, &'static str, &'static str)> {
    CHECKLIST.iter().copied().find(|(k, _, _)| *k == key)
}

/// One thing that cost points: a reference (a family id, a month, a run) and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub reference: String,
    pub detail: Label,
}

/// An indicator measured for one county: `good` of `total` were right; `items` are (up to the
/// caller's limit) the ones that were not, `more` how many more there were.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Measure {
    pub good: i64,
    pub total: i64,
    pub items: Vec<Item>,
    pub more: i64,
}

impl Measure {
    /// Records one case: right, or wrong with the item (kept while fewer than `keep` are kept).
    pub fn count(&mut self, ok: bool, keep: usize, item: impl FnOnce() -> Item) {
        self.total += 1;
        if ok {
            self.good += 1;
        } else if self.items.len() < keep {
            self.items.push(item());
        } else {
            self.more += 1;
        }
    }
}

/// A county's measures, in any order; an indicator not measured scores nothing and is left out
/// of the county's total weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountyMeasures {
    pub county: String,
    pub name: Label,
    pub measures: Vec<(Indicator, Measure)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorScore {
    pub indicator: Indicator,
    pub weight: i64,
    /// Basis points; `None` when there was nothing to measure (no weight counted).
    pub rate: Option<i64>,
    /// Points earned and lost, in hundredths of a point.
    pub points: i64,
    pub lost: i64,
    pub measure: Measure,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountyScore {
    pub county: String,
    pub name: Label,
    /// Out of 100, in hundredths of a point: points earned over the weights measured.
    pub score: i64,
    pub rank: usize,
    pub indicators: Vec<IndicatorScore>,
}

/// Scores and ranks the counties (best first; equal scores share a rank, listed by county code).
pub fn score(counties: Vec<CountyMeasures>, weights: &[(Indicator, i64)]) -> Vec<CountyScore> {
    let mut scored: Vec<CountyScore> = counties
        .into_iter()
        .map(|c| {
            let mut indicators = Vec::new();
            let (mut earned, mut measured) = (0i64, 0i64);
            for &(indicator, weight) in weights {
                let measure = c
                    .measures
                    .iter()
                    .find(|(i, _)| *i == indicator)
                    .map(|(_, m)| m.clone())
                    .unwrap_or_default();
                let rate = share(measure.good, measure.total);
                let (points, lost) = match rate {
                    Some(bp) => {
                        let points = (weight * bp * 2 + 100) / 200;
                        measured += weight;
                        earned += points;
                        (points, weight * 100 - points)
                    }
                    None => (0, 0),
                };
                indicators.push(IndicatorScore {
                    indicator,
                    weight,
                    rate,
                    points,
                    lost,
                    measure,
                });
            }
            let score = if measured == 0 {
                0
            } else {
                (earned * 200 + measured) / (measured * 2)
            };
            CountyScore {
                county: c.county,
                name: c.name,
                score,
                rank: 0,
                indicators,
            }
        })
        .collect();
    scored.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.county.cmp(&b.county)));
    let mut rank = 0;
    let mut previous = None;
    for (i, c) in scored.iter_mut().enumerate() {
        if previous != Some(c.score) {
            rank = i + 1;
            previous = Some(c.score);
        }
        c.rank = rank;
    }
    scored
}

/// The pack's weights as indicators (every name of [`guanai_rules::ASSESSMENT_INDICATORS`] is
/// an [`Indicator`]; a test keeps the two lists equal), leaving out those weighted 0.
pub fn weights_of(params: &guanai_rules::AssessmentParams) -> Vec<(Indicator, i64)> {
    params
        .weights
        .iter()
        .filter(|(_, w)| *w > 0)
        .filter_map(|(name, w)| Indicator::parse(name).map(|i| (i, i64::from(*w))))
        .collect()
}

/// Hundredths of a point as text ("87.50").
pub fn points_text(hundredths: i64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// The scorecard: a row per county with each indicator's share, the score and the rank.
pub fn scorecard_table(
    scores: &[CountyScore],
    weights: &[(Indicator, i64)],
    subtitle: Label,
) -> Table {
    let mut columns = vec![Column::new(ColumnKind::Text, "县区", "County")];
    for (i, w) in weights {
        let l = i.label();
        columns.push(Column {
            label: Label::new(format!("{}（{}分）", l.zh, w), format!("{} ({w})", l.en)),
            kind: ColumnKind::Share,
        });
    }
    columns.push(Column::new(ColumnKind::Text, "得分", "Score"));
    columns.push(Column::new(ColumnKind::Count, "名次", "Rank"));
    let rows = scores
        .iter()
        .map(|c| {
            let mut row = vec![Cell::Text(c.name.zh.clone())];
            row.extend(c.indicators.iter().map(|i| Cell::Share(i.rate)));
            row.push(Cell::Text(points_text(c.score)));
            row.push(Cell::Count(c.rank as i64));
            row
        })
        .collect();
    let mut notes = vec![Label::new(
        "得分 = 各指标权重 × 完成率之和 ÷ 已考核指标权重之和 × 100；无可考核事项的指标不计权重。",
        "Score = sum of weight × share over the weights of the indicators measured, × 100; an indicator with nothing to measure carries no weight.",
    )];
    for (i, _) in weights {
        let (l, d) = (i.label(), i.definition());
        notes.push(Label::new(
            format!("{}：{}", l.zh, d.zh),
            format!("{}: {}", l.en, d.en),
        ));
    }
    Table {
        key: "scorecard".to_owned(),
        title: Label::new(
            "计划生育特殊困难家庭扶助工作考核评分表",
            "County assessment scorecard",
        ),
        subtitle,
        columns,
        rows,
        totals: None,
        notes,
    }
}

/// Every lost point's items: county, indicator, points lost, reference and detail.
pub fn lost_points_table(scores: &[CountyScore], english: bool, subtitle: Label) -> Table {
    let columns = vec![
        Column::new(ColumnKind::Text, "县区", "County"),
        Column::new(ColumnKind::Text, "指标", "Indicator"),
        Column::new(ColumnKind::Text, "扣分", "Points lost"),
        Column::new(ColumnKind::Text, "事项", "Item"),
        Column::new(ColumnKind::Text, "说明", "Detail"),
    ];
    let mut rows = Vec::new();
    for c in scores {
        for i in c.indicators.iter().filter(|i| i.lost > 0) {
            let label = i.indicator.label();
            for item in &i.measure.items {
                rows.push(vec![
                    Cell::Text(c.name.pick(english).to_owned()),
                    Cell::Text(label.pick(english).to_owned()),
                    Cell::Text(points_text(i.lost)),
                    Cell::Text(item.reference.clone()),
                    Cell::Text(item.detail.pick(english).to_owned()),
                ]);
            }
            if i.measure.more > 0 {
                rows.push(vec![
                    Cell::Text(c.name.pick(english).to_owned()),
                    Cell::Text(label.pick(english).to_owned()),
                    Cell::Text(points_text(i.lost)),
                    Cell::Text(String::new()),
                    Cell::Text(if english {
                        format!("and {} more", i.measure.more)
                    } else {
                        format!("另有 {} 项", i.measure.more)
                    }),
                ]);
            }
        }
    }
    Table {
        key: "lost_points".to_owned(),
        title: Label::new("考核扣分明细", "Where points were lost"),
        subtitle,
        columns,
        rows,
        totals: None,
        notes: vec![Label::new(
            "每项扣分列出其所依据的事项（家庭编号、月份或批次），可逐项核查整改。",
            "Each lost point lists the items behind it (family, month or run) to check and put right.",
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(good: i64, total: i64) -> Measure {
        let mut m = Measure::default();
        for i in 0..total {
            m.count(i < good, 2, || Item {
                reference: format!("F{i}"),
                detail: Label::new("未走访", "not visited"),
            });
        }
        m
    }

    #[test]
    fn scores_weigh_shares_and_leave_out_what_was_not_measured() {
        let weights = [
            (Indicator::PaymentsOnTime, 60),
            (Indicator::VisitCoverage, 40),
        ];
        let scores = score(
            vec![
                CountyMeasures {
                    county: "371302".into(),
                    name: Label::new("兰山区", "Lanshan"),
                    measures: vec![
                        (Indicator::PaymentsOnTime, measure(12, 12)),
                        (Indicator::VisitCoverage, measure(3, 4)),
                    ],
                },
                CountyMeasures {
                    county: "371311".into(),
                    name: Label::new("罗庄区", "Luozhuang"),
                    measures: vec![(Indicator::PaymentsOnTime, measure(9, 12))],
                },
                CountyMeasures {
                    county: "371312".into(),
                    name: Label::new("河东区", "Hedong"),
                    measures: vec![
                        (Indicator::PaymentsOnTime, measure(12, 12)),
                        (Indicator::VisitCoverage, measure(3, 4)),
                    ],
                },
            ],
            &weights,
        );
        // 60 × 100% + 40 × 75% = 90 points of 100.
        assert_eq!(scores[0].county, "371302");
        assert_eq!(scores[0].score, 9000);
        assert_eq!(scores[0].rank, 1);
        assert_eq!(scores[1].county, "371312");
        assert_eq!(scores[1].rank, 1, "equal scores share a rank");
        // Visits not measured: 45 of 60 points → 75.
        assert_eq!(scores[2].score, 7500);
        assert_eq!(scores[2].rank, 3);
        let visits = &scores[0].indicators[1];
        assert_eq!((visits.points, visits.lost), (3000, 1000));
        assert_eq!(visits.measure.items.len(), 1);
        assert_eq!(scores[2].indicators[0].measure.items.len(), 2);
        assert_eq!(scores[2].indicators[0].measure.more, 1);
        assert_eq!(points_text(scores[2].score), "75.00");
        let table = scorecard_table(&scores, &weights, Label::new("", ""));
        assert_eq!(table.rows[0][3], Cell::Text("90.00".into()));
        assert_eq!(table.rows[2][2], Cell::Share(None));
        let lost = lost_points_table(&scores, false, Label::new("", ""));
        // 371302: one visit item; 371312: one; 371311: two items and "another 1".
        assert_eq!(lost.rows.len(), 5);
        assert_eq!(lost.rows[4][4], Cell::Text("另有 1 项".into()));
    }

    #[test]
    fn indicator_keys_round_trip() {
        for i in Indicator::ALL {
            assert_eq!(Indicator::parse(i.key()), Some(i));
        }
        assert_eq!(Indicator::parse("speed"), None);
        assert_eq!(
            Indicator::ALL.map(Indicator::key),
            guanai_rules::ASSESSMENT_INDICATORS
        );
        let mut params = guanai_rules::AssessmentParams::default();
        params.weights[8].1 = 0;
        let weights = weights_of(&params);
        assert_eq!(weights.len(), 8);
        assert_eq!(weights[0], (Indicator::PaymentsOnTime, 20));
    }
}
