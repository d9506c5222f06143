//! Payment runs through the API (社会化发放, 二(二)): list and read the runs in the token user's
//! area; finance officers build, check, approve, export (the bank files, which only they may
//! list and download), apply the bank's return file to, and close them. Every change goes
//! through `scoped.archive_for_run` and acts as the token's user, so the library's four-eyes
//! rule (approved by someone other than the builder) holds here as on the command line; the
//! bank files are written and read by the code the run's page uses (`crate::bank_files`).

use axum::Json;
use axum::extract::{Path, RawQuery, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guanai_rules::{CountyCode, Month};
use guanai_store::Archive;
use guanai_store::pay::{
    BuildOptions, BuildOutcome, PayError, ProblemView, RunId, RunStatus, RunSummary,
};
use guanai_store::scope::Scoped;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiUser, ErrorBody, FieldError, decode, query, read_body, read_file};
use crate::bank_files;
use crate::pages::census::base_name;
use crate::pages::payments::download_response;
use crate::state::WebError;

/// The largest payment request body.
const PAY_BODY_LIMIT: usize = 16 * 1024;

/// A payment run at a glance. Amounts are integer fen.
#[derive(Serialize, ToSchema)]
pub struct RunDto {
    /// `YYYYMM-SCOPE-SEQ`, e.g. `202610-371321-1`.
    pub run_id: String,
    pub month: String,
    /// A county code, or `all`.
    pub scope: String,
    /// `draft` | `checked` | `approved` | `exported` | `settled` | `closed` | `discarded`.
    pub status: String,
    /// The moment whose facts the run pays (RFC 3339).
    pub known_at: String,
    pub ledger_first: String,
    pub arrears_from: String,
    pub policy_name: String,
    pub policy_digest: String,
    pub created_by: String,
    pub checked_by: Option<String>,
    pub approved_by: Option<String>,
    pub exported_by: Option<String>,
    pub closed_by: Option<String>,
    pub lines: i64,
    pub total_fen: i64,
    pub by_nature: Vec<NatureTotal>,
    /// Paid from higher-level funds.
    pub standard_fen: i64,
    /// Paid by county finance, per county.
    pub by_county: Vec<CountyTotal>,
    pub transfers: Vec<TransferTotal>,
    pub problems: i64,
    pub blocking: i64,
    /// Arrears older than the limit: reported, not paid.
    pub beyond_limit_fen: i64,
}

/// Lines of one nature (regular, arrears, recovery, grant …).
#[derive(Serialize, ToSchema)]
pub struct NatureTotal {
    pub nature: String,
    pub count: i64,
    pub amount_fen: i64,
}

/// The county finance's part for one county.
#[derive(Serialize, ToSchema)]
pub struct CountyTotal {
    pub county_code: String,
    pub county_fen: i64,
}

/// Transfers in one status.
#[derive(Serialize, ToSchema)]
pub struct TransferTotal {
    pub status: String,
    pub count: i64,
    pub amount_fen: i64,
}

/// A problem found when the run was built.
#[derive(Serialize, ToSchema)]
pub struct ProblemDto {
    pub problem_no: i64,
    pub family_id: String,
    pub person_id: Option<String>,
    /// e.g. `no_account`, `invalid_account`, `death_reported`, `duplicate_id`.
    pub code: String,
    pub detail: String,
    /// Blocks checking unless the transfer is held.
    pub blocking: bool,
    pub transfer_no: Option<i64>,
    /// The affected transfer was held.
    pub resolved: bool,
}

/// A run with its problems.
#[derive(Serialize, ToSchema)]
pub struct RunDetail {
    pub run: RunDto,
    pub problems: Vec<ProblemDto>,
}

