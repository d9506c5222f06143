//! Payment runs through the API (社会化发放, 二(二)): list and read the runs in the token user's
//! area; finance officers build, check, approve and close them. Every change goes through
//! `scoped.archive_for_run` and acts as the token's user, so the library's four-eyes rule
//! (approved by someone other than the builder) holds here as on the command line.

use axum::Json;
use axum::extract::{Path, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guanai_rules::{CountyCode, Month};
use guanai_store::Archive;
use guanai_store::pay::{BuildOptions, BuildOutcome, ProblemView, RunId, RunSummary};
use guanai_store::scope::Scoped;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiUser, ErrorBody, FieldError, decode, read_body};

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

/// The run a finance officer acts on, and its scope: visible to the user (else "not found"),
/// and the user a finance officer (else "forbidden").
async fn run_to_change(user: &ApiUser, run: &str) -> Result<(RunId, String), ApiError> {
    let run = run_id(run)?;
    let summary = visible_run(user, &run).await?;
    require_pays(user)?;
    Ok((run, summary.scope))
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
    let (run, scope) = run_to_change(&user, &run).await?;
    let bytes = read_body(request, PAY_BODY_LIMIT, false).await?;
    let body: CheckRun = if bytes.is_empty() {
        CheckRun::default()
    } else {
        decode(&bytes)?
    };
    let hold = body
        .hold
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty());
    let scoped = user.scoped();
    archive_for(&scoped, &scope, &run)?
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
    let (run, scope) = run_to_change(&user, &run).await?;
    let scoped = user.scoped();
    archive_for(&scoped, &scope, &run)?
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
    let (run, scope) = run_to_change(&user, &run).await?;
    let scoped = user.scoped();
    archive_for(&scoped, &scope, &run)?
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
    let (run, scope) = run_to_change(&user, &run).await?;
    let bytes = read_body(request, PAY_BODY_LIMIT, false).await?;
    let body: DiscardRun = decode(&bytes)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::unprocessable(vec![FieldError {
            field: "reason".into(),
            message: "说明作废原因 / say why the run is discarded".into(),
        }]));
    }
    let scoped = user.scoped();
    archive_for(&scoped, &scope, &run)?
        .discard_run(&run, body.reason.trim(), &user.user.actor())
        .await?;
    changed(&user, &run).await
}
