//! The web application (issue 5): server-rendered pages in Chinese (English on request) for
//! caseworkers, finance officers, volunteers, inspectors and administrators, and the JSON API
//! under `/api/v1`. It computes no money and holds no rules: it calls the engine, the archive
//! and the payment side, always through the signed-in user's scope.

pub mod api;
mod bank_files;
pub mod i18n;
pub mod pages;
pub mod state;
pub mod stats;
mod view;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub use state::AppState;

/// The largest request body accepted (census uploads included).
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    use pages::{admin, audit, auth, census, contacts, dashboard, families, payments, visits};
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/lang/{code}", get(auth::switch_lang))
        .route("/account", get(auth::account))
        .route("/account/password", post(auth::change_password))
        .route("/families", get(families::search))
        .route("/families/{id}", get(families::family))
        .route("/families/{id}/record", post(families::record))
        .route("/families/{id}/withdraw", post(families::withdraw))
        .route("/families/{id}/changes/{change}", post(pages::changes::decide))
        .route("/families/{id}/reveal", post(families::reveal))
        // The file is read only up to the document limit; the rest of a larger one is left.
        .route("/families/{id}/documents", post(pages::documents::upload).layer(DefaultBodyLimit::max(BODY_LIMIT)))
        .route("/families/{id}/documents/{doc}/open", post(pages::documents::open))
        .route("/families/{id}/documents/{doc}/withdraw", post(pages::documents::withdraw))
        .route("/families/{id}/visits", post(visits::record))
        .route("/families/{id}/visits/{visit}/withdraw", post(visits::withdraw))
        .route("/families/{id}/visits/{visit}/follow-up", post(visits::follow_up))
        .route("/families/{id}/dedicated-visitor", post(visits::dedicated_visitor))
        .route("/families/{id}/services", post(pages::services::set_status))
        .route("/families/{id}/volunteers", post(pages::network::pair))
        .route("/families/{id}/volunteers/refusal", post(pages::network::refuse))
        .route("/families/{id}/volunteers/refusal/withdraw", post(pages::network::withdraw_refusal))
        .route("/families/{id}/help", post(pages::network::help))
        .route("/families/{id}/referrals", post(pages::network::refer))
        .route("/families/{id}/referrals/{referral}/sessions", post(pages::network::session))
        .route("/complaints", get(pages::complaints::complaints).post(pages::complaints::file))
        .route("/complaints/{id}", get(pages::complaints::complaint))
        .route("/complaints/{id}/answer", post(pages::complaints::answer))
        .route("/complaints/{id}/reveal", post(pages::complaints::reveal))
        .route("/families/{id}/apply", post(pages::cases::apply))
        .route("/families/{id}/exit", post(pages::cases::exit_propose))
        .route("/families/{id}/exit/{exit}", post(pages::cases::exit_decide))
        .route("/families/{id}/confirm", post(pages::confirm::confirm_parent))
        .route("/cases", get(pages::cases::cases))
        .route("/cases/notice", get(pages::cases::public_notice))
        .route("/cases/{id}", get(pages::cases::case))
        .route("/cases/{id}/decide", post(pages::cases::decide))
        .route("/cases/{id}/notice", post(pages::cases::notice))
        .route("/cases/{id}/objection", post(pages::cases::objection))
        .route("/cases/{id}/objections/{objection}/resolve", post(pages::cases::resolve))
        .route("/cases/{id}/appeal", post(pages::cases::appeal))
        .route("/confirm", get(pages::confirm::confirm))
        .route("/confirm/open", post(pages::confirm::open))
        .route("/visits", get(visits::visits))
        .route("/visits/plan", post(visits::plan))
        .route("/access", post(families::break_glass))
        .route("/admin/users", get(admin::users).post(admin::add_user))
        .route("/admin/users/{login}", post(admin::user_action))
        .route("/audit", get(audit::audit))
        .route("/contacts", get(contacts::contacts).post(contacts::set_contact))
        .route("/payments", get(payments::runs).post(payments::build))
        .route("/payments/payer", post(payments::payer))
        .route("/payments/{run}", get(payments::run))
        .route("/payments/{run}/check", post(payments::check))
        .route("/payments/{run}/approve", post(payments::approve))
        .route("/payments/{run}/discard", post(payments::discard))
        .route("/payments/{run}/export", post(payments::export))
        .route("/payments/{run}/results", post(payments::results).layer(DefaultBodyLimit::max(BODY_LIMIT)))
        .route("/payments/{run}/close", post(payments::close))
        .route("/payments/{run}/files/{name}", get(payments::download))
        .route("/reports", get(pages::reports::reports))
        .route("/reports/print", get(pages::reports::print))
        .route("/reports/download.xlsx", get(pages::reports::download_xlsx))
        .route("/reports/download.csv", get(pages::reports::download_csv))
        .route("/reports/assessment", get(pages::reports::assessment))
        .route("/reports/assessment/download.xlsx", get(pages::reports::assessment_xlsx))
        .route("/reports/assessment/download.csv", get(pages::reports::assessment_csv))
        .route("/spot-checks", get(pages::spot_checks::spot_checks).post(pages::spot_checks::draw))
        .route("/spot-checks/{id}", get(pages::spot_checks::spot_check))
        .route("/spot-checks/{id}/verify", post(pages::spot_checks::verify))
        .route("/spot-checks/{id}/findings", post(pages::spot_checks::finding))
        .route("/public", get(pages::reports::public))
        .route("/public/download.csv", get(pages::reports::public_csv))
        .route("/public/download.xlsx", get(pages::reports::public_xlsx))
        .route("/import", get(census::import_page).post(census::upload).layer(DefaultBodyLimit::max(BODY_LIMIT)))
        .route("/import/template", get(census::template))
        .route("/static/guanai.css", get(stylesheet))
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(120)))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // After the layers above: the API brings its own (JSON errors, its own body limits).
        .nest(api::PREFIX, api::router())
        .with_state(state)
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/guanai.css"),
    )
}

async fn not_found() -> state::WebError {
    state::WebError::NotFound
}

/// Serves the application until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(state, listener).await
}

/// Serves on a bound listener (tests bind port 0).
pub async fn serve_on(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown())
        .await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The address printed for a listener.
pub fn url_of(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}
