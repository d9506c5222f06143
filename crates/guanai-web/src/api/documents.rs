//! Documents through the API (材料, issue 5): a family's documents (what is on file, never the
//! content), attaching one (the raw bytes as the body; the type is read from the content, not
//! from any header or name), and one document's content for a reason the store writes to the
//! audit log. The store's scope and role rules are the pages': another area's family is "not
//! found" before anything about the request is said.

use axum::Json;
use axum::extract::{Path, RawQuery, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guanai_store::documents::{DocumentInfo, DocumentKind, MAX_DOCUMENT_BYTES, NewDocument};
use guanai_store::scope::Visibility;
use guanai_store::{DocumentId, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiUser, ErrorBody, FieldError, collect, filled, query};
use super::families::family_id;
use crate::pages::payments::download_response;

/// A document on a family's file, without its content.
#[derive(Serialize, ToSchema)]
pub struct DocumentDto {
    /// D…, time-ordered.
    pub document_id: String,
    pub family_id: String,
    /// `death_certificate` | `disability_certificate` | `hukou_page` | `honor_certificate` |
    /// `funeral_invoice` | `hospital_invoice` | `application_form` | `bank_card` |
    /// `visit_photo` | `other`.
    pub kind: String,
    pub title: String,
    /// The name the file was uploaded with.
    pub file_name: String,
    /// `application/pdf` | `image/jpeg` | `image/png`, read from the content.
    pub content_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// RFC 3339.
    pub uploaded_at: String,
    pub uploaded_by: String,
    /// Who withdrew it, when (RFC 3339) and why; absent while it stands.
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<String>,
    pub withdrawn_reason: Option<String>,
}

/// A family's documents, newest first.
#[derive(Serialize, ToSchema)]
pub struct DocumentList {
    pub family_id: String,
    pub documents: Vec<DocumentDto>,
}

fn rfc3339(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).map_or_else(|_| micros.to_string(), |t| t.to_string())
}

impl From<DocumentInfo> for DocumentDto {
    fn from(d: DocumentInfo) -> DocumentDto {
        let (withdrawn_by, withdrawn_at, withdrawn_reason) = match d.withdrawn {
            Some(w) => (Some(w.by), Some(rfc3339(w.at)), Some(w.reason)),
            None => (None, None, None),
        };
        DocumentDto {
            document_id: d.document_id.to_string(),
            family_id: d.family_id.to_string(),
            kind: d.kind.as_str().to_owned(),
            title: d.title,
            file_name: d.file_name,
            content_type: d.content_type.content_type().to_owned(),
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            uploaded_at: rfc3339(d.uploaded_at),
            uploaded_by: d.uploaded_by,
            withdrawn_by,
            withdrawn_at,
            withdrawn_reason,
        }
    }
}

