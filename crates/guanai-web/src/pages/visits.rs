//! Visits (走访, 二(一)): the visit section of the family file (a year's plan with each period's
//! standing, the dedicated visitor 专人, the visit records with their follow-ups) and its forms,
//! and the `/visits` page: the year's figures per county, the lists of overdue and due-soon
//! visits and of families still without a dedicated visitor, and making a year's plan. The
//! periods come from `guanai-care`'s planner through the store, which re-plans a family when a
//! visit is recorded or withdrawn; [`replan`] does it after a change of the family's facts.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_care::holidays::Holidays;
use guanai_care::visits::{NeedLevel, Occasion, PeriodKind, PeriodStatus, status};
use guanai_rules::policy::VisitParams;
use guanai_store::access::Role;
use guanai_store::family_reads::FamilyReads;
use guanai_store::scope::{FamilyRow, Visibility};
use guanai_store::visits::{
    DueState, NewVisit, PlannedVisit, VisitCounts, VisitPlanSummary, VisitRecord,
};
use guanai_store::{FamilyId, StoreError};
use serde::Deserialize;

use super::families::{FormErrors, family_id, family_page};
use super::{Chrome, area_name, beijing_micros, render, this_month, today};
use crate::i18n::Lang;
use crate::state::{AppState, Post, Signed, WebError};

/// Days before its due date an open period counts as due soon (即将到期).
pub const DUE_SOON_DAYS: i32 = 14;

/// Rows per page of the `/visits` lists.
const PAGE_ROWS: i64 = 20;

/// The verified festival table shipped with Guanai.
pub(crate) fn holidays() -> Result<&'static Holidays, WebError> {
    Holidays::embedded().map_err(|e| WebError::Internal(format!("the holidays table: {e}")))
}

/// What a visit was made for, on screen.
fn occasion_label(lang: Lang, occasion: Occasion) -> &'static str {
    lang.pick(
        occasion.as_zh(),
        match occasion {
            Occasion::Regular => "regular visit",
            Occasion::SpringFestival => "Spring Festival visit",
            Occasion::MidAutumn => "Mid-Autumn visit",
        },
    )
}

/// A period's need with its frequency from the policy: 重点（专人） · 每月, 一般 · 每3个月.
fn level_label(lang: Lang, level: NeedLevel, params: &VisitParams) -> String {
    let every = match level {
        NeedLevel::High => params.high_need_every_months,
        NeedLevel::Regular => params.regular_every_months,
        NeedLevel::None => return lang.pick(level.as_zh(), "none").to_owned(),
    };
    let name = lang.pick(
        level.as_zh(),
        if level == NeedLevel::High {
            "dedicated visitor"
        } else {
            "regular visits"
        },
    );
    format!("{name} · {}", every_label(lang, every))
}

/// How often, in months: 每月, 每3个月.
fn every_label(lang: Lang, months: u8) -> String {
    match (lang, months) {
        (Lang::Zh, 1) => "每月".to_owned(),
        (Lang::Zh, n) => format!("每{n}个月"),
        (Lang::En, 1) => "monthly".to_owned(),
        (Lang::En, n) => format!("every {n} months"),
    }
}

/// A period's standing on screen; a visited one with its date.
fn status_label(lang: Lang, s: PeriodStatus) -> String {
    let en = match s {
        PeriodStatus::Done(_) => "visited",
        PeriodStatus::Overdue => "overdue",
        PeriodStatus::DueSoon => "due soon",
        PeriodStatus::Open => "open",
        PeriodStatus::NotYet => "not started",
    };
    match s {
        PeriodStatus::Done(on) => format!("{} {on}", lang.pick(s.as_zh(), en)),
        _ => lang.pick(s.as_zh(), en).to_owned(),
    }
}

/// When and by whom a whole-city plan was made, with which policy, and its size.
fn plan_made_text(lang: Lang, m: &VisitPlanSummary) -> String {
    let size = match lang {
        Lang::Zh => format!("{} 户, {} 个走访期", m.families, m.periods),
        Lang::En => format!("{} families, {} periods", m.families, m.periods),
    };
    format!(
        "{} · {} · {} ({size})",
        beijing_micros(m.planned_at),
        m.planned_by,
        m.policy_name
    )
}

/// Whether a regular period needing a dedicated visitor covers `today` (the store's test for
/// the "without a dedicated visitor" list).
pub(crate) fn needs_dedicated_on(plan: &[PlannedVisit], today: jiff::civil::Date) -> bool {
    plan.iter().any(|p| {
        p.period.kind == PeriodKind::Regular
            && p.period.level == NeedLevel::High
            && p.period.starts_on <= today
            && today <= p.period.due_on
    })
}

