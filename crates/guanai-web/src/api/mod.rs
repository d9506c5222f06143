//! The JSON API under `/api/v1` (issue 5): the eval contract, families, their documents (材料),
//! visits (二(一)), payment runs and reports (issue 7) for other systems. A request carries
//! `Authorization: Bearer <token>` (an API token of a user; no cookies, so no CSRF token) and
//! sees exactly what that user sees on the pages, through the same scope; private values leave
//! masked. Every error is JSON naming the field and the problem. `GET /api/v1/openapi.json`
//! describes every endpoint (OpenAPI 3.1).

mod documents;
mod error;
mod eval;
mod families;
mod payments;
mod reports;
mod visits;

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

pub use error::{ApiError, ApiUser, ErrorBody, FieldError};

use crate::state::AppState;

/// Where the API is mounted.
pub const PREFIX: &str = "/api/v1";

/// Every endpoint: method, path under [`PREFIX`], handler. The router is built from this one
/// list, and the tests check the OpenAPI document against it.
fn endpoints() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("get", "/openapi.json", get(openapi_json)),
        ("post", "/eval", post(eval::eval)),
        ("get", "/families", get(families::search)),
        ("get", "/families/{id}", get(families::family)),
        ("post", "/families/{id}/facts", post(families::record_fact)),
        ("post", "/families/{id}/reveal", post(families::reveal)),
        ("get", "/families/{id}/documents", get(documents::list)),
        ("post", "/families/{id}/documents", post(documents::add)),
        (
            "get",
            "/families/{id}/documents/{doc}",
            get(documents::open),
        ),
        ("get", "/families/{id}/visits", get(visits::family_visits)),
        ("post", "/families/{id}/visits", post(visits::record_visit)),
        ("get", "/visits/overdue", get(visits::overdue)),
        ("get", "/payments/runs", get(payments::list_runs)),
        ("post", "/payments/runs", post(payments::build_run)),
        ("get", "/payments/runs/{run}", get(payments::run)),
        ("post", "/payments/runs/{run}/check", post(payments::check)),
        (
            "post",
            "/payments/runs/{run}/approve",
            post(payments::approve),
        ),
        ("post", "/payments/runs/{run}/close", post(payments::close)),
        (
            "post",
            "/payments/runs/{run}/discard",
            post(payments::discard),
        ),
        (
            "post",
            "/payments/runs/{run}/export",
            post(payments::export),
        ),
        ("get", "/payments/runs/{run}/files", get(payments::files)),
        (
            "get",
            "/payments/runs/{run}/files/{name}",
            get(payments::download),
        ),
        (
            "post",
            "/payments/runs/{run}/results",
            post(payments::results),
        ),
        ("get", "/reports/statistics", get(reports::statistics)),
        ("get", "/reports/assessment", get(reports::assessment)),
    ]
}

/// Every endpoint served, as (lower-case method, full path).
pub fn endpoint_list() -> Vec<(&'static str, String)> {
    endpoints()
        .into_iter()
        .map(|(method, path, _)| (method, format!("{PREFIX}{path}")))
        .collect()
}

/// The API's routes, to be nested at [`PREFIX`]. It brings its own headers and timeout and
/// answers unknown paths and methods in JSON.
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for (_, path, route) in endpoints() {
        // Two methods on one path merge into one method router.
        router = router.route(path, route);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(120),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
}

async fn not_found() -> ApiError {
    ApiError::not_found("path: no such API endpoint (see /api/v1/openapi.json)")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method: not allowed on this path (see /api/v1/openapi.json)",
    )
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Guanai API",
        description = "临沂市计划生育特殊困难家庭扶助关怀 (临政办发〔2014〕42号): the eval contract, families and their documents, visits (二(一)), payment runs and reports (三(三)). \
            Amounts are integer fen. Authenticate with `Authorization: Bearer <token>`; a family or run outside the \
            token user's area is 404. Errors are `{\"error\": \"field: problem\"}`."
    ),
    paths(
        openapi_json,
        eval::eval,
        families::search,
        families::reveal,
        families::family,
        families::record_fact,
        documents::list,
        documents::add,
        documents::open,
        visits::family_visits,
        visits::record_visit,
        visits::overdue,
        payments::list_runs,
        payments::build_run,
        payments::run,
        payments::check,
        payments::approve,
        payments::close,
        payments::discard,
        payments::export,
        payments::files,
        payments::download,
        payments::results,
        reports::statistics,
        reports::assessment,
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "eval", description = "The eval contract (docs/eval-contract.md) over HTTP"),
        (name = "families", description = "Families in the token user's area"),
        (name = "documents", description = "Documents on a family's file (材料): listed by the roles that read the file, opened for an audited reason, attached by caseworkers"),
        (name = "visits", description = "Visits (走访, 二(一)): plans, records, overdue lists"),
        (name = "payments", description = "Payment runs (社会化发放): changes, bank files and the bank's return file by finance officers"),
        (name = "reports", description = "Statistical tables and the county assessment (三(三)) of the token user's area"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// Adds the bearer-token security scheme the operations name.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token of a user (gat_…)"))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The OpenAPI 3.1 document of every endpoint (no token needed).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn openapi_json() -> Response {
    static DOC: OnceLock<String> = OnceLock::new();
    let doc = DOC.get_or_init(|| {
        openapi().to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "openapi document");
            "{}".to_owned()
        })
    });
    ([(header::CONTENT_TYPE, "application/json")], doc.as_str()).into_response()
}
