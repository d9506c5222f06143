//! A payment run's bank files on the server (银行文件, 二(二)): where they are kept, writing them
//! when the run is exported (into a fresh folder that replaces the run's only once the export
//! committed, so a refused export leaves nothing behind), listing them, and reading one by name
//! (every read audited). The run's page and the API both go through here. The files hold full
//! ID numbers and accounts: callers hand them to finance officers of the run's area only.

use std::path::{Path, PathBuf};

use guanai_store::pay::{ExportedFiles, RunId, RunSummary};
use guanai_store::{Actor, Archive, Db};
use jiff::civil::Date;

use crate::i18n::Texts;
use crate::state::WebError;

/// Where a run's bank files are kept: a folder per run next to the SQLite archive (its data
/// directory), or, for PostgreSQL, whose server keeps no files of ours, under the system's
/// temporary directory. The folder's name carries the run's moment, so two archives never
/// share one. Folders are created readable by the server's user only.
pub(crate) fn folder(archive: &Archive, run: &RunSummary) -> PathBuf {
    let root = match archive.db() {
        Db::Sqlite(pool, _) => pool
            .connect_options()
            .get_filename()
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| p.join("bank-files")),
        Db::Pg(_) => None,
    };
    root.unwrap_or_else(|| std::env::temp_dir().join("guanai-bank-files"))
        .join(format!("{}-{}", run.run_id, run.known_at.as_microsecond()))
}

/// Creates a folder (and its parents) readable by the server's user only.
fn private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// The formats of a bank file, told by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BankFormat {
    Xlsx,
    Csv,
    Pain001,
}

impl BankFormat {
    const ALL: [BankFormat; 3] = [BankFormat::Xlsx, BankFormat::Csv, BankFormat::Pain001];

    fn suffix(self) -> &'static str {
        match self {
            BankFormat::Xlsx => ".xlsx",
            BankFormat::Csv => ".csv",
            BankFormat::Pain001 => ".pain001.xml",
        }
    }

    /// The format's key in the API: `xlsx`, `csv` or `pain001`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BankFormat::Xlsx => "xlsx",
            BankFormat::Csv => "csv",
            BankFormat::Pain001 => "pain001",
        }
    }

    /// The format as a page names it.
    pub(crate) fn label(self, t: &'static Texts) -> &'static str {
        match self {
            BankFormat::Xlsx => t.format_xlsx,
            BankFormat::Csv => t.format_csv,
            BankFormat::Pain001 => t.format_pain001,
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            BankFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            // The CSV is UTF-8 with a byte-order mark (for Excel).
            BankFormat::Csv => "text/csv; charset=utf-8",
            BankFormat::Pain001 => "application/xml; charset=utf-8",
        }
    }

    /// The format and the stem (`COUNTY-BANK`) of a bank file of `run`; `None` for any other
    /// name (another run's, a folder, a hidden file), so a name never leaves the run's folder.
    pub(crate) fn of<'n>(run: &RunId, name: &'n str) -> Option<(BankFormat, &'n str)> {
        let rest = name.strip_prefix(run.as_str())?.strip_prefix('-')?;
        if rest.contains(['/', '\\']) || rest.starts_with('.') {
            return None;
        }
        BankFormat::ALL
            .into_iter()
            .find_map(|f| rest.strip_suffix(f.suffix()).map(|stem| (f, stem)))
            .filter(|(_, stem)| !stem.is_empty())
    }
}

/// One bank file in a run's folder.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub name: String,
    pub format: BankFormat,
    /// The county code of the file's transfers.
    pub county: String,
    /// The bank (head office) the file goes to.
    pub bank: String,
    pub size: u64,
}

