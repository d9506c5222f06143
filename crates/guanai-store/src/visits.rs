//! Visits (走访, 二(一)): the visits made to a family, the visits due (each family's periods for
//! a year, worked out by the planner of `guanai-care` from the engine's evaluation and stored so
//! that overdue lists per area are one indexed query), and the dedicated visitor (专人) of
//! families with a bereaved parent aged 60+ or chronically ill.
//!
//! A visit is never edited: a wrong one is withdrawn with a reason. Recording or withdrawing a
//! visit re-plans that family's year in the same transaction, so the plan always says which
//! visit satisfied which period. Facts change plans too: callers re-plan a family after a change
//! ([`Archive::replan_family`]), and `plan_visits` re-plans a whole year. Every change is audited.

use std::collections::HashMap;

use futures_util::StreamExt;
use guanai_care::holidays::Holidays;
use guanai_care::visits::{
    NeedLevel, Occasion, Period, PeriodKind, VisitDone, match_visits, plan_year, year_needs,
};
use guanai_rules::calendar::parse_date;
use guanai_rules::{Month, Policy};
use jiff::civil::Date;

use crate::access::Role;
use crate::archive::{Archive, now_micros};
use crate::bulk::{self, Col};
use crate::error::StoreError;
use crate::file::FamilyFile;
use crate::model::{Actor, FamilyId};
use crate::on_db;
use crate::reads::Read;
use crate::scope::{FamilyRow, MAX_PAGE, Page, Scoped, Visibility, push_scope};

/// The longest free text of a visit record (what was found, needs, follow-up).
pub const MAX_TEXT: usize = 2000;

/// A visit to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    pub visited_on: Date,
    pub occasion: Occasion,
    /// Who went (name, unit).
    pub visitor: String,
    /// What was found (health, living, mood).
    pub found: String,
    /// Needs raised by the family ('' none).
    pub needs: String,
    /// Follow-up agreed ('' none) and by when.
    pub follow_up: String,
    pub follow_up_due: Option<Date>,
}

/// A recorded visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRecord {
    pub visit_id: String,
    pub family_id: FamilyId,
    pub visited_on: Date,
    pub occasion: Occasion,
    pub visitor: String,
    pub found: String,
    pub needs: String,
    pub follow_up: String,
    pub follow_up_due: Option<Date>,
    /// The follow-up's result, who closed it and when (microseconds).
    pub follow_up_done: Option<(String, String, i64)>,
    pub recorded_at: i64,
    pub recorded_by: String,
    /// Who withdrew it and why.
    pub withdrawn: Option<(String, String)>,
}

/// One period of a family's plan, with the visit that satisfied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVisit {
    pub period: Period,
    pub visit_id: Option<String>,
    pub visited_on: Option<Date>,
}

/// A family's dedicated visitor (专人).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedicatedVisitor {
    pub assignment_id: String,
    pub visitor: String,
    pub unit: String,
    pub assigned_at: i64,
    pub assigned_by: String,
}

/// What a whole-year plan did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitPlanSummary {
    pub year: i16,
    pub families: i64,
    pub periods: i64,
    /// Families whose facts the engine cannot evaluate (no identity or no child on file): no plan.
    pub unplannable: i64,
    pub planned_at: i64,
    pub planned_by: String,
    pub policy_name: String,
}

fn date_from(text: &str, what: &str) -> Result<Date, StoreError> {
    parse_date(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A stored period row: kind, level, starts_on, due_on, visit_id, visited_on.
pub(crate) type PeriodRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

pub(crate) fn period_from(row: PeriodRow) -> Result<PlannedVisit, StoreError> {
    let (kind, level, starts, due, visit_id, visited) = row;
    let kind = PeriodKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("visit period kind {kind}")))?;
    let level = NeedLevel::parse(&level)
        .ok_or_else(|| StoreError::Corrupt(format!("visit period level {level}")))?;
    Ok(PlannedVisit {
        period: Period {
            kind,
            level,
            starts_on: date_from(&starts, "visit period start")?,
            due_on: date_from(&due, "visit period due date")?,
        },
        visit_id,
        visited_on: visited
            .as_deref()
            .map(|d| date_from(d, "visit date"))
            .transpose()?,
    })
}

/// A family's periods for a year, and the index of the visit satisfying each.
type PlannedYear = (Vec<Period>, Vec<Option<usize>>);

/// The year's periods of one family, with the index of the visit satisfying each.
fn plan_family_year(
    file: &FamilyFile,
    year: i16,
    policy: &Policy,
    holidays: &Holidays,
    visits: &[VisitDone],
    ended: Option<Month>,
) -> Result<Option<PlannedYear>, StoreError> {
    let last = Month::new(year, 12)
        .ok_or_else(|| StoreError::invalid("year", format!("{year} is not a year")))?;
    // Category, ages and illness do not depend on where the family lives: one set of facts
    // serves every month of the year.
    let Ok(family) = file.engine_family(last, None) else {
        return Ok(None);
    };
    let mut needs = year_needs(&family, year, policy)
        .ok_or_else(|| StoreError::invalid("year", format!("{year} is not a year")))?;
    // A family that left the programme is visited no more from the month its exit counts.
    if let Some(ended) = ended {
        for m in 0..12u8 {
            let month = Month::new(year, m as i8 + 1)
                .ok_or_else(|| StoreError::invalid("year", format!("{year} is not a year")))?;
            if month >= ended {
                needs.need[usize::from(m)] = NeedLevel::None;
                needs.holiday[usize::from(m)] = false;
            }
        }
    }
    let periods = plan_year(&needs, &policy.visits, holidays)
        .map_err(|e| StoreError::invalid("year", e.to_string()))?;
    let matched = match_visits(&periods, visits);
    Ok(Some((periods, matched)))
}

