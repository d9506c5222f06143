//! Documents on the family file (材料, issue 5): the file's section that lists them (kind,
//! title, file name, size, who uploaded them and when; withdrawn ones folded away with the
//! reason), the upload form (multipart, the CSRF token before the file), opening one for a stated
//! reason (served as a download: attachment, the type read from its content, nosniff) and
//! withdrawing one with a reason. The store decides who may do what (`Role::sees_documents`,
//! `opens_documents`, `attaches_documents`), audits every opening, and answers another area's
//! family as not found.

use axum::extract::{Multipart, Path};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use guanai_store::documents::{DocumentInfo, DocumentKind, MAX_DOCUMENT_BYTES, NewDocument};
use guanai_store::family_reads::FamilyReads;
use guanai_store::scope::Visibility;
use guanai_store::{DocumentId, FamilyId, StoreError};
use serde::Deserialize;

use super::census::read_upload_within;
use super::families::{FormErrors, family_id, family_page};
use super::payments::download_response;
use super::{beijing_micros, render, this_month, today};
use crate::i18n::Lang;
use crate::state::{Post, Signed, WebError};

/// One document in the section.
pub(crate) struct DocumentLine {
    pub(crate) document_id: String,
    pub(crate) kind: &'static str,
    pub(crate) title: String,
    pub(crate) file_name: String,
    pub(crate) size: String,
    pub(crate) uploaded_by: String,
    pub(crate) uploaded_at: String,
    /// Who withdrew it, when, why.
    pub(crate) withdrawn: Option<(String, String, String)>,
    /// The names of its open and withdraw forms (for their errors).
    pub(crate) open_form: String,
    pub(crate) withdraw_form: String,
}

/// The documents section of the family file (`id="documents"`; not for volunteers and
/// counsellors, whose role sees no documents).
pub(crate) struct DocumentSection {
    /// Caseworkers of the area: upload, withdraw.
    pub(crate) can_attach: bool,
    /// Caseworkers and finance officers (a grant included): open, for a reason.
    pub(crate) can_open: bool,
    pub(crate) lines: Vec<DocumentLine>,
    pub(crate) withdrawn: Vec<DocumentLine>,
    pub(crate) kinds: Vec<(&'static str, &'static str)>,
    /// The upload form's values, kept when it is refused.
    pub(crate) kind: String,
    pub(crate) title: String,
    pub(crate) max_mib: usize,
    /// The reason typed into a refused open or withdraw form.
    pub(crate) kept: String,
}

impl DocumentSection {
    pub(crate) fn kind_selected(&self, value: &str) -> bool {
        self.kind == value
    }
}

/// A kind on screen.
pub(crate) fn kind_label(lang: Lang, kind: DocumentKind) -> &'static str {
    lang.pick(kind.label_zh(), kind.label_en())
}

/// A size as people read it: 812 B, 45.2 KB, 3.4 MB.
fn size_text(bytes: i64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KIB {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KB", b / KIB)
    } else {
        format!("{:.1} MB", b / (KIB * KIB))
    }
}

impl DocumentLine {
    fn of(d: DocumentInfo, lang: Lang) -> DocumentLine {
        let id = d.document_id.to_string();
        DocumentLine {
            open_form: format!("open-{id}"),
            withdraw_form: format!("withdraw-{id}"),
            document_id: id,
            kind: kind_label(lang, d.kind),
            size: size_text(d.size_bytes),
            uploaded_at: beijing_micros(d.uploaded_at),
            withdrawn: d.withdrawn.map(|w| (w.by, beijing_micros(w.at), w.reason)),
            title: d.title,
            file_name: d.file_name,
            uploaded_by: d.uploaded_by,
        }
    }
}

/// The documents section of `family`'s file as `signed` may see it, or `None` for a role that
/// sees no documents.
pub(crate) fn section(
    signed: &Signed,
    visibility: Visibility,
    reads: &mut FamilyReads,
) -> Option<DocumentSection> {
    let role = signed.user.role;
    let documents = reads.documents.take().filter(|_| role.sees_documents())?;
    let lang = signed.lang;
    let (withdrawn, lines): (Vec<_>, Vec<_>) = documents
        .into_iter()
        .map(|d| DocumentLine::of(d, lang))
        .partition(|d| d.withdrawn.is_some());
    Some(DocumentSection {
        can_attach: role.attaches_documents() && visibility == Visibility::Own,
        can_open: role.opens_documents(),
        lines,
        withdrawn,
        kinds: DocumentKind::ALL
            .into_iter()
            .map(|k| (k.as_str(), kind_label(lang, k)))
            .collect(),
        kind: DocumentKind::DeathCertificate.as_str().to_owned(),
        title: String::new(),
        max_mib: MAX_DOCUMENT_BYTES / (1024 * 1024),
        kept: String::new(),
    })
}

