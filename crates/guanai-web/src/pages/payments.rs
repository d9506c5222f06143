//! Payment runs (发放批次, 二(二)): the runs a user may see, with their totals by funding source;
//! building a run (finance officers, for the counties of their area) and a county's paying
//! account; one run's page — summary, problems, lines — with the life-cycle's actions: check
//! (holding blocked transfers for a stated reason), approval by someone other than the builder,
//! discard, export and the bank files' download, the bank's return file, close. Every refusal
//! of the payment library is shown next to its button. Nothing here computes money, and the
//! steps follow `guanai pay` (crates/guanai/src/pay_cmd.rs).

use std::path::Path as FsPath;

use askama::Template;
use axum::extract::{Multipart, Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use guanai_bank::Payer;
use guanai_pay::{LineKind, Nature};
use guanai_rules::{CountyCode, Fen, Month};
use guanai_store::Archive;
use guanai_store::pay::{
    BuildOptions, BuildOutcome, PayError, ProblemView, ReturnReport, RunId, RunStatus, RunSummary,
};
use serde::Deserialize;

use super::census::read_upload;
use super::{Chrome, area_name, beijing, render, this_month, today};
use crate::bank_files;
use crate::i18n::{Lang, Texts};
use crate::state::{Post, Signed, WebError};

/// Runs per page of the list.
const RUNS_PER_PAGE: usize = 20;
/// Lines per page of a run.
const LINES_PER_PAGE: usize = 50;
/// Problems listed on a run's page (blocking ones first); the rest are counted.
const PROBLEMS_SHOWN: usize = 200;

/// A refusal of the payment library as the user reads it, with the response's status.
struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

/// A run status in the page's language.
fn status_label(lang: Lang, status: RunStatus) -> &'static str {
    lang.pick(status.as_zh(), status.as_str())
}

/// A status named by the library (`draft`, or `draft or checked`), in the page's language.
fn status_names(lang: Lang, text: &str) -> String {
    text.split(" or ")
        .map(|s| {
            RunStatus::parse(s).map_or_else(|| s.to_owned(), |s| status_label(lang, s).to_owned())
        })
        .collect::<Vec<_>>()
        .join(lang.pick("或", " or "))
}

fn kind_label(lang: Lang, kind: &str) -> String {
    match LineKind::parse(kind) {
        Some(k) => {
            let en = match k {
                LineKind::Monthly(guanai_pay::kinds::MonthlyKindKey::Bereaved) => {
                    "bereaved monthly assistance"
                }
                LineKind::Monthly(guanai_pay::kinds::MonthlyKindKey::Disabled) => {
                    "disabled-child monthly assistance"
                }
                LineKind::Grant(guanai_pay::kinds::GrantKindKey::Bereaved) => {
                    "bereaved one-time grant"
                }
                LineKind::Grant(guanai_pay::kinds::GrantKindKey::Orphan) => "orphan one-time grant",
                LineKind::Grant(guanai_pay::kinds::GrantKindKey::Disabled) => {
                    "disabled-child one-time grant"
                }
                LineKind::FuneralReimbursement => "funeral reimbursement",
                LineKind::MedicalRelief => "medical relief",
            };
            format!("{} ({})", lang.pick(k.as_zh(), en), k.clause())
        }
        None => kind.to_owned(),
    }
}

fn nature_label(lang: Lang, nature: &str) -> &'static str {
    match Nature::parse(nature) {
        Some(n @ Nature::Regular) => lang.pick(n.as_zh(), "regular"),
        Some(n @ Nature::Arrears) => lang.pick(n.as_zh(), "arrears"),
        Some(n @ Nature::Recovery) => lang.pick(n.as_zh(), "recovery"),
        Some(n @ Nature::Grant) => lang.pick(n.as_zh(), "one-time"),
        Some(n @ Nature::Claim) => lang.pick(n.as_zh(), "claim"),
        None => "?",
    }
}