/// Checks a visit before it is written.
fn check_visit(visit: &NewVisit, policy: &Policy, today: Date) -> Result<(), StoreError> {
    if visit.visited_on > today {
        return Err(StoreError::invalid(
            "visited_on",
            format!(
                "走访日期 {} 在今天（{today}）之后 / a visit cannot be dated in the future",
                visit.visited_on
            ),
        ));
    }
    let first = policy.programme_start.first_day();
    if visit.visited_on < first {
        return Err(StoreError::invalid(
            "visited_on",
            format!("走访日期早于 {first}（制度实施之前） / before the programme began"),
        ));
    }
    let texts = [
        ("visitor", &visit.visitor, true),
        ("found", &visit.found, true),
        ("needs", &visit.needs, false),
        ("follow_up", &visit.follow_up, false),
    ];
    for (field, text, required) in texts {
        if required && text.trim().is_empty() {
            let what = if field == "visitor" {
                "请填写走访人 / who visited is required"
            } else {
                "请填写走访情况 / what was found is required"
            };
            return Err(StoreError::invalid(field, what));
        }
        if text.chars().count() > MAX_TEXT {
            return Err(StoreError::invalid(
                field,
                format!("不能超过 {MAX_TEXT} 字 / at most {MAX_TEXT} characters"),
            ));
        }
    }
    match (visit.follow_up.trim().is_empty(), visit.follow_up_due) {
        (true, Some(_)) => Err(StoreError::invalid(
            "follow_up_due",
            "没有后续事项就不需要期限 / a deadline needs a follow-up",
        )),
        (false, None) => Err(StoreError::invalid(
            "follow_up_due",
            "后续事项需要办理期限 / a follow-up needs a deadline",
        )),
        (false, Some(due)) if due < visit.visited_on => Err(StoreError::invalid(
            "follow_up_due",
            format!(
                "期限 {due} 早于走访日期 {} / the deadline is before the visit",
                visit.visited_on
            ),
        )),
        _ => Ok(()),
    }
}

/// visit_id, visited_on, occasion.
type VisitKey = (String, String, String);

impl Archive {
    /// A family's visits, newest first, withdrawn ones included (marked).
    pub async fn visits_of(&self, family: &FamilyId) -> Result<Vec<VisitRecord>, StoreError> {
        visits_from(family, visits_read(family).rows(self.db()).await?)
    }

    /// A family's plan for a year, as last worked out.
    pub async fn visit_plan_of(
        &self,
        family: &FamilyId,
        year: i16,
    ) -> Result<Vec<PlannedVisit>, StoreError> {
        plan_from(plan_read(family, year).rows(self.db()).await?)
    }

