//! Documents on the family file (材料, issue 5; the 专门档案 of 二(一)): the evidence a caseworker
//! attaches — death and disability certificates, hukou pages, cremation certificates and funeral
//! invoices (二(五)), hospital invoices (二(三)), signed application forms, bank cards, visit
//! photos. This module owns their kinds, the file checks (size, and the type read from the
//! content's magic bytes, never from the name), sealing at rest and the scoped operations.
//!
//! Grieving families' private papers: the content, and the title and file name with it, are
//! sealed with the archive's key (the AEAD of every sealed value, bound to the document and its
//! family); a read of the content needs a reason and is audited (`document.open`). A document
//! is never edited or deleted: a mistaken one is withdrawn with a reason (`document.withdraw`)
//! and leaves the default list. Everything goes through [`Scoped`], so another area's family is
//! "not found"; who may list, open and attach is `Role::sees_documents`, `opens_documents` and
//! `attaches_documents` ([`crate::access::Role`]).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::archive::{Archive, now_micros};
use crate::error::StoreError;
use crate::model::{DocumentId, FamilyId};
use crate::on_db;
use crate::reads::{Hex, Read};
use crate::scope::{Scoped, Visibility};

/// The largest document accepted: 10 MiB (a phone photo or a scanned certificate fits).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// The longest title (characters).
pub const MAX_TITLE: usize = 200;

/// The longest original file name kept (characters; a longer one is cut).
pub const MAX_FILE_NAME: usize = 200;

/// The longest reason for opening or withdrawing a document (characters).
pub const MAX_REASON: usize = 500;

/// What a document is evidence of. A closed set: the list and the reports can rely on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// 死亡证明: the child's (or a parent's) death.
    DeathCertificate,
    /// 残疾证: the child's disability and its grade.
    DisabilityCertificate,
    /// 户口簿页: registration and relations.
    HukouPage,
    /// 独生子女父母光荣证: the one-child certificate the programme rests on.
    HonorCertificate,
    /// 火化证明 / 殡葬服务收费发票 (二(五)): the funeral reimbursement's evidence.
    FuneralInvoice,
    /// 医疗费用票据 (二(三)): medical relief's evidence.
    HospitalInvoice,
    /// 签字的申请表: the signed application.
    ApplicationForm,
    /// 银行卡复印件: the account payments go to.
    BankCard,
    /// 走访照片: a visit's photo.
    VisitPhoto,
    /// 其他材料: anything else; its title must say what it is.
    Other,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 10] = [
        DocumentKind::DeathCertificate,
        DocumentKind::DisabilityCertificate,
        DocumentKind::HukouPage,
        DocumentKind::HonorCertificate,
        DocumentKind::FuneralInvoice,
        DocumentKind::HospitalInvoice,
        DocumentKind::ApplicationForm,
        DocumentKind::BankCard,
        DocumentKind::VisitPhoto,
        DocumentKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::DeathCertificate => "death_certificate",
            DocumentKind::DisabilityCertificate => "disability_certificate",
            DocumentKind::HukouPage => "hukou_page",
            DocumentKind::HonorCertificate => "honor_certificate",
            DocumentKind::FuneralInvoice => "funeral_invoice",
            DocumentKind::HospitalInvoice => "hospital_invoice",
            DocumentKind::ApplicationForm => "application_form",
            DocumentKind::BankCard => "bank_card",
            DocumentKind::VisitPhoto => "visit_photo",
            DocumentKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            DocumentKind::DeathCertificate => "死亡证明",
            DocumentKind::DisabilityCertificate => "残疾证",
            DocumentKind::HukouPage => "户口簿页",
            DocumentKind::HonorCertificate => "独生子女父母光荣证",
            DocumentKind::FuneralInvoice => "火化证明、殡葬服务收费发票 (二(五))",
            DocumentKind::HospitalInvoice => "医疗费用票据 (二(三))",
            DocumentKind::ApplicationForm => "签字的申请表",
            DocumentKind::BankCard => "银行卡复印件",
            DocumentKind::VisitPhoto => "走访照片",
            DocumentKind::Other => "其他材料",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            DocumentKind::DeathCertificate => "death certificate",
            DocumentKind::DisabilityCertificate => "disability certificate",
            DocumentKind::HukouPage => "hukou booklet page",
            DocumentKind::HonorCertificate => "one-child parents' certificate",
            DocumentKind::FuneralInvoice => "cremation certificate, funeral invoice (二(五))",
            DocumentKind::HospitalInvoice => "hospital invoice (二(三))",
            DocumentKind::ApplicationForm => "signed application form",
            DocumentKind::BankCard => "bank card copy",
            DocumentKind::VisitPhoto => "visit photo",
            DocumentKind::Other => "other document",
        }
    }
}

