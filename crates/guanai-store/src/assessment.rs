//! The county assessment's measures and spot checks (三(三); migration 0014). Each indicator of
//! [`guanai_report::scorecard`] is counted here from the data — runs and their export times,
//! transfers held or returned, receivables, the re-confirmation roster, the visit plan, the
//! statistical register, dedicated visitors and spot-check findings — per county under a prefix,
//! with the items behind every failure. Spot checks draw a seeded sample of a county's
//! special-difficulty families ([`guanai_report::sample`]), keep the list drawn from so the draw can
//! be repeated, and record findings per checklist item.

use std::collections::{BTreeMap, HashMap, HashSet};

use guanai_report::register::Standing;
use guanai_report::scorecard::{
    CHECKLIST, CountyMeasures, Indicator, Item, Measure, checklist_item,
};
use guanai_report::{Label, sample};
use guanai_rules::{Month, Policy};
use jiff::civil::Date;

use crate::archive::{Archive, now_micros};
use crate::error::StoreError;
use crate::model::{Actor, FamilyId};
use crate::on_db;
use crate::scope::prefix_end;

/// The condition that a finding `f` is the latest for its check, family and item (a later
/// finding supersedes an earlier one; both are kept).
const LATEST: &str = "NOT EXISTS (SELECT 1 FROM spot_check_finding n WHERE n.check_id = f.check_id \
     AND n.family_id = f.family_id AND n.item = f.item \
     AND (n.recorded_at > f.recorded_at OR (n.recorded_at = f.recorded_at AND n.finding_id > f.finding_id)))";

/// Items kept per indicator and county (the rest are counted).
pub const KEEP_ITEMS: usize = 200;

/// Each county's measures by indicator.
type Counties = BTreeMap<String, BTreeMap<Indicator, Measure>>;

/// A county's measure of one indicator (empty until counted).
fn measure_of(counties: &mut Counties, county: String, indicator: Indicator) -> &mut Measure {
    counties
        .entry(county)
        .or_default()
        .entry(indicator)
        .or_default()
}

/// The county part of an area prefix (the city's "3713" stays as it is): spot checks and the
/// assessment are per county.
fn county_prefix(prefix: &str) -> &str {
    prefix.get(..6).unwrap_or(prefix)
}

/// Whether a family counts as in the programme at the end of `month`.
fn in_programme(
    profile: &guanai_report::register::Profile,
    standing: Standing,
    month: Month,
) -> bool {
    !standing.pending
        && standing.exited_on.is_none_or(|d| Month::of(d) > month)
        && profile.at(month).is_some_and(|s| s.special())
}

/// The end of a day in Beijing (UTC+8), in microseconds since the epoch.
fn end_of_day_micros(date: Date) -> Result<i64, StoreError> {
    let next = date
        .tomorrow()
        .map_err(|e| StoreError::invalid("as_of", e.to_string()))?;
    let offset = jiff::tz::Offset::constant(8);
    let at = offset
        .to_timestamp(next.to_datetime(jiff::civil::Time::midnight()))
        .map_err(|e| StoreError::invalid("as_of", e.to_string()))?;
    Ok(at.as_microsecond())
}

fn missing_label(missing: &str) -> Label {
    let mut zh = Vec::new();
    let mut en = Vec::new();
    for item in missing.split(',').filter(|s| !s.is_empty()) {
        let (kind, who) = item.split_once(':').unwrap_or((item, ""));
        let who_zh = match who {
            "mother" => "母亲",
            "father" => "父亲",
            _ => "",
        };
        let (k_zh, k_en) = match kind {
            "id_number" => ("身份证号", "ID number"),
            "bank_account" => ("银行账户", "bank account"),
            _ => ("联系电话", "phone"),
        };
        zh.push(format!("缺{who_zh}{k_zh}"));
        en.push(if who.is_empty() {
            format!("no {k_en}")
        } else {
            format!("no {k_en} for the {who}")
        });
    }
    Label::new(zh.join("、"), en.join(", "))
}

type DrawnRow = (i64, String, String, Option<String>);
type FindingRow = (String, String, bool, String, String, String);

/// A finding to record: a checklist item of a drawn family, passed or not (a failure needs a
/// note saying what was wrong), and the day it was checked.
#[derive(Debug, Clone, Copy)]
pub struct NewFinding<'a> {
    pub item: &'a str,
    pub passed: bool,
    pub note: &'a str,
    pub checked_on: Date,
}