    /// The visits not withdrawn of these families whose date falls in the window of `year`'s
    /// periods (a Spring Festival window may start in December of the year before).
    async fn visits_for_plan(
        &self,
        families: &[FamilyId],
        year: i16,
    ) -> Result<HashMap<String, Vec<VisitKey>>, StoreError> {
        let from = format!("{:04}-11-01", year - 1);
        let to = format!("{year:04}-12-31");
        let mut out: HashMap<String, Vec<VisitKey>> = HashMap::new();
        for chunk in families.chunks(500) {
            let rows: Vec<(String, String, String, String)> = on_db!(self.db(), pool => {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT family_id, visit_id, visited_on, occasion FROM visit WHERE withdrawn_at IS NULL AND visited_on >= ",
                );
                q.push_bind(from.clone());
                q.push(" AND visited_on <= ");
                q.push_bind(to.clone());
                q.push(" AND family_id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(id.as_str());
                }
                q.push(") ORDER BY family_id, visited_on, visit_id");
                q.build_query_as().fetch_all(pool).await?
            });
            for (family, visit, on, occasion) in rows {
                out.entry(family).or_default().push((visit, on, occasion));
            }
        }
        Ok(out)
    }

    /// The first month each of these families is out of the programme (approved exits).
    async fn ended_of(&self, families: &[FamilyId]) -> Result<HashMap<String, Month>, StoreError> {
        let mut out = HashMap::new();
        for chunk in families.chunks(500) {
            let rows: Vec<(String, String)> = on_db!(self.db(), pool => {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT family_id, exit_on FROM family_exit WHERE status = 'approved' AND family_id IN (",
                );
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(id.as_str());
                }
                q.push(")");
                q.build_query_as().fetch_all(pool).await?
            });
            for (family, exit_on) in rows {
                out.insert(family, crate::exits::ended_from(&exit_on)?);
            }
        }
        Ok(out)
    }

    /// The period rows (JSON arrays for [`bulk::insert_sql`]) of one family's year.
    fn period_rows(
        family: &FamilyId,
        year: i16,
        keys: &[VisitKey],
        policy: &Policy,
        holidays: &Holidays,
        file: &FamilyFile,
        ended: Option<Month>,
    ) -> Result<Option<Vec<serde_json::Value>>, StoreError> {
        let mut done = Vec::with_capacity(keys.len());
        for (_, on, occasion) in keys {
            done.push(VisitDone {
                on: date_from(on, "visit date")?,
                occasion: Occasion::parse(occasion)
                    .ok_or_else(|| StoreError::Corrupt(format!("visit occasion {occasion}")))?,
            });
        }
        let Some((periods, matched)) =
            plan_family_year(file, year, policy, holidays, &done, ended)?
        else {
            return Ok(None);
        };
        Ok(Some(
            periods
                .iter()
                .zip(matched)
                .enumerate()
                .map(|(i, (p, m))| {
                    // The village of the registration in force when the period began (reports
                    // count a period where the family lived then).
                    let village = file
                        .registration(Month::of(p.starts_on), None)
                        .map(|(_, v)| v.to_string())
                        .unwrap_or_else(|| format!("{}000000", file.county_code));
                    serde_json::json!([
                        family.as_str(),
                        year,
                        i + 1,
                        p.kind.as_str(),
                        p.level.as_str(),
                        p.starts_on.to_string(),
                        p.due_on.to_string(),
                        m.map(|m| keys[m].0.as_str()),
                        village,
                    ])
                })
                .collect(),
        ))
    }

    fn period_insert_sql(&self) -> String {
        bulk::insert_sql(
            self.db(),
            "visit_period",
            &[
                ("family_id", Col::Text),
                ("year", Col::Int),
                ("period_no", Col::Int),
                ("kind", Col::Text),
                ("level", Col::Text),
                ("starts_on", Col::Text),
                ("due_on", Col::Text),
                ("visit_id", Col::Text),
                ("village_code", Col::Text),
            ],
            "",
        )
    }

    /// Works out one family's plan for a year again (after its facts or visits changed).
    pub async fn replan_family(
        &self,
        family: &FamilyId,
        year: i16,
        policy: &Policy,
        holidays: &Holidays,
    ) -> Result<(), StoreError> {
        let file = self.family_file(family).await?;
        let visits = self
            .visits_for_plan(std::slice::from_ref(family), year)
            .await?;
        let keys = visits.get(family.as_str()).cloned().unwrap_or_default();
        let ended = self.ended_of(std::slice::from_ref(family)).await?;
        let rows = Self::period_rows(
            family,
            year,
            &keys,
            policy,
            holidays,
            &file,
            ended.get(family.as_str()).copied(),
        )?;
        let sql = self.period_insert_sql();
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query("DELETE FROM visit_period WHERE family_id = $1 AND year = $2")
                .bind(family.as_str())
                .bind(i64::from(year))
                .execute(&mut *tx)
                .await?;
            if let Some(rows) = &rows && !rows.is_empty() {
                sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(serde_json::Value::Array(rows.clone()).to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Works out every family's plan for a year (or one county's families), replacing the
    /// stored periods chunk by chunk; a run that is stopped leaves each family either with its
    /// old plan or its new one, and running it again finishes the job.
    pub async fn plan_visits(
        &self,
        year: i16,
        county: Option<guanai_rules::CountyCode>,
        policy: &Policy,
        holidays: &Holidays,
        actor: &Actor,
    ) -> Result<VisitPlanSummary, StoreError> {
        if Month::new(year, 1).is_none()
            || holidays
                .date(year, guanai_care::holidays::Festival::SpringFestival)
                .is_none()
        {
            return Err(StoreError::invalid(
                "year",
                format!("没有 {year} 年的节日日期 / no festival dates for {year}"),
            ));
        }
        let ids: Vec<FamilyId> = {
            let rows: Vec<(String,)> = on_db!(self.db(), pool => {
                match county {
                    Some(c) => sqlx::query_as("SELECT family_id FROM family WHERE county_code = $1 ORDER BY family_id").bind(c.to_string()).fetch_all(pool).await?,
                    None => sqlx::query_as("SELECT family_id FROM family ORDER BY family_id").fetch_all(pool).await?,
                }
            });
            rows.into_iter()
                .filter_map(|r| FamilyId::parse(&r.0))
                .collect()
        };
        let policy_arc = std::sync::Arc::new(policy.clone());
        let holidays_arc = std::sync::Arc::new(holidays.clone());
        let sql = std::sync::Arc::new(self.period_insert_sql());
        let mut chunks = futures_util::stream::iter(ids.chunks(500).map(<[FamilyId]>::to_vec))
            .map(|chunk| {
                let archive = self.clone();
                let policy = policy_arc.clone();
                let holidays = holidays_arc.clone();
                let sql = sql.clone();
                tokio::spawn(async move {
                    let files = archive.care_files(&chunk).await?;
                    let visits = archive.visits_for_plan(&chunk, year).await?;
                    let ended = archive.ended_of(&chunk).await?;
                    let mut rows = Vec::new();
                    let mut unplannable = 0i64;
                    for file in &files {
                        let keys = visits.get(file.family_id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                        let left = ended.get(file.family_id.as_str()).copied();
                        match Archive::period_rows(&file.family_id, year, keys, &policy, &holidays, file, left)? {
                            Some(r) => rows.extend(r),
                            None => unplannable += 1,
                        }
                    }
                    let periods = rows.len() as i64;
                    on_db!(archive.db(), pool => {
                        let mut tx = pool.begin_with(archive.db().begin_write()).await?;
                        let mut q = sqlx::QueryBuilder::new("DELETE FROM visit_period WHERE year = ");
                        q.push_bind(i64::from(year));
                        q.push(" AND family_id IN (");
                        let mut list = q.separated(", ");
                        for id in &chunk {
                            list.push_bind(id.as_str());
                        }
                        q.push(")");
                        q.build().execute(&mut *tx).await?;
                        for part in rows.chunks(bulk::ROWS) {
                            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                                .bind(serde_json::Value::Array(part.to_vec()).to_string())
                                .execute(&mut *tx)
                                .await?;
                        }
                        tx.commit().await?;
                    });
                    Ok::<(i64, i64), StoreError>((periods, unplannable))
                })
            })
            .buffered(2);
        let mut periods = 0;
        let mut unplannable = 0;
        while let Some(part) = chunks.next().await {
            let (p, u) = part.map_err(|e| {
                StoreError::Corrupt(format!("a visit planning worker failed: {e}"))
            })??;
            periods += p;
            unplannable += u;
        }
        let now = now_micros();
        let families = ids.len() as i64;
        let target = format!(
            "{year}/{}",
            county
                .map(|c| c.to_string())
                .unwrap_or_else(|| "all".into())
        );
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            if county.is_none() {
                sqlx::query(
                    "INSERT INTO visit_plan (year, planned_at, planned_by, policy_name, families, periods) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (year) DO UPDATE SET planned_at = excluded.planned_at, planned_by = excluded.planned_by, \
                     policy_name = excluded.policy_name, families = excluded.families, periods = excluded.periods",
                )
                .bind(i64::from(year))
                .bind(now)
                .bind(&actor.name)
                .bind(&policy.name)
                .bind(families)
                .bind(periods)
                .execute(&mut *tx)
                .await?;
            }
            let reason = format!("{families} families, {periods} periods, policy {}", policy.name);
            crate::audit::append_audit!(&mut *tx, actor, "visit.plan", &target, &reason);
            tx.commit().await?;
        });
        Ok(VisitPlanSummary {
            year,
            families,
            periods,
            unplannable,
            planned_at: now,
            planned_by: actor.name.clone(),
            policy_name: policy.name.clone(),
        })
    }

    /// When the plan of a year was last made for the whole archive.
    pub async fn visit_plan_made(&self, year: i16) -> Result<Option<VisitPlanSummary>, StoreError> {
        Ok(plan_made_from(
            year,
            plan_made_read(year).rows(self.db()).await?,
        ))
    }

    /// Records a visit and re-plans the family's year in the same transaction.
    pub async fn record_visit(
        &self,
        family: &FamilyId,
        visit: &NewVisit,
        policy: &Policy,
        holidays: &Holidays,
        today: Date,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        check_visit(visit, policy, today)?;
        let file = self.family_file(family).await?;
        let left = self
            .ended_of(std::slice::from_ref(family))
            .await?
            .get(family.as_str())
            .copied();
        let year = visit.visited_on.year();
        let visit_id = format!("V{:032x}", rand::random::<u128>());
        let mut visits = self
            .visits_for_plan(std::slice::from_ref(family), year)
            .await?
            .remove(family.as_str())
            .unwrap_or_default();
        visits.push((
            visit_id.clone(),
            visit.visited_on.to_string(),
            visit.occasion.as_str().to_owned(),
        ));
        visits.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        // A Spring Festival visit made in December counts for the next year's festival too.
        let next = (visit.visited_on.month() == 12).then_some(year + 1);
        let mut plans = vec![(
            year,
            Self::period_rows(family, year, &visits, policy, holidays, &file, left)?,
        )];
        if let Some(next) = next {
            let mut ahead = self
                .visits_for_plan(std::slice::from_ref(family), next)
                .await?
                .remove(family.as_str())
                .unwrap_or_default();
            ahead.push(
                visits
                    .iter()
                    .find(|v| v.0 == visit_id)
                    .cloned()
                    .unwrap_or_default(),
            );
            ahead.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
            plans.push((
                next,
                Self::period_rows(family, next, &ahead, policy, holidays, &file, left)?,
            ));
        }
        let sql = self.period_insert_sql();
        let reason = format!("{} {}", visit.visited_on, visit.occasion.as_str());
        let target = format!("{family}/{visit_id}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO visit (visit_id, family_id, visited_on, occasion, visitor, found, needs, follow_up, follow_up_due, recorded_at, recorded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&visit_id)
            .bind(family.as_str())
            .bind(visit.visited_on.to_string())
            .bind(visit.occasion.as_str())
            .bind(visit.visitor.trim())
            .bind(visit.found.trim())
            .bind(visit.needs.trim())
            .bind(visit.follow_up.trim())
            .bind(visit.follow_up_due.map(|d| d.to_string()))
            .bind(now_micros())
            .bind(&actor.name)
            .execute(&mut *tx)
            .await?;
            for (year, rows) in &plans {
                sqlx::query("DELETE FROM visit_period WHERE family_id = $1 AND year = $2")
                    .bind(family.as_str())
                    .bind(i64::from(*year))
                    .execute(&mut *tx)
                    .await?;
                if let Some(rows) = rows && !rows.is_empty() {
                    sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                        .bind(serde_json::Value::Array(rows.clone()).to_string())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            crate::audit::append_audit!(&mut *tx, actor, "visit.record", &target, &reason);
            tx.commit().await?;
        });
        Ok(visit_id)
    }

    /// Records many visits at once (a visit log kept elsewhere, the demo). Each is checked as
    /// [`Archive::record_visit`] checks it — a refusal names the visit's index, and then nothing
    /// is written — and all are written in one transaction with an audit entry each. Plans are
    /// not touched: make the year's plan afterwards ([`Archive::plan_visits`]) so that the
    /// periods point at their visits.
    pub async fn record_visits(
        &self,
        visits: &[(FamilyId, NewVisit)],
        policy: &Policy,
        today: Date,
        actor: &Actor,
    ) -> Result<Vec<String>, StoreError> {
        for (i, (_, visit)) in visits.iter().enumerate() {
            check_visit(visit, policy, today).map_err(|e| match e {
                StoreError::Invalid { field, problem } => {
                    StoreError::invalid(format!("visits[{i}].{field}"), problem)
                }
                other => other,
            })?;
        }
        let mut families: Vec<&str> = visits.iter().map(|(f, _)| f.as_str()).collect();
        families.sort_unstable();
        families.dedup();
        for chunk in families.chunks(500) {
            let known: i64 = on_db!(self.db(), pool => {
                let mut q = sqlx::QueryBuilder::new("SELECT CAST(COUNT(*) AS BIGINT) FROM family WHERE family_id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                q.push(")");
                q.build_query_scalar().fetch_one(pool).await?
            });
            if known != chunk.len() as i64 {
                return Err(StoreError::invalid(
                    "visits",
                    "有走访记录指向不存在的家庭 / a visit names an unknown family",
                ));
            }
        }
        let now = now_micros();
        let ids: Vec<String> = visits
            .iter()
            .map(|_| format!("V{:032x}", rand::random::<u128>()))
            .collect();
        let rows: Vec<serde_json::Value> = visits
            .iter()
            .zip(&ids)
            .map(|((family, v), id)| {
                serde_json::json!([
                    id,
                    family.as_str(),
                    v.visited_on.to_string(),
                    v.occasion.as_str(),
                    v.visitor.trim(),
                    v.found.trim(),
                    v.needs.trim(),
                    v.follow_up.trim(),
                    v.follow_up_due.map(|d| d.to_string()),
                    now,
                    actor.name.as_str(),
                ])
            })
            .collect();
        let sql = bulk::insert_sql(
            self.db(),
            "visit",
            &[
                ("visit_id", Col::Text),
                ("family_id", Col::Text),
                ("visited_on", Col::Text),
                ("occasion", Col::Text),
                ("visitor", Col::Text),
                ("found", Col::Text),
                ("needs", Col::Text),
                ("follow_up", Col::Text),
                ("follow_up_due", Col::Text),
                ("recorded_at", Col::Int),
                ("recorded_by", Col::Text),
            ],
            "",
        );
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            for part in rows.chunks(bulk::ROWS) {
                sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(serde_json::Value::Array(part.to_vec()).to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            for ((family, v), id) in visits.iter().zip(&ids) {
                let target = format!("{family}/{id}");
                let reason = format!("{} {}", v.visited_on, v.occasion.as_str());
                crate::audit::append_audit!(&mut *tx, actor, "visit.record", &target, &reason);
            }
            tx.commit().await?;
        });
        Ok(ids)
    }

    /// Withdraws a wrong visit record (with a reason) and re-plans the family's year.
    pub async fn withdraw_visit(
        &self,
        family: &FamilyId,
        visit_id: &str,
        reason: &str,
        policy: &Policy,
        holidays: &Holidays,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        if reason.trim().chars().count() < 2 {
            return Err(StoreError::invalid(
                "reason",
                "请写明撤销理由 / state why the record is withdrawn",
            ));
        }
        let on: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT visited_on FROM visit WHERE visit_id = $1 AND family_id = $2 AND withdrawn_at IS NULL")
                .bind(visit_id)
                .bind(family.as_str())
                .fetch_optional(pool)
                .await?
        });
        let Some(on) = on else {
            return Err(StoreError::invalid(
                "visit",
                format!("走访记录 {visit_id} 不存在或已撤销 / no such visit, or already withdrawn"),
            ));
        };
        let on = date_from(&on, "visit date")?;
        let target = format!("{family}/{visit_id}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query("UPDATE visit_period SET visit_id = NULL WHERE visit_id = $1")
                .bind(visit_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE visit SET withdrawn_at = $1, withdrawn_by = $2, withdrawn_reason = $3 WHERE visit_id = $4")
                .bind(now_micros())
                .bind(&actor.name)
                .bind(reason.trim())
                .bind(visit_id)
                .execute(&mut *tx)
                .await?;
            crate::audit::append_audit!(&mut *tx, actor, "visit.withdraw", &target, reason.trim());
            tx.commit().await?;
        });
        // Another visit may satisfy what this one did.
        self.replan_family(family, on.year(), policy, holidays)
            .await?;
        if on.month() == 12 {
            self.replan_family(family, on.year() + 1, policy, holidays)
                .await?;
        }
        Ok(())
    }

    /// Closes a visit's follow-up with its result.
    pub async fn close_follow_up(
        &self,
        family: &FamilyId,
        visit_id: &str,
        result: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        if result.trim().is_empty() {
            return Err(StoreError::invalid(
                "result",
                "请填写办理结果 / what was done is required",
            ));
        }
        if result.chars().count() > MAX_TEXT {
            return Err(StoreError::invalid(
                "result",
                format!("不能超过 {MAX_TEXT} 字 / at most {MAX_TEXT} characters"),
            ));
        }
        let target = format!("{family}/{visit_id}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let done = sqlx::query(
                "UPDATE visit SET follow_up_result = $1, follow_up_done_by = $2, follow_up_done_at = $3 \
                 WHERE visit_id = $4 AND family_id = $5 AND follow_up <> '' AND follow_up_done_at IS NULL AND withdrawn_at IS NULL",
            )
            .bind(result.trim())
            .bind(&actor.name)
            .bind(now_micros())
            .bind(visit_id)
            .bind(family.as_str())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::invalid(
                    "visit",
                    "这次走访没有待办的后续事项 / this visit has no open follow-up",
                ));
            }
            crate::audit::append_audit!(&mut *tx, actor, "visit.follow_up", &target, "closed");
            tx.commit().await?;
        });
        Ok(())
    }

    /// Names a family's dedicated visitor, ending the current assignment.
    pub async fn assign_dedicated_visitor(
        &self,
        family: &FamilyId,
        visitor: &str,
        unit: &str,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        if visitor.trim().is_empty() {
            return Err(StoreError::invalid(
                "visitor",
                "请填写专人姓名 / the visitor's name is required",
            ));
        }
        if unit.trim().is_empty() {
            return Err(StoreError::invalid(
                "unit",
                "请填写专人所在单位或职务 / the visitor's unit is required",
            ));
        }
        for (field, text) in [("visitor", visitor), ("unit", unit)] {
            if text.chars().count() > 100 {
                return Err(StoreError::invalid(
                    field,
                    "不能超过 100 字 / at most 100 characters",
                ));
            }
        }
        let exists: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT family_id FROM family WHERE family_id = $1").bind(family.as_str()).fetch_optional(pool).await?
        });
        if exists.is_none() {
            return Err(StoreError::FamilyNotFound(family.to_string()));
        }
        let assignment_id = format!("D{:032x}", rand::random::<u128>());
        let now = now_micros();
        let target = format!("{family}/{assignment_id}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query("UPDATE dedicated_visitor SET ended_at = $1, ended_by = $2 WHERE family_id = $3 AND ended_at IS NULL")
                .bind(now)
                .bind(&actor.name)
                .bind(family.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO dedicated_visitor (assignment_id, family_id, visitor, unit, assigned_at, assigned_by) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&assignment_id)
            .bind(family.as_str())
            .bind(visitor.trim())
            .bind(unit.trim())
            .bind(now)
            .bind(&actor.name)
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "visit.dedicated", &target, visitor.trim());
            tx.commit().await?;
        });
        Ok(assignment_id)
    }

    /// A family's current dedicated visitor.
    pub async fn dedicated_visitor_of(
        &self,
        family: &FamilyId,
    ) -> Result<Option<DedicatedVisitor>, StoreError> {
        Ok(dedicated_from(
            dedicated_read(family).rows(self.db()).await?,
        ))
    }
}