/// The file types accepted, as read from the content's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentType {
    Pdf,
    Jpeg,
    Png,
}

impl DocumentType {
    /// The type the content's magic bytes say, or `None` for anything else. The name a file was
    /// sent with says nothing: a text file named `.pdf` is not a PDF.
    pub fn sniff(content: &[u8]) -> Option<DocumentType> {
        if content.starts_with(b"%PDF-") {
            Some(DocumentType::Pdf)
        } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(DocumentType::Jpeg)
        } else if content.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(DocumentType::Png)
        } else {
            None
        }
    }

    /// The media type the content is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            DocumentType::Pdf => "application/pdf",
            DocumentType::Jpeg => "image/jpeg",
            DocumentType::Png => "image/png",
        }
    }

    fn parse(content_type: &str) -> Option<DocumentType> {
        [DocumentType::Pdf, DocumentType::Jpeg, DocumentType::Png]
            .into_iter()
            .find(|t| t.content_type() == content_type)
    }

    /// The usual file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            DocumentType::Pdf => "pdf",
            DocumentType::Jpeg => "jpg",
            DocumentType::Png => "png",
        }
    }

    /// Whether a file name ends in an extension of this type.
    fn named_by(self, file_name: &str) -> bool {
        let Some((_, ext)) = file_name.rsplit_once('.') else {
            return false;
        };
        let ext = ext.to_ascii_lowercase();
        match self {
            DocumentType::Pdf => ext == "pdf",
            DocumentType::Jpeg => ext == "jpg" || ext == "jpeg",
            DocumentType::Png => ext == "png",
        }
    }
}

/// A document to attach.
#[derive(Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub kind: DocumentKind,
    /// What it is, in the caseworker's words (e.g. 母亲残疾证); required for [`DocumentKind::Other`].
    pub title: String,
    /// The name the file was sent with (folders are dropped; a longer one is cut).
    pub file_name: String,
    pub content: Vec<u8>,
}

/// A document on the file, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInfo {
    pub document_id: DocumentId,
    pub family_id: FamilyId,
    pub kind: DocumentKind,
    pub title: String,
    /// The original file name.
    pub file_name: String,
    pub content_type: DocumentType,
    pub size_bytes: i64,
    /// SHA-256 of the content as uploaded, hex.
    pub sha256: String,
    /// Microseconds since the epoch.
    pub uploaded_at: i64,
    pub uploaded_by: String,
    pub withdrawn: Option<Withdrawal>,
}

impl DocumentInfo {
    /// The name to save the content under: the original name, with the type's extension added
    /// when the name does not already say the type the content is.
    pub fn download_name(&self) -> String {
        if self.content_type.named_by(&self.file_name) {
            self.file_name.clone()
        } else {
            format!("{}.{}", self.file_name, self.content_type.extension())
        }
    }
}

/// Who withdrew a document, when (microseconds) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub by: String,
    pub at: i64,
    pub reason: String,
}

/// A document with its content, as opened.
#[derive(Clone, PartialEq, Eq)]
pub struct Document {
    pub info: DocumentInfo,
    pub content: Vec<u8>,
}

