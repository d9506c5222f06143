//! Complaints (投诉/异议, issue 6): `/complaints` lists the complaints in the user's scope —
//! open, late (unanswered after the pack's `casework.complaint_answer_days`, escalated one level
//! for every further period: 乡镇 → 县区 → 市) or all — and records a new one; `/complaints/{id}`
//! shows one with its escalation, the answer form, and the complainant only through an audited
//! reveal with a reason (the name is sealed in the store and never otherwise shown). Caseworkers
//! record and answer within their area, inspectors read, a volunteer records complaints about
//! the family paired with them and sees only those. The dashboard's card of late complaints
//! ([`late_card`]) and the family file's list ([`super::services`]) use the same lines.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_store::access::Role;
use guanai_store::complaints::{Complaint, ComplaintFilter, NewComplaint, Source};
use guanai_store::scope::FamilyQuery;
use guanai_store::{FamilyId, StoreError};
use jiff::civil::Date;
use serde::Deserialize;

use super::{Chrome, area_name, filled, render, today};
use crate::i18n::Lang;
use crate::state::{Post, Signed, WebError};

/// Rows per page of the list.
const PAGE_ROWS: i64 = 20;
/// Late complaints named on the dashboard's card.
const CARD_ROWS: usize = 5;
/// Late complaints counted for the card (one page of the store's list: more shows as "200+").
const CARD_COUNT: i64 = 200;

/// Whether a role works with complaints at all (caseworkers, inspectors, volunteers). By
/// reference: the templates' nav calls it.
pub fn sees_complaints(role: &Role) -> bool {
    role.can_record() || matches!(role, Role::Inspector | Role::Volunteer)
}

/// Whether a role records complaints (caseworkers, and volunteers about their paired family).
fn files_complaints(role: Role) -> bool {
    role.can_record() || role == Role::Volunteer
}

/// Who raised a complaint, on screen.
fn source_label(lang: Lang, source: Source) -> &'static str {
    lang.pick(
        source.as_zh(),
        match source {
            Source::Family => "the family",
            Source::Neighbour => "a neighbour",
            Source::Volunteer => "a volunteer",
            Source::Other => "other",
        },
    )
}

/// The level a late complaint climbed to: 村, 乡镇, 县区, 市.
fn level_label(lang: Lang, level: &str) -> &'static str {
    match level {
        "village" => lang.pick("村", "the village"),
        "township" => lang.pick("乡镇", "the township"),
        "county" => lang.pick("县区", "the county"),
        _ => lang.pick("市", "the city"),
    }
}

/// One complaint in a list.
pub(crate) struct ComplaintLine {
    pub(crate) complaint_id: String,
    pub(crate) received_on: String,
    pub(crate) due_on: String,
    pub(crate) area: String,
    pub(crate) family_id: Option<String>,
    pub(crate) source: &'static str,
    pub(crate) summary: String,
    /// `answered`, `open` or `late` (a CSS class).
    pub(crate) state: &'static str,
    /// 已答复 2026-11-02 / 待答复（2026-11-20 前）/ 逾期，已升级至县区：沂南县.
    pub(crate) state_text: String,
}

/// Where a complaint stands, in words: answered, open until its due day, or late and escalated.
fn state_of(c: &Complaint, lang: Lang, today: Date) -> (&'static str, String) {
    if let Some((_, on, _)) = &c.answer {
        return (
            "answered",
            format!("{} {on}", lang.pick("已答复", "answered")),
        );
    }
    match &c.escalated_to {
        Some((area, level)) => (
            "late",
            match lang {
                Lang::Zh => format!(
                    "逾期，已升级至{}：{}",
                    level_label(lang, level),
                    area_name(area)
                ),
                Lang::En => format!(
                    "late, escalated to {}: {}",
                    level_label(lang, level),
                    area_name(area)
                ),
            },
        ),
        // Late at the city: there is no level above.
        None if today > c.due_on => ("late", lang.pick("逾期未答复", "late").to_owned()),
        None => (
            "open",
            match lang {
                Lang::Zh => format!("待答复（{} 前）", c.due_on),
                Lang::En => format!("open (due {})", c.due_on),
            },
        ),
    }
}