/// visit_id, visited_on, occasion, visitor, found, needs, follow_up, follow_up_due,
/// follow_up_result, follow_up_done_by, follow_up_done_at, recorded_at, recorded_by, withdrawn_by,
/// withdrawn_reason.
pub(crate) type VisitRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    String,
    Option<String>,
    Option<String>,
);

pub(crate) fn visits_read(family: &FamilyId) -> Read {
    Read::new(
        "visits",
        "visit_id, visited_on, occasion, visitor, found, needs, follow_up, follow_up_due, \
         follow_up_result, follow_up_done_by, follow_up_done_at, recorded_at, recorded_by, withdrawn_by, withdrawn_reason",
        "FROM visit WHERE family_id = $1",
    )
    .order("visited_on DESC, recorded_at DESC, visit_id DESC")
    .arg(family.as_str())
}

pub(crate) fn visits_from(
    family: &FamilyId,
    rows: Vec<VisitRow>,
) -> Result<Vec<VisitRecord>, StoreError> {
    rows.into_iter()
        .map(|r| {
            let occasion = Occasion::parse(&r.2)
                .ok_or_else(|| StoreError::Corrupt(format!("visit occasion {}", r.2)))?;
            Ok(VisitRecord {
                visit_id: r.0,
                family_id: family.clone(),
                visited_on: date_from(&r.1, "visit date")?,
                occasion,
                visitor: r.3,
                found: r.4,
                needs: r.5,
                follow_up: r.6,
                follow_up_due: r
                    .7
                    .as_deref()
                    .map(|d| date_from(d, "follow-up date"))
                    .transpose()?,
                follow_up_done: match (r.8, r.9, r.10) {
                    (Some(result), Some(by), Some(at)) => Some((result, by, at)),
                    _ => None,
                },
                recorded_at: r.11,
                recorded_by: r.12,
                withdrawn: r.13.map(|by| (by, r.14.unwrap_or_default())),
            })
        })
        .collect()
}