/// The bank files in a run's folder, by county and bank, each county and bank's in the order
/// XLSX, CSV, pain.001; `None` when the folder is gone.
pub(crate) fn list(dir: &Path, run: &RunId) -> Option<Vec<StoredFile>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut files: Vec<(String, StoredFile)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let (format, stem) = BankFormat::of(run, &name)?;
            let stem = stem.to_owned();
            let size = entry.metadata().ok().filter(|m| m.is_file())?.len();
            let (county, bank) = stem.split_once('-').unwrap_or((stem.as_str(), ""));
            let file = StoredFile {
                format,
                county: county.to_owned(),
                bank: bank.to_owned(),
                size,
                name,
            };
            Some((stem, file))
        })
        .collect();
    files.sort_by(|a, b| (&a.0, a.1.format as u8).cmp(&(&b.0, b.1.format as u8)));
    Some(files.into_iter().map(|(_, file)| file).collect())
}

/// Exports an approved run: the library writes its bank files (per county and bank: 代发 XLSX
/// and CSV, pain.001 XML) into a fresh private folder beside the run's, which replaces the
/// run's folder once the export committed. A refusal of the library comes back as
/// [`WebError::Pay`] and leaves no file behind.
pub(crate) async fn export(
    archive: &Archive,
    run: &RunSummary,
    execution_date: Date,
    actor: &Actor,
) -> Result<ExportedFiles, WebError> {
    let target = folder(archive, run);
    let parent = target
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let folder_error = |e: std::io::Error| {
        WebError::Internal(format!("bank files folder {}: {e}", parent.display()))
    };
    private_dir(&parent).map_err(folder_error)?;
    let work = tempfile::Builder::new()
        .prefix(".export-")
        .tempdir_in(&parent)
        .map_err(folder_error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(folder_error)?;
    }
    // On a refusal `work` is dropped, and the folder with whatever was written goes with it.
    let exported = archive
        .export_run(&run.run_id, work.path(), execution_date, actor)
        .await?;
    let written = work.keep();
    // The run was approved until now: anything already at the target is stale.
    if target.exists() {
        let _ = std::fs::remove_dir_all(&target);
    }
    std::fs::rename(&written, &target).map_err(|e| {
        WebError::Internal(format!(
            "bank files of {} stay in {}: {e}",
            run.run_id,
            written.display()
        ))
    })?;
    Ok(exported)
}

/// One bank file of a run by its name, with its format; the read is written to the audit log
/// (`pay.download`). "Not found" for a name that is not one of the run's files.
pub(crate) async fn read(
    archive: &Archive,
    run: &RunSummary,
    name: &str,
    actor: &Actor,
) -> Result<(BankFormat, Vec<u8>), WebError> {
    let Some((format, _)) = BankFormat::of(&run.run_id, name) else {
        return Err(WebError::NotFound);
    };
    let path = folder(archive, run).join(name);
    let read = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .map_err(|e| WebError::Internal(format!("reading a bank file: {e}")))?;
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(WebError::NotFound),
        Err(e) => return Err(WebError::Internal(format!("bank file {name}: {e}"))),
    };
    archive
        .audit(actor, "pay.download", run.run_id.as_str(), name)
        .await?;
    Ok((format, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bank_file_name_must_belong_to_the_run_and_stay_in_its_folder() {
        let run = RunId::parse("202610-371321-1").expect("run");
        assert_eq!(
            BankFormat::of(&run, "202610-371321-1-371321-农村商业银行.pain001.xml"),
            Some((BankFormat::Pain001, "371321-农村商业银行"))
        );
        assert_eq!(
            BankFormat::of(&run, "202610-371321-1-371321-中国银行.csv").map(|f| f.0),
            Some(BankFormat::Csv)
        );
        for bad in [
            "202610-371321-2-371321-中国银行.csv",
            "202610-371321-1-../../etc/passwd.csv",
            "202610-371321-1-.hidden.csv",
            "202610-371321-1-371321-中国银行.txt",
            "202610-371321-1-.csv",
            "../202610-371321-1-371321-中国银行.csv",
        ] {
            assert_eq!(BankFormat::of(&run, bad), None, "{bad}");
        }
    }
}