fn transfer_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "pending" => lang.pick("待报送", "pending"),
        "held" => lang.pick("暂缓", "held"),
        "sent" => lang.pick("已报送", "sent"),
        "paid" => lang.pick("已到账", "paid"),
        "failed" => lang.pick("被退回", "returned"),
        _ => lang.pick("其他", "other"),
    }
}

/// A run's scope: a county's name and code, or the whole city.
fn scope_label(t: &Texts, scope: &str) -> String {
    if scope == "all" {
        t.all_counties.to_owned()
    } else {
        format!("{} {scope}", area_name(scope))
    }
}

/// The library's refusal in the user's words; failures that are not refusals stay errors.
fn refusal(lang: Lang, e: PayError) -> Result<Refusal, WebError> {
    let t = lang.texts();
    let message = match &e {
        PayError::Store(_) | PayError::Booked(_) | PayError::RunNotFound(_) => return Err(e.into()),
        PayError::WrongStatus {
            run,
            status,
            needed,
            ..
        } => format!(
            "{}: {} {run} {} {}; {} {}",
            t.refused,
            t.run,
            t.run_status_is,
            status_names(lang, status),
            t.needs_status,
            status_names(lang, needed)
        ),
        PayError::RunOpen {
            run,
            county,
            status,
        } => format!(
            "{}: {run} ({}, {})",
            t.run_open,
            scope_label(t, county),
            RunStatus::parse(status).map_or(status.as_str(), |s| status_label(lang, s))
        ),
        PayError::Concurrent(_) => t.concurrent.to_owned(),
        PayError::SameApprover { creator, .. } => format!("{} {creator}", t.same_approver),
        PayError::Blocked { count, list, .. } => {
            format!("{} ({} {count})\n{list}", t.blocked, t.blocking)
        }
        PayError::ReturnMismatch { list, .. } => format!("{}\n{list}", t.return_mismatch),
        PayError::ReturnAgain { at, .. } => format!("{} {at}", t.return_again),
        PayError::NotSettled { pending, .. } => format!("{} {pending}", t.not_settled),
        other => format!("{}: {other}", t.refused),
    };
    Ok(Refusal::new(WebError::Pay(e).status(), message))
}

