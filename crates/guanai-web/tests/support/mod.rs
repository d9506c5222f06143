//! A web application over a fresh archive for the tests: SQLite by default, or PostgreSQL
//! (`postgres()`); families in two counties, one user per role, and a client that keeps the
//! session cookie and sends the CSRF token like a browser's form would.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guanai_crypto::{Algorithm, Keyring};
use guanai_rules::{Hukou, Policy, ResidentId, Sex, VillageCode, parse_date};
use guanai_store::access::{NewUser, Role, User};
use guanai_store::{Actor, Archive, FactValue, FamilyId, NewFamily, NewPerson, Relation};
use guanai_web::AppState;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Every demo user's password in the tests.
pub const PASSWORD: &str = "correct horse battery";

/// Villages A and A2 (沂南县 371321, one township) and village B (兰山区 371302).
pub const VILLAGE_A: &str = "371321001003";
pub const VILLAGE_A2: &str = "371321001010";
pub const VILLAGE_B: &str = "371302001001";
pub const MOTHER_A: &str = "372832196807050242";

pub struct World {
    pub archive: Archive,
    pub router: Router,
    pub family_a: FamilyId,
    pub family_a2: FamilyId,
    pub family_b: FamilyId,
    pub mother_b_id: String,
    pub users: Vec<User>,
    pub dir: tempfile::TempDir,
    pg_drop: Option<(String, String)>,
}

pub async fn sqlite() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("guanai.db").display());
    let archive = Archive::open(&url, Keyring::generate(Algorithm::Aes256Gcm))
        .await
        .expect("open sqlite");
    world(archive, dir, None).await
}

/// The same world on PostgreSQL, or `None` (with a message) when it is not running outside CI.
pub async fn postgres() -> Option<World> {
    let admin = std::env::var("GUANAI_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("guanai_w_{:016x}", rand_suffix());
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
    let url = format!("{}/{name}", &admin[..admin.rfind('/')?]);
    let archive = Archive::open(&url, Keyring::generate(Algorithm::Sm4Gcm))
        .await
        .expect("open postgres");
    Some(
        world(
            archive,
            tempfile::tempdir().expect("tempdir"),
            Some((admin, name)),
        )
        .await,
    )
}

/// Runs `check` on a SQLite world, then on a PostgreSQL one (when PostgreSQL is reachable).
pub async fn both(check: impl AsyncFn(&World)) {
    let w = sqlite().await;
    check(&w).await;
    w.cleanup().await;
    if let Some(w) = postgres().await {
        check(&w).await;
        w.cleanup().await;
    }
}

fn rand_suffix() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ (u64::from(std::process::id()) << 40)
}

