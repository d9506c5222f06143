//! The family archive (专门档案 and 信息数据库, 二(一)–二(二)): families, persons and dated facts
//! that are never overwritten, on SQLite by default or PostgreSQL, with private data sealed at
//! rest. It answers "what is true for month M" and "what did we know on date D", and hands the
//! rules engine its facts; it computes no money itself.

pub mod access;
pub mod archive;
mod areas;
pub mod assessment;
pub mod audit;
pub mod backup;
mod bulk;
pub mod casework;
pub mod changes;
mod checks;
pub mod complaints;
pub mod contacts;
pub mod db;
pub mod documents;
pub mod error;
pub mod exits;
pub mod family_reads;
pub mod file;
pub mod import;
pub mod matching;
pub mod model;
pub mod network;
pub mod pay;
mod place;
mod reads;
pub mod reports;
pub mod rotate;
pub mod scope;
pub mod services;
pub mod visits;
pub mod write;

pub use archive::{Archive, FamilySummary};
pub use audit::{AuditBreak, AuditEntry, AuditQuery, AuditVerification};
pub use db::Db;
pub use error::StoreError;
pub use file::{FamilyFile, FileError};
pub use model::{
    Actor, DocumentId, FactId, FactRecord, FactValue, FamilyId, NewFact, NewFamily, NewPerson,
    PersonId, Relation,
};
