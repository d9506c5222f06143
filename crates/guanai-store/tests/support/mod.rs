//! Test backends shared by the store's integration tests: a fresh SQLite file, and a fresh
//! PostgreSQL database on the service at 127.0.0.1:5432 (or `GUANAI_TEST_POSTGRES`). Without
//! PostgreSQL its half is skipped with a message, except in CI (`CI` set), where it fails.

#![allow(dead_code)]

use guanai_crypto::{Algorithm, Keyring};
use guanai_store::Archive;

pub struct Backend {
    pub archive: Archive,
    pub label: &'static str,
    pub sqlite_file: Option<std::path::PathBuf>,
    pub pg_drop: Option<(String, String)>,
    pub dir: tempfile::TempDir,
}

pub async fn sqlite() -> Backend {
    sqlite_with(Keyring::generate(Algorithm::Aes256Gcm)).await
}

pub async fn sqlite_with(keys: Keyring) -> Backend {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("data").join("guanai.db");
    let archive = Archive::open(&format!("sqlite://{}", path.display()), keys)
        .await
        .expect("open sqlite");
    Backend {
        archive,
        label: "sqlite",
        sqlite_file: Some(path),
        pg_drop: None,
        dir,
    }
}

pub async fn postgres() -> Option<Backend> {
    postgres_with(Keyring::generate(Algorithm::Sm4Gcm)).await
}

pub async fn postgres_with(keys: Keyring) -> Option<Backend> {
    let admin = std::env::var("GUANAI_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("guanai_t_{:016x}", rand_suffix());
    let created = async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await
    }
    .await;
    if let Err(e) = created {
        if std::env::var_os("CI").is_some() {
            panic!("PostgreSQL is required in CI but not reachable at {admin}: {e}");
        }
        eprintln!(
            "SKIPPED the PostgreSQL half of this test: PostgreSQL not reachable at {admin}: {e}"
        );
        return None;
    }
    let url = match admin.rfind('/') {
        Some(i) => format!("{}/{name}", &admin[..i]),
        None => return None,
    };
    let archive = Archive::open(&url, keys).await.expect("open postgres");
    Some(Backend {
        archive,
        label: "postgres",
        sqlite_file: None,
        pg_drop: Some((admin, name)),
        dir: tempfile::tempdir().expect("tempdir"),
    })
}

pub fn rand_suffix() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ (u64::from(std::process::id()) << 40) ^ (&t as *const u64 as u64)
}

pub async fn cleanup(b: Backend) {
    b.archive.db().close().await;
    if let Some((admin, name)) = b.pg_drop {
        use sqlx::Connection;
        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// A rural census family of `village`: a mother (王秀英, 1962) whose only child (李明, 1988) died
/// in 2015.
pub fn census_family(no: &str, village: &str) -> guanai_store::NewFamily {
    use guanai_rules::{Hukou, Sex, VillageCode, parse_date};
    use guanai_store::{FactValue, NewFamily, NewPerson, Relation};
    let d = |s: &str| parse_date(s).expect("date");
    let village = VillageCode::parse(village).expect("village");
    NewFamily {
        family_no: no.into(),
        county_code: village.county(),
        registration: (Hukou::Rural, village, None),
        persons: vec![
            NewPerson {
                relation: Relation::Mother,
                facts: vec![(
                    FactValue::Identity {
                        name: "王秀英".into(),
                        sex: Sex::Female,
                        birth_date: d("1962-01-01"),
                    },
                    None,
                )],
            },
            NewPerson {
                relation: Relation::Child,
                facts: vec![
                    (
                        FactValue::Identity {
                            name: "李明".into(),
                            sex: Sex::Male,
                            birth_date: d("1988-01-01"),
                        },
                        None,
                    ),
                    (
                        FactValue::Death {
                            certificate_no: None,
                        },
                        Some(d("2015-06-15")),
                    ),
                ],
            },
        ],
        import_hash: None,
    }
}

/// A user of the web application, created by the administrator.
pub async fn user(
    a: &Archive,
    login: &str,
    role: guanai_store::access::Role,
    area: &str,
) -> guanai_store::access::User {
    a.create_user(
        &guanai_store::access::NewUser {
            login: login.into(),
            display_name: login.into(),
            role,
            area_code: area.into(),
            password: "correct horse battery".into(),
        },
        &guanai_store::Actor::new("admin"),
    )
    .await
    .expect("user")
}

/// Runs the body against SQLite, then PostgreSQL.
#[macro_export]
macro_rules! on_both {
    (|$b:ident| $body:block) => {{
        let mut backends = vec![support::sqlite().await];
        backends.extend(support::postgres().await);
        for $b in backends {
            $body
            support::cleanup($b).await;
        }
    }};
}
