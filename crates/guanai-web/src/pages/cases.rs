//! Applications on the web (申请审批, issue 6; 临政办发〔2014〕42号 三): the `/cases` list of the
//! applications in the user's area by status; one application's page with its steps, its
//! objections and only the form of the next step the signed-in role may take (村级初审,
//! 张榜公示, 公示异议 and their handling, 乡镇审核, 县级审批, one 申诉); the printable public
//! notice (公示) of the area; and the casework section of the family file (enrolment, the
//! family's applications, applying, the parents on the re-confirmation lists). The order of the
//! steps, who may take each and the four-eyes rule are the store's (`guanai_store::casework`):
//! the forms send the application's version and every refusal is shown next to its form.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_rules::VillageCode;
use guanai_store::access::Role;
use guanai_store::casework::{Application, Decision, Enrolment, RosterLine, Status, Step};
use guanai_store::exits::ExitReason;
use guanai_store::family_reads::FamilyReads;
use guanai_store::scope::Visibility;
use guanai_store::{FamilyId, StoreError};
use jiff::civil::Date;
use serde::Deserialize;

use super::families::{FormErrors, family_id, family_page};
use super::{Chrome, render, this_month, today, village_path};
use crate::i18n::Lang;
use crate::state::{Post, Signed, WebError};

/// Applications per page of `/cases`.
const PAGE_ROWS: i64 = 20;

/// Who reads applications: caseworkers (their area) and inspectors (the city, read only).
pub(crate) fn sees_cases(role: Role) -> bool {
    role.can_record() || role == Role::Inspector
}

/// Whether a role takes a step, as the store's levels say (the store checks again): the village
/// check and the notice by the village (or the township for it), objections' handling and the
/// review by the township (or the county), the approval by the county (or the city); any
/// caseworker of the area records an application, an objection or an appeal.
pub(crate) fn may_take(role: Role, step: Step) -> bool {
    match step {
        Step::VillageCheck | Step::Notice => matches!(role, Role::Village | Role::Township),
        Step::ObjectionResolved | Step::TownshipReview => {
            matches!(role, Role::Township | Role::County)
        }
        Step::CountyApproval => matches!(role, Role::County | Role::City),
        Step::Apply | Step::Objection | Step::Appeal => role.can_record(),
    }
}

pub(crate) fn status_label(lang: Lang, s: Status) -> &'static str {
    lang.pick(s.as_zh(), s.as_en())
}

fn step_label(lang: Lang, s: Step) -> &'static str {
    lang.pick(s.as_zh(), s.as_en())
}

/// A date field: required, `YYYY-MM-DD`, not after today.
pub(crate) fn date_field(lang: Lang, text: &str) -> Result<Date, String> {
    match text.trim() {
        "" => Err(lang.pick("请填写日期", "the date is required").to_owned()),
        d => match guanai_rules::parse_date(d) {
            Ok(d) if d > today() => Err(lang
                .pick("日期不能晚于今天", "the date cannot be in the future")
                .to_owned()),
            Ok(d) => Ok(d),
            Err(_) => Err(lang
                .pick("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD")
                .to_owned()),
        },
    }
}

/// `days` days after `date` (negative: before).
fn days_from(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days))
        .unwrap_or(date)
}

/// An application id as the store makes them (`A` and 32 hex digits), or 404.
fn application_id(text: &str) -> Result<&str, WebError> {
    let ok = text.len() == 33
        && text.starts_with('A')
        && text[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(text)
    } else {
        Err(WebError::NotFound)
    }
}

/// An objection id (`O` and 32 hex digits), or 404.
fn objection_id(text: &str) -> Result<&str, WebError> {
    let ok = text.len() == 33
        && text.starts_with('O')
        && text[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(text)
    } else {
        Err(WebError::NotFound)
    }
}

/// An application the user may read, with how they see its family; 404 for any other (an
/// unknown id and another area's application alike).
async fn visible(signed: &Signed, id: &str) -> Result<(Application, Visibility), WebError> {
    signed.require(sees_cases(signed.user.role))?;
    let id = application_id(id)?;
    let scoped = signed.scoped();
    let a = match scoped.application(id).await {
        Ok(a) => a,
        Err(StoreError::Invalid { .. } | StoreError::FamilyNotFound(_)) => {
            return Err(WebError::NotFound);
        }
        Err(e) => return Err(e.into()),
    };
    let visibility = scoped
        .visibility(&a.family_id)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok((a, visibility))
}

/// An application the user may act on: a caseworker (403 otherwise, before anything is looked
/// up), of its area (404 otherwise), not through a read-only break-the-glass grant (403).
async fn writable(signed: &Signed, id: &str) -> Result<Application, WebError> {
    signed.require(signed.user.role.can_record())?;
    let (a, visibility) = visible(signed, id).await?;
    if visibility == Visibility::Own {
        Ok(a)
    } else {
        Err(WebError::Forbidden)
    }
}

