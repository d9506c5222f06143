//! Several small reads answered by one statement. A `Read` is one `SELECT … ORDER BY …`;
//! `Reads` puts any number of them into one `SELECT (…), (…), …` whose columns are each read's
//! rows as one JSON array, decoded here into the same row types a single query would give. The
//! same read runs alone through `Read::rows`, so each query is written once. A page that asks
//! twenty small questions thus makes one round trip, and on SQLite not even that: the statement
//! runs on the asking thread (`db::Readers`) instead of being sent to a `sqlx` connection's thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use sqlx::Row;

use crate::db::{Db, Readers};
use crate::error::StoreError;

/// A value bound to a read's `$n` placeholder.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    Blob(Vec<u8>),
}

impl From<Vec<u8>> for Arg {
    fn from(value: Vec<u8>) -> Arg {
        Arg::Blob(value)
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Arg {
        Arg::Text(value.to_owned())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Arg {
        Arg::Text(value)
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Arg {
        Arg::Int(value)
    }
}

impl From<i16> for Arg {
    fn from(value: i16) -> Arg {
        Arg::Int(i64::from(value))
    }
}

/// One read: `SELECT cols <rest> ORDER BY order`, with `$1…` placeholders numbered within the
/// read. A blob column is written `hex(column)` (PostgreSQL gets `encode(column, 'hex')`).
#[derive(Clone, Debug)]
pub(crate) struct Read {
    what: &'static str,
    cols: String,
    rest: String,
    order: String,
    args: Vec<Arg>,
    /// Over many families: run off the server's worker threads.
    large: bool,
    /// One page of the rows: at most this many, after skipping that many.
    page: Option<(i64, i64)>,
}

impl Read {
    /// `what` names the read in the message when stored rows cannot be decoded.
    pub(crate) fn new(
        what: &'static str,
        cols: impl Into<String>,
        rest: impl Into<String>,
    ) -> Read {
        Read {
            what,
            cols: cols.into(),
            rest: rest.into(),
            order: String::new(),
            args: Vec::new(),
            large: false,
            page: None,
        }
    }

    /// A read written whole: `sql` is a SELECT of one value, the rows as a JSON array (text).
    pub(crate) fn raw(what: &'static str, sql: impl Into<String>) -> Read {
        Read::new(what, String::new(), sql)
    }

    pub(crate) fn order(mut self, order: &str) -> Read {
        order.clone_into(&mut self.order);
        self
    }

    /// At most `limit` rows after the first `offset` (in the read's order).
    pub(crate) fn page(mut self, limit: i64, offset: i64) -> Read {
        self.page = Some((limit.max(0), offset.max(0)));
        self
    }

    /// A read over many families (a chunk of a whole-archive pass).
    pub(crate) fn large(mut self) -> Read {
        self.large = true;
        self
    }

    pub(crate) fn arg(mut self, value: impl Into<Arg>) -> Read {
        self.args.push(value.into());
        self
    }

    /// This read alone.
    pub(crate) async fn rows<T: DeserializeOwned>(self, db: &Db) -> Result<Vec<T>, StoreError> {
        let mut reads = Reads::default();
        let slot = reads.add(self);
        reads.run(db).await?.rows(slot)
    }

    /// The read as one scalar subquery whose value is its rows as a JSON array (text).
    fn subquery(&self, db: &Db, first_arg: usize) -> String {
        let cols = renumber(&self.cols, first_arg);
        let rest = renumber(&self.rest, first_arg);
        if cols.is_empty() {
            return format!("({rest})");
        }
        let order = if self.order.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", self.order)
        };
        let page = match self.page {
            Some((limit, offset)) => format!(" LIMIT {limit} OFFSET {offset}"),
            None => String::new(),
        };
        match db {
            // An ORDER BY inside SQLite's aggregate builds a temporary b-tree each time (most of
            // a family page's cost): the rows are ordered by a subquery instead, which the
            // aggregate reads in order.
            Db::Sqlite(..) => {
                let cols = hex_columns(&cols, |c| {
                    format!("CASE WHEN {c} IS NULL THEN NULL ELSE hex({c}) END")
                });
                if order.is_empty() && page.is_empty() {
                    return format!("(SELECT json_group_array(json_array({cols})) {rest})");
                }
                let (aliased, outer) = aliased(&cols);
                format!(
                    "(SELECT json_group_array(json_array({outer})) FROM (SELECT {aliased} {rest}{order}{page}))"
                )
            }
            Db::Pg(_) => {
                let cols = hex_columns(&cols, |c| format!("encode({c}, 'hex')"));
                if page.is_empty() {
                    return format!(
                        "(SELECT CAST(COALESCE(json_agg(json_build_array({cols}){order}), '[]') AS TEXT) {rest})"
                    );
                }
                // A page is cut by a subquery; its rows keep their order by number.
                let (aliased, outer) = aliased(&cols);
                let numbered = if order.is_empty() {
                    "ROW_NUMBER() OVER ()".to_owned()
                } else {
                    format!("ROW_NUMBER() OVER ({order})")
                };
                format!(
                    "(SELECT CAST(COALESCE(json_agg(json_build_array({outer}) ORDER BY n), '[]') AS TEXT) \
                     FROM (SELECT {aliased}, {numbered} AS n {rest}{order}{page}) AS paged)"
                )
            }
        }
    }
}

/// The columns as `c0, c1, …` of a subquery: the select list that names them, and the names.
fn aliased(cols: &str) -> (String, String) {
    let named = split_columns(cols);
    let aliased = named
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} AS c{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let outer = (0..named.len())
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    (aliased, outer)
}

/// A read's `FROM … WHERE …` written piece by piece, as with sqlx's `QueryBuilder` (so
/// `push_scope!` writes into either): each bound value gets the next `$n`.
#[derive(Debug, Default)]
pub(crate) struct Where {
    sql: String,
    args: Vec<Arg>,
}

impl Where {
    pub(crate) fn new(sql: &str) -> Where {
        Where {
            sql: sql.to_owned(),
            args: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, sql: &str) -> &mut Where {
        self.sql.push_str(sql);
        self
    }

    pub(crate) fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Where {
        self.args.push(value.into());
        self.sql.push_str(&format!("${}", self.args.len()));
        self
    }

    /// The read of `cols` from here.
    pub(crate) fn read(self, what: &'static str, cols: impl Into<String>) -> Read {
        let mut read = Read::new(what, cols, self.sql);
        read.args = self.args;
        read
    }
}

/// Reads to be answered by one statement.
#[derive(Debug, Default)]
pub(crate) struct Reads {
    reads: Vec<Read>,
}

/// Where one read's rows are in the answers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot(usize);

impl Reads {
    pub(crate) fn add(&mut self, read: Read) -> Slot {
        self.reads.push(read);
        Slot(self.reads.len() - 1)
    }

    /// Runs every read in one statement (one snapshot). On SQLite the statement runs on this
    /// thread (`Readers`): the reads of a page take well under a millisecond. Reads over many
    /// families (`Read::large`) run on a blocking thread instead, off the server's workers.
    pub(crate) async fn run(self, db: &Db) -> Result<Answers, StoreError> {
        if self.reads.is_empty() {
            return Ok(Answers {
                json: Vec::new(),
                what: Vec::new(),
            });
        }
        let sql = self.statement(db);
        let n = self.reads.len();
        let what = self.reads.iter().map(|r| r.what).collect();
        let large = self.reads.iter().any(|r| r.large);
        let args: Vec<Arg> = self.reads.into_iter().flat_map(|r| r.args).collect();
        let json: Vec<String> = match db {
            Db::Sqlite(_, readers) if large => {
                let readers = readers.clone();
                tokio::task::spawn_blocking(move || sqlite_row(&readers, &sql, &args, n))
                    .await
                    .map_err(|e| StoreError::Read(e.to_string()))??
            }
            Db::Sqlite(_, readers) => sqlite_row(readers, &sql, &args, n)?,
            Db::Pg(pool) => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for arg in &args {
                    q = match arg {
                        Arg::Text(t) => q.bind(t.as_str()),
                        Arg::Int(i) => q.bind(*i),
                        Arg::Blob(b) => q.bind(b.as_slice()),
                    };
                }
                let row = q.fetch_one(pool).await?;
                (0..n)
                    .map(|i| row.try_get::<String, _>(i))
                    .collect::<Result<_, _>>()?
            }
        };
        Ok(Answers { json, what })
    }
}

/// The one row of a combined statement on SQLite: `n` JSON texts.
fn sqlite_row(
    readers: &Readers,
    sql: &str,
    args: &[Arg],
    n: usize,
) -> Result<Vec<String>, StoreError> {
    readers.read(|c| {
        let mut statement = c.prepare_cached(sql)?;
        statement.query_row(rusqlite::params_from_iter(args), |row| {
            (0..n).map(|i| row.get::<_, String>(i)).collect()
        })
    })
}

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Arg::Text(t) => t.to_sql(),
            Arg::Int(i) => i.to_sql(),
            Arg::Blob(b) => b.to_sql(),
        }
    }
}