/// A complaint as a list shows it.
pub(crate) fn complaint_line(c: Complaint, lang: Lang, today: Date) -> ComplaintLine {
    let (state, state_text) = state_of(&c, lang, today);
    ComplaintLine {
        received_on: c.received_on.to_string(),
        due_on: c.due_on.to_string(),
        area: area_name(&c.area_code),
        family_id: c.family_id.map(|f| f.to_string()),
        source: source_label(lang, c.source),
        summary: c.summary,
        complaint_id: c.complaint_id,
        state,
        state_text,
    }
}

/// The dashboard's card: the late complaints in scope.
pub(crate) struct LateCard {
    /// How many (a number, or "200+").
    pub(crate) count: String,
    pub(crate) rows: Vec<ComplaintLine>,
}

/// The late complaints of the user's scope for the dashboard, or `None` for the roles that do
/// not handle complaints. One query of the list (its index on area and due day).
pub(crate) async fn late_card(signed: &Signed) -> Result<Option<LateCard>, WebError> {
    if !sees_complaints(&signed.user.role) {
        return Ok(None);
    }
    let today = today();
    let page = signed
        .scoped()
        .complaints(
            ComplaintFilter::Late,
            signed.state().policy(),
            today,
            0,
            CARD_COUNT,
        )
        .await?;
    let count = if page.more {
        format!("{CARD_COUNT}+")
    } else {
        page.rows.len().to_string()
    };
    Ok(Some(LateCard {
        count,
        rows: page
            .rows
            .into_iter()
            .take(CARD_ROWS)
            .map(|c| complaint_line(c, signed.lang, today))
            .collect(),
    }))
}

/// Which list `/complaints` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Open,
    Late,
    All,
}

impl List {
    fn parse(text: Option<&str>) -> List {
        match text {
            Some("late") => List::Late,
            Some("all") => List::All,
            _ => List::Open,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            List::Open => "open",
            List::Late => "late",
            List::All => "all",
        }
    }

    fn filter(self) -> ComplaintFilter {
        match self {
            List::Open => ComplaintFilter::Open,
            List::Late => ComplaintFilter::Late,
            List::All => ComplaintFilter::All,
        }
    }
}

/// The record-a-complaint form's fields, as typed (kept when the form is refused).
#[derive(Deserialize, Default, Clone)]
pub struct ComplaintForm {
    #[serde(default)]
    area: String,
    /// A census number (家庭编号) or an archive id (F…), or empty.
    #[serde(default)]
    family: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    complainant: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    received_on: String,
}

#[derive(Template)]
#[template(path = "complaints.html")]
struct ComplaintsPage {
    c: Chrome,
    list: &'static str,
    page: i64,
    more: bool,
    rows: Vec<ComplaintLine>,
    answer_days: u16,
    can_file: bool,
    sources: Vec<(&'static str, &'static str)>,
    form: ComplaintForm,
    errors: Vec<(String, String)>,
    today: String,
}

impl ComplaintsPage {
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    list: Option<String>,
    page: Option<i64>,
}

async fn list_page(
    signed: &Signed,
    list: List,
    page: i64,
    form: ComplaintForm,
    errors: Vec<(String, String)>,
) -> Result<ComplaintsPage, WebError> {
    let today = today();
    let state = signed.state();
    let found = signed
        .scoped()
        .complaints(
            list.filter(),
            state.policy(),
            today,
            (page - 1) * PAGE_ROWS,
            PAGE_ROWS,
        )
        .await?;
    let path = format!("/complaints?list={}&page={page}", list.as_str());
    Ok(ComplaintsPage {
        c: Chrome::new(signed, "complaints", &path),
        list: list.as_str(),
        page,
        more: found.more,
        rows: found
            .rows
            .into_iter()
            .map(|c| complaint_line(c, signed.lang, today))
            .collect(),
        answer_days: state.policy().casework.complaint_answer_days,
        can_file: files_complaints(signed.user.role),
        sources: Source::ALL
            .into_iter()
            .map(|s| (s.as_str(), source_label(signed.lang, s)))
            .collect(),
        form,
        errors,
        today: today.to_string(),
    })
}