/// The content never goes into a log line by accident.
impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("info", &self.info)
            .field("content", &format_args!("<{} bytes>", self.content.len()))
            .finish()
    }
}

impl fmt::Debug for NewDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewDocument")
            .field("kind", &self.kind)
            .field("content", &format_args!("<{} bytes>", self.content.len()))
            .finish_non_exhaustive()
    }
}

/// The sealed label: what is free text about a document.
#[derive(Serialize, Deserialize)]
struct Label {
    title: String,
    file_name: String,
}

/// Associated data binding a document's sealed `part` (`label`, `content`) to the document and
/// its family: a value copied to another row does not open.
pub(crate) fn document_aad(document: &str, family: &str, part: &str) -> Vec<u8> {
    format!("family_document:{document}:{family}:{part}").into_bytes()
}

fn sha256_hex(content: &[u8]) -> String {
    crate::bulk::hex(&Sha256::digest(content))
}

/// One line of text: control characters (line breaks, tabs …) become spaces; trimmed.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Checks a document before it is sealed: the file's size and type, the title. Returns the
/// type, the title and the file name to keep.
fn check(new: &NewDocument) -> Result<(DocumentType, String, String), StoreError> {
    if new.content.is_empty() {
        return Err(StoreError::invalid(
            "file",
            "请选择文件(文件是空的) / choose a file (this one is empty)",
        ));
    }
    if new.content.len() > MAX_DOCUMENT_BYTES {
        let mib = MAX_DOCUMENT_BYTES / (1024 * 1024);
        return Err(StoreError::invalid(
            "file",
            format!("文件不能超过 {mib} MiB / at most {mib} MiB"),
        ));
    }
    let Some(kind_of_file) = DocumentType::sniff(&new.content) else {
        return Err(StoreError::invalid(
            "file",
            "只接受 PDF、JPEG、PNG 文件(按文件内容识别,不看文件名) / only PDF, JPEG or PNG files (judged by the content, not the name)",
        ));
    };
    let title = one_line(&new.title);
    if title.chars().count() > MAX_TITLE {
        return Err(StoreError::invalid(
            "title",
            format!("不能超过 {MAX_TITLE} 字 / at most {MAX_TITLE} characters"),
        ));
    }
    if title.is_empty() && new.kind == DocumentKind::Other {
        return Err(StoreError::invalid(
            "title",
            "其他材料请写明是什么 / say what this other document is",
        ));
    }
    let base = new.file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    let file_name: String = one_line(base).chars().take(MAX_FILE_NAME).collect();
    let file_name = if file_name.is_empty() {
        format!("{}.{}", new.kind.as_str(), kind_of_file.extension())
    } else {
        file_name
    };
    Ok((kind_of_file, title, file_name))
}

fn check_reason(reason: &str, problem: &str) -> Result<(), StoreError> {
    if reason.trim().chars().count() < 2 {
        return Err(StoreError::invalid("reason", problem));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(StoreError::invalid(
            "reason",
            format!("不能超过 {MAX_REASON} 字 / at most {MAX_REASON} characters"),
        ));
    }
    Ok(())
}

