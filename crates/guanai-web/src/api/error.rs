//! What every API request shares: the token's user ([`ApiUser`]), JSON errors ([`ApiError`])
//! and reading a JSON body, a file body or a query string with errors that name the field.

use std::error::Error as _;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guanai_store::StoreError;
use guanai_store::access::User;
use guanai_store::pay::PayError;
use guanai_store::scope::Scoped;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::state::{AppState, WebError};

/// An error as the API returns it: a status and `{"error": "field: problem", "fields": […]}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub fields: Vec<FieldError>,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What is wrong, naming the field (`field: problem`).
    #[schema(example = "month: not a month: 2024-13")]
    pub error: String,
    /// Every field error of a rejected request body, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// One field of a request that was refused, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// A malformed request: a query parameter or a body that is not JSON.
    pub fn bad_request(field: &str, problem: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, format!("{field}: {problem}"))
    }

    /// Well-formed JSON whose content is refused, field by field.
    pub fn unprocessable(fields: Vec<FieldError>) -> ApiError {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message,
            fields,
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn internal(message: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %message, "api request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "内部错误,已记录 / internal error (logged)",
        )
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> ApiError {
        let status = match &e {
            WebError::SignIn(_) => StatusCode::UNAUTHORIZED,
            e => e.status(),
        };
        match e {
            _ if status == StatusCode::INTERNAL_SERVER_ERROR => ApiError::internal(e),
            WebError::NotFound => ApiError::not_found("not found"),
            WebError::Forbidden => ApiError::forbidden("forbidden: this role may not do this"),
            e => ApiError::new(status, e.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        WebError::from(e).into()
    }
}

impl From<PayError> for ApiError {
    fn from(e: PayError) -> ApiError {
        WebError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: self.message,
                fields: self.fields,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The user an API token (`Authorization: Bearer <token>`) acts for. There are no cookies and
/// so no CSRF token: browsers never send a bearer token on their own.
pub struct ApiUser {
    pub user: User,
    state: AppState,
}

impl ApiUser {
    /// The archive as this user may use it.
    pub fn scoped(&self) -> Scoped<'_> {
        self.state.gate().scoped(&self.user)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ApiUser, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "Authorization: missing; send `Authorization: Bearer <token>`",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(|| ApiError::unauthorized("Authorization: expected `Bearer <token>`"))?;
        match state.gate().token_user(token).await? {
            Some(user) => Ok(ApiUser {
                user,
                state: state.clone(),
            }),
            None => Err(ApiError::unauthorized(
                "Authorization: the token is unknown or revoked, or its user is inactive",
            )),
        }
    }
}

/// The media type of a `Content-Type`, in lower case, without its parameters.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether a `Content-Type` is JSON (`application/json` or `application/…+json`).
fn is_json(content_type: &str) -> bool {
    let mime = media_type(content_type);
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("body: larger than {limit} bytes"),
    )
}

/// The `Content-Type` a request declares (`?` when it is not text).
fn declared_type(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("?").to_owned())
}

/// The body of a request, refused (413) as soon as it exceeds `limit` bytes.
pub async fn collect(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    let length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|e| {
            let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
            while let Some(s) = source {
                if s.is::<http_body_util::LengthLimitError>() {
                    return too_large(limit);
                }
                source = s.source();
            }
            ApiError::bad_request("body", format!("cannot be read: {e}"))
        })
}

/// Reads a request body of at most `limit` bytes. With `required`, the body must be declared
/// JSON; without, an empty body with no `Content-Type` is accepted (and returned empty).
pub async fn read_body(request: Request, limit: usize, required: bool) -> Result<Bytes, ApiError> {
    let declared = declared_type(&request);
    let bytes = collect(request, limit).await?;
    match declared.as_deref() {
        Some(ct) if is_json(ct) => Ok(bytes),
        None if !required && bytes.is_empty() => Ok(bytes),
        Some(ct) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type: expected application/json, not {ct}"),
        )),
        None => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type: missing; send application/json",
        )),
    }
}

/// Reads a file sent as the whole request body: at most `limit` bytes, not empty, declared as
/// one of the `accepted` media types. The type is checked before anything is read.
pub async fn read_file(
    request: Request,
    limit: usize,
    accepted: &[&str],
) -> Result<Bytes, ApiError> {
    let expected = || accepted.join(", ");
    match declared_type(&request) {
        None => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Type: missing; send one of {}", expected()),
            ));
        }
        Some(ct) if !accepted.contains(&media_type(&ct).as_str()) => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Type: expected one of {}, not {ct}", expected()),
            ));
        }
        Some(_) => {}
    }
    let bytes = collect(request, limit).await?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "body",
            "empty; send the file as the request body",
        ));
    }
    Ok(bytes)
}

/// serde_json appends " at line L column C"; the field path says more.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => &message[..i],
        _ => message,
    }
}

/// Decodes a JSON body: not JSON → 400; JSON of the wrong shape (a missing, unknown, repeated
/// or mistyped field) → 422 naming the field.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::unprocessable(vec![FieldError {
                    field,
                    message: strip_position(&inner.to_string()).to_owned(),
                }])
            }
            _ => ApiError::bad_request("body", format!("not valid JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request("body", format!("not valid JSON: {e}")))?;
    Ok(value)
}

/// Decodes a query string; an unknown or malformed parameter is a 400 naming it.
pub fn query<T: DeserializeOwned + Default>(raw: Option<&str>) -> Result<T, ApiError> {
    match raw {
        None | Some("") => Ok(T::default()),
        Some(q) => serde_urlencoded::from_str(q).map_err(|e| ApiError::bad_request("query", e)),
    }
}

pub use crate::pages::filled;