/// `GET /complaints`: one list of the complaints in scope, and the form to record one.
pub async fn complaints(signed: Signed, Query(p): Query<ListParams>) -> Result<Response, WebError> {
    signed.require(sees_complaints(&signed.user.role))?;
    let list = List::parse(p.list.as_deref());
    let page = p.page.unwrap_or(1).clamp(1, 100_000);
    let form = ComplaintForm {
        area: signed.user.area_code.clone(),
        source: Source::Family.as_str().to_owned(),
        received_on: today().to_string(),
        ..ComplaintForm::default()
    };
    render(&list_page(&signed, list, page, form, Vec::new()).await?)
}

/// The family a form names: an archive id, or a census number found in the user's scope.
async fn family_named(signed: &Signed, text: &str) -> Result<Result<FamilyId, String>, WebError> {
    if let Some(id) = FamilyId::parse(text) {
        return Ok(Ok(id));
    }
    let found = signed
        .scoped()
        .search(&FamilyQuery {
            family_no: Some(text.to_owned()),
            limit: 2,
            ..FamilyQuery::default()
        })
        .await?;
    Ok(match found.rows.as_slice() {
        [one] => Ok(one.family_id.clone()),
        [] => Err(match signed.lang {
            Lang::Zh => format!("您的范围内没有家庭编号为 {text} 的家庭"),
            Lang::En => format!("no family numbered {text} in your scope"),
        }),
        _ => Err(signed
            .lang
            .pick(
                "家庭编号不唯一，请填写档案号（F 开头）",
                "the census number is not unique: give the archive id (F…)",
            )
            .to_owned()),
    })
}

/// `POST /complaints`: records a complaint (caseworkers within their area; a volunteer about
/// the family paired with them). It is due the pack's number of days after it was received.
pub async fn file(post: Post<ComplaintForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(files_complaints(signed.user.role))?;
    let lang = signed.lang;
    let mut errors: Vec<(String, String)> = Vec::new();
    let family = match filled(Some(form.family.as_str())) {
        None => None,
        Some(text) => match family_named(&signed, &text).await? {
            Ok(id) => Some(id),
            Err(problem) => {
                errors.push(("family".to_owned(), problem));
                None
            }
        },
    };
    let source = Source::parse(form.source.trim());
    if source.is_none() {
        errors.push((
            "source".to_owned(),
            lang.pick("请选择投诉来源", "choose who complained")
                .to_owned(),
        ));
    }
    let received_on = match guanai_rules::parse_date(form.received_on.trim()) {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push((
                "received_on".to_owned(),
                lang.pick("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD")
                    .to_owned(),
            ));
            None
        }
    };
    if let (Some(source), Some(received_on), true) = (source, received_on, errors.is_empty()) {
        let new = NewComplaint {
            area_code: filled(Some(form.area.as_str()))
                .unwrap_or_else(|| signed.user.area_code.clone()),
            family,
            source,
            complainant: form.complainant.clone(),
            summary: form.summary.clone(),
            detail: form.detail.clone(),
            received_on,
        };
        let state = signed.state();
        match signed
            .scoped()
            .file_complaint(&new, state.policy(), today())
            .await
        {
            Ok(id) => {
                return Ok(Redirect::to(&format!("/complaints/{id}?saved=1")).into_response());
            }
            Err(StoreError::Invalid { field, problem }) => errors.push((field, problem)),
            // The same words as a census number not found: nothing about families outside.
            Err(StoreError::FamilyNotFound(_)) => errors.push((
                "family".to_owned(),
                lang.pick("您的范围内没有这户家庭", "no such family in your scope")
                    .to_owned(),
            )),
            Err(e) => return Err(e.into()),
        }
    }
    let page = list_page(&signed, List::Open, 1, form, errors).await?;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

#[derive(Template)]
#[template(path = "complaint.html")]
struct ComplaintPage {
    c: Chrome,
    line: ComplaintLine,
    detail: String,
    recorded_by: String,
    /// Census number of the family concerned, when the user sees it.
    family_no: Option<String>,
    escalated: bool,
    /// The answer, its date and who gave it.
    answer: Option<(String, String, String)>,
    /// Caseworkers: answer and reveal the complainant.
    can_answer: bool,
    /// Shown once, in the response to an audited reveal.
    complainant: Option<String>,
    /// The answer typed into a refused form.
    typed_answer: String,
    errors: Vec<(String, String)>,
}

impl ComplaintPage {
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }
}