/// Back to the file's documents section.
fn saved(family: &FamilyId) -> Response {
    Redirect::to(&format!("/families/{family}?saved=1#documents")).into_response()
}

/// The family file again with a refused form's errors (400); `keep` puts the typed values back.
async fn refused(
    signed: &Signed,
    family: &FamilyId,
    errors: FormErrors,
    keep: impl FnOnce(&mut DocumentSection),
) -> Result<Response, WebError> {
    let mut page = family_page(
        signed,
        family,
        this_month(),
        &[],
        errors,
        None,
        today().year(),
    )
    .await?;
    if let Some(section) = page.documents.as_mut() {
        keep(section);
    }
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

/// `POST /families/{id}/documents` (multipart: `_csrf` first, then `kind`, `title` and the
/// `file` last): attaches a document (caseworkers of the area). A role that may not, or a family
/// outside the area, is refused before the file is read.
pub async fn upload(
    signed: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let family = family_id(&id)?;
    signed.require(signed.user.role.attaches_documents())?;
    match signed.scoped().visibility(&family).await? {
        Some(Visibility::Own) => {}
        Some(Visibility::Granted { .. }) => return Err(WebError::Forbidden),
        None => return Err(WebError::NotFound),
    }
    let (file, fields) =
        read_upload_within(&signed, &headers, multipart, MAX_DOCUMENT_BYTES).await?;
    let value = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (kind_text, title) = (value("kind"), value("title"));
    let lang = signed.lang;
    let mut problems = Vec::new();
    let kind = DocumentKind::parse(kind_text.trim());
    if kind.is_none() {
        problems.push((
            "kind".to_owned(),
            lang.pick("请选择材料种类", "choose what the document is")
                .to_owned(),
        ));
    }
    if file.is_none() {
        problems.push((
            "file".to_owned(),
            lang.pick("请选择文件", "choose a file").to_owned(),
        ));
    }
    if let (Some(kind), Some((file_name, content))) = (kind, file) {
        let new = NewDocument {
            kind,
            title: title.clone(),
            file_name,
            content,
        };
        match signed.scoped().add_document(&family, new).await {
            Ok(_) => return Ok(saved(&family)),
            Err(StoreError::Invalid { field, problem }) => problems.push((field, problem)),
            Err(e) => return Err(e.into()),
        }
    }
    let errors = FormErrors {
        form: "document".into(),
        fields: problems,
    };
    refused(&signed, &family, errors, |s| {
        s.kind = kind_text;
        s.title = title;
    })
    .await
}

/// The open and withdraw forms: why.
#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

fn document_id(text: &str) -> Result<DocumentId, WebError> {
    DocumentId::parse(text).ok_or(WebError::NotFound)
}

/// `POST /families/{id}/documents/{doc}/open`: the document's content as a download, for the
/// reason given (caseworkers and finance officers; the store writes the opening to the audit
/// log first). Served as an attachment with the type read from the content when it was
/// uploaded, and `nosniff`, so a browser never renders it as a page of this site.
pub async fn open(
    Path((id, doc)): Path<(String, String)>,
    post: Post<ReasonForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    let document = document_id(&doc)?;
    match signed
        .scoped()
        .open_document(&family, &document, &form.reason)
        .await
    {
        Ok(opened) => {
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
        Err(StoreError::Invalid { field, problem }) => {
            let errors = FormErrors {
                form: format!("open-{document}"),
                fields: vec![(field, problem)],
            };
            refused(&signed, &family, errors, |s| s.kept = form.reason).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /families/{id}/documents/{doc}/withdraw`: withdraws a mistaken document, with a reason
/// (caseworkers of the area).
pub async fn withdraw(
    Path((id, doc)): Path<(String, String)>,
    post: Post<ReasonForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    let document = document_id(&doc)?;
    match signed
        .scoped()
        .withdraw_document(&family, &document, &form.reason)
        .await
    {
        Ok(()) => Ok(saved(&family)),
        Err(StoreError::Invalid { field, problem }) => {
            let errors = FormErrors {
                form: format!("withdraw-{document}"),
                fields: vec![(field, problem)],
            };
            refused(&signed, &family, errors, |s| s.kept = form.reason).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::size_text;

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(size_text(812), "812 B");
        assert_eq!(size_text(46_285), "45.2 KB");
        assert_eq!(size_text(10 * 1024 * 1024), "10.0 MB");
    }
}
