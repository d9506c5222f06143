//! Errors of the archive. Storage detail stays inside; callers get what they can act on.

use thiserror::Error;

use crate::model::{DocumentId, FactId, FamilyId};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot open the database {target}: {source}")]
    Open { target: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database read failed: {0}")]
    Read(String),
    #[error("unsupported database URL {0:?} (expected sqlite://PATH or postgres://…)")]
    Url(String),
    #[error("family {0} not found")]
    FamilyNotFound(String),
    #[error("fact {0} not found in family {1}")]
    FactNotFound(FactId, FamilyId),
    #[error("document {0} not found in family {1}")]
    DocumentNotFound(DocumentId, FamilyId),
    #[error(
        "family {family} was changed by someone else (version {found}, you had {expected}): reload it and apply your change again"
    )]
    Conflict {
        family: FamilyId,
        expected: i64,
        found: i64,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Crypto(#[from] guanai_crypto::CryptoError),
    #[error("backup file: {0}")]
    Backup(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}