/// A complaint id as the store makes them (`Q` and 32 hex digits), else "not found".
fn complaint_id(text: &str) -> Result<&str, WebError> {
    let hex = text.strip_prefix('Q').ok_or(WebError::NotFound)?;
    if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text)
    } else {
        Err(WebError::NotFound)
    }
}

/// "No such complaint" from the store (outside the scope, too) is a 404.
fn not_found(e: StoreError) -> WebError {
    match e {
        StoreError::Invalid { field, .. } if field == "complaint" => WebError::NotFound,
        e => e.into(),
    }
}

async fn complaint_page(
    signed: &Signed,
    id: &str,
    complainant: Option<String>,
    typed_answer: String,
    errors: Vec<(String, String)>,
    flash: Option<String>,
) -> Result<ComplaintPage, WebError> {
    let today = today();
    let scoped = signed.scoped();
    let c = scoped
        .complaint(id, signed.state().policy(), today)
        .await
        .map_err(not_found)?;
    let family_no = match &c.family_id {
        Some(f) => match scoped.family_file(f).await {
            Ok((file, _)) => Some(file.family_no),
            Err(StoreError::FamilyNotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let path = format!("/complaints/{id}");
    Ok(ComplaintPage {
        c: Chrome::new(signed, "complaints", &path).with_flash(flash),
        detail: c.detail.clone(),
        recorded_by: c.recorded_by.clone(),
        escalated: c.escalated_to.is_some(),
        answer: c
            .answer
            .clone()
            .map(|(text, on, by)| (text, on.to_string(), by)),
        can_answer: signed.user.role.can_record(),
        line: complaint_line(c, signed.lang, today),
        family_no,
        complainant,
        typed_answer,
        errors,
    })
}

#[derive(Deserialize, Default)]
pub struct ComplaintParams {
    saved: Option<String>,
}

/// `GET /complaints/{id}`: one complaint in scope.
pub async fn complaint(
    signed: Signed,
    Path(id): Path<String>,
    Query(p): Query<ComplaintParams>,
) -> Result<Response, WebError> {
    signed.require(sees_complaints(&signed.user.role))?;
    let id = complaint_id(&id)?;
    let flash = p.saved.map(|_| signed.t().saved.to_owned());
    render(&complaint_page(&signed, id, None, String::new(), Vec::new(), flash).await?)
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
}

/// `POST /complaints/{id}/answer`: answers a complaint once (caseworkers whose area holds it).
pub async fn answer(Path(id): Path<String>, post: Post<AnswerForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(signed.user.role.can_record())?;
    let id = complaint_id(&id)?;
    let state = signed.state();
    let scoped = signed.scoped();
    let today = today();
    let current = scoped
        .complaint(id, state.policy(), today)
        .await
        .map_err(not_found)?;
    let problem = if current.answer.is_some() {
        signed
            .lang
            .pick("该投诉已答复", "the complaint is answered already")
            .to_owned()
    } else {
        match scoped
            .answer_complaint(id, &form.answer, state.policy(), today)
            .await
        {
            Ok(()) => {
                return Ok(Redirect::to(&format!("/complaints/{id}?saved=1")).into_response());
            }
            Err(StoreError::Invalid { field, problem }) if field == "answer" => problem,
            Err(e) => return Err(not_found(e)),
        }
    };
    let page = complaint_page(
        &signed,
        id,
        None,
        form.answer,
        vec![("answer".to_owned(), problem)],
        None,
    )
    .await?;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

#[derive(Deserialize)]
pub struct RevealForm {
    #[serde(default)]
    reason: String,
}

/// `POST /complaints/{id}/reveal`: shows who complained, for a reason written to the audit log
/// (caseworkers whose area holds it). The name is in this response only.
pub async fn reveal(Path(id): Path<String>, post: Post<RevealForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(signed.user.role.can_record())?;
    let id = complaint_id(&id)?;
    let state = signed.state();
    match signed
        .scoped()
        .reveal_complainant(id, &form.reason, state.policy(), today())
        .await
    {
        Ok(who) => {
            render(&complaint_page(&signed, id, Some(who), String::new(), Vec::new(), None).await?)
        }
        Err(StoreError::Invalid { field, problem }) if field == "reason" => {
            let page = complaint_page(
                &signed,
                id,
                None,
                String::new(),
                vec![("reason".to_owned(), problem)],
                None,
            )
            .await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
        Err(e) => Err(not_found(e)),
    }
}