/// One period of the plan on the family file.
pub(crate) struct PeriodLine {
    pub(crate) kind: &'static str,
    pub(crate) level: String,
    pub(crate) starts_on: String,
    pub(crate) due_on: String,
    /// `done`, `overdue`, `due_soon`, `open`, `not_yet` (a CSS class).
    pub(crate) status: &'static str,
    pub(crate) status_text: String,
}

/// One visit record on the family file.
pub(crate) struct VisitLine {
    pub(crate) visit_id: String,
    pub(crate) visited_on: String,
    pub(crate) occasion: &'static str,
    pub(crate) visitor: String,
    pub(crate) found: String,
    pub(crate) needs: String,
    pub(crate) follow_up: String,
    pub(crate) follow_up_due: String,
    /// An open follow-up whose deadline has passed.
    pub(crate) follow_up_late: bool,
    /// Result, who closed it, when.
    pub(crate) follow_up_done: Option<(String, String, String)>,
    pub(crate) recorded_by: String,
    pub(crate) recorded_at: String,
    /// Who withdrew it, and why.
    pub(crate) withdrawn: Option<(String, String)>,
}

impl VisitLine {
    fn of(v: VisitRecord, lang: Lang, today: jiff::civil::Date) -> VisitLine {
        let open = v.withdrawn.is_none() && !v.follow_up.is_empty() && v.follow_up_done.is_none();
        VisitLine {
            visited_on: v.visited_on.to_string(),
            occasion: occasion_label(lang, v.occasion),
            follow_up_late: open && v.follow_up_due.is_some_and(|d| d < today),
            follow_up_due: v.follow_up_due.map(|d| d.to_string()).unwrap_or_default(),
            follow_up_done: v
                .follow_up_done
                .map(|(result, by, at)| (result, by, beijing_micros(at))),
            recorded_at: beijing_micros(v.recorded_at),
            visit_id: v.visit_id,
            visitor: v.visitor,
            found: v.found,
            needs: v.needs,
            follow_up: v.follow_up,
            recorded_by: v.recorded_by,
            withdrawn: v.withdrawn,
        }
    }

    /// A follow-up waiting for its result.
    pub(crate) fn follow_up_open(&self) -> bool {
        self.withdrawn.is_none() && !self.follow_up.is_empty() && self.follow_up_done.is_none()
    }
}

/// The record-a-visit form's fields, as typed (kept when the form is refused).
#[derive(Deserialize, Default, Clone)]
pub struct VisitForm {
    #[serde(default)]
    pub(crate) visited_on: String,
    #[serde(default)]
    pub(crate) occasion: String,
    #[serde(default)]
    pub(crate) visitor: String,
    #[serde(default)]
    pub(crate) found: String,
    #[serde(default)]
    pub(crate) needs: String,
    #[serde(default)]
    pub(crate) follow_up: String,
    #[serde(default)]
    pub(crate) follow_up_due: String,
}

impl VisitForm {
    /// The visit the form describes, or the errors of the fields that do not read. What the
    /// values mean (a date in the future, a follow-up without a deadline …) the store checks.
    pub(crate) fn visit(&self, lang: Lang) -> Result<NewVisit, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let mut date = |field: &str, text: &str, required: bool| match text.trim() {
            "" if required => {
                errors.push((
                    field.to_owned(),
                    lang.pick("请填写日期", "the date is required").to_owned(),
                ));
                None
            }
            "" => None,
            d => match guanai_rules::parse_date(d) {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push((
                        field.to_owned(),
                        lang.pick("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD")
                            .to_owned(),
                    ));
                    None
                }
            },
        };
        let visited_on = date("visited_on", &self.visited_on, true);
        let follow_up_due = date("follow_up_due", &self.follow_up_due, false);
        let occasion = Occasion::parse(self.occasion.trim());
        if occasion.is_none() {
            errors.push((
                "occasion".to_owned(),
                lang.pick(
                    "请选择走访类型(定期巡访、春节慰问、中秋慰问)",
                    "choose regular, Spring Festival or Mid-Autumn",
                )
                .to_owned(),
            ));
        }
        match (visited_on, occasion) {
            (Some(visited_on), Some(occasion)) if errors.is_empty() => Ok(NewVisit {
                visited_on,
                occasion,
                visitor: self.visitor.clone(),
                found: self.found.clone(),
                needs: self.needs.clone(),
                follow_up: self.follow_up.clone(),
                follow_up_due,
            }),
            _ => Err(errors),
        }
    }
}

