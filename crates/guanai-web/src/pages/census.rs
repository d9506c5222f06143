//! Census import (普查导入, county and city caseworkers): an uploaded .xlsx or .csv census file
//! is read and checked by `guanai-census`, refused whole when any family lies outside the
//! user's area, and imported all-or-nothing by `guanai_store::import` (as `guanai import`).
//! Row errors are listed (row, column, reason) with the error report to download; the empty
//! template is served as .xlsx. Also the multipart reading that every upload shares: the CSRF
//! token is checked before any file is read.

use std::io::Write;

use askama::Template;
use axum::extract::Multipart;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use guanai_census::{CensusFamily, CensusReader, RowError};
use guanai_store::import::{ImportOptions, import};

use super::payments::download_response;
use super::{Chrome, render, today, village_path};
use crate::i18n::{EN, ZH};
use crate::state::{Signed, WebError, check_csrf, check_same_origin};

/// Row errors listed on the page; the error report has them all.
const ERRORS_SHOWN: usize = 500;

/// The census column of the village code (the file's own header, in Chinese in every language).
const VILLAGE_COLUMN: &str = "所在村居代码";

/// The content type of an .xlsx file.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Reads an upload form (`multipart/form-data`): the CSRF token `_csrf`, which must come before
/// the file so that no file is read for a forged form, and the file `file`. Returns the file's
/// name (without any folder) and bytes, or `None` when no file was chosen.
pub(crate) async fn read_upload(
    signed: &Signed,
    headers: &HeaderMap,
    multipart: Multipart,
) -> Result<Option<(String, Vec<u8>)>, WebError> {
    Ok(read_upload_fields(signed, headers, multipart).await?.0)
}

/// [`read_upload`], with the form's other text fields after the token (name, value).
pub(crate) async fn read_upload_fields(
    signed: &Signed,
    headers: &HeaderMap,
    multipart: Multipart,
) -> Result<(Option<(String, Vec<u8>)>, Vec<(String, String)>), WebError> {
    read_upload_within(signed, headers, multipart, usize::MAX).await
}

/// [`read_upload_fields`] for a file of at most `limit` bytes: a larger file is read only to
/// `limit + 1` bytes (so the caller refuses it by its size, naming the field, without holding
/// the rest) and ends the form — fields after it are not read.
pub(crate) async fn read_upload_within(
    signed: &Signed,
    headers: &HeaderMap,
    mut multipart: Multipart,
    limit: usize,
) -> Result<(Option<(String, Vec<u8>)>, Vec<(String, String)>), WebError> {
    check_same_origin(headers)?;
    let failed = |_| WebError::BadRequest(format!("{} / {}", ZH.upload_failed, EN.upload_failed));
    let mut verified = false;
    let mut file = None;
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "_csrf" => {
                let token = field.text().await.map_err(failed)?;
                check_csrf(Some(token.as_str()), &signed.csrf)?;
                verified = true;
            }
            "file" if verified => {
                let file_name = field.file_name().map(base_name).unwrap_or_default();
                let mut field = field;
                let mut bytes = Vec::new();
                let cap = limit.saturating_add(1);
                while let Some(chunk) = field.chunk().await.map_err(failed)? {
                    let room = cap - bytes.len();
                    bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if bytes.len() >= cap {
                        break;
                    }
                }
                let over = bytes.len() > limit;
                if !file_name.is_empty() && !bytes.is_empty() {
                    file = Some((file_name, bytes));
                }
                if over {
                    break;
                }
            }
            "file" => return Err(WebError::Csrf),
            _ if verified && field.file_name().is_none() => {
                let text = field.text().await.map_err(failed)?;
                fields.push((name, text.chars().take(2000).collect()));
            }
            _ => {}
        }
    }
    if verified {
        Ok((file, fields))
    } else {
        Err(WebError::Csrf)
    }
}

/// A file name as sent, without the folder some browsers include.
pub(crate) fn base_name(name: &str) -> String {
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    name.chars().take(200).collect()
}

/// What an import did.
struct Done {
    rows: usize,
    added: usize,
    unchanged: usize,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    file_name: String,
    /// Why the file as a whole was refused (unreadable, wrong format, no file, another area).
    refused: Option<String>,
    errors: Vec<RowError>,
    errors_total: usize,
    /// The error report (CSV, UTF-8 with BOM) as a `data:` address, downloaded as `report_name`.
    report_url: String,
    report_name: String,
    done: Option<Done>,
    /// The "import as new applications" choice (issue 6).
    applications: super::cases::AsApplications,
}

impl ImportPage {
    fn new(signed: &Signed) -> ImportPage {
        ImportPage {
            c: Chrome::new(signed, "import", "/import"),
            file_name: String::new(),
            refused: None,
            errors: Vec::new(),
            errors_total: 0,
            report_url: String::new(),
            report_name: String::new(),
            done: None,
            applications: super::cases::AsApplications::default(),
        }
    }
}

/// `GET /import`: the upload form.
pub async fn import_page(signed: Signed) -> Result<Response, WebError> {
    signed.require(signed.user.role.can_import())?;
    render(&ImportPage::new(&signed))
}

/// Why a census file could not be read.
enum ReadError {
    /// The file's fault, in the census crate's words (Chinese / English).
    File(String),
    /// The server's.
    Io(std::io::Error),
}