fn run_id(text: &str) -> Result<RunId, WebError> {
    RunId::parse(text).ok_or(WebError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// The list of runs, building a run, the paying account

/// Orders of the run list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunSort {
    Newest,
    Month,
    Status,
}

impl RunSort {
    fn parse(text: Option<&str>) -> RunSort {
        match text {
            Some("month") => RunSort::Month,
            Some("status") => RunSort::Status,
            _ => RunSort::Newest,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            RunSort::Newest => "newest",
            RunSort::Month => "month",
            RunSort::Status => "status",
        }
    }
}

/// One run in the list.
struct RunRow {
    run_id: String,
    month: String,
    scope: String,
    status: &'static str,
    lines: i64,
    transfers: i64,
    higher: Fen,
    county: Fen,
    total: Fen,
    problems: i64,
    blocking: i64,
    created_by: String,
}

impl RunRow {
    fn of(t: &Texts, lang: Lang, s: &RunSummary) -> RunRow {
        RunRow {
            run_id: s.run_id.to_string(),
            month: s.month.clone(),
            scope: scope_label(t, &s.scope),
            status: status_label(lang, s.status),
            lines: s.lines,
            transfers: s.transfers.iter().map(|t| t.1).sum(),
            higher: s.standard,
            county: s.by_county.iter().fold(Fen::ZERO, |sum, c| sum + c.1),
            total: s.total,
            problems: s.problems,
            blocking: s.blocking,
            created_by: s.created_by.clone(),
        }
    }
}

/// The build form's fields as sent (shown again after a refusal).
#[derive(Deserialize, Default)]
pub struct BuildForm {
    #[serde(default)]
    month: String,
    #[serde(default)]
    county: String,
    #[serde(default)]
    ledger_start: String,
}

/// The paying-account form's fields as sent.
#[derive(Deserialize, Default)]
pub struct PayerForm {
    #[serde(default)]
    county: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    bank: String,
}

/// What the forms of the list page say after a post.
#[derive(Default)]
struct ListForms {
    build: BuildForm,
    build_error: Option<String>,
    build_notice: Option<String>,
    payer: PayerForm,
    payer_error: Option<String>,
}

/// A county of the forms' choice, and whether each form has it chosen.
struct CountyOption {
    code: String,
    name: &'static str,
    build: bool,
    payer: bool,
}

#[derive(Template)]
#[template(path = "payments.html")]
struct RunsPage {
    c: Chrome,
    rows: Vec<RunRow>,
    sort: &'static str,
    page: usize,
    more: bool,
    can_pay: bool,
    allow_all: bool,
    counties: Vec<CountyOption>,
    forms: ListForms,
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    sort: Option<String>,
    page: Option<usize>,
    done: Option<String>,
}

/// The counties a finance officer may build runs for: their own, or every county for the city.
fn own_counties(signed: &Signed) -> (Vec<CountyCode>, bool) {
    let prefix = signed.user.area_prefix();
    if prefix.len() == 4 {
        (CountyCode::all(), true)
    } else {
        (
            prefix
                .get(..6)
                .and_then(|c| CountyCode::parse(c).ok())
                .into_iter()
                .collect(),
            false,
        )
    }
}

async fn runs_page(
    signed: &Signed,
    sort: RunSort,
    page: usize,
    forms: ListForms,
) -> Result<RunsPage, WebError> {
    let t = signed.t();
    let lang = signed.lang;
    let mut runs = signed.scoped().runs().await?;
    // Newest first as listed; the sorts are stable, so ties stay newest first.
    match sort {
        RunSort::Newest => {}
        RunSort::Month => runs.sort_by(|a, b| b.month.cmp(&a.month)),
        RunSort::Status => runs.sort_by_key(|r| RunStatus::ALL.iter().position(|s| *s == r.status)),
    }
    let page = page.clamp(1, 100_000);
    let more = runs.len() > page * RUNS_PER_PAGE;
    let rows = runs
        .iter()
        .skip((page - 1) * RUNS_PER_PAGE)
        .take(RUNS_PER_PAGE)
        .map(|s| RunRow::of(t, lang, s))
        .collect();
    let can_pay = signed.user.role.can_pay();
    let (counties, allow_all) = if can_pay {
        own_counties(signed)
    } else {
        (Vec::new(), false)
    };
    let mut forms = forms;
    if forms.build.month.is_empty() {
        forms.build.month = this_month().to_string();
    }
    let counties = counties
        .into_iter()
        .map(|c| {
            let code = c.to_string();
            CountyOption {
                build: forms.build.county == code,
                payer: forms.payer.county == code,
                name: c.name(),
                code,
            }
        })
        .collect();
    let path = format!("/payments?sort={}&page={page}", sort.as_str());
    Ok(RunsPage {
        c: Chrome::new(signed, "payments", &path),
        rows,
        sort: sort.as_str(),
        page,
        more,
        can_pay,
        allow_all,
        counties,
        forms,
    })
}

/// `GET /payments`: the runs the user may see.
pub async fn runs(signed: Signed, Query(p): Query<ListParams>) -> Result<Response, WebError> {
    signed.require(signed.user.role.sees_payments())?;
    let flash = (p.done.as_deref() == Some("payer")).then(|| signed.t().payer_set.to_owned());
    let mut page = runs_page(
        &signed,
        RunSort::parse(p.sort.as_deref()),
        p.page.unwrap_or(1),
        ListForms::default(),
    )
    .await?;
    page.c = page.c.with_flash(flash);
    render(&page)
}

/// What a build did.
enum Built {
    Run(RunId),
    NothingNew(String),
    Refused(Refusal),
}

async fn build_run(signed: &Signed, form: &BuildForm) -> Result<Built, WebError> {
    let t = signed.t();
    let month = match Month::parse(form.month.trim()) {
        Ok(m) => m,
        Err(e) => {
            return Ok(Built::Refused(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("{}: {e}", t.month),
            )));
        }
    };
    let ledger_start = match form.ledger_start.trim() {
        "" => None,
        text => match Month::parse(text) {
            Ok(m) => Some(m),
            Err(e) => {
                return Ok(Built::Refused(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("{}: {e}", t.ledger_start),
                )));
            }
        },
    };
    let county = match form.county.trim() {
        "" | "all" => None,
        text => match CountyCode::parse(text) {
            Ok(c) => Some(c),
            Err(e) => {
                return Ok(Built::Refused(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("{}: {e}", t.county),
                )));
            }
        },
    };
    let scope = county.map_or_else(|| "all".to_owned(), |c| c.to_string());
    let scoped = signed.scoped();
    // A county finance officer builds their county's runs; a city one any county's or the city's.
    let Ok(archive) = scoped.archive_for_run(&scope) else {
        return Ok(Built::Refused(Refusal::new(
            StatusCode::FORBIDDEN,
            t.county_only,
        )));
    };
    let state = signed.state();
    let options = BuildOptions {
        month,
        county,
        policy: state.policy(),
        policy_text: state.policy_text(),
        ledger_start,
        progress: None,
    };
    match archive.build_run(&options, &signed.user.actor()).await {
        Ok(BuildOutcome::Built(summary)) => Ok(Built::Run(summary.run_id)),
        Ok(BuildOutcome::NothingNew { families, open }) => {
            let open = open
                .map(|run| format!(" {}: {run}", t.pending_in_run))
                .unwrap_or_default();
            Ok(Built::NothingNew(format!(
                "{} ({} {families}){open}",
                t.nothing_new, t.families_checked
            )))
        }
        Err(e) => Ok(Built::Refused(refusal(signed.lang, e)?)),
    }
}

