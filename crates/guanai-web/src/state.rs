//! The server's state and the request's signed-in user. Handlers never hold the archive: they
//! get a [`Signed`] user and reach families, payments and the audit log through
//! `signed.scoped()`, which filters every query by the user's area. Forms that change anything
//! are read by [`Post`], which refuses them without the session's CSRF token.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use guanai_rules::Policy;
use guanai_store::access::{Session, User};
use guanai_store::pay::PayError;
use guanai_store::scope::{Scoped, SeenFamilies};
use guanai_store::{Archive, StoreError};
use serde::de::DeserializeOwned;

use crate::i18n::{Lang, Texts};
use crate::stats::Stats;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "guanai_session";
/// The language cookie's name.
pub const LANG_COOKIE: &str = "guanai_lang";
/// The largest form body read (uploads have their own limit).
pub const FORM_LIMIT: usize = 64 * 1024;

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    archive: Archive,
    policy: Policy,
    policy_text: String,
    cookie_secure: bool,
    stats: Stats,
}

impl AppState {
    pub fn new(
        archive: Archive,
        policy: Policy,
        policy_text: String,
        cookie_secure: bool,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                stats: Stats::default(),
                archive,
                policy,
                policy_text,
                cookie_secure,
            }),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    pub fn policy_text(&self) -> &str {
        &self.inner.policy_text
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// Sign-in, sessions and tokens: the only use of the archive outside a user's scope.
    pub(crate) fn gate(&self) -> &Archive {
        &self.inner.archive
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure unless switched off for plain
    /// HTTP on a trusted network.
    pub fn cookie(&self, name: &str, value: &str, max_age_secs: Option<u64>) -> String {
        let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
        if self.inner.cookie_secure {
            c.push_str("; Secure");
        }
        if let Some(age) = max_age_secs {
            c.push_str(&format!("; Max-Age={age}"));
        }
        c
    }
}

/// A cookie's value from the request headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The page language: the cookie, else Chinese.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie_value(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or_default()
}

/// The signed-in user of a page request.
pub struct Signed {
    pub user: User,
    pub csrf: String,
    pub lang: Lang,
    state: AppState,
    /// The families this request found the user may see (a page's sections each ask).
    seen: SeenFamilies,
}

impl Signed {
    /// The archive as this user may use it.
    pub fn scoped(&self) -> Scoped<'_> {
        self.state.gate().scoped_within(&self.user, &self.seen)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// Fails unless the role allows it.
    pub fn require(&self, allowed: bool) -> Result<(), WebError> {
        if allowed {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Signed, WebError> {
        let lang = lang_of(&parts.headers);
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(WebError::SignIn(next));
        };
        let session: Option<Session> = state.gate().session(token).await?;
        let Some(session) = session else {
            return Err(WebError::SignIn(next));
        };
        Ok(Signed {
            user: session.user,
            csrf: session.csrf_token,
            lang,
            state: state.clone(),
            seen: SeenFamilies::default(),
        })
    }
}

/// A form that changes something: the signed-in user and the form's fields, read only when the
/// request is same-origin and carries the session's CSRF token (`_csrf`).
pub struct Post<T> {
    pub signed: Signed,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Post<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Post<T>, WebError> {
        let (mut parts, body) = req.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        check_same_origin(&parts.headers)?;
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| WebError::BadRequest("表单过大 / the form is too large".into()))?;
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.into_owned());
        check_csrf(token.as_deref(), &signed.csrf)?;
        let form = serde_urlencoded::from_bytes::<T>(&bytes)
            .map_err(|e| WebError::BadRequest(format!("表单字段 / form fields: {e}")))?;
        Ok(Post { signed, form })
    }
}

/// Refuses a request another site's page made (`Sec-Fetch-Site`, or an `Origin` that is not
/// this host).
pub fn check_same_origin(headers: &HeaderMap) -> Result<(), WebError> {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return Err(WebError::Csrf);
    }
    if let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin != "null" && origin_host != host {
            return Err(WebError::Csrf);
        }
    }
    Ok(())
}

/// Compares a form's token with the session's.
pub fn check_csrf(token: Option<&str>, expected: &str) -> Result<(), WebError> {
    match token {
        Some(t) if !expected.is_empty() && constant_time_eq(t.as_bytes(), expected.as_bytes()) => {
            Ok(())
        }
        _ => Err(WebError::Csrf),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What goes wrong in a request, as the user sees it.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("sign in first")]
    SignIn(String),
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("the form's security token is missing or wrong")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pay(#[from] PayError),
    #[error("{0}")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::SignIn(_) => StatusCode::SEE_OTHER,
            WebError::NotFound | WebError::Pay(PayError::RunNotFound(_)) => StatusCode::NOT_FOUND,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) | WebError::Pay(PayError::Invalid(_) | PayError::Bank(_)) => {
                StatusCode::BAD_REQUEST
            }
            WebError::Store(e) | WebError::Pay(PayError::Store(e)) => store_status(e),
            WebError::Pay(PayError::Booked(_)) | WebError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            // Every other refusal of the payment side is a state the run is in.
            WebError::Pay(_) => StatusCode::CONFLICT,
        }
    }

    /// The message shown: what the user can act on; storage detail stays in the log.
    pub fn message(&self, t: &Texts) -> String {
        match self {
            e if e.status() == StatusCode::NOT_FOUND => t.not_found.to_owned(),
            WebError::Forbidden => t.forbidden.to_owned(),
            e if e.status() == StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(error = %e, "request failed");
                "内部错误,已记录 / internal error (logged)".to_owned()
            }
            e => e.to_string(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::SignIn(next) = &self {
            let target = format!(
                "/login?next={}",
                form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return Redirect::to(&target).into_response();
        }
        let status = self.status();
        let (zh, en) = (
            self.message(Lang::Zh.texts()),
            self.message(Lang::En.texts()),
        );
        let message = if zh == en { zh } else { format!("{zh} / {en}") };
        let body = crate::pages::error_page(status, &message);
        (status, Html(body)).into_response()
    }
}

fn store_status(e: &StoreError) -> StatusCode {
    match e {
        StoreError::FamilyNotFound(_)
        | StoreError::FactNotFound(..)
        | StoreError::DocumentNotFound(..) => StatusCode::NOT_FOUND,
        StoreError::Forbidden(_) => StatusCode::FORBIDDEN,
        StoreError::Invalid { .. } => StatusCode::BAD_REQUEST,
        StoreError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