/// Refuses before a family form is read when the user may not write to the family at all: the
/// wrong role (403), outside the area (404), a read-only grant (403).
pub(crate) async fn may_write_family(
    signed: &Signed,
    family: &FamilyId,
    role_may: bool,
) -> Result<(), WebError> {
    signed.require(role_may)?;
    match signed.scoped().visibility(family).await? {
        Some(Visibility::Own) => Ok(()),
        Some(Visibility::Granted { .. }) => Err(WebError::Forbidden),
        None => Err(WebError::NotFound),
    }
}

/// A family's census number and village, as the lists show them.
async fn family_place(signed: &Signed, family: &FamilyId) -> Result<(String, String), WebError> {
    let (file, _) = signed.scoped().family_file(family).await?;
    let village = file
        .registration(this_month(), None)
        .map(|(_, v)| village_path(&v.to_string()))
        .unwrap_or_default();
    Ok((file.family_no, village))
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default)]
pub struct ListParams {
    status: Option<String>,
    page: Option<i64>,
}

/// One application in the list.
struct CaseRow {
    id: String,
    village: String,
    family_no: String,
    applicant: String,
    applied_on: String,
    status: &'static str,
    /// The next step, or "—".
    next: &'static str,
    /// The public notice's period, when posted.
    notice: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    c: Chrome,
    /// The tab shown: `open` or a status.
    tab: String,
    tabs: Vec<(&'static str, &'static str)>,
    rows: Vec<CaseRow>,
    page: i64,
    more: bool,
    notice_days: u16,
    /// Changes of facts awaiting approval in the area (变更审批): the oldest first.
    changes: Vec<PendingChange>,
    more_changes: bool,
}

/// A change awaiting approval, in the list of the area.
struct PendingChange {
    family_id: String,
    family_no: String,
    kind: &'static str,
    what: String,
    date: String,
    proposed_by: String,
    /// The level that approves it.
    approver: &'static str,
}

/// `GET /cases`: the applications of the user's area, open ones by default (`?status=`).
pub async fn cases(signed: Signed, Query(p): Query<ListParams>) -> Result<Response, WebError> {
    signed.require(sees_cases(signed.user.role))?;
    let lang = signed.lang;
    let status = p.status.as_deref().and_then(Status::parse);
    let page = p.page.unwrap_or(1).clamp(1, 100_000);
    let found = signed
        .scoped()
        .applications(status, (page - 1) * PAGE_ROWS, PAGE_ROWS)
        .await?;
    let mut rows = Vec::with_capacity(found.rows.len());
    for (a, village) in found.rows {
        let (family_no, _) = family_place(&signed, &a.family_id).await?;
        rows.push(CaseRow {
            id: a.application_id.clone(),
            village: village_path(&village),
            family_no,
            applicant: a.applicant.clone(),
            applied_on: a.applied_on.to_string(),
            status: status_label(lang, a.status),
            next: a.next_step().map_or("—", |s| step_label(lang, s)),
            notice: match (a.notice_from, a.notice_until) {
                (Some(from), Some(until)) => format!("{from} – {until}"),
                _ => String::new(),
            },
        });
    }
    let mut tabs = vec![("open", lang.pick("办理中", "open"))];
    tabs.extend(
        Status::ALL
            .into_iter()
            .map(|s| (s.as_str(), status_label(lang, s))),
    );
    let tab = status.map_or("open", Status::as_str).to_owned();
    let path = format!("/cases?status={tab}&page={page}");
    let pending = signed.scoped().pending_changes(0, 50).await?;
    let casework = &signed.state().policy().casework;
    let mut changes = Vec::with_capacity(pending.rows.len());
    for change in pending.rows {
        let (family_no, _) = family_place(&signed, &change.family_id).await?;
        let approver = change.approver(casework);
        changes.push(PendingChange {
            family_id: change.family_id.to_string(),
            family_no,
            kind: crate::view::kind_label(lang, &change.kind),
            what: change.value.as_ref().map_or_else(
                || lang.pick("撤销该记录", "withdraw the record").to_owned(),
                |v| crate::view::fact_text(lang, v, false),
            ),
            date: change.valid_from.map(|d| d.to_string()).unwrap_or_default(),
            proposed_by: change.proposed_by,
            approver: lang.pick(approver.as_zh(), approver.as_str()),
        });
    }
    render(&ListPage {
        c: Chrome::new(&signed, "cases", &path),
        tab,
        tabs,
        rows,
        page,
        more: found.more,
        notice_days: signed.state().policy().casework.notice_days,
        changes,
        more_changes: pending.more,
    })
}

// ---------------------------------------------------------------------------------------------
// One application

/// One recorded step on the page.
struct StepLine {
    on_date: String,
    step: &'static str,
    decision: &'static str,
    evidence: String,
    reason: String,
    actor: String,
}