/// document_id, kind, content_type, size_bytes, sha256, sealed label, uploaded_at,
/// uploaded_by, withdrawn_at, withdrawn_by, withdrawn_reason.
type InfoRow = (
    String,
    String,
    String,
    i64,
    String,
    Vec<u8>,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// [`InfoRow`]'s columns, then the sealed content.
type ContentRow = (
    String,
    String,
    String,
    i64,
    String,
    Vec<u8>,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Vec<u8>,
);

const INFO_COLUMNS: &str = "document_id, kind, content_type, size_bytes, sha256, label, uploaded_at, uploaded_by, \
     withdrawn_at, withdrawn_by, withdrawn_reason";

/// An [`InfoRow`] as `Reads` hands it over (the sealed label in hex).
pub(crate) type ReadInfoRow = (
    String,
    String,
    String,
    i64,
    String,
    Hex,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// A family's documents, newest first (see `Scoped::documents`).
pub(crate) fn documents_read(family: &FamilyId, include_withdrawn: bool) -> Read {
    let withdrawn = if include_withdrawn {
        ""
    } else {
        " AND withdrawn_at IS NULL"
    };
    Read::new(
        "documents",
        INFO_COLUMNS.replace("label", "hex(label)"),
        format!("FROM family_document WHERE family_id = $1{withdrawn}"),
    )
    .order("uploaded_at DESC, document_id DESC")
    .arg(family.as_str())
}

impl Archive {
    pub(crate) fn documents_from(
        &self,
        family: &FamilyId,
        rows: Vec<ReadInfoRow>,
    ) -> Result<Vec<DocumentInfo>, StoreError> {
        rows.into_iter()
            .map(|(a, b, c, d, e, label, f, g, h, i, j)| {
                self.document_info(family, (a, b, c, d, e, label.0, f, g, h, i, j))
            })
            .collect()
    }

    fn document_info(&self, family: &FamilyId, row: InfoRow) -> Result<DocumentInfo, StoreError> {
        let (id, kind, content_type, size_bytes, sha256, label, at, by, w_at, w_by, w_reason) = row;
        let kind = DocumentKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("document {id}: kind {kind}")))?;
        let content_type = DocumentType::parse(&content_type)
            .ok_or_else(|| StoreError::Corrupt(format!("document {id}: type {content_type}")))?;
        let plain = self
            .keys()
            .decrypt(&label, &document_aad(&id, family.as_str(), "label"))?;
        let label: Label = serde_json::from_slice(&plain)
            .map_err(|e| StoreError::Corrupt(format!("document {id}: label: {e}")))?;
        Ok(DocumentInfo {
            document_id: DocumentId::from_db(id),
            family_id: family.clone(),
            kind,
            title: label.title,
            file_name: label.file_name,
            content_type,
            size_bytes,
            sha256,
            uploaded_at: at,
            uploaded_by: by,
            withdrawn: match (w_at, w_by) {
                (Some(at), Some(by)) => Some(Withdrawal {
                    by,
                    at,
                    reason: w_reason.unwrap_or_default(),
                }),
                _ => None,
            },
        })
    }
}