impl Reads {
    /// The one statement, written once per backend and combination of reads (a page asks the
    /// same reads every time; writing the statement cost a tenth of a family page).
    fn statement(&self, db: &Db) -> Arc<str> {
        let mut key = String::from(db.backend());
        for read in &self.reads {
            for part in [&read.cols, &read.rest, &read.order] {
                key.push('\u{1f}');
                key.push_str(part);
            }
            if let Some((limit, offset)) = read.page {
                key.push_str(&format!("\u{1f}{limit},{offset}"));
            }
        }
        let cache = STATEMENTS.get_or_init(Default::default);
        if let Some(sql) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return sql;
        }
        let mut sql = String::from("SELECT ");
        let mut next_arg = 0;
        for (i, read) in self.reads.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&read.subquery(db, next_arg));
            next_arg += read.args.len();
        }
        let sql: Arc<str> = sql.into();
        if let Ok(mut cache) = cache.lock() {
            // The combinations are few (roles × sections); the bound only guards against a caller
            // that builds reads from data.
            if cache.len() >= MAX_STATEMENTS {
                cache.clear();
            }
            cache.insert(key, sql.clone());
        }
        sql
    }
}

/// Statements written so far, by backend and reads.
static STATEMENTS: OnceLock<Mutex<HashMap<String, Arc<str>>>> = OnceLock::new();
const MAX_STATEMENTS: usize = 512;