/// A store refusal of a field as the API's 422.
fn refused(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid { field, problem } => ApiError::unprocessable(vec![FieldError {
            field,
            message: problem,
        }]),
        e => e.into(),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListParams {
    withdrawn: Option<String>,
}

/// A family's documents (metadata only; opening one is audited, listing is not).
#[utoipa::path(
    get,
    path = "/api/v1/families/{id}/documents",
    tag = "documents",
    params(
        ("id" = String, Path, description = "The family's archive id (F…)"),
        ("withdrawn" = Option<bool>, Query, description = "`true` to include withdrawn documents (marked); default `false`"),
    ),
    responses(
        (status = 200, description = "The documents on file, newest first", body = DocumentList),
        (status = 400, description = "A malformed parameter, named", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "This role sees no documents (volunteers, counsellors, administrators)", body = ErrorBody),
        (status = 404, description = "No such family in the user's scope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    user: ApiUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<DocumentList>, ApiError> {
    let p: ListParams = query(raw.as_deref())?;
    let withdrawn = match p.withdrawn.as_deref().map(str::trim) {
        None | Some("" | "false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "withdrawn",
                format!("expected true or false, not {other}"),
            ));
        }
    };
    let family = family_id(&id)?;
    let documents = user.scoped().documents(&family, withdrawn).await?;
    Ok(Json(DocumentList {
        family_id: family.to_string(),
        documents: documents.into_iter().map(DocumentDto::from).collect(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AddParams {
    kind: Option<String>,
    title: Option<String>,
    name: Option<String>,
}

/// Attaches a document to a family's file (caseworkers of the family's area). The body is the
/// file itself: PDF, JPEG or PNG as its first bytes say (whatever `Content-Type` or `name`
/// claim), at most 10 MiB.
#[utoipa::path(
    post,
    path = "/api/v1/families/{id}/documents",
    tag = "documents",
    params(
        ("id" = String, Path, description = "The family's archive id (F…)"),
        ("kind" = String, Query, description = "`death_certificate` | `disability_certificate` | `hukou_page` | `honor_certificate` | `funeral_invoice` | `hospital_invoice` | `application_form` | `bank_card` | `visit_photo` | `other`"),
        ("title" = Option<String>, Query, description = "What it is, at most 200 characters; required for `other`"),
        ("name" = Option<String>, Query, description = "The original file name (folders dropped; default `KIND.EXT`)"),
    ),
    request_body(
        description = "The file's bytes: a PDF, JPEG or PNG of at most 10 MiB",
        content(("application/pdf"), ("image/jpeg"), ("image/png"), ("application/octet-stream")),
    ),
    responses(
        (status = 201, description = "Attached (sealed at rest, audited)", body = DocumentDto),
        (status = 400, description = "A malformed or missing parameter, named", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not attach documents, or the family is open read-only", body = ErrorBody),
        (status = 404, description = "No such family in the user's scope", body = ErrorBody),
        (status = 413, description = "`file`: larger than 10 MiB", body = ErrorBody),
        (status = 422, description = "`file` (empty, or not a PDF, JPEG or PNG by its content) or `title` refused", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn add(
    user: ApiUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let family = family_id(&id)?;
    let scoped = user.scoped();
    // Who may, and whether the family is theirs, before the body is read.
    if !user.user.role.attaches_documents() {
        return Err(ApiError::forbidden(
            "forbidden: only caseworkers attach documents",
        ));
    }
    match scoped.visibility(&family).await? {
        Some(Visibility::Own) => {}
        Some(Visibility::Granted { .. }) => {
            return Err(ApiError::forbidden(
                "forbidden: a break-the-glass grant is read-only",
            ));
        }
        None => return Err(StoreError::FamilyNotFound(family.to_string()).into()),
    }
    let p: AddParams = query(raw.as_deref())?;
    let kind_text = filled(p.kind.as_deref())
        .ok_or_else(|| ApiError::bad_request("kind", "missing; say what the document is"))?;
    let kind = DocumentKind::parse(&kind_text).ok_or_else(|| {
        let kinds: Vec<&str> = DocumentKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::bad_request(
            "kind",
            format!("expected one of {}, not {kind_text}", kinds.join(", ")),
        )
    })?;
    // Too large is said of the form's field, `file`.
    let content = collect(request, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|e| match e.status {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("file: at most {} MiB", MAX_DOCUMENT_BYTES / (1024 * 1024)),
            ),
            _ => e,
        })?;
    let added = scoped
        .add_document(
            &family,
            NewDocument {
                kind,
                title: p.title.unwrap_or_default(),
                file_name: p.name.unwrap_or_default(),
                content: content.to_vec(),
            },
        )
        .await
        .map_err(refused)?;
    let location = format!(
        "{}/families/{family}/documents/{}",
        super::PREFIX,
        added.document_id
    );
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(DocumentDto::from(added)),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OpenParams {
    reason: Option<String>,
}

/// One document's content, for a stated reason (caseworkers and finance officers of the
/// family's area; a break-the-glass grant reads too). Every opening is written to the audit log
/// with who and why before the content is sent. Served as an attachment with the type read from
/// the content and `nosniff`.
#[utoipa::path(
    get,
    path = "/api/v1/families/{id}/documents/{doc}",
    tag = "documents",
    params(
        ("id" = String, Path, description = "The family's archive id (F…)"),
        ("doc" = String, Path, description = "The document's id (D…)"),
        ("reason" = String, Query, description = "Why the content is needed (at least two characters; written to the audit log)"),
    ),
    responses(
        (status = 200, description = "The content as uploaded (audited)", content(("application/pdf"), ("image/jpeg"), ("image/png"))),
        (status = 400, description = "A malformed parameter, named", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "This role sees the list only (inspectors) or no documents at all", body = ErrorBody),
        (status = 404, description = "No such family in the user's scope, or no such document of it", body = ErrorBody),
        (status = 422, description = "`reason` missing or too short", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn open(
    user: ApiUser,
    Path((id, doc)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let p: OpenParams = query(raw.as_deref())?;
    let family = family_id(&id)?;
    let document = DocumentId::parse(doc.trim())
        .ok_or_else(|| ApiError::not_found(format!("document {} not found", doc.trim())))?;
    let opened = user
        .scoped()
        .open_document(&family, &document, p.reason.as_deref().unwrap_or_default())
        .await
        .map_err(refused)?;
    let name = opened.info.download_name();
    let mut response = download_response(
        opened.info.content_type.content_type(),
        &name,
        opened.content,
    );
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