type Families = Vec<Result<CensusFamily, Vec<RowError>>>;

/// Reads every family of an uploaded file (the census reader reads from a path: the bytes go
/// to a private temporary file, removed afterwards). Returns the families and the rows read.
fn read_census(bytes: &[u8], suffix: &str) -> Result<(Families, usize), ReadError> {
    let mut file = tempfile::Builder::new()
        .prefix("guanai-census-")
        .suffix(suffix)
        .tempfile()
        .map_err(ReadError::Io)?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(ReadError::Io)?;
    let mut reader =
        CensusReader::open(file.path(), today()).map_err(|e| ReadError::File(e.to_string()))?;
    let families: Families = reader.by_ref().collect();
    Ok((families, reader.rows_read()))
}

/// The error report of a file, as a `data:` address.
fn error_report(errors: &[RowError]) -> Result<String, WebError> {
    let dir = tempfile::tempdir().map_err(|e| WebError::Internal(format!("error report: {e}")))?;
    let path = dir.path().join("errors.csv");
    guanai_census::write_error_report(&path, errors)
        .map_err(|e| WebError::Internal(format!("error report: {e}")))?;
    let bytes =
        std::fs::read(&path).map_err(|e| WebError::Internal(format!("error report: {e}")))?;
    Ok(format!(
        "data:text/csv;charset=utf-8;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// `POST /import` (multipart: `_csrf` first, then `file`): imports a census file, all or nothing.
pub async fn upload(
    signed: Signed,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let (upload, fields) = read_upload_fields(&signed, &headers, multipart).await?;
    signed.require(signed.user.role.can_import())?;
    let t = signed.t();
    let mut page = ImportPage::new(&signed);
    // New families as applications (申请, issue 6): not paid before the county's approval.
    page.applications = super::cases::AsApplications::from_fields(signed.lang, &fields);
    if !page.applications.errors.is_empty() {
        return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
    }
    let Some((name, bytes)) = upload else {
        page.refused = Some(t.choose_file.to_owned());
        return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
    };
    page.file_name = name.clone();
    let extension = std::path::Path::new(&name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let read = tokio::task::spawn_blocking(move || read_census(&bytes, &extension))
        .await
        .map_err(|e| WebError::Internal(format!("census reader: {e}")))?;
    let (families, rows) = match read {
        Ok(read) => read,
        Err(ReadError::File(message)) => {
            page.refused = Some(message);
            return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
        }
        Err(ReadError::Io(e)) => return Err(WebError::Internal(format!("census upload: {e}"))),
    };
    // Only families of the user's area: a file with any other is refused before anything is
    // written, with those rows listed.
    let prefix = signed.user.area_prefix();
    let mut errors: Vec<RowError> = Vec::new();
    let mut outside = false;
    for family in &families {
        match family {
            Ok(f) => {
                let village = f.village.to_string();
                if !village.starts_with(prefix) {
                    outside = true;
                    errors.push(RowError::new(
                        f.first_row,
                        VILLAGE_COLUMN,
                        format!(
                            "{village} {}: {} ({})",
                            village_path(&village),
                            t.outside_area,
                            page.c.area_name
                        ),
                    ));
                }
            }
            Err(row_errors) => errors.extend(row_errors.iter().cloned()),
        }
    }
    if !outside {
        let options = ImportOptions {
            partial: false,
            actor: signed.user.actor(),
            applications: page.applications.options(),
        };
        let report = import(
            signed.state().gate(),
            families.into_iter(),
            || rows,
            &options,
            |_| {},
        )
        .await?;
        if report.errors.is_empty() {
            page.done = Some(Done {
                rows: report.rows,
                added: report.added,
                unchanged: report.unchanged,
            });
            return render(&page);
        }
        errors = report.errors;
    }
    errors.sort_by_key(|e| e.row);
    page.refused = Some(t.census_refused.to_owned());
    page.report_url = error_report(&errors)?;
    let stem = name
        .rsplit_once('.')
        .map_or(name.as_str(), |(stem, _)| stem);
    page.report_name = format!("{stem}.errors.csv");
    page.errors_total = errors.len();
    errors.truncate(ERRORS_SHOWN);
    page.errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// `GET /import/template`: the empty census template (.xlsx, with data validation).
pub async fn template(signed: Signed) -> Result<Response, WebError> {
    signed.require(signed.user.role.can_import())?;
    let bytes = tokio::task::spawn_blocking(|| -> Result<Vec<u8>, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("template.xlsx");
        guanai_census::write_template(&path).map_err(|e| e.to_string())?;
        std::fs::read(&path).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| WebError::Internal(format!("census template: {e}")))?
    .map_err(|e| WebError::Internal(format!("census template: {e}")))?;
    Ok(download_response(XLSX, "普查模板.xlsx", bytes))
}

#[cfg(test)]
mod tests {
    use super::base_name;

    #[test]
    fn an_uploaded_file_name_loses_its_folder() {
        assert_eq!(base_name("C:\\Users\\王\\普查.xlsx"), "普查.xlsx");
        assert_eq!(base_name("/home/x/census.csv"), "census.csv");
        assert_eq!(base_name("回盘.csv"), "回盘.csv");
    }
}