pub(crate) fn plan_read(family: &FamilyId, year: i16) -> Read {
    Read::new(
        "visit plan",
        "vp.kind, vp.level, vp.starts_on, vp.due_on, vp.visit_id, v.visited_on",
        "FROM visit_period vp LEFT JOIN visit v ON v.visit_id = vp.visit_id WHERE vp.family_id = $1 AND vp.year = $2",
    )
    .order("vp.period_no")
    .arg(family.as_str())
    .arg(year)
}

pub(crate) fn plan_from(rows: Vec<PeriodRow>) -> Result<Vec<PlannedVisit>, StoreError> {
    rows.into_iter().map(period_from).collect()
}

/// planned_at, planned_by, policy_name, families, periods.
pub(crate) type PlanMadeRow = (i64, String, String, i64, i64);

pub(crate) fn plan_made_read(year: i16) -> Read {
    Read::new(
        "visit plan made",
        "planned_at, planned_by, policy_name, families, periods",
        "FROM visit_plan WHERE year = $1",
    )
    .arg(year)
}

pub(crate) fn plan_made_from(year: i16, rows: Vec<PlanMadeRow>) -> Option<VisitPlanSummary> {
    rows.into_iter()
        .next()
        .map(
            |(planned_at, planned_by, policy_name, families, periods)| VisitPlanSummary {
                year,
                families,
                periods,
                unplannable: 0,
                planned_at,
                planned_by,
                policy_name,
            },
        )
}