/// One objection on the page.
struct ObjectionLine {
    id: String,
    raised_on: String,
    raised_by: String,
    content: String,
    recorded_by: String,
    /// 成立/不成立, the resolution, who.
    resolved: Option<(&'static str, String, String)>,
}

/// What the refused form's fields said (shown again).
#[derive(Default)]
struct Kept {
    decision: String,
    evidence: String,
    reason: String,
    on_date: String,
    from: String,
    raised_on: String,
    raised_by: String,
    content: String,
    upheld: String,
    resolution: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Chrome,
    id: String,
    family_id: String,
    family_no: String,
    village: String,
    applicant: String,
    applied_on: String,
    status: &'static str,
    status_key: &'static str,
    version: i64,
    notice: Option<(String, String)>,
    /// The day the township may review (the day after the notice's last).
    review_from: String,
    open_objections: usize,
    rejected_at: Option<&'static str>,
    appealed: bool,
    next: &'static str,
    steps: Vec<StepLine>,
    objections: Vec<ObjectionLine>,
    /// The forms shown (`village_check`, `notice`, `objection`, `resolve`, `township_review`,
    /// `county_approval`, `appeal`).
    forms: Vec<&'static str>,
    /// The decision form shown, if any: its step (`village_check` …) and its name.
    decision_form: Option<(&'static str, &'static str)>,
    /// The signed-in user already decided another step: a warning at the decision form.
    decided: Option<&'static str>,
    notice_days: u16,
    /// The notice's last day if it starts today.
    notice_until_today: String,
    today: String,
    earliest_check: String,
    errors: FormErrors,
    /// Messages of a refused form that is not shown to this user.
    stray: Vec<String>,
    kept: Kept,
}

impl CasePage {
    fn shows(&self, form: &str) -> bool {
        self.forms.contains(&form)
    }

    /// The error of a field of a form.
    fn err(&self, form: &str, field: &str) -> String {
        if self.errors.form != form {
            return String::new();
        }
        self.errors
            .fields
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn kept_or<'a>(&'a self, form: &str, kept: &'a str, default: &'a str) -> &'a str {
        if self.errors.form == form {
            kept
        } else {
            default
        }
    }

    fn kept_decision(&self, form: &str, value: &str) -> bool {
        if self.errors.form == form {
            self.kept.decision == value
        } else {
            value == "pass"
        }
    }
}

/// The fields each form shows its errors next to; any other field's message (the step, the
/// version, the family) is the form's own (`form`).
fn form_fields(form: &str) -> &'static [&'static str] {
    match form {
        "village_check" | "township_review" | "county_approval" => {
            &["decision", "evidence", "reason", "on_date"]
        }
        "notice" => &["notice_from"],
        "objection" => &["raised_on", "raised_by", "content"],
        "appeal" => &["reason"],
        f if f.starts_with("resolve-") => &["upheld", "resolution"],
        _ => &[],
    }
}

