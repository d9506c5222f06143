//! The database behind the archive: SQLite (a single file, WAL) by default, PostgreSQL for large
//! deployments. One portable schema and one set of queries; `on_db!` compiles each query for
//! both backends. On SQLite, the combined reads of `reads` run on [`Readers`]: connections used
//! on the calling thread, without the round trip to a connection's own thread that each `sqlx`
//! statement makes.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::StoreError;

/// Versioned migrations, embedded in the binary; they run automatically on open.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A connection pool to one of the two backends (SQLite's with its readers).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, Readers),
    Pg(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool (the body is compiled once per backend).
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool, _) => $body,
            $crate::db::Db::Pg($pool) => $body,
        }
    };
}

impl Db {
    /// Opens `sqlite://PATH` (created if missing) or `postgres://…`, and migrates it.
    pub async fn open(url: &str) -> Result<Db, StoreError> {
        let db = if let Some(path) = url.strip_prefix("sqlite://") {
            let path = Path::new(path);
            Db::Sqlite(open_sqlite(path).await?, Readers::new(path))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(|source| StoreError::Open {
                    target: redact(url),
                    source,
                })?;
            Db::Pg(pool)
        } else {
            return Err(StoreError::Url(redact(url)));
        };
        on_db!(&db, pool => MIGRATOR.run(pool).await?);
        Ok(db)
    }

    /// The statement that opens a write transaction. SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so concurrent writers wait their turn instead of failing when a read
    /// snapshot turns into a write; PostgreSQL locks rows as it goes.
    pub fn begin_write(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "BEGIN IMMEDIATE",
            Db::Pg(_) => "BEGIN",
        }
    }

    /// Refreshes the planner's statistics of tables a bulk write changed. PostgreSQL plans the
    /// whole-archive queries badly on tables it has not analysed yet (a payment run over freshly
    /// imported families took five times as long); SQLite's planner needs nothing.
    pub async fn refresh_statistics(&self, tables: &[&str]) -> Result<(), StoreError> {
        if let Db::Pg(pool) = self {
            for table in tables {
                sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}")))
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Pg(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        if let Db::Sqlite(_, readers) = self {
            readers.close();
        }
        on_db!(self, pool => pool.close().await);
    }
}

/// The most of a SQLite archive mapped into memory (1 TiB: all of it).
const MMAP_BYTES: &str = "1099511627776";

async fn open_sqlite(path: &Path) -> Result<SqlitePool, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let target = path.display().to_string();
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{target}"))
        .map_err(|source| StoreError::Open {
            target: target.clone(),
            source,
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // WAL with NORMAL: a killed process never leaves a half-written transaction.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30))
        // 32 MiB of page cache per connection (four connections): bulk writes stay off the
        // disk until commit, and a whole-archive pass stays well under a gigabyte.
        .pragma("cache_size", "-32768")
        // Reads straight from the file mapped into memory (the operating system's cache) rather
        // than a read call and a copy per page: a family page touches a hundred pages spread over
        // a multi-gigabyte archive. Writes still go through the write-ahead log. SQLite caps the
        // mapping at its compile-time limit, raised in .cargo/config.toml.
        .pragma("mmap_size", MMAP_BYTES);
    SqlitePoolOptions::new()
        .max_connections(4)
        // The database is in this process: a connection taken from the pool needs no ping
        // (each is a round trip to the connection's thread, as costly as a small query).
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Open { target, source })
}

/// SQLite connections that answer reads on the thread that asks. A `sqlx` statement is sent to
/// its connection's own thread and its rows sent back: two thread switches, which on a small
/// machine cost more than a family page's reads themselves. A reader is taken for one statement
/// (a snapshot of its own) and put back; there are never more than the threads reading at once.
/// They only read (`query_only`); every write goes through the `sqlx` pool.
#[derive(Clone)]
pub struct Readers {
    inner: Arc<ReadersInner>,
}

struct ReadersInner {
    path: PathBuf,
    /// `None` once closed: readers opened after that are not kept.
    idle: Mutex<Option<Vec<rusqlite::Connection>>>,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Readers kept open between reads (more are opened when more threads read at once).
const IDLE_READERS: usize = 8;

impl Readers {
    fn new(path: &Path) -> Readers {
        Readers {
            inner: Arc::new(ReadersInner {
                path: path.to_owned(),
                idle: Mutex::new(Some(Vec::new())),
            }),
        }
    }

    /// Runs `read` on a reader of this thread's.
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let idle = (self.inner.idle.lock().ok()).and_then(|mut idle| idle.as_mut()?.pop());
        let connection = match idle {
            Some(c) => c,
            None => self.open()?,
        };
        let answer = read(&connection).map_err(|e| reader_error(&self.inner.path, e))?;
        if let Ok(mut idle) = self.inner.idle.lock()
            && let Some(idle) = idle.as_mut()
            && idle.len() < IDLE_READERS
        {
            idle.push(connection);
        }
        Ok(answer)
    }

    /// Closes the idle readers (a reader in use closes when its read ends).
    fn close(&self) {
        if let Ok(mut idle) = self.inner.idle.lock() {
            *idle = None;
        }
    }

    fn open(&self) -> Result<rusqlite::Connection, StoreError> {
        use rusqlite::OpenFlags;
        let path = &self.inner.path;
        let connection = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| reader_error(path, e))?;
        connection
            .busy_timeout(Duration::from_secs(30))
            .map_err(|e| reader_error(path, e))?;
        // Only reads; the page cache and the mapping as the pool's connections have them.
        connection
            .execute_batch(&format!(
                "PRAGMA query_only = ON; PRAGMA cache_size = -8192; PRAGMA mmap_size = {MMAP_BYTES};"
            ))
            .map_err(|e| reader_error(path, e))?;
        connection.set_prepared_statement_cache_capacity(64);
        Ok(connection)
    }
}

fn reader_error(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::Read(format!("{}: {e}", path.display()))
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_appear_in_messages() {
        assert_eq!(
            redact("postgres://guanai:s3cret@db:5432/guanai"),
            "postgres://guanai:***@db:5432/guanai"
        );
        assert_eq!(redact("sqlite://data/guanai.db"), "sqlite://data/guanai.db");
    }
}