/// The visit section of the family file (`id="visits"`).
pub(crate) struct VisitSection {
    pub(crate) year: i16,
    pub(crate) this_year: i16,
    pub(crate) previous_year: i16,
    pub(crate) next_year: i16,
    /// How often visits are due, from the policy.
    pub(crate) frequency: String,
    pub(crate) periods: Vec<PeriodLine>,
    /// When the city's plan of the year was last made, by whom, with which policy.
    pub(crate) plan_made: Option<String>,
    /// County and city caseworkers make plans on `/visits`.
    pub(crate) can_plan: bool,
    /// (visitor, unit, since, assigned by)
    pub(crate) dedicated: Option<(String, String, String, String)>,
    /// A period needing a dedicated visitor covers today and none is named.
    pub(crate) dedicated_missing: bool,
    /// Caseworkers of the area: name the dedicated visitor, withdraw a record.
    pub(crate) can_write: bool,
    /// Caseworkers of the area and the paired volunteer: record visits, close follow-ups.
    pub(crate) can_visit: bool,
    pub(crate) records: Vec<VisitLine>,
    pub(crate) occasions: Vec<(&'static str, &'static str)>,
    /// The record-a-visit form's values.
    pub(crate) form: VisitForm,
    /// The dedicated-visitor form's values: visitor, unit.
    pub(crate) dedicated_form: (String, String),
    /// The text of a refused withdrawal or follow-up form (reason or result).
    pub(crate) kept: String,
}

impl VisitSection {
    pub(crate) fn occasion_selected(&self, value: &str) -> bool {
        self.form.occasion == value
    }
}

/// The visit section of `family`'s file for `year`, as `signed` may see and use it.
pub(crate) fn section(
    signed: &Signed,
    visibility: Visibility,
    year: i16,
    reads: &mut FamilyReads,
) -> VisitSection {
    let lang = signed.lang;
    let today = today();
    let params = &signed.state().policy().visits;
    let plan = std::mem::take(&mut reads.visit_plan);
    let records = std::mem::take(&mut reads.visits);
    let dedicated = reads.dedicated_visitor.take();
    let made = reads.plan_made.take();
    let role = signed.user.role;
    let own = visibility == Visibility::Own;
    let periods = plan
        .iter()
        .map(|p| {
            let s = status(&p.period, p.visited_on, today, DUE_SOON_DAYS);
            PeriodLine {
                kind: occasion_label(lang, p.period.kind.occasion()),
                level: level_label(lang, p.period.level, params),
                starts_on: p.period.starts_on.to_string(),
                due_on: p.period.due_on.to_string(),
                status: s.as_str(),
                status_text: status_label(lang, s),
            }
        })
        .collect();
    let (regular, high) = (
        every_label(lang, params.regular_every_months),
        every_label(lang, params.high_need_every_months),
    );
    let window = params.holiday_window_days;
    let frequency = match lang {
        Lang::Zh => format!(
            "定期巡访{regular}一次;需专人联系的家庭{high}一次;春节、中秋节前{window}天内走访慰问。"
        ),
        Lang::En => format!(
            "Regular visits {regular}; families needing a dedicated visitor {high}; holiday visits within {window} days before Spring Festival and Mid-Autumn."
        ),
    };
    VisitSection {
        year,
        this_year: today.year(),
        previous_year: year.saturating_sub(1),
        next_year: year.saturating_add(1),
        frequency,
        periods,
        plan_made: made.map(|m| plan_made_text(lang, &m)),
        can_plan: matches!(role, Role::County | Role::City),
        dedicated_missing: dedicated.is_none() && needs_dedicated_on(&plan, today),
        dedicated: dedicated.map(|d| {
            (
                d.visitor,
                d.unit,
                beijing_micros(d.assigned_at),
                d.assigned_by,
            )
        }),
        can_write: own && role.can_record(),
        can_visit: own && (role.can_record() || role == Role::Volunteer),
        records: records
            .into_iter()
            .map(|v| VisitLine::of(v, lang, today))
            .collect(),
        occasions: Occasion::ALL
            .into_iter()
            .map(|o| (o.as_str(), occasion_label(lang, o)))
            .collect(),
        form: VisitForm {
            visited_on: today.to_string(),
            occasion: Occasion::Regular.as_str().to_owned(),
            visitor: signed.user.display_name.clone(),
            ..VisitForm::default()
        },
        dedicated_form: (String::new(), String::new()),
        kept: String::new(),
    }
}