async fn case_page(
    signed: &Signed,
    a: Application,
    visibility: Visibility,
    errors: FormErrors,
    kept: Kept,
    flash: Option<String>,
) -> Result<CasePage, WebError> {
    let lang = signed.lang;
    let role = signed.user.role;
    let today = today();
    let (family_no, village) = family_place(signed, &a.family_id).await?;
    let me = signed.user.actor().name;
    let objection_of = |id: &str| a.objections.iter().find(|o| o.objection_id == id);
    let steps = a
        .steps
        .iter()
        .map(|s| {
            let decision = match (s.step, s.decision) {
                (Step::ObjectionResolved, Some(Decision::Reject)) => {
                    lang.pick("异议成立", "upheld")
                }
                (Step::ObjectionResolved, Some(Decision::Pass)) => {
                    lang.pick("异议不成立", "dismissed")
                }
                (_, Some(Decision::Pass)) => lang.pick("通过", "passed"),
                (_, Some(Decision::Reject)) => lang.pick("不通过", "rejected"),
                (_, None) => "",
            };
            // An objection's step names the objection: show what was raised instead.
            let reason = match (s.step, objection_of(&s.reason)) {
                (Step::Objection, Some(o)) => format!("{}：{}", o.raised_by, o.content),
                _ => s.reason.clone(),
            };
            StepLine {
                on_date: s.on_date.to_string(),
                step: step_label(lang, s.step),
                decision,
                evidence: s.evidence.clone(),
                reason,
                actor: s.actor.clone(),
            }
        })
        .collect();
    let objections: Vec<ObjectionLine> = a
        .objections
        .iter()
        .map(|o| ObjectionLine {
            id: o.objection_id.clone(),
            raised_on: o.raised_on.to_string(),
            raised_by: o.raised_by.clone(),
            content: o.content.clone(),
            recorded_by: o.recorded_by.clone(),
            resolved: o.resolved.as_ref().map(|(upheld, resolution, by)| {
                (
                    if *upheld {
                        lang.pick("异议成立", "upheld")
                    } else {
                        lang.pick("异议不成立", "dismissed")
                    },
                    resolution.clone(),
                    by.clone(),
                )
            }),
        })
        .collect();
    let open_objections = objections.iter().filter(|o| o.resolved.is_none()).count();
    let own = visibility == Visibility::Own && role.can_record();
    let mut forms = Vec::new();
    if own {
        match a.status {
            Status::Applied if may_take(role, Step::VillageCheck) => forms.push("village_check"),
            Status::Checked if may_take(role, Step::Notice) => forms.push("notice"),
            Status::Notice => {
                forms.push("objection");
                if may_take(role, Step::ObjectionResolved) && open_objections > 0 {
                    forms.push("resolve");
                }
                if may_take(role, Step::TownshipReview) {
                    forms.push("township_review");
                }
            }
            Status::Reviewed if may_take(role, Step::CountyApproval) => {
                forms.push("county_approval");
            }
            Status::Rejected if !a.appealed => forms.push("appeal"),
            _ => {}
        }
    }
    // Four eyes: a person decides one step of an application at most.
    let deciding = match a.status {
        Status::Applied => Some(Step::VillageCheck),
        Status::Notice => Some(Step::TownshipReview),
        Status::Reviewed => Some(Step::CountyApproval),
        _ => None,
    };
    let decided = deciding.and_then(|next| {
        a.steps
            .iter()
            .find(|s| {
                matches!(
                    s.step,
                    Step::VillageCheck | Step::TownshipReview | Step::CountyApproval
                ) && s.step != next
                    && s.actor == me
            })
            .map(|s| step_label(lang, s.step))
    });
    let shown = |form: &str| {
        forms.iter().any(|f| {
            *f == form || (*f == "resolve" && form.starts_with("resolve-") && open_objections > 0)
        })
    };
    let mut errors = errors;
    let allowed = form_fields(&errors.form);
    for (field, _) in &mut errors.fields {
        if !allowed.contains(&field.as_str()) {
            *field = "form".to_owned();
        }
    }
    let stray = if errors.form.is_empty() || shown(&errors.form) {
        Vec::new()
    } else {
        errors.fields.iter().map(|(_, m)| m.clone()).collect()
    };
    let decision_form = forms.iter().find_map(|f| {
        Step::parse(f)
            .filter(|s| {
                matches!(
                    s,
                    Step::VillageCheck | Step::TownshipReview | Step::CountyApproval
                )
            })
            .map(|s| (s.as_str(), step_label(lang, s)))
    });
    let policy = signed.state().policy();
    let notice_days = policy.casework.notice_days;
    let path = format!("/cases/{}", a.application_id);
    Ok(CasePage {
        c: Chrome::new(signed, "cases", &path).with_flash(flash),
        family_id: a.family_id.to_string(),
        family_no,
        village,
        applicant: a.applicant.clone(),
        applied_on: a.applied_on.to_string(),
        status: status_label(lang, a.status),
        status_key: a.status.as_str(),
        version: a.version,
        notice: a
            .notice_from
            .zip(a.notice_until)
            .map(|(from, until)| (from.to_string(), until.to_string())),
        review_from: a
            .notice_until
            .map(|u| days_from(u, 1).to_string())
            .unwrap_or_default(),
        open_objections,
        rejected_at: a.rejected_at.map(|s| step_label(lang, s)),
        appealed: a.appealed,
        next: a.next_step().map_or("—", |s| step_label(lang, s)),
        steps,
        objections,
        forms,
        decision_form,
        decided,
        notice_days,
        notice_until_today: days_from(today, i64::from(notice_days) - 1).to_string(),
        today: today.to_string(),
        earliest_check: a.applied_on.to_string(),
        errors,
        stray,
        kept,
        id: a.application_id,
    })
}

#[derive(Deserialize, Default)]
pub struct CaseParams {
    done: Option<String>,
}

/// `GET /cases/{id}`: one application.
pub async fn case(
    signed: Signed,
    Path(id): Path<String>,
    Query(p): Query<CaseParams>,
) -> Result<Response, WebError> {
    let (a, visibility) = visible(&signed, &id).await?;
    let flash = p.done.map(|_| signed.t().saved.to_owned());
    render(
        &case_page(
            &signed,
            a,
            visibility,
            FormErrors::default(),
            Kept::default(),
            flash,
        )
        .await?,
    )
}

/// Back to the application after a step.
fn saved(id: &str) -> Response {
    Redirect::to(&format!("/cases/{id}?done=1")).into_response()
}

/// The application again (as it now is) with the refused form's errors and values (400).
async fn refused(
    signed: &Signed,
    id: &str,
    form: &str,
    fields: Vec<(String, String)>,
    kept: Kept,
) -> Result<Response, WebError> {
    let (a, visibility) = visible(signed, id).await?;
    let errors = FormErrors {
        form: form.to_owned(),
        fields,
    };
    let page = case_page(signed, a, visibility, errors, kept, None).await?;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

/// The decision forms' fields.
#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    step: String,
    version: i64,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    reason: String,
    /// The village check's date (入户核实之日; the other decisions are dated today).
    #[serde(default)]
    on_date: String,
}

