//! `POST /api/v1/eval`: the eval contract (docs/eval-contract.md) over HTTP. Each object of the
//! body is one input line and goes through exactly what `guanai eval` runs —
//! `guanai_batch::contract::eval_line` with the server's policy — so the output objects are
//! the contract's output lines, byte for byte, in input order.

use axum::body::Bytes;
use axum::extract::{RawQuery, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use guanai_batch::contract::{EvalSettings, Scratch, eval_line};
use guanai_batch::runner::MAX_LINE_BYTES;
use guanai_rules::Month;
use guanai_rules::explain::Lang;
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::error::{ApiError, ApiUser, ErrorBody, read_body};
use super::families::{GrantDto, MonthlyDto, ServiceDto};

/// The largest eval request body.
pub const EVAL_BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EvalQuery {
    month: Option<String>,
    lang: Option<String>,
}

/// One family as the eval contract reads it (docs/eval-contract.md, "Input line").
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvalInput {
    #[schema(example = "F0001")]
    family_id: String,
    /// A Linyi county-level code, or 371372 / 371373.
    #[schema(example = "371321")]
    county_code: String,
    /// `urban` or `rural`.
    #[schema(example = "rural")]
    hukou: String,
    /// At most two, at most one of each sex (the `female` parent is the mother).
    parents: Vec<EvalParent>,
    child: EvalChild,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvalParent {
    #[schema(example = "F0001-M")]
    id: String,
    /// `female` or `male`.
    sex: String,
    /// YYYY-MM-DD.
    birth_date: String,
    death_date: Option<String>,
    later_child_date: Option<String>,
    /// 18-character resident ID; must agree with the birth date and sex.
    id_number: Option<String>,
    dibao: Option<bool>,
    wubao: Option<bool>,
    chronically_ill: Option<bool>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvalChild {
    id: Option<String>,
    birth_date: String,
    death_date: Option<String>,
    /// 1–4; then `disability_date` is required.
    disability_grade: Option<i64>,
    disability_date: Option<String>,
}

/// One input object, or an array of them.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum EvalRequest {
    One(EvalInput),
    Many(Vec<EvalInput>),
}

/// An evaluated family (docs/eval-contract.md, "Output line (success)").
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvalSuccess {
    family_id: String,
    /// YYYY-MM.
    month: String,
    /// `bereaved` | `orphan` | `disabled` | `none`.
    category: String,
    monthly: Vec<MonthlyDto>,
    one_time: Vec<GrantDto>,
    services: Vec<ServiceDto>,
    explanation: Vec<String>,
}

/// A rejected input object (docs/eval-contract.md, "Output line (rejected input)").
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvalRejected {
    /// The 1-based position of the object in the request (1 for a single object).
    line: u64,
    family_id: Option<String>,
    /// `field: problem`.
    #[schema(example = "parents[0].birth_date: not a date: 1960-02-30")]
    error: String,
}

/// One output object per input object, in input order.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum EvalOutput {
    Success(EvalSuccess),
    Rejected(EvalRejected),
}

/// Evaluates families for a month, as `guanai eval` does.
#[utoipa::path(
    post,
    path = "/api/v1/eval",
    tag = "eval",
    params(
        ("month" = String, Query, description = "The month to evaluate, YYYY-MM", example = "2014-12"),
        ("lang" = Option<String>, Query, description = "Language of the explanation: `zh` (default) or `en`"),
    ),
    request_body(content = EvalRequest, description = "One eval-contract input object, or an array of them"),
    responses(
        (status = 200, description = "One output object per input object, in order; rejected objects say why", body = Vec<EvalOutput>),
        (status = 400, description = "Bad month or language, or a body that is not JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn eval(
    user: ApiUser,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let q: EvalQuery = super::error::query(raw.as_deref())?;
    let month = match q.month.as_deref().map(str::trim) {
        None | Some("") => return Err(ApiError::bad_request("month", "required (YYYY-MM)")),
        Some(m) => Month::parse(m).map_err(|e| ApiError::bad_request("month", e))?,
    };
    let lang = match q.lang.as_deref().map(str::trim) {
        None | Some("" | "zh") => Lang::Zh,
        Some("en") => Lang::En,
        Some(other) => {
            return Err(ApiError::bad_request(
                "lang",
                format!("expected zh or en, not {other}"),
            ));
        }
    };
    let body = read_body(request, EVAL_BODY_LIMIT, true).await?;
    let state = user.state().clone();
    let settings = EvalSettings {
        month,
        lang,
        today: crate::pages::today(),
    };
    let output = tokio::task::spawn_blocking(move || evaluate(&body, state.policy(), &settings))
        .await
        .map_err(ApiError::internal)??;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        output,
    )
        .into_response())
}

/// Splits the body into input objects and evaluates each with the contract's `eval_line`,
/// joining the output lines into one JSON array.
fn evaluate(
    body: &Bytes,
    policy: &guanai_rules::Policy,
    settings: &EvalSettings,
) -> Result<Vec<u8>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::bad_request(
            "body",
            format!(
                "not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    let not_json =
        |e: serde_json::Error| ApiError::bad_request("body", format!("not valid JSON: {e}"));
    // Raw values keep each object's text as sent, so the contract's own parser sees repeated
    // keys and exact types; parsing into a `serde_json::Value` would hide them.
    let items: Vec<&RawValue> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(not_json)?
    } else {
        vec![serde_json::from_str(text).map_err(not_json)?]
    };
    let mut out = Vec::with_capacity(text.len() * 3 + 2);
    out.push(b'[');
    let mut scratch = Scratch::default();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let line_no = i as u64 + 1;
        let line = item.get().as_bytes();
        if line.len() > MAX_LINE_BYTES {
            // The same refusal as `guanai eval` gives an overlong line.
            out.extend_from_slice(
                format!(
                    "{{\"line\":{line_no},\"error\":\"line: longer than {MAX_LINE_BYTES} bytes\"}}"
                )
                .as_bytes(),
            );
            continue;
        }
        eval_line(line_no, line, policy, settings, &mut scratch, &mut out);
        if out.last() == Some(&b'\n') {
            out.pop();
        }
    }
    out.push(b']');
    Ok(out)
}