/// A spot check as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotCheck {
    pub check_id: String,
    pub county_code: String,
    pub month: Month,
    pub seed: u64,
    pub sample_size: i64,
    pub population: i64,
    pub population_digest: String,
    pub drawn_at: i64,
    pub drawn_by: String,
    pub note: String,
    /// Families in the order drawn, with their census number and village.
    pub families: Vec<SpotFamily>,
    /// The latest finding per family and checklist item.
    pub findings: Vec<SpotFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotFamily {
    pub draw_no: i64,
    pub family_id: FamilyId,
    pub family_no: String,
    pub village_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotFinding {
    pub family_id: FamilyId,
    pub item: String,
    pub passed: bool,
    pub note: String,
    pub checked_on: Date,
    pub recorded_by: String,
}

/// A row of the list of spot checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotCheckSummary {
    pub check_id: String,
    pub county_code: String,
    pub month: Month,
    pub sample_size: i64,
    pub population: i64,
    pub drawn_at: i64,
    pub drawn_by: String,
    /// Items checked (latest finding per family and item) and of those failed.
    pub checked: i64,
    pub failed: i64,
}

/// What a repeated draw showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawVerification {
    /// The stored list still has the stored digest.
    pub digest_matches: bool,
    /// Drawing again from the stored list with the stored seed gives the stored families.
    pub same_families: bool,
}