/// `POST /cases/{id}/decide`: the village check, the township review or the county approval,
/// passed or rejected (a rejection with its reason).
pub async fn decide(Path(id): Path<String>, post: Post<DecideForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let a = writable(&signed, &id).await?;
    let lang = signed.lang;
    let step = match Step::parse(form.step.trim()) {
        Some(s @ (Step::VillageCheck | Step::TownshipReview | Step::CountyApproval)) => s,
        _ => {
            return Err(WebError::BadRequest(
                "step: 不是审核步骤 / not a decision step".into(),
            ));
        }
    };
    signed.require(may_take(signed.user.role, step))?;
    let mut fields = Vec::new();
    let decision = match form.decision.as_str() {
        "pass" => Some(Decision::Pass),
        "reject" => Some(Decision::Reject),
        _ => {
            fields.push((
                "decision".to_owned(),
                lang.pick("请选择通过或不通过", "choose pass or reject")
                    .to_owned(),
            ));
            None
        }
    };
    // The village check may be entered after the visit it records; the review and the approval
    // are decided today (the review's notice period is measured against it).
    let on_date = if step == Step::VillageCheck && !form.on_date.trim().is_empty() {
        match date_field(lang, &form.on_date) {
            Ok(d) if d < a.applied_on => {
                fields.push((
                    "on_date".to_owned(),
                    format!(
                        "{} {}",
                        lang.pick(
                            "初审不能早于申请日期",
                            "the check cannot precede the application of"
                        ),
                        a.applied_on
                    ),
                ));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                fields.push(("on_date".to_owned(), e));
                None
            }
        }
    } else {
        Some(today())
    };
    if let (Some(decision), Some(on_date), true) = (decision, on_date, fields.is_empty()) {
        match signed
            .scoped()
            .decide(
                &a.application_id,
                form.version,
                step,
                decision,
                &form.evidence,
                &form.reason,
                on_date,
            )
            .await
        {
            Ok(_) => return Ok(saved(&a.application_id)),
            Err(StoreError::Invalid { field, problem }) => fields.push((field, problem)),
            Err(e) => return Err(e.into()),
        }
    }
    let kept = Kept {
        decision: form.decision,
        evidence: form.evidence,
        reason: form.reason,
        on_date: form.on_date,
        ..Kept::default()
    };
    refused(&signed, &a.application_id, step.as_str(), fields, kept).await
}

#[derive(Deserialize)]
pub struct NoticeForm {
    version: i64,
    #[serde(default)]
    from: String,
}

/// `POST /cases/{id}/notice`: posts the public notice from a day (not in the future) for the
/// pack's number of days.
pub async fn notice(Path(id): Path<String>, post: Post<NoticeForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let a = writable(&signed, &id).await?;
    signed.require(may_take(signed.user.role, Step::Notice))?;
    let fields = match date_field(signed.lang, &form.from) {
        Err(e) => vec![("notice_from".to_owned(), e)],
        Ok(from) => {
            let state = signed.state();
            match signed
                .scoped()
                .post_notice(
                    &a.application_id,
                    form.version,
                    from,
                    state.policy(),
                    today(),
                )
                .await
            {
                Ok(_) => return Ok(saved(&a.application_id)),
                Err(StoreError::Invalid { field, problem }) => vec![(field, problem)],
                Err(e) => return Err(e.into()),
            }
        }
    };
    let kept = Kept {
        from: form.from,
        ..Kept::default()
    };
    refused(&signed, &a.application_id, "notice", fields, kept).await
}

#[derive(Deserialize)]
pub struct ObjectionForm {
    #[serde(default)]
    raised_on: String,
    #[serde(default)]
    raised_by: String,
    #[serde(default)]
    content: String,
}

/// `POST /cases/{id}/objection`: records an objection raised during the notice (who raised it
/// is kept general: 邻居, 村民).
pub async fn objection(
    Path(id): Path<String>,
    post: Post<ObjectionForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let a = writable(&signed, &id).await?;
    let fields = match date_field(signed.lang, &form.raised_on) {
        Err(e) => vec![("raised_on".to_owned(), e)],
        Ok(raised_on) => match signed
            .scoped()
            .record_objection(
                &a.application_id,
                raised_on,
                &form.raised_by,
                &form.content,
                today(),
            )
            .await
        {
            Ok(_) => return Ok(saved(&a.application_id)),
            Err(StoreError::Invalid { field, problem }) => vec![(field, problem)],
            Err(e) => return Err(e.into()),
        },
    };
    let kept = Kept {
        raised_on: form.raised_on,
        raised_by: form.raised_by,
        content: form.content,
        ..Kept::default()
    };
    refused(&signed, &a.application_id, "objection", fields, kept).await
}

#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    upheld: String,
    #[serde(default)]
    resolution: String,
}