/// assignment_id, visitor, unit, assigned_at, assigned_by.
pub(crate) type DedicatedRow = (String, String, String, i64, String);

pub(crate) fn dedicated_read(family: &FamilyId) -> Read {
    Read::new(
        "dedicated visitor",
        "assignment_id, visitor, unit, assigned_at, assigned_by",
        "FROM dedicated_visitor WHERE family_id = $1 AND ended_at IS NULL",
    )
    .arg(family.as_str())
}

pub(crate) fn dedicated_from(rows: Vec<DedicatedRow>) -> Option<DedicatedVisitor> {
    rows.into_iter()
        .next()
        .map(
            |(assignment_id, visitor, unit, assigned_at, assigned_by)| DedicatedVisitor {
                assignment_id,
                visitor,
                unit,
                assigned_at,
                assigned_by,
            },
        )
}

/// One period due and not yet visited, in a list of an area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueVisit {
    pub family: FamilyRow,
    pub kind: PeriodKind,
    pub level: NeedLevel,
    pub starts_on: Date,
    pub due_on: Date,
}

/// Which periods a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueState {
    /// Due before today and not visited.
    Overdue,
    /// Open today and due within this many days.
    DueSoon { days: i32 },
}

/// A county's visit figures for the year of `today`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VisitCounts {
    pub county_code: String,
    /// Periods of the year.
    pub planned: i64,
    /// Periods due before today.
    pub due: i64,
    /// Periods satisfied by a visit.
    pub done: i64,
    /// Periods due before today and not visited.
    pub overdue: i64,
    /// Families needing a dedicated visitor today, and those without one.
    pub need_dedicated: i64,
    pub without_dedicated: i64,
}