impl From<RunSummary> for RunDto {
    fn from(s: RunSummary) -> RunDto {
        RunDto {
            run_id: s.run_id.to_string(),
            month: s.month,
            scope: s.scope,
            status: s.status.as_str().to_owned(),
            known_at: s.known_at.to_string(),
            ledger_first: s.ledger_first,
            arrears_from: s.arrears_from,
            policy_name: s.policy_name,
            policy_digest: s.policy_digest,
            created_by: s.created_by,
            checked_by: s.checked_by,
            approved_by: s.approved_by,
            exported_by: s.exported_by,
            closed_by: s.closed_by,
            lines: s.lines,
            total_fen: s.total.get(),
            by_nature: s
                .by_nature
                .into_iter()
                .map(|(nature, count, amount)| NatureTotal {
                    nature,
                    count,
                    amount_fen: amount.get(),
                })
                .collect(),
            standard_fen: s.standard.get(),
            by_county: s
                .by_county
                .into_iter()
                .map(|(county_code, fen)| CountyTotal {
                    county_code,
                    county_fen: fen.get(),
                })
                .collect(),
            transfers: s
                .transfers
                .into_iter()
                .map(|(status, count, amount)| TransferTotal {
                    status,
                    count,
                    amount_fen: amount.get(),
                })
                .collect(),
            problems: s.problems,
            blocking: s.blocking,
            beyond_limit_fen: s.beyond_limit.get(),
        }
    }
}

impl From<ProblemView> for ProblemDto {
    fn from(p: ProblemView) -> ProblemDto {
        ProblemDto {
            problem_no: p.problem_no,
            family_id: p.family_id,
            person_id: p.person_id,
            code: p.code,
            detail: p.detail,
            blocking: p.blocking,
            transfer_no: p.transfer_no,
            resolved: p.resolved,
        }
    }
}

fn require_sees_payments(user: &ApiUser) -> Result<(), ApiError> {
    if user.user.role.sees_payments() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "forbidden: this role sees no payment runs",
        ))
    }
}

fn require_pays(user: &ApiUser) -> Result<(), ApiError> {
    if user.user.role.can_pay() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "forbidden: only finance officers build, check, approve and close payment runs",
        ))
    }
}

/// A JSON body that may be left out: none (and no `Content-Type`) means the defaults.
async fn optional_body<T: Default + serde::de::DeserializeOwned>(
    request: Request,
) -> Result<T, ApiError> {
    let bytes = read_body(request, PAY_BODY_LIMIT, false).await?;
    if bytes.is_empty() {
        Ok(T::default())
    } else {
        decode(&bytes)
    }
}

fn run_id(text: &str) -> Result<RunId, ApiError> {
    RunId::parse(text).ok_or_else(|| ApiError::not_found(format!("payment run {text} not found")))
}

/// The run when the user may see it (else "not found").
async fn visible_run(user: &ApiUser, run: &RunId) -> Result<RunSummary, ApiError> {
    Ok(user.scoped().run(run).await?)
}