/// `POST /cases/{id}/objections/{objection}/resolve`: the township's (or county's) finding on an
/// objection: upheld (成立; the application should then be rejected) or dismissed, and why.
pub async fn resolve(
    Path((id, objection)): Path<(String, String)>,
    post: Post<ResolveForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let a = writable(&signed, &id).await?;
    let objection = objection_id(&objection)?.to_owned();
    signed.require(may_take(signed.user.role, Step::ObjectionResolved))?;
    let upheld = match form.upheld.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    };
    let fields = match upheld {
        None => vec![(
            "upheld".to_owned(),
            signed
                .lang
                .pick("请选择异议是否成立", "choose upheld or dismissed")
                .to_owned(),
        )],
        Some(upheld) => match signed
            .scoped()
            .resolve_objection(
                &a.application_id,
                &objection,
                upheld,
                &form.resolution,
                today(),
            )
            .await
        {
            Ok(()) => return Ok(saved(&a.application_id)),
            Err(StoreError::Invalid { field, problem }) => vec![(field, problem)],
            Err(e) => return Err(e.into()),
        },
    };
    let kept = Kept {
        upheld: form.upheld,
        resolution: form.resolution,
        ..Kept::default()
    };
    let form_name = format!("resolve-{objection}");
    refused(&signed, &a.application_id, &form_name, fields, kept).await
}

#[derive(Deserialize)]
pub struct AppealForm {
    version: i64,
    #[serde(default)]
    reason: String,
}

/// `POST /cases/{id}/appeal`: the family's appeal of a rejection, once: the application goes
/// back to the step that rejected it.
pub async fn appeal(Path(id): Path<String>, post: Post<AppealForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let a = writable(&signed, &id).await?;
    let fields = match signed
        .scoped()
        .appeal(&a.application_id, form.version, &form.reason, today())
        .await
    {
        Ok(_) => return Ok(saved(&a.application_id)),
        Err(StoreError::Invalid { field, problem }) => vec![(field, problem)],
        Err(e) => return Err(e.into()),
    };
    let kept = Kept {
        reason: form.reason,
        ..Kept::default()
    };
    refused(&signed, &a.application_id, "appeal", fields, kept).await
}

// ---------------------------------------------------------------------------------------------
// The printable public notice

#[derive(Deserialize, Default)]
pub struct NoticeParams {
    date: Option<String>,
}

/// One family on the notice.
struct NoticeRow {
    family_no: String,
    names: String,
    from: String,
    until: String,
}

/// One village's part of the notice, with whom to tell an objection.
struct NoticeVillage {
    name: String,
    rows: Vec<NoticeRow>,
    /// (area, name, duty, phone) of the village's and township's contacts.
    contacts: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    c: Chrome,
    date: String,
    date_error: Option<String>,
    villages: Vec<NoticeVillage>,
}