/// family, family_no, county, village, kind, level, starts_on, due_on.
type DueRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// Adds which periods `vp` (not visited) a due list shows on `today` to a query.
macro_rules! push_due {
    ($q:expr, $state:expr, $today:expr) => {{
        let today: Date = $today;
        match $state {
            DueState::Overdue => {
                // This year's and last year's: older periods can no longer be made good.
                $q.push(" AND vp.due_on < ");
                $q.push_bind(today.to_string());
                $q.push(" AND vp.year >= ");
                $q.push_bind(i64::from(today.year()) - 1);
            }
            DueState::DueSoon { days } => {
                let until = today
                    .checked_add(jiff::Span::new().days(i64::from(days.max(0))))
                    .unwrap_or(today);
                $q.push(" AND vp.starts_on <= ");
                $q.push_bind(today.to_string());
                $q.push(" AND vp.due_on >= ");
                $q.push_bind(today.to_string());
                $q.push(" AND vp.due_on <= ");
                $q.push_bind(until.to_string());
            }
        }
    }};
}

/// Adds "the family `p` needs a dedicated visitor on `today`" (a high-need regular period open
/// that day) to a query.
macro_rules! push_needs_dedicated {
    ($q:expr, $today:expr) => {{
        let today: Date = $today;
        $q.push("EXISTS (SELECT 1 FROM visit_period vp WHERE vp.family_id = p.family_id AND vp.level = 'high' AND vp.kind = 'regular' AND vp.starts_on <= ");
        $q.push_bind(today.to_string());
        $q.push(" AND vp.due_on >= ");
        $q.push_bind(today.to_string());
        $q.push(")");
    }};
}