/// `POST /payments`: builds a run (finance officers) and opens it; a refusal or "nothing new"
/// is shown on the list.
pub async fn build(post: Post<BuildForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(signed.user.role.can_pay())?;
    let (status, forms) = match build_run(&signed, &form).await? {
        Built::Run(run) => {
            return Ok(Redirect::to(&format!("/payments/{run}?done=built")).into_response());
        }
        Built::NothingNew(notice) => (
            StatusCode::OK,
            ListForms {
                build: form,
                build_notice: Some(notice),
                ..ListForms::default()
            },
        ),
        Built::Refused(r) => (
            r.status,
            ListForms {
                build: form,
                build_error: Some(r.message),
                ..ListForms::default()
            },
        ),
    };
    let page = runs_page(&signed, RunSort::Newest, 1, forms).await?;
    Ok((status, render(&page)?).into_response())
}

/// `POST /payments/payer`: sets a county's paying account for its bank files.
pub async fn payer(post: Post<PayerForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(signed.user.role.can_pay())?;
    let t = signed.t();
    let refused = match CountyCode::parse(form.county.trim()) {
        Err(e) => Refusal::new(StatusCode::BAD_REQUEST, format!("{}: {e}", t.county)),
        Ok(county) => {
            let scoped = signed.scoped();
            match scoped.archive_for_run(&county.to_string()) {
                Err(_) => Refusal::new(StatusCode::FORBIDDEN, t.county_only),
                Ok(archive) => {
                    let payer = Payer {
                        name: form.name.trim().to_owned(),
                        account: form.account.trim().to_owned(),
                        bank: form.bank.trim().to_owned(),
                    };
                    match archive
                        .set_payer(county, &payer, &signed.user.actor())
                        .await
                    {
                        Ok(()) => return Ok(Redirect::to("/payments?done=payer").into_response()),
                        Err(e) => refusal(signed.lang, e)?,
                    }
                }
            }
        }
    };
    let forms = ListForms {
        payer: form,
        payer_error: Some(refused.message),
        ..ListForms::default()
    };
    let page = runs_page(&signed, RunSort::Newest, 1, forms).await?;
    Ok((refused.status, render(&page)?).into_response())
}