/// `GET /cases/notice?date=`: the public notice (公示) of the user's area for a day (today by
/// default): the families on notice that day by village, names masked (张*英), no ID number.
pub async fn public_notice(
    signed: Signed,
    Query(p): Query<NoticeParams>,
) -> Result<Response, WebError> {
    signed.require(sees_cases(signed.user.role))?;
    let lang = signed.lang;
    let (date, date_error) = match p.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => (today(), None),
        Some(text) => match guanai_rules::parse_date(text) {
            Ok(d) => (d, None),
            Err(_) => (
                today(),
                Some(
                    lang.pick("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD")
                        .to_owned(),
                ),
            ),
        },
    };
    let lines = signed.scoped().notice_list(date).await?;
    let mut villages: Vec<(String, NoticeVillage)> = Vec::new();
    for l in lines {
        let row = NoticeRow {
            family_no: l.family_no,
            names: l.masked_names.join("、"),
            from: l.notice_from.to_string(),
            until: l.notice_until.to_string(),
        };
        match villages
            .iter_mut()
            .find(|(code, _)| *code == l.village_code)
        {
            Some((_, v)) => v.rows.push(row),
            None => {
                let contacts = match VillageCode::parse(&l.village_code) {
                    Ok(code) => signed
                        .state()
                        .gate()
                        .contacts_for(code)
                        .await?
                        .into_iter()
                        .filter(|k| matches!(k.level.as_str(), "village" | "town"))
                        .map(|k| (k.area_name, k.name, k.duty, k.phone.unwrap_or_default()))
                        .collect(),
                    Err(_) => Vec::new(),
                };
                villages.push((
                    l.village_code.clone(),
                    NoticeVillage {
                        name: village_path(&l.village_code),
                        rows: vec![row],
                        contacts,
                    },
                ));
            }
        }
    }
    let path = format!("/cases/notice?date={date}");
    render(&NoticePage {
        c: Chrome::new(&signed, "cases", &path),
        date: date.to_string(),
        date_error,
        villages: villages.into_iter().map(|(_, v)| v).collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// The family file's casework section

/// One application of the family.
pub(crate) struct FamilyApplication {
    pub(crate) id: String,
    pub(crate) applied_on: String,
    pub(crate) applicant: String,
    pub(crate) status: &'static str,
}

/// The apply form's fields, as typed.
#[derive(Deserialize, Default)]
pub struct ApplyForm {
    #[serde(default)]
    pub(crate) applied_on: String,
    #[serde(default)]
    pub(crate) applicant: String,
    #[serde(default)]
    pub(crate) evidence: String,
}

/// A year's re-confirmation list as far as the family is on it.
pub(crate) struct RosterYear {
    pub(crate) year: i16,
    pub(crate) deadline: String,
    pub(crate) lines: Vec<RosterLine>,
}

/// The casework section of the family file (`id="casework"`).
pub(crate) struct CaseworkSection {
    /// Volunteers and counsellors see no casework.
    pub(crate) shown: bool,
    pub(crate) enrolled: bool,
    /// 普查在册 / 已批准纳入 / 未纳入：status.
    pub(crate) enrolment: String,
    pub(crate) applications: Vec<FamilyApplication>,
    /// Caseworkers of the area, while no application is open or approved.
    pub(crate) can_apply: bool,
    pub(crate) apply_form: ApplyForm,
    pub(crate) years: Vec<RosterYear>,
    /// Caseworkers of the area confirm parents.
    pub(crate) can_confirm: bool,
    /// The confirm form's date and note, as typed (after a refusal).
    pub(crate) confirm_kept: (String, String),
    /// The family's exit (退出), proposed or approved.
    pub(crate) exit: Option<ExitView>,
    /// Caseworkers of the area propose an exit while there is none.
    pub(crate) can_propose_exit: bool,
    /// County and city caseworkers of the area decide a proposed exit.
    pub(crate) can_decide_exit: bool,
}

/// A family's exit as the file shows it.
pub(crate) struct ExitView {
    pub(crate) id: String,
    pub(crate) reason: &'static str,
    pub(crate) detail: String,
    pub(crate) exit_on: String,
    pub(crate) approved: bool,
    pub(crate) proposed_by: String,
    pub(crate) decided_by: String,
    /// The first month nothing is due.
    pub(crate) ended_from: String,
}

/// The casework section of `family`'s file, as `signed` may see and use it.
pub(crate) fn section(
    signed: &Signed,
    visibility: Visibility,
    reads: &mut FamilyReads,
) -> CaseworkSection {
    let lang = signed.lang;
    let role = signed.user.role;
    let today = today();
    let mut s = CaseworkSection {
        shown: sees_cases(role),
        enrolled: false,
        enrolment: String::new(),
        applications: Vec::new(),
        can_apply: false,
        apply_form: ApplyForm {
            applied_on: today.to_string(),
            ..ApplyForm::default()
        },
        years: Vec::new(),
        can_confirm: false,
        confirm_kept: (today.to_string(), String::new()),
        exit: None,
        can_propose_exit: false,
        can_decide_exit: false,
    };
    let Some(cases) = reads.cases.take().filter(|_| s.shown) else {
        s.shown = false;
        return s;
    };
    let enrolment = Enrolment::of(&cases.applied);
    s.enrolled = enrolment.is_enrolled();
    s.enrolment = match enrolment {
        Enrolment::Census => lang.pick("普查在册", "enrolled by the census").to_owned(),
        Enrolment::Approved(_) => lang.pick("已批准纳入", "approved and enrolled").to_owned(),
        Enrolment::Pending(status) => format!(
            "{}：{}",
            lang.pick("未纳入", "not enrolled"),
            status_label(lang, status)
        ),
    };
    let applications = cases.applied;
    let own = visibility == Visibility::Own && role.can_record();
    s.can_apply = own && applications.iter().all(|a| a.status == Status::Rejected);
    s.can_confirm = own;
    let exit = cases.exit;
    s.can_propose_exit = own && exit.is_none();
    s.can_decide_exit = own
        && matches!(role, Role::County | Role::City)
        && exit.as_ref().is_some_and(|e| e.status == "proposed");
    s.exit = exit.map(|e| ExitView {
        id: e.exit_id.clone(),
        reason: match e.reason {
            ExitReason::MovedOut => lang.pick("迁出临沂市", "moved out of Linyi"),
            ExitReason::Other => lang.pick("其他原因", "another reason"),
        },
        ended_from: e.ended_from().to_string(),
        detail: e.detail,
        exit_on: e.exit_on.to_string(),
        approved: e.status == "approved",
        proposed_by: e.proposed_by,
        decided_by: e.decided_by.unwrap_or_default(),
    });
    s.applications = applications
        .into_iter()
        .map(|a| FamilyApplication {
            status: status_label(lang, a.status),
            applied_on: a.applied_on.to_string(),
            applicant: a.applicant,
            id: a.application_id,
        })
        .collect();
    s.years = cases
        .years
        .into_iter()
        .map(|(year, deadline, lines)| RosterYear {
            year,
            deadline: deadline.to_string(),
            lines,
        })
        .collect();
    s
}

/// `POST /families/{id}/apply`: records the family's application (caseworkers of the area); the
/// new application's page follows.
pub async fn apply(Path(id): Path<String>, post: Post<ApplyForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_write_family(&signed, &family, signed.user.role.can_record()).await?;
    let fields = match date_field(signed.lang, &form.applied_on) {
        Err(e) => vec![("applied_on".to_owned(), e)],
        Ok(applied_on) => match signed
            .scoped()
            .apply(
                &family,
                applied_on,
                &form.applicant,
                &form.evidence,
                today(),
            )
            .await
        {
            Ok(application) => {
                return Ok(Redirect::to(&format!("/cases/{application}?done=1")).into_response());
            }
            Err(StoreError::Invalid { field, problem }) => vec![(field, problem)],
            Err(e) => return Err(e.into()),
        },
    };
    let errors = FormErrors {
        form: "apply".into(),
        fields,
    };
    let mut page = family_page(
        &signed,
        &family,
        this_month(),
        &[],
        errors,
        None,
        today().year(),
    )
    .await?;
    page.casework.apply_form = form;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

/// The exit forms' fields, as typed.
#[derive(Deserialize, Default)]
pub struct ExitForm {
    #[serde(default)]
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) detail: String,
    #[serde(default)]
    pub(crate) exit_on: String,
    #[serde(default)]
    pub(crate) decision: String,
    #[serde(default)]
    pub(crate) note: String,
}

/// The family file again with a refused exit form's message next to it.
async fn exit_refused(
    signed: &Signed,
    family: &FamilyId,
    form: &str,
    fields: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let errors = FormErrors {
        form: form.into(),
        fields,
    };
    let page = family_page(
        signed,
        family,
        this_month(),
        &[],
        errors,
        None,
        today().year(),
    )
    .await?;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

/// `POST /families/{id}/exit`: proposes the family's exit (moved out of Linyi, or another
/// reason), for the county to approve.
pub async fn exit_propose(
    Path(id): Path<String>,
    post: Post<ExitForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_write_family(&signed, &family, signed.user.role.can_record()).await?;
    let reason = if form.reason == "other" {
        ExitReason::Other
    } else {
        ExitReason::MovedOut
    };
    let fields = match date_field(signed.lang, &form.exit_on) {
        Err(e) => vec![("exit_on".to_owned(), e)],
        Ok(on) => match signed
            .scoped()
            .propose_exit(&family, reason, &form.detail, on, today())
            .await
        {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/families/{family}?saved=1#casework")).into_response(),
                );
            }
            Err(StoreError::Invalid { field, problem }) => vec![(field, problem)],
            Err(e) => return Err(e.into()),
        },
    };
    exit_refused(&signed, &family, "exit", fields).await
}

/// `POST /families/{id}/exit/{exit}`: the county approves or rejects a proposed exit (not the
/// person who proposed it); an approval re-plans the family's visits.
pub async fn exit_decide(
    Path((id, exit)): Path<(String, String)>,
    post: Post<ExitForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_write_family(
        &signed,
        &family,
        matches!(signed.user.role, Role::County | Role::City),
    )
    .await?;
    let approve = form.decision != "reject";
    match signed
        .scoped()
        .decide_exit(&family, exit.trim(), approve, &form.note)
        .await
    {
        Ok(()) => {
            if approve {
                super::visits::replan(signed.state(), &family).await;
            }
            Ok(Redirect::to(&format!("/families/{family}?saved=1#casework")).into_response())
        }
        Err(StoreError::Invalid { field, problem }) => {
            exit_refused(&signed, &family, "exit-decide", vec![(field, problem)]).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Census import as applications

/// The census page's "import as new applications" choice (作为新申请导入): each new family of
/// the file opens an application awaiting the village check and is paid nothing before the
/// county's approval.
pub(crate) struct AsApplications {
    pub(crate) on: bool,
    pub(crate) applied_on: String,
    pub(crate) evidence: String,
    /// (field, message) of the choice's fields.
    pub(crate) errors: Vec<(String, String)>,
}

impl Default for AsApplications {
    fn default() -> AsApplications {
        AsApplications {
            on: false,
            applied_on: today().to_string(),
            evidence: String::new(),
            errors: Vec::new(),
        }
    }
}

impl AsApplications {
    /// The choice as the upload form sent it (`as_application`, `applied_on`, `evidence`).
    pub(crate) fn from_fields(lang: Lang, fields: &[(String, String)]) -> AsApplications {
        let value = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.trim().to_owned())
        };
        let mut choice = AsApplications {
            on: value("as_application").is_some(),
            applied_on: value("applied_on").unwrap_or_default(),
            evidence: value("evidence").unwrap_or_default(),
            errors: Vec::new(),
        };
        if choice.on {
            if let Err(e) = date_field(lang, &choice.applied_on) {
                choice.errors.push(("applied_on".to_owned(), e));
            }
            if choice.evidence.is_empty() {
                choice.errors.push((
                    "evidence".to_owned(),
                    lang.pick("请填写收到的申请材料", "name the evidence received")
                        .to_owned(),
                ));
            }
        }
        choice
    }

    /// The import's option, when chosen and valid.
    pub(crate) fn options(&self) -> Option<guanai_store::import::ApplicationsFrom> {
        if !self.on {
            return None;
        }
        let applied_on = guanai_rules::parse_date(&self.applied_on).ok()?;
        Some(guanai_store::import::ApplicationsFrom {
            applied_on,
            evidence: self.evidence.clone(),
        })
    }

    pub(crate) fn err(&self, field: &str) -> &str {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map_or("", |(_, m)| m.as_str())
    }
}