impl World {
    pub async fn cleanup(self) {
        self.archive.db().close().await;
        if let Some((admin, name)) = self.pg_drop {
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

    pub fn user(&self, login: &str) -> &User {
        self.users.iter().find(|u| u.login == login).expect("user")
    }

    /// A client signed in as `login`.
    pub async fn client(&self, login: &str) -> Client {
        let mut c = Client::new(self.router.clone());
        c.sign_in(login, PASSWORD).await;
        c
    }
}

/// A bereaved family in a village: mother with ID number, phone and account; father; the
/// child who died in 2012.
pub fn bereaved(no: &str, village: &str, mother_name: &str, mother_id: &str) -> NewFamily {
    let today = parse_date("2026-11-30").expect("date");
    let village = VillageCode::parse(village).expect("village");
    let d = |s: &str| parse_date(s).expect("date");
    NewFamily {
        family_no: no.to_owned(),
        county_code: village.county(),
        registration: (Hukou::Rural, village, None),
        import_hash: None,
        persons: vec![
            NewPerson {
                relation: Relation::Mother,
                facts: vec![
                    (
                        FactValue::Identity {
                            name: mother_name.into(),
                            sex: Sex::Female,
                            birth_date: d(&format!(
                                "{}-{}-{}",
                                &mother_id[6..10],
                                &mother_id[10..12],
                                &mother_id[12..14]
                            )),
                        },
                        None,
                    ),
                    (
                        FactValue::IdNumber {
                            number: ResidentId::parse(mother_id, today).expect("id"),
                        },
                        None,
                    ),
                    (
                        FactValue::Phone {
                            number: "13812345678".into(),
                        },
                        None,
                    ),
                    (
                        FactValue::BankAccount {
                            bank: "临沂农商银行".into(),
                            account: "6222021234567890123".into(),
                        },
                        None,
                    ),
                ],
            },
            NewPerson {
                relation: Relation::Father,
                facts: vec![(
                    FactValue::Identity {
                        name: "李建国".into(),
                        sex: Sex::Male,
                        birth_date: d("1965-03-12"),
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
                            birth_date: d("1990-01-01"),
                        },
                        None,
                    ),
                    (
                        FactValue::Death {
                            certificate_no: Some("D-2012-001".into()),
                        },
                        Some(d("2012-06-15")),
                    ),
                ],
            },
        ],
    }
}

/// (login, role, area)
pub const USERS: [(&str, Role, &str); 12] = [
    ("village", Role::Village, VILLAGE_A),
    ("township", Role::Township, "371321001"),
    ("county", Role::County, "371321"),
    ("county_b", Role::County, "371302"),
    ("city", Role::City, "371300"),
    ("finance", Role::Finance, "371321"),
    ("finance2", Role::Finance, "371321"),
    ("finance_b", Role::Finance, "371302"),
    ("inspector", Role::Inspector, "371300"),
    ("volunteer", Role::Volunteer, "371321"),
    ("counsellor", Role::Counsellor, "371321"),
    ("admin", Role::Admin, "371300"),
];

async fn world(
    archive: Archive,
    dir: tempfile::TempDir,
    pg_drop: Option<(String, String)>,
) -> World {
    let actor = Actor::new("test");
    let family_a = archive
        .create_family(
            &bereaved("A-001", VILLAGE_A, "王秀英", MOTHER_A),
            &actor,
            "test",
        )
        .await
        .expect("family a");
    let family_a2 = archive
        .create_family(
            &bereaved("A-002", VILLAGE_A2, "张桂兰", "372832196911150227"),
            &actor,
            "test",
        )
        .await
        .expect("family a2");
    let mother_b_id = "371302196503120022".to_owned();
    let family_b = archive
        .create_family(
            &bereaved("B-001", VILLAGE_B, "赵玉梅", &mother_b_id),
            &actor,
            "test",
        )
        .await
        .expect("family b");
    let mut users = Vec::new();
    for (login, role, area) in USERS {
        let user = archive
            .create_user(
                &NewUser {
                    login: login.into(),
                    display_name: format!("测试{login}"),
                    role,
                    area_code: area.into(),
                    password: PASSWORD.into(),
                },
                &actor,
            )
            .await
            .expect("user");
        users.push(user);
    }
    let volunteer = users
        .iter()
        .find(|u| u.login == "volunteer")
        .expect("volunteer")
        .clone();
    archive
        .pair_volunteer(&volunteer, &family_a, &actor)
        .await
        .expect("pair");
    let policy = Policy::embedded("linyi-2014").expect("policy");
    let text = guanai_rules::policy::embedded_text("linyi-2014")
        .expect("policy text")
        .to_owned();
    let state = AppState::new(archive.clone(), policy, text, false);
    World {
        router: guanai_web::router(state),
        archive,
        family_a,
        family_a2,
        family_b,
        mother_b_id,
        users,
        dir,
        pg_drop,
    }
}

/// A browser-like client: keeps the session cookie, reads the CSRF token from pages.
pub struct Client {
    router: Router,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: axum::http::HeaderMap,
    /// The body as sent (downloads).
    pub bytes: Vec<u8>,
}

impl Client {
    pub fn new(router: Router) -> Client {
        Client {
            router,
            cookie: None,
            csrf: None,
        }
    }

    pub async fn send(&mut self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().expect("cookie");
            if let Some(rest) = text.strip_prefix("guanai_session=") {
                let token = rest.split(';').next().unwrap_or("");
                self.cookie = (!token.is_empty()).then(|| token.to_owned());
            }
        }
        let location = headers
            .get(header::LOCATION)
            .map(|v| v.to_str().expect("location").to_owned());
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(token) = csrf_in(&body) {
            self.csrf = Some(token);
        }
        Reply {
            status,
            location,
            body,
            headers,
            bytes: bytes.to_vec(),
        }
    }

    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        if let Some(c) = &self.cookie {
            b = b.header(header::COOKIE, format!("guanai_session={c}"));
        }
        b
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let request = self
            .request("GET", path)
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }

