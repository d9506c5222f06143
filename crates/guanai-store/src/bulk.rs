//! Bulk transfer for whole-archive passes: thousands of rows handed to the database as one JSON
//! array of arrays (one bound value) and unpacked there (`json_each` on SQLite,
//! `json_array_elements` on PostgreSQL). Binding every field of a million rows one by one costs
//! more than writing them.

use crate::db::Db;

/// How a column is taken from its JSON value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Col {
    Text,
    Int,
    Bool,
    /// Bytes, written in the JSON as hex.
    Hex,
}

/// Rows per statement.
pub(crate) const ROWS: usize = 10_000;

/// `INSERT INTO table (columns) SELECT … FROM <the JSON array in $1>` followed by `tail` (e.g. an
/// `ON CONFLICT` clause).
pub(crate) fn insert_sql(db: &Db, table: &str, columns: &[(&str, Col)], tail: &str) -> String {
    let sqlite = matches!(db, Db::Sqlite(..));
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let values: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, col))| match (col, sqlite) {
            (Col::Text, _) => format!("j.value ->> {i}"),
            (Col::Int, _) => format!("CAST(j.value ->> {i} AS BIGINT)"),
            (Col::Bool, _) => format!("CAST(j.value ->> {i} AS BOOLEAN)"),
            (Col::Hex, true) => format!("unhex(j.value ->> {i})"),
            (Col::Hex, false) => format!("decode(j.value ->> {i}, 'hex')"),
        })
        .collect();
    let source = if sqlite {
        // `WHERE true` keeps SQLite from reading an ON CONFLICT clause as a join constraint.
        "json_each($1) AS j WHERE true"
    } else {
        "json_array_elements(CAST($1 AS JSON)) AS j"
    };
    format!(
        "INSERT INTO {table} ({}) SELECT {} FROM {source} {tail}",
        names.join(", "),
        values.join(", ")
    )
}

/// Bytes from hex (sealed values and blind indexes come back from the database as hex).
pub(crate) fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Hex of bytes, for [`Col::Hex`].
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