/// Works out the family's plan for this year again after a change of its facts (a death, an
/// illness, a corrected birth date …). The change is already committed when this runs, so a
/// failure is logged, not shown: the caseworker's change stands, and the next whole-year plan
/// (`/visits`, `guanai visit plan`) repairs the family's periods.
pub(crate) async fn replan(state: &AppState, family: &FamilyId) {
    let result = match Holidays::embedded() {
        Ok(holidays) => state
            .gate()
            .replan_family(family, today().year(), state.policy(), holidays)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = result {
        tracing::warn!(%family, %error, "re-planning the family's visits after a change failed");
    }
}

/// Refuses before a form is read when the user may not write to this family at all (wrong role,
/// outside the area, or a read-only break-the-glass grant), so a refused user is told no more
/// than that; the store checks again when it writes.
async fn may_write(signed: &Signed, family: &FamilyId, role_may: bool) -> Result<(), WebError> {
    signed.require(role_may)?;
    match signed.scoped().visibility(family).await? {
        Some(Visibility::Own) => Ok(()),
        Some(Visibility::Granted { .. }) => Err(WebError::Forbidden),
        None => Err(WebError::NotFound),
    }
}

fn may_visit(role: Role) -> bool {
    role.can_record() || role == Role::Volunteer
}

/// Back to the file's visit section, showing `year` when it is not this year.
fn saved(family: &FamilyId, year: i16) -> Response {
    let target = if year == today().year() {
        format!("/families/{family}?saved=1#visits")
    } else {
        format!("/families/{family}?year={year}&saved=1#visits")
    };
    Redirect::to(&target).into_response()
}

/// The family file again with the refused form's errors (400); `keep` puts the typed values back.
async fn refused(
    signed: &Signed,
    family: &FamilyId,
    year: i16,
    errors: FormErrors,
    keep: impl FnOnce(&mut VisitSection),
) -> Result<Response, WebError> {
    let mut page = family_page(signed, family, this_month(), &[], errors, None, year).await?;
    keep(&mut page.visits);
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

/// `POST /families/{id}/visits`: records a visit (caseworkers of the area, the paired volunteer).
pub async fn record(Path(id): Path<String>, post: Post<VisitForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_write(&signed, &family, may_visit(signed.user.role)).await?;
    let fields = match form.visit(signed.lang) {
        Err(fields) => fields,
        Ok(visit) => {
            let state = signed.state();
            match signed
                .scoped()
                .record_visit(&family, &visit, state.policy(), holidays()?, today())
                .await
            {
                Ok(_) => {
                    // A Spring Festival visit made in December is for the next year's festival.
                    let december_festival = visit.occasion == Occasion::SpringFestival
                        && visit.visited_on.month() == 12;
                    let year = visit.visited_on.year() + i16::from(december_festival);
                    return Ok(saved(&family, year));
                }
                Err(StoreError::Invalid { field, problem }) => vec![(field, problem)],
                Err(e) => return Err(e.into()),
            }
        }
    };
    let errors = FormErrors {
        form: "visit".into(),
        fields,
    };
    refused(&signed, &family, today().year(), errors, |s| s.form = form).await
}

/// The withdraw and follow-up forms: the text, and the year of the section it was sent from.
#[derive(Deserialize)]
pub struct VisitTextForm {
    #[serde(default)]
    text: String,
    year: Option<i16>,
}

/// `POST /families/{id}/visits/{visit}/withdraw`: withdraws a wrong record, with a reason
/// (caseworkers of the area).
pub async fn withdraw(
    Path((id, visit)): Path<(String, String)>,
    post: Post<VisitTextForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_write(&signed, &family, signed.user.role.can_record()).await?;
    let year = form.year.unwrap_or_else(|| today().year());
    let state = signed.state();
    match signed
        .scoped()
        .withdraw_visit(&family, &visit, &form.text, state.policy(), holidays()?)
        .await
    {
        Ok(()) => Ok(saved(&family, year)),
        Err(StoreError::Invalid { field, problem }) => {
            let errors = FormErrors {
                form: format!("withdraw-{visit}"),
                fields: vec![(field, problem)],
            };
            refused(&signed, &family, year, errors, |s| s.kept = form.text).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /families/{id}/visits/{visit}/follow-up`: closes a visit's follow-up with its result
/// (caseworkers of the area, the paired volunteer).
pub async fn follow_up(
    Path((id, visit)): Path<(String, String)>,
    post: Post<VisitTextForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_write(&signed, &family, may_visit(signed.user.role)).await?;
    let year = form.year.unwrap_or_else(|| today().year());
    match signed
        .scoped()
        .close_follow_up(&family, &visit, &form.text)
        .await
    {
        Ok(()) => Ok(saved(&family, year)),
        Err(StoreError::Invalid { field, problem }) => {
            let errors = FormErrors {
                form: format!("follow-up-{visit}"),
                fields: vec![(field, problem)],
            };
            refused(&signed, &family, year, errors, |s| s.kept = form.text).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct DedicatedForm {
    #[serde(default)]
    visitor: String,
    #[serde(default)]
    unit: String,
}

/// `POST /families/{id}/dedicated-visitor`: names the family's dedicated visitor (专人),
/// replacing the current one (caseworkers of the area).
pub async fn dedicated_visitor(
    Path(id): Path<String>,
    post: Post<DedicatedForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_write(&signed, &family, signed.user.role.can_record()).await?;
    match signed
        .scoped()
        .assign_dedicated_visitor(&family, &form.visitor, &form.unit)
        .await
    {
        Ok(_) => Ok(saved(&family, today().year())),
        Err(StoreError::Invalid { field, problem }) => {
            let errors = FormErrors {
                form: "dedicated".into(),
                fields: vec![(field, problem)],
            };
            refused(&signed, &family, today().year(), errors, |s| {
                s.dedicated_form = (form.visitor, form.unit);
            })
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Which list the `/visits` page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Overdue,
    Soon,
    Dedicated,
}

impl List {
    fn parse(text: Option<&str>) -> List {
        match text {
            Some("soon") => List::Soon,
            Some("dedicated") => List::Dedicated,
            _ => List::Overdue,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            List::Overdue => "overdue",
            List::Soon => "soon",
            List::Dedicated => "dedicated",
        }
    }
}

#[derive(Deserialize, Default)]
pub struct VisitsParams {
    list: Option<String>,
    page: Option<i64>,
    /// After a plan was made: its year and summary, for the flash.
    planned: Option<i16>,
    families: Option<i64>,
    periods: Option<i64>,
    unplannable: Option<i64>,
}

/// One county's figures for the year.
struct CountyLine {
    name: String,
    code: String,
    counts: VisitCounts,
    coverage: String,
}

impl CountyLine {
    fn of(name: String, code: String, counts: VisitCounts) -> CountyLine {
        CountyLine {
            coverage: coverage(counts.due, counts.overdue),
            name,
            code,
            counts,
        }
    }
}

/// The share of the periods due so far (`due`) that were visited (all but `overdue`), in whole
/// percent rounded down, so 99.9 % never shows as 100 %; "—" while nothing is due. A period
/// visited early and not due yet counts in "visited" but not here.
pub(crate) fn coverage(due: i64, overdue: i64) -> String {
    if due <= 0 {
        return "—".to_owned();
    }
    let done_of_due = (due - overdue).max(0);
    format!("{}%", done_of_due * 100 / due)
}

/// One row of the overdue or due-soon list.
struct DueLine {
    family: FamilyRow,
    kind: &'static str,
    level: String,
    starts_on: String,
    due_on: String,
    year: i16,
}

#[derive(Template)]
#[template(path = "visits.html")]
struct VisitsPage {
    c: Chrome,
    year: i16,
    counties: Vec<CountyLine>,
    total: CountyLine,
    plan_made: Option<String>,
    list: &'static str,
    page: i64,
    more: bool,
    due: Vec<DueLine>,
    dedicated: Vec<FamilyRow>,
    can_plan: bool,
    plan_year: String,
    errors: Vec<(String, String)>,
}

impl VisitsPage {
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }
}

async fn visits_page(
    signed: &Signed,
    list: List,
    page: i64,
    plan_year: String,
    errors: Vec<(String, String)>,
    flash: Option<String>,
) -> Result<VisitsPage, WebError> {
    let lang = signed.lang;
    let scoped = signed.scoped();
    let today = today();
    let params = &signed.state().policy().visits;
    let mut total = VisitCounts::default();
    let counties: Vec<CountyLine> = scoped
        .visit_counts(today)
        .await?
        .into_iter()
        .map(|c| {
            total.planned += c.planned;
            total.due += c.due;
            total.done += c.done;
            total.overdue += c.overdue;
            total.need_dedicated += c.need_dedicated;
            total.without_dedicated += c.without_dedicated;
            CountyLine::of(area_name(&c.county_code), c.county_code.clone(), c)
        })
        .collect();
    let offset = (page - 1) * PAGE_ROWS;
    let (due, dedicated, more) = match list {
        List::Dedicated => {
            let found = scoped
                .without_dedicated_visitor(today, offset, PAGE_ROWS)
                .await?;
            (Vec::new(), found.rows, found.more)
        }
        List::Overdue | List::Soon => {
            let state = if list == List::Overdue {
                DueState::Overdue
            } else {
                DueState::DueSoon {
                    days: DUE_SOON_DAYS,
                }
            };
            let found = scoped.due_visits(state, today, offset, PAGE_ROWS).await?;
            let rows = found
                .rows
                .into_iter()
                .map(|d| DueLine {
                    kind: occasion_label(lang, d.kind.occasion()),
                    level: level_label(lang, d.level, params),
                    starts_on: d.starts_on.to_string(),
                    due_on: d.due_on.to_string(),
                    // A Spring Festival window may start in December: the period is its
                    // festival's, the year of its due date.
                    year: d.due_on.year(),
                    family: d.family,
                })
                .collect();
            (rows, Vec::new(), found.more)
        }
    };
    let made = signed.state().gate().visit_plan_made(today.year()).await?;
    let path = format!("/visits?list={}&page={page}", list.as_str());
    Ok(VisitsPage {
        c: Chrome::new(signed, "visits", &path).with_flash(flash),
        year: today.year(),
        total: CountyLine::of(signed.t().total.to_owned(), String::new(), total),
        counties,
        plan_made: made.map(|m| plan_made_text(lang, &m)),
        list: list.as_str(),
        page,
        more,
        due,
        dedicated,
        can_plan: matches!(signed.user.role, Role::County | Role::City),
        plan_year,
        errors,
    })
}

/// `GET /visits`: the year's figures and one list, for the user's scope.
pub async fn visits(signed: Signed, Query(p): Query<VisitsParams>) -> Result<Response, WebError> {
    signed.require(signed.user.role.sees_families())?;
    let list = List::parse(p.list.as_deref());
    let page = p.page.unwrap_or(1).clamp(1, 100_000);
    let flash = p.planned.map(|year| {
        let (families, periods, unplannable) = (
            p.families.unwrap_or_default(),
            p.periods.unwrap_or_default(),
            p.unplannable.unwrap_or_default(),
        );
        match signed.lang {
            Lang::Zh => format!(
                "已生成 {year} 年走访计划:{families} 户,{periods} 个走访期;{unplannable} 户档案不完整(缺身份或子女信息),未能排期。"
            ),
            Lang::En => format!(
                "The {year} visit plan is made: {families} families, {periods} periods; {unplannable} files are incomplete (no identity or child) and have no plan."
            ),
        }
    });
    let plan_year = today().year().to_string();
    render(&visits_page(&signed, list, page, plan_year, Vec::new(), flash).await?)
}

#[derive(Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    year: String,
}

/// `POST /visits/plan`: works out the year's plan for the user's scope (county and city
/// caseworkers: a county's families, or the whole city's).
pub async fn plan(post: Post<PlanForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(matches!(signed.user.role, Role::County | Role::City))?;
    let error = match form.year.trim().parse::<i16>() {
        Ok(year) if (1..=9999).contains(&year) => {
            let state = signed.state();
            match signed
                .scoped()
                .plan_visits(year, state.policy(), holidays()?)
                .await
            {
                Ok(s) => {
                    state.stats().forget_visits();
                    let target = format!(
                        "/visits?planned={}&families={}&periods={}&unplannable={}",
                        s.year, s.families, s.periods, s.unplannable
                    );
                    return Ok(Redirect::to(&target).into_response());
                }
                Err(StoreError::Invalid { field, problem }) => (field, problem),
                Err(e) => return Err(e.into()),
            }
        }
        _ => (
            "year".to_owned(),
            signed
                .lang
                .pick(
                    "年份应为四位数字,如 2026",
                    "a year is four digits, e.g. 2026",
                )
                .to_owned(),
        ),
    };
    let page = visits_page(
        &signed,
        List::Overdue,
        1,
        form.year.clone(),
        vec![error],
        None,
    )
    .await?;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}