/// The payment runs in the user's area, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/payments/runs",
    tag = "payments",
    responses(
        (status = 200, description = "The runs the user may see", body = Vec<RunDto>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role sees no payment runs", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_runs(user: ApiUser) -> Result<Json<Vec<RunDto>>, ApiError> {
    require_sees_payments(&user)?;
    let runs = user.scoped().runs().await?;
    Ok(Json(runs.into_iter().map(RunDto::from).collect()))
}

/// One run with its problems.
#[utoipa::path(
    get,
    path = "/api/v1/payments/runs/{run}",
    tag = "payments",
    params(("run" = String, Path, description = "The run id, e.g. `202610-371321-1`")),
    responses(
        (status = 200, description = "The run and its problems", body = RunDetail),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role sees no payment runs", body = ErrorBody),
        (status = 404, description = "No such run in the user's area", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn run(user: ApiUser, Path(run): Path<String>) -> Result<Json<RunDetail>, ApiError> {
    require_sees_payments(&user)?;
    let run = run_id(&run)?;
    let summary = visible_run(&user, &run).await?;
    // `scoped.run` has just shown the run is inside the user's area; its problems are part of
    // it (the scope offers no separate call for them).
    let problems = user.scoped().run_problems(&run).await?;
    Ok(Json(RunDetail {
        run: summary.into(),
        problems: problems.into_iter().map(ProblemDto::from).collect(),
    }))
}

/// What to build.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildRun {
    /// The month to pay, YYYY-MM.
    #[schema(example = "2026-10")]
    pub month: String,
    /// One county; absent for every county (city-level finance only).
    #[schema(example = "371321")]
    pub county: Option<String>,
    /// The ledger's first month, YYYY-MM (only for the very first run; default: its month).
    pub ledger_start: Option<String>,
}

/// The outcome of a build.
#[derive(Serialize, ToSchema)]
pub struct BuildResult {
    /// Whether a run was created.
    pub built: bool,
    /// The new run.
    pub run: Option<RunDto>,
    /// Nothing new: the families considered.
    pub families: Option<u64>,
    /// Nothing new: the open run that already holds what is due.
    pub open_run: Option<String>,
}

fn month_field(field: &str, text: &str) -> Result<Month, ApiError> {
    Month::parse(text.trim()).map_err(|e| {
        ApiError::unprocessable(vec![FieldError {
            field: field.to_owned(),
            message: e.to_string(),
        }])
    })
}

/// Builds the payment run for a month (and county): regular payments, arrears, recoveries and
/// one-time grants, from the server's policy pack.
#[utoipa::path(
    post,
    path = "/api/v1/payments/runs",
    tag = "payments",
    request_body = BuildRun,
    responses(
        (status = 201, description = "A run was built", body = BuildResult),
        (status = 200, description = "Everything due is already booked: no run was built", body = BuildResult),
        (status = 400, description = "A body that is not JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a finance officer", body = ErrorBody),
        (status = 404, description = "The county is outside the user's area", body = ErrorBody),
        (status = 409, description = "A run of the county is still open, or another build committed first", body = ErrorBody),
        (status = 422, description = "Fields refused, each named", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn build_run(user: ApiUser, request: Request) -> Result<Response, ApiError> {
    require_pays(&user)?;
    let body: BuildRun = decode(&read_body(request, PAY_BODY_LIMIT, true).await?)?;
    let month = month_field("month", &body.month)?;
    let ledger_start = body
        .ledger_start
        .as_deref()
        .map(|m| month_field("ledger_start", m))
        .transpose()?;
    let county = match body
        .county
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(c) => Some(CountyCode::parse(c).map_err(|e| {
            ApiError::unprocessable(vec![FieldError {
                field: "county".to_owned(),
                message: e.to_string(),
            }])
        })?),
    };
    let scope = county.map_or_else(|| "all".to_owned(), |c| c.to_string());
    let scoped = user.scoped();
    let archive = scoped
        .archive_for_run(&scope)
        .map_err(|_| ApiError::not_found(format!("county: {scope} is outside your area")))?;
    let state = user.state();
    let options = BuildOptions {
        month,
        county,
        policy: state.policy(),
        policy_text: state.policy_text(),
        ledger_start,
        progress: None,
    };
    match archive.build_run(&options, &user.user.actor()).await? {
        BuildOutcome::Built(summary) => Ok((
            StatusCode::CREATED,
            Json(BuildResult {
                built: true,
                run: Some((*summary).into()),
                families: None,
                open_run: None,
            }),
        )
            .into_response()),
        BuildOutcome::NothingNew { families, open } => Ok((
            StatusCode::OK,
            Json(BuildResult {
                built: false,
                run: None,
                families: Some(families as u64),
                open_run: open,
            }),
        )
            .into_response()),
    }
}

/// Checking a draft run.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CheckRun {
    /// Hold the transfers with blocking problems, for this reason (the money stays owed).
    pub hold: Option<String>,
}

/// Discarding a draft or checked run.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscardRun {
    /// Why the run is discarded (required; kept with the run and in the audit log).
    pub reason: String,
}

/// The run a finance officer acts on: visible to the user (else "not found"), and the user a
/// finance officer (else "forbidden").
async fn run_to_change(user: &ApiUser, run: &str) -> Result<(RunId, RunSummary), ApiError> {
    let run = run_id(run)?;
    let summary = visible_run(user, &run).await?;
    require_pays(user)?;
    Ok((run, summary))
}

/// The archive for changing a run of `scope`, through the user's scope.
fn archive_for<'a>(
    scoped: &'a Scoped<'_>,
    scope: &str,
    run: &RunId,
) -> Result<&'a Archive, ApiError> {
    scoped
        .archive_for_run(scope)
        .map_err(|_| ApiError::not_found(format!("payment run {run} not found")))
}