// ---------------------------------------------------------------------------------------------
// One run

struct ProblemRow {
    family_id: String,
    person_id: String,
    code: String,
    detail: String,
    held: bool,
}

impl From<ProblemView> for ProblemRow {
    fn from(p: ProblemView) -> ProblemRow {
        ProblemRow {
            family_id: p.family_id,
            person_id: p.person_id.unwrap_or_default(),
            code: p.code,
            detail: p.detail,
            held: p.resolved,
        }
    }
}

struct LineRow {
    line_no: i64,
    family_id: String,
    person_id: String,
    county: String,
    kind: String,
    nature: &'static str,
    for_month: String,
    amount: Fen,
    standard: Fen,
    county_fen: Fen,
    due: Fen,
    booked_before: Fen,
}

/// The three files written for one county and bank.
struct FileSet {
    county: String,
    bank: String,
    /// (format, file name)
    files: Vec<(&'static str, String)>,
}

/// What an imported return file did.
struct ReturnView {
    paid: usize,
    paid_total: Fen,
    failed: Vec<(i64, String, Fen, String)>,
    waiting: i64,
    settled: bool,
}

impl From<ReturnReport> for ReturnView {
    fn from(r: ReturnReport) -> ReturnView {
        ReturnView {
            paid: r.paid,
            paid_total: r.paid_total,
            failed: r.failed,
            waiting: r.waiting,
            settled: r.settled,
        }
    }
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage {
    c: Chrome,
    s: RunSummary,
    scope: String,
    status: &'static str,
    /// `draft`, `checked`, … (which actions apply).
    state: &'static str,
    known_at: String,
    natures: Vec<(&'static str, i64, Fen)>,
    counties: Vec<(String, Fen)>,
    /// Higher-level funds and every county's part.
    funding_total: Fen,
    transfers: Vec<(&'static str, i64, Fen)>,
    blocking: Vec<ProblemRow>,
    others: Vec<ProblemRow>,
    problems_hidden: usize,
    lines: Vec<LineRow>,
    page: usize,
    pages: usize,
    can_act: bool,
    /// The action refused and the refusal's lines.
    error: Option<(&'static str, Vec<String>)>,
    files: Vec<FileSet>,
    files_missing: bool,
    report: Option<ReturnView>,
    today: String,
}

impl RunPage {
    /// The refusal's lines when `action` was the one refused.
    fn err(&self, action: &str) -> &[String] {
        match &self.error {
            Some((a, lines)) if *a == action => lines,
            _ => &[],
        }
    }

    /// The refusal's lines when its action has no form in the run's present state (someone
    /// moved the run on meanwhile): shown above the actions.
    fn stray_err(&self) -> &[String] {
        let shown: &[&str] = match self.state {
            "draft" => &["check", "discard"],
            "checked" => &["approve", "discard"],
            "approved" => &["export"],
            "exported" => &["results", "close"],
            "settled" => &["close"],
            _ => &[],
        };
        match &self.error {
            Some((a, lines)) if !shown.contains(a) => lines,
            _ => &[],
        }
    }
}

#[derive(Deserialize, Default)]
pub struct RunParams {
    page: Option<usize>,
    done: Option<String>,
}

async fn run_page(
    signed: &Signed,
    run: &RunId,
    page: usize,
    error: Option<(&'static str, Refusal)>,
    report: Option<ReturnReport>,
) -> Result<(StatusCode, RunPage), WebError> {
    let t = signed.t();
    let lang = signed.lang;
    let scoped = signed.scoped();
    let s = scoped.run(run).await?;
    let finance = scoped.archive_for_run(&s.scope).ok();
    let mut problems = scoped.run_problems(run).await?;
    let problems_hidden = problems.len().saturating_sub(PROBLEMS_SHOWN);
    problems.truncate(PROBLEMS_SHOWN);
    let (blocking, others): (Vec<ProblemView>, Vec<ProblemView>) =
        problems.into_iter().partition(|p| p.blocking);
    let pages = usize::try_from(s.lines)
        .unwrap_or(0)
        .div_ceil(LINES_PER_PAGE)
        .max(1);
    let page = page.clamp(1, pages);
    let first = i64::try_from((page - 1) * LINES_PER_PAGE).unwrap_or(i64::MAX);
    let lines = scoped
        .run_lines(run, first, LINES_PER_PAGE as i64)
        .await?
        .into_iter()
        .map(|l| LineRow {
            kind: kind_label(lang, &l.kind),
            nature: nature_label(lang, &l.nature),
            county: area_name(&l.county_code),
            line_no: l.line_no,
            family_id: l.family_id,
            person_id: l.person_id,
            for_month: l.for_month,
            amount: l.amount,
            standard: l.standard,
            county_fen: l.county,
            due: l.due,
            booked_before: l.booked_before,
        })
        .collect();
    let exported = matches!(
        s.status,
        RunStatus::Exported | RunStatus::Settled | RunStatus::Closed
    );
    // The bank files hold full ID numbers and accounts: listed for finance officers only.
    let (files, files_missing) = match finance {
        Some(archive) if exported => match file_sets(t, &bank_files::folder(archive, &s), run) {
            Some(files) => (files, false),
            None => (Vec::new(), true),
        },
        _ => (Vec::new(), false),
    };
    let status = error.as_ref().map_or(StatusCode::OK, |(_, r)| r.status);
    let page = RunPage {
        c: Chrome::new(signed, "payments", &format!("/payments/{run}?page={page}")),
        scope: scope_label(t, &s.scope),
        status: status_label(lang, s.status),
        state: s.status.as_str(),
        known_at: beijing(&s.known_at),
        natures: s
            .by_nature
            .iter()
            .map(|(n, count, amount)| (nature_label(lang, n), *count, *amount))
            .collect(),
        counties: s
            .by_county
            .iter()
            .map(|(c, fen)| (format!("{} {c}", area_name(c)), *fen))
            .collect(),
        funding_total: s.by_county.iter().fold(s.standard, |sum, c| sum + c.1),
        transfers: s
            .transfers
            .iter()
            .map(|(st, count, amount)| (transfer_label(lang, st), *count, *amount))
            .collect(),
        blocking: blocking.into_iter().map(ProblemRow::from).collect(),
        others: others.into_iter().map(ProblemRow::from).collect(),
        problems_hidden,
        lines,
        page,
        pages,
        can_act: finance.is_some(),
        error: error.map(|(action, r)| (action, r.message.lines().map(str::to_owned).collect())),
        files,
        files_missing,
        report: report.map(ReturnView::from),
        today: today().to_string(),
        s,
    };
    Ok((status, page))
}

/// `GET /payments/{run}`: a run in the user's scope (404 outside it).
pub async fn run(
    signed: Signed,
    Path(run): Path<String>,
    Query(p): Query<RunParams>,
) -> Result<Response, WebError> {
    signed.require(signed.user.role.sees_payments())?;
    let run = run_id(&run)?;
    let t = signed.t();
    let flash = match p.done.as_deref() {
        Some("built") => Some(t.done_built),
        Some("check") => Some(t.done_checked),
        Some("approve") => Some(t.done_approved),
        Some("discard") => Some(t.done_discarded),
        Some("export") => Some(t.done_exported),
        Some("close") => Some(t.done_closed),
        _ => None,
    };
    let (status, mut page) = run_page(&signed, &run, p.page.unwrap_or(1), None, None).await?;
    page.c = page.c.with_flash(flash.map(str::to_owned));
    Ok((status, render(&page)?).into_response())
}

/// The run an action is for, when the user may act on it: "not found" outside the user's
/// scope, "forbidden" for a role that only reads runs.
async fn acting_on<'s>(
    signed: &Signed,
    scoped: &'s guanai_store::scope::Scoped<'_>,
    run: &str,
) -> Result<(RunId, RunSummary, &'s Archive), WebError> {
    let run = run_id(run)?;
    let summary = scoped.run(&run).await?;
    signed.require(signed.user.role.can_pay())?;
    let archive = scoped.archive_for_run(&summary.scope)?;
    Ok((run, summary, archive))
}

/// After an action: back to the run with its message, or the run's page with the refusal next
/// to the action's button.
async fn after(
    signed: &Signed,
    run: &RunId,
    action: &'static str,
    outcome: Result<(), PayError>,
) -> Result<Response, WebError> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/payments/{run}?done={action}")).into_response()),
        Err(e) => refused(signed, run, action, refusal(signed.lang, e)?).await,
    }
}

async fn refused(
    signed: &Signed,
    run: &RunId,
    action: &'static str,
    r: Refusal,
) -> Result<Response, WebError> {
    let (status, page) = run_page(signed, run, 1, Some((action, r)), None).await?;
    Ok((status, render(&page)?).into_response())
}

#[derive(Deserialize, Default)]
pub struct CheckForm {
    #[serde(default)]
    hold: String,
}

/// `POST /payments/{run}/check`: checks a draft run; with a hold reason, the transfers with
/// blocking problems are held (the money stays owed), as `pay check --hold`.
pub async fn check(Path(run): Path<String>, post: Post<CheckForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let scoped = signed.scoped();
    let (run, _, archive) = acting_on(&signed, &scoped, &run).await?;
    let hold = Some(form.hold.trim()).filter(|h| !h.is_empty());
    let outcome = archive.check_run(&run, hold, &signed.user.actor()).await;
    after(&signed, &run, "check", outcome).await
}

#[derive(Deserialize, Default)]
pub struct NoFields {}

/// `POST /payments/{run}/approve`: approves a checked run — not by its builder (four eyes).
pub async fn approve(Path(run): Path<String>, post: Post<NoFields>) -> Result<Response, WebError> {
    let Post { signed, .. } = post;
    let scoped = signed.scoped();
    let (run, _, archive) = acting_on(&signed, &scoped, &run).await?;
    let outcome = archive.approve_run(&run, &signed.user.actor()).await;
    after(&signed, &run, "approve", outcome).await
}

#[derive(Deserialize, Default)]
pub struct DiscardForm {
    #[serde(default)]
    reason: String,
}

/// `POST /payments/{run}/discard`: discards a draft or checked run, for a reason.
pub async fn discard(
    Path(run): Path<String>,
    post: Post<DiscardForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let scoped = signed.scoped();
    let (run, _, archive) = acting_on(&signed, &scoped, &run).await?;
    let reason = form.reason.trim();
    if reason.is_empty() {
        let r = Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("{}: {}", signed.t().reason, signed.t().reason_required),
        );
        return refused(&signed, &run, "discard", r).await;
    }
    let outcome = archive
        .discard_run(&run, reason, &signed.user.actor())
        .await;
    after(&signed, &run, "discard", outcome).await
}

#[derive(Deserialize, Default)]
pub struct ExportForm {
    #[serde(default)]
    execution_date: String,
}

/// `POST /payments/{run}/export`: writes the bank files of an approved run (per county and
/// bank: 代发 XLSX and CSV, pain.001 XML) into the run's folder, and marks it exported (see
/// [`bank_files::export`]: a refused export leaves nothing behind).
pub async fn export(Path(run): Path<String>, post: Post<ExportForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let t = signed.t();
    let scoped = signed.scoped();
    let (run, summary, archive) = acting_on(&signed, &scoped, &run).await?;
    let date = match form.execution_date.trim() {
        "" => today(),
        text => match guanai_rules::parse_date(text) {
            Ok(d) => d,
            Err(e) => {
                let r = Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("{}: {e}", t.execution_date),
                );
                return refused(&signed, &run, "export", r).await;
            }
        },
    };
    match bank_files::export(archive, &summary, date, &signed.user.actor()).await {
        Ok(_) => Ok(Redirect::to(&format!("/payments/{run}?done=export")).into_response()),
        Err(WebError::Pay(e)) => refused(&signed, &run, "export", refusal(signed.lang, e)?).await,
        Err(e) => Err(e),
    }
}

/// `POST /payments/{run}/results` (multipart: `_csrf` first, then `file`): applies the bank's
/// return file. A file that does not match the run changes nothing and says why.
pub async fn results(
    signed: Signed,
    Path(run): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let upload = read_upload(&signed, &headers, multipart).await?;
    let scoped = signed.scoped();
    let (run, _, archive) = acting_on(&signed, &scoped, &run).await?;
    let Some((name, bytes)) = upload else {
        let r = Refusal::new(StatusCode::BAD_REQUEST, signed.t().choose_file);
        return refused(&signed, &run, "results", r).await;
    };
    match archive
        .import_results(&run, &bytes, &name, &signed.user.actor())
        .await
    {
        Ok(report) => {
            let (status, page) = run_page(&signed, &run, 1, None, Some(report)).await?;
            Ok((status, render(&page)?).into_response())
        }
        Err(e) => refused(&signed, &run, "results", refusal(signed.lang, e)?).await,
    }
}

/// `POST /payments/{run}/close`: closes a run whose transfers all have a bank result.
pub async fn close(Path(run): Path<String>, post: Post<NoFields>) -> Result<Response, WebError> {
    let Post { signed, .. } = post;
    let scoped = signed.scoped();
    let (run, _, archive) = acting_on(&signed, &scoped, &run).await?;
    let outcome = archive.close_run(&run, &signed.user.actor()).await;
    after(&signed, &run, "close", outcome).await
}

// ---------------------------------------------------------------------------------------------
// Bank files

/// The bank files in a run's folder, grouped per county and bank; `None` when the folder is
/// gone.
fn file_sets(t: &'static Texts, dir: &FsPath, run: &RunId) -> Option<Vec<FileSet>> {
    let mut sets: Vec<FileSet> = Vec::new();
    for file in bank_files::list(dir, run)? {
        let county = format!("{} {}", area_name(&file.county), file.county);
        match sets.last_mut() {
            Some(set) if set.county == county && set.bank == file.bank => {
                set.files.push((file.format.label(t), file.name));
            }
            _ => sets.push(FileSet {
                county,
                bank: file.bank,
                files: vec![(file.format.label(t), file.name)],
            }),
        }
    }
    Some(sets)
}

/// A `Content-Disposition` for a download: an ASCII name for old clients and the real
/// (Chinese) name encoded per RFC 5987.
fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A file as a download.
pub(crate) fn download_response(
    content_type: &'static str,
    name: &str,
    bytes: Vec<u8>,
) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, attachment(name)),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /payments/{run}/files/{name}`: one bank file (finance officers of the run's area);
/// every download is written to the audit log.
pub async fn download(
    signed: Signed,
    Path((run, name)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let scoped = signed.scoped();
    let (_, summary, archive) = acting_on(&signed, &scoped, &run).await?;
    let (format, bytes) = bank_files::read(archive, &summary, &name, &signed.user.actor()).await?;
    Ok(download_response(format.content_type(), &name, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_file_name_is_sent_in_both_forms() {
        assert_eq!(
            attachment("批次-中.csv"),
            "attachment; filename=\"__-_.csv\"; filename*=UTF-8''%E6%89%B9%E6%AC%A1-%E4%B8%AD.csv"
        );
    }
}