/// The rows of each read, as JSON until asked for.
#[derive(Debug)]
pub(crate) struct Answers {
    json: Vec<String>,
    what: Vec<&'static str>,
}

impl Answers {
    pub(crate) fn rows<T: DeserializeOwned>(&self, slot: Slot) -> Result<Vec<T>, StoreError> {
        let (Some(json), Some(what)) = (self.json.get(slot.0), self.what.get(slot.0)) else {
            return Err(StoreError::Corrupt(format!(
                "read {} was not asked",
                slot.0
            )));
        };
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
    }
}

/// A boolean column: SQLite hands it over as 0 or 1, PostgreSQL as false or true.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Flag, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Bool(bool),
            Int(i64),
        }
        Ok(Flag(match Either::deserialize(d)? {
            Either::Bool(b) => b,
            Either::Int(i) => i != 0,
        }))
    }
}

/// A blob column read as `hex(…)`: its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hex(pub Vec<u8>);

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Hex, D::Error> {
        let text = String::deserialize(d)?;
        decode_hex(&text)
            .map(Hex)
            .ok_or_else(|| serde::de::Error::custom("not a hex string"))
    }
}

pub(crate) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A column list split at its top-level commas.
fn split_columns(cols: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in cols.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cols[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(cols[start..].trim());
    out
}

/// `$k` → `$(k + offset)`: the read's placeholders moved after those of the reads before it.
fn renumber(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut digits = String::new();
        while let Some((_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(k) => out.push_str(&(k + offset).to_string()),
            Err(_) => out.push_str(&digits),
        }
    }
    out
}

/// Each `hex(x)` (x a column, without parentheses) written as the backend needs it: SQLite's
/// `hex(NULL)` is '' rather than NULL, PostgreSQL has `encode(x, 'hex')`.
fn hex_columns(cols: &str, hex: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(cols.len() + 16);
    let mut rest = cols;
    while let Some(at) = rest.find("hex(") {
        let boundary = at == 0
            || !rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let Some(close) = rest[at..].find(')') else {
            break;
        };
        out.push_str(&rest[..at]);
        let inner = &rest[at + 4..at + close];
        if boundary {
            out.push_str(&hex(inner));
        } else {
            out.push_str(&rest[at..=at + close]);
        }
        rest = &rest[at + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{decode_hex, hex_columns, renumber, split_columns};

    #[test]
    fn placeholders_move_after_the_reads_before() {
        assert_eq!(
            renumber("WHERE a = $1 AND b < $2", 0),
            "WHERE a = $1 AND b < $2"
        );
        assert_eq!(
            renumber("WHERE a = $1 AND b < $12 AND c = '$'", 3),
            "WHERE a = $4 AND b < $15 AND c = '$'"
        );
    }

    #[test]
    fn columns_split_at_top_level_commas() {
        assert_eq!(
            split_columns("a.x, CASE WHEN b IS NULL THEN NULL ELSE hex(b) END,c, substr(d, 1, 6)"),
            vec![
                "a.x",
                "CASE WHEN b IS NULL THEN NULL ELSE hex(b) END",
                "c",
                "substr(d, 1, 6)"
            ]
        );
    }

    #[test]
    fn blob_columns_are_hex_on_both_backends() {
        let pg = |c: &str| format!("encode({c}, 'hex')");
        assert_eq!(
            hex_columns("c.id, hex(c.phone), a.name, hex(sealed)", pg),
            "c.id, encode(c.phone, 'hex'), a.name, encode(sealed, 'hex')"
        );
        assert_eq!(hex_columns("rehex(x)", pg), "rehex(x)");
        assert_eq!(decode_hex("00ff7A"), Some(vec![0, 255, 122]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
    }
}
