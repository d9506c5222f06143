//! Drives the real binary on SQLite and on PostgreSQL (127.0.0.1:5432 or `GUANAI_TEST_POSTGRES`;
//! skipped with a message when unreachable, except in CI): changes are audited,
//! `guanai audit verify` passes on an untouched log and fails (exit 1, naming the entry) once
//! someone edits the database behind its back, and `guanai audit list` filters.

use std::path::Path;
use std::process::{Command, Output};

/// Where the archive lives: the default SQLite file in `data`, or a PostgreSQL database.
struct Target<'a> {
    data: &'a Path,
    database: Option<String>,
}

impl Target<'_> {
    fn run(&self, args: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_guanai"));
        c.env_remove("GUANAI_KEY")
            .env_remove("GUANAI_DATABASE_URL")
            .env_remove("GUANAI_KEY_FILE")
            .env("GUANAI_DATA_DIR", self.data)
            .env("GUANAI_OPERATOR", "测试员");
        if let Some(url) = &self.database {
            c.env("GUANAI_DATABASE_URL", url);
        }
        c.args(args).output().expect("guanai runs")
    }

    fn url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data.join("guanai.db").display()))
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs SQL on the archive's database through the store's own database layer.
fn tamper(url: &str, sql: &'static str) {
    runtime().block_on(async {
        let db = guanai_store::Db::open(url).await.expect("open");
        guanai_store::on_db!(&db, pool => {
            sqlx::query(sql).execute(pool).await.expect("tamper");
        });
        db.close().await;
    });
}

fn admin_url() -> String {
    std::env::var("GUANAI_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Runs `sql` on the PostgreSQL service; `Err` when it cannot be reached.
fn admin(sql: String) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    runtime().block_on(async {
        let mut conn = sqlx::PgConnection::connect(&admin_url()).await?;
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await?;
        conn.close().await
    })
}

fn scenario(t: &Target<'_>, label: &str) {
    for (name, phone) in [("张三", "0539-1234567"), ("李四", "0539-7654321")] {
        let o = t.run(&[
            "contact", "set", "--area", "371321", "--name", name, "--phone", phone,
        ]);
        assert!(o.status.success(), "{label}: {}", stderr(&o));
    }
    let o = t.run(&["contact", "set", "--area", "371300", "--name", "王五"]);
    assert!(o.status.success(), "{label}: {}", stderr(&o));

    let o = t.run(&["audit", "verify"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{label}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("审计日志完整 / audit log intact: 3 entries"),
        "{label}: {}",
        stdout(&o)
    );

    let head = stdout(&o)
        .lines()
        .find_map(|l| l.strip_prefix("链头 / head: "))
        .expect("the head is printed")
        .to_owned();
    let o = t.run(&["audit", "verify", "--head", &head]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{label}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    let o = t.run(&["contact", "set", "--area", "371300", "--name", "赵六"]);
    assert!(o.status.success(), "{label}: {}", stderr(&o));
    let o = t.run(&["audit", "verify", "--head", &head]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{label}: a later entry keeps the kept head valid: {}",
        stdout(&o)
    );
    let wrong = format!("3:{}", "0".repeat(64));
    let o = t.run(&["audit", "verify", "--head", &wrong]);
    assert_eq!(o.status.code(), Some(1), "{label}: {}", stdout(&o));
    assert!(stdout(&o).contains("rewritten"), "{label}: {}", stdout(&o));

    let o = t.run(&["audit", "list", "--target", "371321", "--limit", "1"]);
    assert!(o.status.success(), "{label}: {}", stderr(&o));
    let listed = stdout(&o);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "{label}: one entry and the count:\n{listed}"
    );
    assert!(
        lines[0].trim_start().starts_with("2 ")
            && lines[0].contains("测试员")
            && lines[0].contains("contact.set"),
        "{label}: {listed}"
    );
    assert!(lines[1].contains("of 2"), "{label}: {listed}");
    assert!(!listed.contains("0539"), "no phones in the log");

    tamper(&t.url(), "UPDATE audit SET reason = '无' WHERE seq = 2");
    let o = t.run(&["audit", "verify"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{label}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("at entry 2") && stdout(&o).contains("altered"),
        "{label}: {}",
        stdout(&o)
    );

    let o = t.run(&["audit", "list", "--from", "2026-02-30"]);
    assert_eq!(o.status.code(), Some(2), "a bad date is a usage error");
}

#[test]
fn verify_passes_on_an_untouched_log_and_names_the_entry_someone_edited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    scenario(
        &Target {
            data: &data,
            database: None,
        },
        "sqlite",
    );

    let name = format!("guanai_cli_{}", std::process::id());
    if let Err(e) = admin(format!("CREATE DATABASE {name}")) {
        if std::env::var_os("CI").is_some() {
            panic!("PostgreSQL is required in CI but not reachable: {e}");
        }
        eprintln!("SKIPPED the PostgreSQL half of this test: PostgreSQL not reachable: {e}");
        return;
    }
    let admin_url = admin_url();
    let base = &admin_url[..admin_url.rfind('/').expect("database in the URL")];
    let pg_data = dir.path().join("pg");
    let outcome = std::panic::catch_unwind(|| {
        scenario(
            &Target {
                data: &pg_data,
                database: Some(format!("{base}/{name}")),
            },
            "postgres",
        )
    });
    let _ = admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