/// The run after a change.
async fn changed(user: &ApiUser, run: &RunId) -> Result<Json<RunDto>, ApiError> {
    Ok(Json(visible_run(user, run).await?.into()))
}

/// Checks a draft run (refused while blocking problems remain, unless they are held).
#[utoipa::path(
    post,
    path = "/api/v1/payments/runs/{run}/check",
    tag = "payments",
    params(("run" = String, Path, description = "The run id")),
    request_body(content = Option<CheckRun>, description = "Optional; `hold` holds blocked transfers"),
    responses(
        (status = 200, description = "Checked", body = RunDto),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a finance officer", body = ErrorBody),
        (status = 404, description = "No such run in the user's area", body = ErrorBody),
        (status = 409, description = "Not a draft, or blocking problems remain", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn check(
    user: ApiUser,
    Path(run): Path<String>,
    request: Request,
) -> Result<Json<RunDto>, ApiError> {
    let (run, summary) = run_to_change(&user, &run).await?;
    let body: CheckRun = optional_body(request).await?;
    let hold = body
        .hold
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty());
    let scoped = user.scoped();
    archive_for(&scoped, &summary.scope, &run)?
        .check_run(&run, hold, &user.user.actor())
        .await?;
    changed(&user, &run).await
}

/// Approves a checked run and posts it to the ledger; not by the run's builder (four eyes).
#[utoipa::path(
    post,
    path = "/api/v1/payments/runs/{run}/approve",
    tag = "payments",
    params(("run" = String, Path, description = "The run id")),
    responses(
        (status = 200, description = "Approved", body = RunDto),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a finance officer", body = ErrorBody),
        (status = 404, description = "No such run in the user's area", body = ErrorBody),
        (status = 409, description = "Not checked, or the approver built the run", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn approve(user: ApiUser, Path(run): Path<String>) -> Result<Json<RunDto>, ApiError> {
    let (run, summary) = run_to_change(&user, &run).await?;
    let scoped = user.scoped();
    archive_for(&scoped, &summary.scope, &run)?
        .approve_run(&run, &user.user.actor())
        .await?;
    changed(&user, &run).await
}

/// Closes a run whose transfers all have a bank result (or were held).
#[utoipa::path(
    post,
    path = "/api/v1/payments/runs/{run}/close",
    tag = "payments",
    params(("run" = String, Path, description = "The run id")),
    responses(
        (status = 200, description = "Closed", body = RunDto),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a finance officer", body = ErrorBody),
        (status = 404, description = "No such run in the user's area", body = ErrorBody),
        (status = 409, description = "Not exported or settled, or transfers await the bank", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn close(user: ApiUser, Path(run): Path<String>) -> Result<Json<RunDto>, ApiError> {
    let (run, summary) = run_to_change(&user, &run).await?;
    let scoped = user.scoped();
    archive_for(&scoped, &summary.scope, &run)?
        .close_run(&run, &user.user.actor())
        .await?;
    changed(&user, &run).await
}

/// Discards a draft or checked run: its lines stay on record, its bookings and grant awards are
/// undone, and the county is free for a new run. An approved run cannot be discarded.
#[utoipa::path(
    post,
    path = "/api/v1/payments/runs/{run}/discard",
    tag = "payments",
    params(("run" = String, Path, description = "The run id")),
    request_body(content = DiscardRun, description = "Why the run is discarded"),
    responses(
        (status = 200, description = "Discarded", body = RunDto),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a finance officer", body = ErrorBody),
        (status = 404, description = "No such run in the user's area", body = ErrorBody),
        (status = 409, description = "Neither draft nor checked", body = ErrorBody),
        (status = 422, description = "No reason given", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn discard(
    user: ApiUser,
    Path(run): Path<String>,
    request: Request,
) -> Result<Json<RunDto>, ApiError> {
    let (run, summary) = run_to_change(&user, &run).await?;
    let bytes = read_body(request, PAY_BODY_LIMIT, false).await?;
    let body: DiscardRun = decode(&bytes)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::unprocessable(vec![FieldError {
            field: "reason".into(),
            message: "说明作废原因 / say why the run is discarded".into(),
        }]));
    }
    let scoped = user.scoped();
    archive_for(&scoped, &summary.scope, &run)?
        .discard_run(&run, body.reason.trim(), &user.user.actor())
        .await?;
    changed(&user, &run).await
}

// ---------------------------------------------------------------------------------------------
// The bank: export and bank files, the bank's return file

/// The largest bank return file (as the page's upload).
const RETURN_FILE_LIMIT: usize = crate::BODY_LIMIT;

/// The media types a bank return file may be sent as: CSV, XLSX or pain.002 XML (the library
/// tells the format from the file itself and its name).
const RETURN_FILE_TYPES: [&str; 5] = [
    "application/octet-stream",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/xml",
    "text/xml",
];

/// Exporting an approved run to the bank (报送银行).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ExportRun {
    /// 银行执行日期 / the date the bank is to pay on, YYYY-MM-DD (absent or empty: today,
    /// Beijing time), as the run page's form.
    #[schema(example = "2026-10-20")]
    pub execution_date: Option<String>,
}

/// One bank file of an exported run (银行文件): per county and bank, a 代发 XLSX, a 代发 CSV and
/// a pain.001 XML. It holds full ID numbers and accounts.
#[derive(Serialize, ToSchema)]
pub struct BankFileDto {
    /// 文件名 / file name: `RUN-COUNTY-BANK.xlsx`, `.csv` or `.pain001.xml`.
    #[schema(example = "202610-371321-1-371321-中国农业银行.csv")]
    pub name: String,
    /// 格式 / format: `xlsx` (代发 XLSX) | `csv` (代发 CSV, UTF-8 with a byte-order mark) |
    /// `pain001` (ISO 20022 pain.001 XML).
    pub format: String,
    /// 县区代码 / the county whose transfers the file carries.
    pub county_code: String,
    /// 银行 / the bank (head office) the file goes to.
    pub bank: String,
    /// 文件大小 / size in bytes.
    pub size_bytes: u64,
    /// 下载地址 / where to download it (this API, with the same token).
    pub url: String,
}

/// What an export did.
#[derive(Serialize, ToSchema)]
pub struct ExportResult {
    /// The run, now `exported`.
    pub run: RunDto,
    /// 报送笔数 / transfers sent to the bank (held ones are not).
    pub transfers: u64,
    /// 报送金额 / their total, integer fen.
    pub total_fen: i64,
    /// 银行文件 / the files written.
    pub files: Vec<BankFileDto>,
}

/// A transfer the bank returned (被退回): reversed into what is owed, so a later run pays it once
/// the account is fixed.
#[derive(Serialize, ToSchema)]
pub struct ReturnedTransfer {
    /// 转账序号 / the transfer's number in the run (the end of its 业务参考号).
    pub transfer_no: i64,
    pub family_id: String,
    pub amount_fen: i64,
    /// 退回原因 / the bank's reason.
    pub reason: String,
}

/// What a bank return file did (银行回盘).
#[derive(Serialize, ToSchema)]
pub struct ResultsOutcome {
    /// The run, `settled` once every transfer has a result.
    pub run: RunDto,
    /// 已到账 / transfers the bank paid.
    pub paid: u64,
    /// 到账金额 / their total, integer fen.
    pub paid_total_fen: i64,
    /// 被退回 / transfers the bank returned.
    pub failed: Vec<ReturnedTransfer>,
    /// 待回盘 / transfers of the run still waiting for a result.
    pub waiting: i64,
    /// 已全部回盘 / every transfer of the run has a result.
    pub settled: bool,
}

/// The query of a return-file upload.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResultsParams {
    name: Option<String>,
}

/// A file name as one path segment of a URL (RFC 3986: everything but the unreserved
/// characters percent-encoded, the Chinese bank name included).
fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The bank files in an exported run's folder.
fn bank_files_of(archive: &Archive, summary: &RunSummary) -> Result<Vec<BankFileDto>, ApiError> {
    let run = &summary.run_id;
    let Some(files) = bank_files::list(&bank_files::folder(archive, summary), run) else {
        return Err(ApiError::new(
            StatusCode::GONE,
            format!(
                "files: 服务器上找不到批次 {run} 的银行文件 / the bank files of payment run {run} are no longer on this server; ask the administrator"
            ),
        ));
    };
    Ok(files
        .into_iter()
        .map(|f| BankFileDto {
            url: format!(
                "{}/payments/runs/{run}/files/{}",
                super::PREFIX,
                path_segment(&f.name)
            ),
            format: f.format.as_str().to_owned(),
            county_code: f.county,
            bank: f.bank,
            size_bytes: f.size,
            name: f.name,
        })
        .collect())
}

/// Exports an approved run to the bank: writes its bank files (per county and bank: 代发 XLSX and
/// CSV, pain.001 XML) and marks it exported, its transfers sent. A refused export writes
/// nothing. As the run page's export.
#[utoipa::path(
    post,
    path = "/api/v1/payments/runs/{run}/export",
    tag = "payments",
    params(("run" = String, Path, description = "The run id")),
    request_body(content = Option<ExportRun>, description = "Optional; the bank's execution date (default today)"),
    responses(
        (status = 200, description = "Exported: the run and its bank files", body = ExportResult),
        (status = 400, description = "The county has no paying account, or a transfer cannot be sent", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a finance officer", body = ErrorBody),
        (status = 404, description = "No such run in the user's area", body = ErrorBody),
        (status = 409, description = "Not approved (already exported, or not yet approved)", body = ErrorBody),
        (status = 422, description = "`execution_date` is not a date", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn export(
    user: ApiUser,
    Path(run): Path<String>,
    request: Request,
) -> Result<Json<ExportResult>, ApiError> {
    let (run, summary) = run_to_change(&user, &run).await?;
    let body: ExportRun = optional_body(request).await?;
    let date = match body.execution_date.as_deref().map(str::trim) {
        None | Some("") => crate::pages::today(),
        Some(text) => guanai_rules::parse_date(text).map_err(|e| {
            ApiError::unprocessable(vec![FieldError {
                field: "execution_date".into(),
                message: e.to_string(),
            }])
        })?,
    };
    let scoped = user.scoped();
    let archive = archive_for(&scoped, &summary.scope, &run)?;
    let exported = bank_files::export(archive, &summary, date, &user.user.actor()).await?;
    let summary = visible_run(&user, &run).await?;
    let files = bank_files_of(archive, &summary)?;
    Ok(Json(ExportResult {
        run: summary.into(),
        transfers: exported.count as u64,
        total_fen: exported.total.get(),
        files,
    }))
}

/// The bank files of an exported run (finance officers of the run's area: the files hold full
/// ID numbers and accounts, as on the run's page).
#[utoipa::path(
    get,
    path = "/api/v1/payments/runs/{run}/files",
    tag = "payments",
    params(("run" = String, Path, description = "The run id")),
    responses(
        (status = 200, description = "The run's bank files, per county and bank", body = Vec<BankFileDto>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a finance officer", body = ErrorBody),
        (status = 404, description = "No such run in the user's area", body = ErrorBody),
        (status = 409, description = "The run was never exported", body = ErrorBody),
        (status = 410, description = "The files are no longer on the server", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn files(
    user: ApiUser,
    Path(run): Path<String>,
) -> Result<Json<Vec<BankFileDto>>, ApiError> {
    let (run, summary) = run_to_change(&user, &run).await?;
    if !matches!(
        summary.status,
        RunStatus::Exported | RunStatus::Settled | RunStatus::Closed
    ) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "status: payment run {run} is {}; bank files are written when it is exported",
                summary.status.as_str()
            ),
        ));
    }
    let scoped = user.scoped();
    let archive = archive_for(&scoped, &summary.scope, &run)?;
    Ok(Json(bank_files_of(archive, &summary)?))
}

/// One bank file of a run, as a download (finance officers of the run's area); every download
/// is written to the audit log, as on the run's page.
#[utoipa::path(
    get,
    path = "/api/v1/payments/runs/{run}/files/{name}",
    tag = "payments",
    params(
        ("run" = String, Path, description = "The run id"),
        ("name" = String, Path, description = "A file name from the run's file list"),
    ),
    responses(
        (status = 200, description = "The file (`Content-Disposition: attachment`)", content(
            ("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("application/xml"),
        )),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a finance officer", body = ErrorBody),
        (status = 404, description = "No such run in the user's area, or no such file of the run", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn download(
    user: ApiUser,
    Path((run, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (run, summary) = run_to_change(&user, &run).await?;
    let scoped = user.scoped();
    let archive = archive_for(&scoped, &summary.scope, &run)?;
    match bank_files::read(archive, &summary, &name, &user.user.actor()).await {
        Ok((format, bytes)) => Ok(download_response(format.content_type(), &name, bytes)),
        Err(WebError::NotFound) => Err(ApiError::not_found(format!(
            "name: {name} is not a bank file of payment run {run}"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Applies the bank's return file (银行回盘) to an exported run: paid transfers are settled,
/// returned ones owed again. A file that does not match the run (a line that is not one of its
/// transfers, a changed amount, name or account, a file already imported) changes nothing.
/// The file is the request body; its name (whose ending tells CSV, XLSX or pain.002) is `name`.
#[utoipa::path(
    post,
    path = "/api/v1/payments/runs/{run}/results",
    tag = "payments",
    params(
        ("run" = String, Path, description = "The run id"),
        ("name" = String, Query, description = "文件名 / the return file's name as the bank sent it, e.g. `回盘.csv`, `return.xlsx`, `pain002.xml`"),
    ),
    request_body(description = "The bank's return file, as sent (at most 64 MiB)", content(
        ("application/octet-stream"),
        ("text/csv"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("application/xml"),
        ("text/xml"),
    )),
    responses(
        (status = 200, description = "Applied: what was paid, returned, still waiting", body = ResultsOutcome),
        (status = 400, description = "`name` missing, an empty body, or a file that cannot be read", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a finance officer", body = ErrorBody),
        (status = 404, description = "No such run in the user's area", body = ErrorBody),
        (status = 409, description = "Not exported, the file does not match the run, or it was already imported; nothing changed", body = ErrorBody),
        (status = 413, description = "Larger than 64 MiB", body = ErrorBody),
        (status = 415, description = "Not sent as a file type above", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn results(
    user: ApiUser,
    Path(run): Path<String>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Result<Json<ResultsOutcome>, ApiError> {
    let (run, summary) = run_to_change(&user, &run).await?;
    let params: ResultsParams = query(raw.as_deref())?;
    let name = params
        .name
        .as_deref()
        .map(base_name)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "name",
                "missing; give the return file's name, e.g. ?name=回盘.csv (its ending tells the format)",
            )
        })?;
    let bytes = read_file(request, RETURN_FILE_LIMIT, &RETURN_FILE_TYPES).await?;
    let scoped = user.scoped();
    let report = archive_for(&scoped, &summary.scope, &run)?
        .import_results(&run, &bytes, &name, &user.user.actor())
        .await
        .map_err(return_refused)?;
    Ok(Json(ResultsOutcome {
        run: visible_run(&user, &run).await?.into(),
        paid: report.paid as u64,
        paid_total_fen: report.paid_total.get(),
        failed: report
            .failed
            .into_iter()
            .map(
                |(transfer_no, family_id, amount, reason)| ReturnedTransfer {
                    transfer_no,
                    family_id,
                    amount_fen: amount.get(),
                    reason,
                },
            )
            .collect(),
        waiting: report.waiting,
        settled: report.settled,
    }))
}

/// A return file the library refused: a file that does not match the run, was already
/// imported or cannot be read names the body; other refusals as every payment refusal.
fn return_refused(e: PayError) -> ApiError {
    let about_the_file = matches!(
        e,
        PayError::ReturnMismatch { .. } | PayError::ReturnAgain { .. } | PayError::Bank(_)
    );
    let e = WebError::Pay(e);
    let status = e.status();
    if about_the_file && status.is_client_error() {
        ApiError::new(status, format!("body: {e}"))
    } else {
        e.into()
    }
}