impl Archive {
    /// Measures every indicator for each county under `prefix` (the city, or one county) for
    /// the year of `as_of`, up to that day. The register must be fresh.
    pub async fn county_measures(
        &self,
        prefix: &str,
        policy: &Policy,
        as_of: Date,
    ) -> Result<Vec<CountyMeasures>, StoreError> {
        let year = as_of.year();
        let month = Month::of(as_of);
        let mut counties: Counties = BTreeMap::new();
        // Register: data completeness, dedicated visitors, and the families in the programme.
        let visited: HashSet<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar::<_, String>("SELECT DISTINCT family_id FROM dedicated_visitor WHERE ended_at IS NULL")
                .fetch_all(pool)
                .await?
                .into_iter()
                .collect()
        });
        let mut in_register: BTreeMap<String, i64> = BTreeMap::new();
        self.scan_register(prefix, |family, village, profile, missing, standing| {
            let county = village.get(..6).unwrap_or(village).to_owned();
            if !in_programme(profile, standing, month) {
                return;
            }
            *in_register.entry(county.clone()).or_default() += 1;
            let measures = counties.entry(county).or_default();
            measures
                .entry(Indicator::DataCompleteness)
                .or_default()
                .count(missing.is_empty(), KEEP_ITEMS, || Item {
                    reference: family.to_owned(),
                    detail: missing_label(missing),
                });
            if profile.at(month).is_some_and(|s| s.dedicated) {
                measures
                    .entry(Indicator::DedicatedVisitor)
                    .or_default()
                    .count(visited.contains(family), KEEP_ITEMS, || Item {
                        reference: family.to_owned(),
                        detail: Label::new(
                            "需专人联系但未明确专人",
                            "needs a dedicated visitor, has none",
                        ),
                    });
            }
        })
        .await?;
        // Recoveries: families owing money back (receivable balances), against the register.
        let owing: Vec<(String, String, i64)> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT b.family_id, s.village_code, b.balance FROM ledger_balance b JOIN stat_family s ON s.family_id = b.family_id \
                 WHERE b.account >= 'receivable:' AND b.account < 'receivable;' AND b.balance > 0 AND s.village_code >= $1 AND s.village_code < $2 ORDER BY s.village_code, b.family_id",
            )
            .bind(prefix)
            .bind(prefix_end(prefix))
            .fetch_all(pool)
            .await?
        });
        for (county, families) in &in_register {
            let m = measure_of(
                &mut counties,
                county.clone(),
                Indicator::RecoveriesOutstanding,
            );
            m.total = *families;
            m.good = *families;
        }
        for (family, village, balance) in owing {
            let county = village.get(..6).unwrap_or(&village).to_owned();
            let m = measure_of(&mut counties, county, Indicator::RecoveriesOutstanding);
            m.good -= 1;
            if m.good < 0 {
                m.good = 0;
                m.total += 1;
            }
            if m.items.len() < KEEP_ITEMS {
                m.items.push(Item {
                    reference: family,
                    detail: Label::new(
                        format!("待追回 {} 元", guanai_rules::Fen(balance)),
                        format!("{} yuan to recover", guanai_rules::Fen(balance)),
                    ),
                });
            } else {
                m.more += 1;
            }
        }
        let county_codes: Vec<String> = counties.keys().cloned().collect();
        self.measure_payments(&mut counties, &county_codes, policy, as_of)
            .await?;
        self.measure_visits(&mut counties, prefix, year, as_of)
            .await?;
        self.measure_reconfirmation(&mut counties, prefix, year)
            .await?;
        self.measure_spot_checks(&mut counties, prefix, year)
            .await?;
        let names = self
            .area_names(&county_codes.iter().map(String::as_str).collect::<Vec<_>>())
            .await?;
        Ok(counties
            .into_iter()
            .filter(|(c, _)| c.starts_with(county_prefix(prefix)))
            .map(|(county, measures)| CountyMeasures {
                name: Label::new(
                    names
                        .get(&county)
                        .cloned()
                        .unwrap_or_else(|| county.clone()),
                    names
                        .get(&county)
                        .cloned()
                        .unwrap_or_else(|| county.clone()),
                ),
                county,
                measures: measures.into_iter().collect(),
            })
            .collect())
    }

    /// Payments on time (each month's run sent to the bank by the pack's day, from the month of
    /// the archive's first run) and arrears outstanding (transfers of the latest run held or
    /// returned).
    async fn measure_payments(
        &self,
        counties: &mut Counties,
        county_codes: &[String],
        policy: &Policy,
        as_of: Date,
    ) -> Result<(), StoreError> {
        let year = as_of.year();
        let runs: Vec<(String, String, Option<i64>)> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT month, scope, exported_at FROM pay_run WHERE status <> 'discarded' AND month >= $1 AND month <= $2",
            )
            .bind(format!("{year:04}-01"))
            .bind(format!("{year:04}-12"))
            .fetch_all(pool)
            .await?
        });
        // Months before the archive's first run were paid before Guanai: not assessed here.
        let first: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT MIN(month) FROM pay_run WHERE status <> 'discarded'")
                .fetch_one(pool)
                .await?
        });
        let day = policy.assessment.on_time_day;
        type Failed = (String, String, String, String);
        type RunTransfers = (HashMap<String, i64>, Vec<Failed>);
        let mut transfers: HashMap<String, RunTransfers> = HashMap::new();
        for county in county_codes {
            let measures = counties.entry(county.clone()).or_default();
            for m in 1..=12i8 {
                let Some(deadline) = Date::new(year, m, day).ok() else {
                    continue;
                };
                if first
                    .as_deref()
                    .is_none_or(|f| format!("{year:04}-{m:02}").as_str() < f)
                {
                    continue;
                }
                if deadline >= as_of {
                    break;
                }
                let due_by = end_of_day_micros(deadline)?;
                let month = format!("{year:04}-{m:02}");
                let sent = runs.iter().any(|(rm, scope, exported)| {
                    *rm == month
                        && (scope == county || scope == "all")
                        && exported.is_some_and(|t| t <= due_by)
                });
                measures
                    .entry(Indicator::PaymentsOnTime)
                    .or_default()
                    .count(sent, KEEP_ITEMS, || Item {
                        reference: month.clone(),
                        detail: Label::new(
                            format!("{month} 的发放批次未在 {m} 月 {day} 日前导出银行"),
                            format!("the {month} run was not sent to the bank by day {day}"),
                        ),
                    });
            }
            let latest: Option<String> = on_db!(self.db(), pool => {
                sqlx::query_scalar(
                    "SELECT run_id FROM pay_run WHERE status IN ('approved', 'exported', 'settled', 'closed') AND (scope = $1 OR scope = 'all') \
                     ORDER BY month DESC, created_at DESC LIMIT 1",
                )
                .bind(county)
                .fetch_optional(pool)
                .await?
            });
            let Some(run) = latest else { continue };
            if !transfers.contains_key(&run) {
                // One pass per run (a city-wide run serves every county).
                let (counts, bad): (Vec<(String, i64)>, Vec<Failed>) = on_db!(self.db(), pool => {
                    let counts = sqlx::query_as("SELECT county_code, COUNT(*) FROM pay_transfer WHERE run_id = $1 GROUP BY county_code")
                        .bind(&run)
                        .fetch_all(pool)
                        .await?;
                    let bad = sqlx::query_as(
                        "SELECT county_code, family_id, status, note FROM pay_transfer WHERE run_id = $1 AND status IN ('held', 'failed') ORDER BY transfer_no",
                    )
                    .bind(&run)
                    .fetch_all(pool)
                    .await?;
                    (counts, bad)
                });
                transfers.insert(run.clone(), (counts.into_iter().collect(), bad));
            }
            let Some((counts, all_bad)) = transfers.get(&run) else {
                continue;
            };
            let all = counts.get(county).copied().unwrap_or(0);
            let bad: Vec<(String, String, String)> = all_bad
                .iter()
                .filter(|(c, ..)| c == county)
                .map(|(_, f, st, n)| (f.clone(), st.clone(), n.clone()))
                .collect();
            let m = measures.entry(Indicator::ArrearsOutstanding).or_default();
            m.total = all;
            m.good = all - bad.len() as i64;
            for (family, status, note) in bad {
                if m.items.len() >= KEEP_ITEMS {
                    m.more += 1;
                    continue;
                }
                let (zh, en) = if status == "held" {
                    ("暂缓发放", "held")
                } else {
                    ("银行退票", "returned by the bank")
                };
                m.items.push(Item {
                    reference: family,
                    detail: Label::new(
                        format!("{run} {zh}：{note}"),
                        format!("{run} {en}: {note}"),
                    ),
                });
            }
        }
        Ok(())
    }

    /// Visit coverage and holiday visits: periods of the year due by `as_of`, visited or not.
    async fn measure_visits(
        &self,
        counties: &mut Counties,
        prefix: &str,
        year: i16,
        as_of: Date,
    ) -> Result<(), StoreError> {
        let per_village: Vec<(String, String, i64, i64)> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT v.village_code, v.kind, COUNT(*), \
                 CAST(SUM(CASE WHEN v.visit_id IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM visit_period v \
                 WHERE v.year = $1 AND v.due_on <= $2 AND v.village_code >= $3 AND v.village_code < $4 \
                 GROUP BY v.village_code, v.kind",
            )
            .bind(i64::from(year))
            .bind(as_of.to_string())
            .bind(prefix)
            .bind(prefix_end(prefix))
            .fetch_all(pool)
            .await?
        });
        // Counted per village in the index's order, summed per county and kind of visit here.
        let mut sums: BTreeMap<(String, &'static str), (i64, i64)> = BTreeMap::new();
        for (village, kind, due, done) in per_village {
            let county = village.get(..6).unwrap_or(&village).to_owned();
            let class = if kind == "regular" {
                "regular"
            } else {
                "holiday"
            };
            let s = sums.entry((county, class)).or_default();
            s.0 += due;
            s.1 += done;
        }
        let counts: Vec<(String, &'static str, i64, i64)> = sums
            .into_iter()
            .map(|((county, class), (due, done))| (county, class, due, done))
            .collect();
        for (county, kind, due, done) in counts {
            let indicator = if kind == "regular" {
                Indicator::VisitCoverage
            } else {
                Indicator::HolidayVisits
            };
            let missed: Vec<(String, String, String)> = on_db!(self.db(), pool => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT v.family_id, v.kind, v.due_on FROM visit_period v \
                     WHERE v.year = $1 AND v.due_on <= $2 AND v.visit_id IS NULL AND v.village_code >= $3 AND v.village_code < $4 \
                     AND v.kind {} 'regular' ORDER BY v.village_code, v.family_id LIMIT {KEEP_ITEMS}",
                    if kind == "regular" { "=" } else { "<>" }
                )))
                .bind(i64::from(year))
                .bind(as_of.to_string())
                .bind(&county)
                .bind(prefix_end(&county))
                .fetch_all(pool)
                .await?
            });
            let m = measure_of(counties, county, indicator);
            m.total += due;
            m.good += done;
            m.more += (due - done) - missed.len() as i64;
            for (family, kind, due_on) in missed {
                let (zh, en) = match kind.as_str() {
                    "spring_festival" => ("春节走访", "Spring Festival visit"),
                    "mid_autumn" => ("中秋走访", "Mid-Autumn visit"),
                    _ => ("定期走访", "regular visit"),
                };
                m.items.push(Item {
                    reference: family,
                    detail: Label::new(
                        format!("{zh}应于 {due_on} 前完成，未走访"),
                        format!("{en} due by {due_on} not made"),
                    ),
                });
            }
        }
        Ok(())
    }

    /// Re-confirmation: the year's roster confirmed.
    async fn measure_reconfirmation(
        &self,
        counties: &mut Counties,
        prefix: &str,
        year: i16,
    ) -> Result<(), StoreError> {
        let rows: Vec<(String, String, bool)> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT r.family_id, p.village_code, r.confirmed_on IS NOT NULL FROM reconfirm_roster r \
                 JOIN family_place p ON p.family_id = r.family_id \
                 WHERE r.year = $1 AND p.village_code >= $2 AND p.village_code < $3 ORDER BY p.village_code, r.family_id",
            )
            .bind(i64::from(year))
            .bind(prefix)
            .bind(prefix_end(prefix))
            .fetch_all(pool)
            .await?
        });
        for (family, village, confirmed) in rows {
            let county = village.get(..6).unwrap_or(&village).to_owned();
            measure_of(counties, county, Indicator::Reconfirmation).count(
                confirmed,
                KEEP_ITEMS,
                || Item {
                    reference: family,
                    detail: Label::new(
                        format!("{year} 年度资格未确认"),
                        format!("not re-confirmed for {year}"),
                    ),
                },
            );
        }
        Ok(())
    }

    /// Spot checks of the year: the latest finding per family and item.
    async fn measure_spot_checks(
        &self,
        counties: &mut Counties,
        prefix: &str,
        year: i16,
    ) -> Result<(), StoreError> {
        let rows: Vec<(String, String, String, bool, String, String)> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT c.county_code, f.family_id, f.item, f.passed, f.note, c.check_id FROM spot_check_finding f \
                 JOIN spot_check c ON c.check_id = f.check_id \
                 WHERE c.month >= $1 AND c.month <= $2 AND c.county_code >= $3 AND c.county_code < $4 \
                 AND {LATEST} \
                 ORDER BY c.county_code, c.check_id, f.family_id, f.item",
            )))
            .bind(format!("{year:04}-01"))
            .bind(format!("{year:04}-12"))
            .bind(county_prefix(prefix))
            .bind(prefix_end(county_prefix(prefix)))
            .fetch_all(pool)
            .await?
        });
        for (county, family, item, passed, note, check) in rows {
            let (_, zh, en) = checklist_item(&item).unwrap_or(("", "检查项", "item"));
            measure_of(counties, county, Indicator::SpotChecks).count(passed, KEEP_ITEMS, || {
                Item {
                    reference: family,
                    detail: Label::new(
                        format!("抽查 {check}：{zh}不合格：{note}"),
                        format!("spot check {check}: {en} failed: {note}"),
                    ),
                }
            });
        }
        Ok(())
    }

    /// Draws a spot check of `county`'s families in the programme in `month` (the register must
    /// be fresh): the list sorted by family id, `size` of them drawn with `seed` (random when
    /// none is given), all stored with the list's digest, in one audited transaction.
    pub async fn draw_spot_check(
        &self,
        county: &str,
        month: Month,
        size: i64,
        seed: Option<u64>,
        note: &str,
        actor: &Actor,
    ) -> Result<SpotCheck, StoreError> {
        if county.len() != 6 || !county.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StoreError::invalid(
                "county",
                format!("{county:?} 不是县区代码 / not a county code"),
            ));
        }
        if !(1..=10_000).contains(&size) {
            return Err(StoreError::invalid(
                "size",
                format!("{size} 不在 1–10000 之间 / outside 1..=10000"),
            ));
        }
        if note.chars().count() > 500 {
            return Err(StoreError::invalid(
                "note",
                "不能超过 500 字 / at most 500 characters",
            ));
        }
        let mut population = Vec::new();
        self.scan_register(county, |family, _, profile, _, standing| {
            if in_programme(profile, standing, month) {
                population.push(family.to_owned());
            }
        })
        .await?;
        if population.is_empty() {
            return Err(StoreError::invalid(
                "county",
                format!(
                    "{county} 在 {month} 没有在册的特殊困难家庭 / no families in the programme"
                ),
            ));
        }
        population.sort();
        let seed = seed.unwrap_or_else(rand::random);
        let digest = sample::population_digest(&population);
        let drawn = sample::draw(
            &population,
            usize::try_from(size).unwrap_or(usize::MAX),
            seed,
        );
        let check_id = format!("S{:032x}", rand::random::<u128>());
        let now = now_micros();
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO spot_check (check_id, county_code, month, seed, sample_size, population, population_digest, population_ids, drawn_at, drawn_by, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&check_id)
            .bind(county)
            .bind(month.to_string())
            .bind(seed.to_string())
            .bind(drawn.len() as i64)
            .bind(population.len() as i64)
            .bind(&digest)
            .bind(population.join("\n"))
            .bind(now)
            .bind(&actor.name)
            .bind(note.trim())
            .execute(&mut *tx)
            .await?;
            for (no, index) in drawn.iter().enumerate() {
                sqlx::query("INSERT INTO spot_check_family (check_id, draw_no, family_id) VALUES ($1, $2, $3)")
                    .bind(&check_id)
                    .bind(no as i64 + 1)
                    .bind(&population[*index])
                    .execute(&mut *tx)
                    .await?;
            }
            let reason = format!("{month}, seed {seed}, {} of {} families, list {digest}", drawn.len(), population.len());
            crate::audit::append_audit!(&mut *tx, actor, "spot_check.draw", &check_id, &reason);
            tx.commit().await?;
        });
        self.spot_check(&check_id).await
    }

    /// A spot check with its families and latest findings.
    pub async fn spot_check(&self, check_id: &str) -> Result<SpotCheck, StoreError> {
        type Head = (
            String,
            String,
            String,
            String,
            i64,
            i64,
            String,
            i64,
            String,
            String,
        );
        let head: Option<Head> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT check_id, county_code, month, seed, sample_size, population, population_digest, drawn_at, drawn_by, note FROM spot_check WHERE check_id = $1",
            )
            .bind(check_id)
            .fetch_optional(pool)
            .await?
        });
        let (
            check_id,
            county_code,
            month,
            seed,
            sample_size,
            population,
            digest,
            drawn_at,
            drawn_by,
            note,
        ) = head.ok_or_else(|| {
            StoreError::invalid("check", format!("没有抽查 {check_id} / no such spot check"))
        })?;
        let (families, findings): (Vec<DrawnRow>, Vec<FindingRow>) = on_db!(self.db(), pool => {
            let families = sqlx::query_as(
                "SELECT s.draw_no, s.family_id, f.family_no, p.village_code FROM spot_check_family s JOIN family f ON f.family_id = s.family_id \
                 LEFT JOIN family_place p ON p.family_id = s.family_id WHERE s.check_id = $1 ORDER BY s.draw_no",
            )
            .bind(&check_id)
            .fetch_all(pool)
            .await?;
            let findings = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT f.family_id, f.item, f.passed, f.note, f.checked_on, f.recorded_by FROM spot_check_finding f WHERE f.check_id = $1 \
                 AND {LATEST} \
                 ORDER BY f.family_id, f.item",
            )))
            .bind(&check_id)
            .fetch_all(pool)
            .await?;
            (families, findings)
        });
        let corrupt =
            |what: &str, e: String| StoreError::Corrupt(format!("spot_check.{what}: {e}"));
        Ok(SpotCheck {
            check_id,
            month: Month::parse(&month).map_err(|e| corrupt("month", e.to_string()))?,
            seed: seed
                .parse()
                .map_err(|e: std::num::ParseIntError| corrupt("seed", e.to_string()))?,
            county_code,
            sample_size,
            population,
            population_digest: digest,
            drawn_at,
            drawn_by,
            note,
            families: families
                .into_iter()
                .map(|(draw_no, family, family_no, village)| SpotFamily {
                    draw_no,
                    family_id: FamilyId::from_db(family),
                    family_no,
                    village_code: village.unwrap_or_default(),
                })
                .collect(),
            findings: findings
                .into_iter()
                .map(|(family, item, passed, note, on, by)| {
                    Ok(SpotFinding {
                        family_id: FamilyId::from_db(family),
                        item,
                        passed,
                        note,
                        checked_on: guanai_rules::parse_date(&on)
                            .map_err(|e| corrupt("checked_on", e.to_string()))?,
                        recorded_by: by,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        })
    }

    /// Draws again from the stored list with the stored seed and compares.
    pub async fn verify_spot_check(&self, check_id: &str) -> Result<DrawVerification, StoreError> {
        let check = self.spot_check(check_id).await?;
        let ids: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT population_ids FROM spot_check WHERE check_id = $1")
                .bind(check_id)
                .fetch_optional(pool)
                .await?
        });
        let population: Vec<String> = ids
            .unwrap_or_default()
            .split('\n')
            .map(str::to_owned)
            .collect();
        let drawn: Vec<&str> = sample::draw(&population, check.families.len(), check.seed)
            .into_iter()
            .filter_map(|i| population.get(i).map(String::as_str))
            .collect();
        let stored: Vec<&str> = check
            .families
            .iter()
            .map(|f| f.family_id.as_str())
            .collect();
        Ok(DrawVerification {
            digest_matches: sample::population_digest(&population) == check.population_digest,
            same_families: drawn == stored,
        })
    }

    /// Records a finding for a drawn family and checklist item; a failed item needs a note.
    pub async fn record_spot_finding(
        &self,
        check_id: &str,
        family: &FamilyId,
        finding: NewFinding<'_>,
        today: Date,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let NewFinding {
            item,
            passed,
            note,
            checked_on,
        } = finding;
        if checklist_item(item).is_none() {
            let known: Vec<&str> = CHECKLIST.iter().map(|c| c.0).collect();
            return Err(StoreError::invalid(
                "item",
                format!(
                    "{item:?} 不是检查项 / not a checklist item ({})",
                    known.join(", ")
                ),
            ));
        }
        crate::checks::not_future("checked_on", checked_on, today)?;
        if !passed && note.trim().is_empty() {
            return Err(StoreError::invalid(
                "note",
                "不合格须写明情况 / say what was wrong",
            ));
        }
        if note.chars().count() > 1000 {
            return Err(StoreError::invalid(
                "note",
                "不能超过 1000 字 / at most 1000 characters",
            ));
        }
        let drawn: Option<i64> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT draw_no FROM spot_check_family WHERE check_id = $1 AND family_id = $2")
                .bind(check_id)
                .bind(family.as_str())
                .fetch_optional(pool)
                .await?
        });
        if drawn.is_none() {
            return Err(StoreError::invalid(
                "family",
                format!("{family} 不在抽查 {check_id} 的样本中 / not drawn in this check"),
            ));
        }
        let id = format!("K{:032x}", rand::random::<u128>());
        let target = format!("{check_id}/{family}/{item}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO spot_check_finding (finding_id, check_id, family_id, item, passed, note, checked_on, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&id)
            .bind(check_id)
            .bind(family.as_str())
            .bind(item)
            .bind(passed)
            .bind(note.trim())
            .bind(checked_on.to_string())
            .bind(&actor.name)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "spot_check.finding", &target, if passed { "passed" } else { "failed" });
            tx.commit().await?;
        });
        Ok(())
    }

    /// Spot checks of the counties under `prefix`, newest first.
    pub async fn spot_checks(&self, prefix: &str) -> Result<Vec<SpotCheckSummary>, StoreError> {
        let county = county_prefix(prefix);
        type Row = (String, String, String, i64, i64, i64, String, i64, i64);
        let rows: Vec<Row> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT c.check_id, c.county_code, c.month, c.sample_size, c.population, c.drawn_at, c.drawn_by, \
                 (SELECT COUNT(*) FROM spot_check_finding f WHERE f.check_id = c.check_id AND {LATEST}), \
                 (SELECT COUNT(*) FROM spot_check_finding f WHERE f.check_id = c.check_id AND f.passed = FALSE AND {LATEST}) \
                 FROM spot_check c WHERE c.county_code >= $1 AND c.county_code < $2 ORDER BY c.drawn_at DESC",
            )))
            .bind(county)
            .bind(prefix_end(county))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(
                |(
                    check_id,
                    county_code,
                    month,
                    sample_size,
                    population,
                    drawn_at,
                    drawn_by,
                    checked,
                    failed,
                )| {
                    Ok(SpotCheckSummary {
                        check_id,
                        county_code,
                        month: Month::parse(&month)
                            .map_err(|e| StoreError::Corrupt(format!("spot_check.month: {e}")))?,
                        sample_size,
                        population,
                        drawn_at,
                        drawn_by,
                        checked,
                        failed,
                    })
                },
            )
            .collect()
    }
}