impl Scoped<'_> {
    /// The user's view of a family's documents: the role must list them (`Role::sees_documents`)
    /// and the family be in scope (own area, or a break-the-glass grant).
    async fn require_documents(&self, family: &FamilyId) -> Result<Visibility, StoreError> {
        if !self.user.role.sees_documents() {
            return Err(StoreError::Forbidden(
                "此角色不查看家庭材料 / this role does not see a family's documents".into(),
            ));
        }
        self.visibility(family)
            .await?
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))
    }

    /// Fails unless the user may attach to or withdraw from this family's documents: a
    /// caseworker, the family in their own area (a break-the-glass grant is read-only).
    async fn require_document_write(&self, family: &FamilyId) -> Result<(), StoreError> {
        if !self.user.role.attaches_documents() {
            return Err(StoreError::Forbidden(
                "只有专干可以上传或撤销材料 / only caseworkers attach and withdraw documents"
                    .into(),
            ));
        }
        match self.require_documents(family).await? {
            Visibility::Own => Ok(()),
            Visibility::Granted { .. } => Err(StoreError::Forbidden(
                "临时查看只能阅读,不能修改 / a break-the-glass grant is read-only".into(),
            )),
        }
    }

    /// A family's documents, newest first, without their content; withdrawn ones only when
    /// asked for (marked).
    pub async fn documents(
        &self,
        family: &FamilyId,
        include_withdrawn: bool,
    ) -> Result<Vec<DocumentInfo>, StoreError> {
        self.require_documents(family).await?;
        self.archive.documents_from(
            family,
            documents_read(family, include_withdrawn)
                .rows(self.archive.db())
                .await?,
        )
    }

    /// Attaches a document to a family's file (caseworkers, own area): checked (size, type from
    /// the content, title), sealed and written with its audit entry (`document.add`) in one
    /// transaction.
    pub async fn add_document(
        &self,
        family: &FamilyId,
        new: NewDocument,
    ) -> Result<DocumentInfo, StoreError> {
        self.require_document_write(family).await?;
        let (content_type, title, file_name) = check(&new)?;
        let document_id = DocumentId::generate();
        let label = serde_json::to_vec(&Label {
            title: title.clone(),
            file_name: file_name.clone(),
        })
        .map_err(|e| StoreError::Corrupt(format!("document label: {e}")))?;
        // Hashing and sealing ten megabytes is CPU work: off the async workers.
        let keys = self.archive.keys().clone();
        let (id, fam) = (document_id.to_string(), family.to_string());
        let content = new.content;
        let size_bytes = content.len() as i64;
        let (sha256, sealed_label, sealed_content, key_id) =
            tokio::task::spawn_blocking(move || {
                (
                    sha256_hex(&content),
                    keys.encrypt(&label, &document_aad(&id, &fam, "label")),
                    keys.encrypt(&content, &document_aad(&id, &fam, "content")),
                    i64::from(keys.active_id()),
                )
            })
            .await
            .map_err(|e| StoreError::Corrupt(format!("sealing a document: {e}")))?;
        let actor = self.user.actor();
        let uploaded_at = now_micros();
        let target = format!("{family}/{document_id}");
        let reason = format!(
            "{} {} {size_bytes} B",
            new.kind.as_str(),
            content_type.content_type()
        );
        on_db!(self.archive.db(), pool => {
            let mut tx = pool.begin_with(self.archive.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO family_document (document_id, family_id, kind, content_type, size_bytes, sha256, label, content, \
                 key_id, uploaded_at, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(document_id.as_str())
            .bind(family.as_str())
            .bind(new.kind.as_str())
            .bind(content_type.content_type())
            .bind(size_bytes)
            .bind(&sha256)
            .bind(&sealed_label)
            .bind(&sealed_content)
            .bind(key_id)
            .bind(uploaded_at)
            .bind(&actor.name)
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, &actor, "document.add", &target, &reason);
            tx.commit().await?;
        });
        Ok(DocumentInfo {
            document_id,
            family_id: family.clone(),
            kind: new.kind,
            title,
            file_name,
            content_type,
            size_bytes,
            sha256,
            uploaded_at,
            uploaded_by: actor.name,
            withdrawn: None,
        })
    }

    /// Opens a document's content, for a stated reason (the roles of `Role::opens_documents`).
    /// Every opening is written to the audit log (`document.open`: who, the document, the
    /// reason) before the content is handed out. A withdrawn document still opens: it stays
    /// evidence of what was on file.
    pub async fn open_document(
        &self,
        family: &FamilyId,
        document: &DocumentId,
        reason: &str,
    ) -> Result<Document, StoreError> {
        if !self.user.role.opens_documents() {
            return Err(StoreError::Forbidden(
                "此角色不能打开材料原件 / this role sees the list of documents only".into(),
            ));
        }
        check_reason(
            reason,
            "请写明查看理由 / state why you need to open the document",
        )?;
        self.require_documents(family).await?;
        let row: Option<ContentRow> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(format!("SELECT {INFO_COLUMNS}, content FROM family_document WHERE document_id = "));
            q.push_bind(document.as_str().to_owned());
            q.push(" AND family_id = ");
            q.push_bind(family.as_str().to_owned());
            q.build_query_as().fetch_optional(pool).await?
        });
        let Some((
            id,
            kind,
            content_type,
            size,
            sha256,
            label,
            at,
            by,
            w_at,
            w_by,
            w_reason,
            sealed,
        )) = row
        else {
            return Err(StoreError::DocumentNotFound(
                document.clone(),
                family.clone(),
            ));
        };
        let info_row = (
            id,
            kind,
            content_type,
            size,
            sha256,
            label,
            at,
            by,
            w_at,
            w_by,
            w_reason,
        );
        let info = self.archive.document_info(family, info_row)?;
        let keys = self.archive.keys().clone();
        let aad = document_aad(document.as_str(), family.as_str(), "content");
        let (content, sha256) = tokio::task::spawn_blocking(move || {
            keys.decrypt(&sealed, &aad).map(|plain| {
                let sha256 = sha256_hex(&plain);
                (plain.to_vec(), sha256)
            })
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("opening a document: {e}")))??;
        if sha256 != info.sha256 || content.len() as i64 != info.size_bytes {
            return Err(StoreError::Corrupt(format!(
                "document {document}: the content is not what was uploaded (SHA-256 differs)"
            )));
        }
        self.archive
            .audit(
                &self.user.actor(),
                "document.open",
                &format!("{family}/{document} {}", info.kind.as_str()),
                reason.trim(),
            )
            .await?;
        Ok(Document { info, content })
    }

    /// Withdraws a mistaken document with a reason (caseworkers, own area): it leaves the
    /// default list and stays on file, marked; audited (`document.withdraw`).
    pub async fn withdraw_document(
        &self,
        family: &FamilyId,
        document: &DocumentId,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.require_document_write(family).await?;
        check_reason(
            reason,
            "请写明撤销理由 / state why the document is withdrawn",
        )?;
        let actor = self.user.actor();
        let target = format!("{family}/{document}");
        let withdrawn = on_db!(self.archive.db(), pool => {
            let mut tx = pool.begin_with(self.archive.db().begin_write()).await?;
            let done = sqlx::query(
                "UPDATE family_document SET withdrawn_at = $1, withdrawn_by = $2, withdrawn_reason = $3 \
                 WHERE document_id = $4 AND family_id = $5 AND withdrawn_at IS NULL",
            )
            .bind(now_micros())
            .bind(&actor.name)
            .bind(reason.trim())
            .bind(document.as_str())
            .bind(family.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 {
                crate::audit::append_audit!(&mut *tx, &actor, "document.withdraw", &target, reason.trim());
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            done == 1
        });
        if withdrawn {
            Ok(())
        } else {
            Err(StoreError::invalid(
                "document",
                format!("材料 {document} 不存在或已撤销 / no such document, or already withdrawn"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_is_read_from_the_content_not_the_name() {
        assert_eq!(
            DocumentType::sniff(b"%PDF-1.7\n..."),
            Some(DocumentType::Pdf)
        );
        assert_eq!(
            DocumentType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(DocumentType::Jpeg)
        );
        assert_eq!(
            DocumentType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(DocumentType::Png)
        );
        for other in [
            &b"hello, this is text named .pdf"[..],
            b"<html><script>alert(1)</script>",
            b"GIF89a",
            b"PK\x03\x04",
            b"",
            b"%PD",
        ] {
            assert_eq!(DocumentType::sniff(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_download_name_says_the_type_the_content_is() {
        let mut info = DocumentInfo {
            document_id: DocumentId::generate(),
            family_id: FamilyId::generate(),
            kind: DocumentKind::DeathCertificate,
            title: String::new(),
            file_name: "死亡证明.PDF".into(),
            content_type: DocumentType::Pdf,
            size_bytes: 1,
            sha256: String::new(),
            uploaded_at: 0,
            uploaded_by: String::new(),
            withdrawn: None,
        };
        assert_eq!(info.download_name(), "死亡证明.PDF");
        info.file_name = "照片.jpeg".into();
        info.content_type = DocumentType::Jpeg;
        assert_eq!(info.download_name(), "照片.jpeg");
        info.file_name = "scan.pdf".into();
        info.content_type = DocumentType::Png;
        assert_eq!(info.download_name(), "scan.pdf.png");
    }

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in DocumentKind::ALL {
            assert_eq!(DocumentKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(DocumentKind::parse("passport"), None);
    }
}