impl Scoped<'_> {
    /// Fails unless the user may record visits for this family: caseworkers of the area, and
    /// volunteers paired to it (二(一)).
    async fn require_visit_write(&self, family: &FamilyId) -> Result<(), StoreError> {
        if !(self.user.role.can_record() || self.user.role == Role::Volunteer) {
            return Err(StoreError::Forbidden(
                "只有专干和结对志愿者可以登记走访 / only caseworkers and paired volunteers record visits".into(),
            ));
        }
        match self.visibility(family).await? {
            Some(Visibility::Own) => Ok(()),
            Some(Visibility::Granted { .. }) => Err(StoreError::Forbidden(
                "临时查看只能阅读,不能修改 / a break-the-glass grant is read-only".into(),
            )),
            None => Err(StoreError::FamilyNotFound(family.to_string())),
        }
    }

    async fn require_seen(&self, family: &FamilyId) -> Result<(), StoreError> {
        self.visibility(family)
            .await?
            .map(|_| ())
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))
    }

    /// A family's visits (newest first).
    pub async fn visits(&self, family: &FamilyId) -> Result<Vec<VisitRecord>, StoreError> {
        self.require_seen(family).await?;
        self.archive.visits_of(family).await
    }

    /// A family's plan for a year.
    pub async fn visit_plan(
        &self,
        family: &FamilyId,
        year: i16,
    ) -> Result<Vec<PlannedVisit>, StoreError> {
        self.require_seen(family).await?;
        self.archive.visit_plan_of(family, year).await
    }

    /// A family's dedicated visitor.
    pub async fn dedicated_visitor(
        &self,
        family: &FamilyId,
    ) -> Result<Option<DedicatedVisitor>, StoreError> {
        self.require_seen(family).await?;
        self.archive.dedicated_visitor_of(family).await
    }

    /// Records a visit (caseworkers of the area, paired volunteers).
    pub async fn record_visit(
        &self,
        family: &FamilyId,
        visit: &NewVisit,
        policy: &Policy,
        holidays: &Holidays,
        today: Date,
    ) -> Result<String, StoreError> {
        self.require_visit_write(family).await?;
        self.archive
            .record_visit(family, visit, policy, holidays, today, &self.user.actor())
            .await
    }

    /// Closes a visit's follow-up (caseworkers of the area, paired volunteers).
    pub async fn close_follow_up(
        &self,
        family: &FamilyId,
        visit_id: &str,
        result: &str,
    ) -> Result<(), StoreError> {
        self.require_visit_write(family).await?;
        self.archive
            .close_follow_up(family, visit_id, result, &self.user.actor())
            .await
    }

    /// Withdraws a wrong visit record (caseworkers of the area).
    pub async fn withdraw_visit(
        &self,
        family: &FamilyId,
        visit_id: &str,
        reason: &str,
        policy: &Policy,
        holidays: &Holidays,
    ) -> Result<(), StoreError> {
        self.require_write(family).await?;
        self.archive
            .withdraw_visit(
                family,
                visit_id,
                reason,
                policy,
                holidays,
                &self.user.actor(),
            )
            .await
    }

    /// Names a family's dedicated visitor (caseworkers of the area).
    pub async fn assign_dedicated_visitor(
        &self,
        family: &FamilyId,
        visitor: &str,
        unit: &str,
    ) -> Result<String, StoreError> {
        self.require_write(family).await?;
        self.archive
            .assign_dedicated_visitor(family, visitor, unit, &self.user.actor())
            .await
    }

    /// Re-plans a year: the city caseworker for every family, a county caseworker for the
    /// county's.
    pub async fn plan_visits(
        &self,
        year: i16,
        policy: &Policy,
        holidays: &Holidays,
    ) -> Result<VisitPlanSummary, StoreError> {
        let county = match self.user.role {
            Role::City => None,
            Role::County => Some(
                guanai_rules::CountyCode::parse(self.user.area_prefix()).map_err(|e| {
                    StoreError::Corrupt(format!("the user's area is not a county: {e}"))
                })?,
            ),
            _ => {
                return Err(StoreError::Forbidden(
                    "只有县区和市级专干可以生成走访计划 / only county and city caseworkers make visit plans".into(),
                ));
            }
        };
        self.archive
            .plan_visits(year, county, policy, holidays, &self.user.actor())
            .await
    }

    /// Periods in scope that are overdue (this year's and last year's) or due soon on `today`,
    /// in village order, one page.
    pub async fn due_visits(
        &self,
        state: DueState,
        today: Date,
        offset: i64,
        limit: i64,
    ) -> Result<Page<DueVisit>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows: Vec<DueRow> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT f.family_id, f.family_no, f.county_code, p.village_code, vp.kind, vp.level, vp.starts_on, vp.due_on \
                 FROM family_place p JOIN family f ON f.family_id = p.family_id JOIN visit_period vp ON vp.family_id = p.family_id \
                 WHERE vp.visit_id IS NULL",
            );
            push_due!(q, state, today);
            push_scope!(q, &self.user);
            q.push(" ORDER BY p.village_code, f.family_no, f.family_id, vp.due_on, vp.period_no LIMIT ");
            q.push_bind(limit + 1);
            q.push(" OFFSET ");
            q.push_bind(offset.max(0));
            q.build_query_as().fetch_all(pool).await?
        });
        let more = rows.len() as i64 > limit;
        let rows = &rows[..rows.len().min(limit as usize)];
        let families: Vec<(String, String, String, String)> = rows
            .iter()
            .map(|r| (r.0.clone(), r.1.clone(), r.2.clone(), r.3.clone()))
            .collect();
        let named = self.rows_of(&families).await?;
        let mut out = Vec::with_capacity(rows.len());
        for (row, family) in rows.iter().zip(named) {
            let planned = period_from((
                row.4.clone(),
                row.5.clone(),
                row.6.clone(),
                row.7.clone(),
                None,
                None,
            ))?;
            out.push(DueVisit {
                family,
                kind: planned.period.kind,
                level: planned.period.level,
                starts_on: planned.period.starts_on,
                due_on: planned.period.due_on,
            });
        }
        Ok(Page { rows: out, more })
    }

    /// Families in scope that need a dedicated visitor today and have none, one page.
    pub async fn without_dedicated_visitor(
        &self,
        today: Date,
        offset: i64,
        limit: i64,
    ) -> Result<Page<FamilyRow>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows: Vec<(String, String, String, String)> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT f.family_id, f.family_no, f.county_code, p.village_code FROM family_place p JOIN family f ON f.family_id = p.family_id \
                 WHERE ",
            );
            push_needs_dedicated!(q, today);
            q.push(" AND NOT EXISTS (SELECT 1 FROM dedicated_visitor d WHERE d.family_id = p.family_id AND d.ended_at IS NULL)");
            push_scope!(q, &self.user);
            q.push(" ORDER BY p.village_code, f.family_no, f.family_id LIMIT ");
            q.push_bind(limit + 1);
            q.push(" OFFSET ");
            q.push_bind(offset.max(0));
            q.build_query_as().fetch_all(pool).await?
        });
        let more = rows.len() as i64 > limit;
        let rows = &rows[..rows.len().min(limit as usize)];
        Ok(Page {
            rows: self.rows_of(rows).await?,
            more,
        })
    }

    /// Visit figures per county in scope for the year of `today`.
    pub async fn visit_counts(&self, today: Date) -> Result<Vec<VisitCounts>, StoreError> {
        let today_text = today.to_string();
        let year = i64::from(today.year());
        type Row = (String, i64, i64, i64, i64);
        let rows: Vec<Row> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT f.county_code, CAST(COUNT(*) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN vp.due_on < ",
            );
            q.push_bind(today_text.clone());
            q.push(" THEN 1 ELSE 0 END), 0) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN vp.visit_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(CASE WHEN vp.visit_id IS NULL AND vp.due_on < ");
            q.push_bind(today_text.clone());
            q.push(" THEN 1 ELSE 0 END), 0) AS BIGINT) FROM family_place p JOIN family f ON f.family_id = p.family_id \
                     JOIN visit_period vp ON vp.family_id = p.family_id WHERE vp.year = ");
            q.push_bind(year);
            push_scope!(q, &self.user);
            q.push(" GROUP BY f.county_code ORDER BY f.county_code");
            q.build_query_as().fetch_all(pool).await?
        });
        let dedicated: Vec<(String, i64, i64)> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT f.county_code, CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN d.assignment_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 FROM family_place p JOIN family f ON f.family_id = p.family_id \
                 LEFT JOIN dedicated_visitor d ON d.family_id = p.family_id AND d.ended_at IS NULL \
                 WHERE ",
            );
            push_needs_dedicated!(q, today);
            push_scope!(q, &self.user);
            q.push(" GROUP BY f.county_code");
            q.build_query_as().fetch_all(pool).await?
        });
        let mut out: Vec<VisitCounts> = rows
            .into_iter()
            .map(|(county_code, planned, due, done, overdue)| VisitCounts {
                county_code,
                planned,
                due,
                done,
                overdue,
                ..VisitCounts::default()
            })
            .collect();
        for (county, need, without) in dedicated {
            match out.iter_mut().find(|c| c.county_code == county) {
                Some(c) => {
                    c.need_dedicated = need;
                    c.without_dedicated = without;
                }
                None => out.push(VisitCounts {
                    county_code: county,
                    need_dedicated: need,
                    without_dedicated: without,
                    ..VisitCounts::default()
                }),
            }
        }
        out.sort_by(|a, b| a.county_code.cmp(&b.county_code));
        Ok(out)
    }

    /// How many periods in scope [`Scoped::due_visits`] lists for `state` on `today`, over all
    /// pages (the web dashboard's counts; one indexed query).
    pub async fn due_visit_count(&self, state: DueState, today: Date) -> Result<i64, StoreError> {
        let count: i64 = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM family_place p JOIN family f ON f.family_id = p.family_id \
                 JOIN visit_period vp ON vp.family_id = p.family_id WHERE vp.visit_id IS NULL",
            );
            push_due!(q, state, today);
            push_scope!(q, &self.user);
            q.build_query_scalar().fetch_one(pool).await?
        });
        Ok(count)
    }
}