    /// A page in a language (`zh` or `en`), as after switching with `/lang/…`.
    pub async fn get_with_lang(&mut self, path: &str, lang: &str) -> Reply {
        let mut cookies = format!("guanai_lang={lang}");
        if let Some(c) = &self.cookie {
            cookies.push_str(&format!("; guanai_session={c}"));
        }
        let request = Request::builder()
            .method("GET")
            .uri(path)
            .header(header::HOST, "localhost")
            .header(header::COOKIE, cookies)
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }

    /// An API request with a bearer token (no cookies).
    pub async fn get_bearer(&mut self, path: &str, token: &str) -> Reply {
        let request = Request::builder()
            .method("GET")
            .uri(path)
            .header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }

    /// Posts a form with the session's CSRF token added.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        if self.csrf.is_none() {
            self.get("/account").await;
        }
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        all.push(("_csrf", &token));
        self.post_raw(path, &all).await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.send(request).await
    }

    pub async fn sign_in(&mut self, login: &str, password: &str) -> Reply {
        let reply = self
            .post_raw(
                "/login",
                &[("login", login), ("password", password), ("next", "/")],
            )
            .await;
        assert!(
            reply.status == StatusCode::SEE_OTHER || reply.status == StatusCode::UNAUTHORIZED,
            "{}",
            reply.status
        );
        reply
    }
}

/// The CSRF token in a page's forms.
pub fn csrf_in(body: &str) -> Option<String> {
    let at = body.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    let end = body[at..].find('"')?;
    Some(body[at..at + end].to_owned())
}

/// A bereaved family of village A that applied 30 days ago (申请, issue 6): created like the
/// others, then given an application awaiting the village check, so no run pays it before the
/// county's approval. Not in every [`World`] (other tests count three families): the casework
/// tests add one or more (distinct `seq`, family number and mother's name). Returns the family
/// and its application's id.
pub async fn applicant(w: &World, no: &str, mother_name: &str, seq: u16) -> (FamilyId, String) {
    let today = guanai_web::pages::today();
    let mother_id = ResidentId::build(
        &VILLAGE_A[..6],
        parse_date("1966-04-20").expect("date"),
        seq,
    )
    .expect("id");
    let actor = Actor::new("test");
    let family = w
        .archive
        .create_family(
            &bereaved(no, VILLAGE_A, mother_name, mother_id.as_str()),
            &actor,
            "test",
        )
        .await
        .expect("applicant family");
    let applied_on = today.checked_sub(jiff::Span::new().days(30)).expect("date");
    let application = w
        .archive
        .apply(
            &family,
            applied_on,
            &format!("{mother_name}（母亲）"),
            "申请表、户口簿、独生子女证、死亡证明",
            today,
            &actor,
        )
        .await
        .expect("application");
    (family, application)
}

/// The bank's answer to an exported 代发 CSV file: every transfer paid (as
/// crates/guanai/tests/pay_cli.rs). Columns of the CSV: 序号, 业务参考号, 户名, 账号, 开户行,
/// 金额(元), …; its last row is the 合计 (total).
pub fn all_paid(csv: &str) -> String {
    let mut text = String::from("业务参考号,户名,账号,金额(元),状态,失败原因\n");
    for line in csv.trim_start_matches('\u{feff}').lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[0] != "合计" {
            text.push_str(&format!("{},{},{},{},成功,\n", c[1], c[2], c[3], c[5]));
        }
    }
    text
}
