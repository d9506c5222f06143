//! Who may see and do what (issue 5): users and their roles and areas, sign-in with Argon2id
//! and throttling, server-side sessions, API tokens, break-the-glass grants and volunteer
//! pairings. What a user may *see* is decided by [`crate::scope::Scope`]; this module keeps the
//! people and the keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};

use crate::archive::{Archive, now_micros};
use crate::error::StoreError;
use crate::model::{Actor, FamilyId};
use crate::on_db;
use crate::reads::{Flag, Read, Reads};

/// The roles of the programme's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// 村级专干: a village's families.
    Village,
    /// 乡镇专干: a township's families.
    Township,
    /// 县区专干: a county's families, census import, payment runs' preparation.
    County,
    /// 市级专干: the whole city.
    City,
    /// 财务人员: payment runs, bank files, the ledger of their area.
    Finance,
    /// 督查人员: reads everything city-wide, masked, and the audit log; changes nothing.
    Inspector,
    /// 志愿者: only the families paired to them, only what a visit needs.
    Volunteer,
    /// 心理咨询师 (the counselling team, 二(一)): only the families referred to them; reads
    /// and writes counselling notes, which no other role reads.
    Counsellor,
    /// 系统管理员: users and areas; no family data.
    Admin,
}

pub const ALL_ROLES: [Role; 9] = [
    Role::Village,
    Role::Township,
    Role::County,
    Role::City,
    Role::Finance,
    Role::Inspector,
    Role::Volunteer,
    Role::Counsellor,
    Role::Admin,
];

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Village => "village",
            Role::Township => "township",
            Role::County => "county",
            Role::City => "city",
            Role::Finance => "finance",
            Role::Inspector => "inspector",
            Role::Volunteer => "volunteer",
            Role::Counsellor => "counsellor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        ALL_ROLES.into_iter().find(|r| r.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Village => "村级专干",
            Role::Township => "乡镇专干",
            Role::County => "县区专干",
            Role::City => "市级专干",
            Role::Finance => "财务人员",
            Role::Inspector => "督查人员",
            Role::Volunteer => "志愿者",
            Role::Counsellor => "心理咨询师",
            Role::Admin => "系统管理员",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Village => "Village caseworker",
            Role::Township => "Township caseworker",
            Role::County => "County caseworker",
            Role::City => "City caseworker",
            Role::Finance => "Finance officer",
            Role::Inspector => "Inspector",
            Role::Volunteer => "Volunteer",
            Role::Counsellor => "Counsellor",
            Role::Admin => "Administrator",
        }
    }

    /// The area levels a user of this role may be placed at.
    pub fn area_levels(self) -> &'static [&'static str] {
        match self {
            Role::Village => &["village"],
            Role::Township => &["town"],
            Role::County => &["county"],
            Role::City | Role::Inspector | Role::Admin => &["city"],
            Role::Finance => &["county", "city"],
            Role::Volunteer => &["county", "town", "village"],
            Role::Counsellor => &["county", "city"],
        }
    }

    /// Caseworkers record facts and corrections in their area.
    pub fn can_record(self) -> bool {
        matches!(
            self,
            Role::Village | Role::Township | Role::County | Role::City
        )
    }

    /// May reveal an unmasked ID number, phone or bank account (with a reason, audited).
    pub fn can_reveal(self) -> bool {
        matches!(
            self,
            Role::Village | Role::Township | Role::County | Role::City | Role::Finance
        )
    }

    /// Lists the documents on a family's file (材料: kind, title, file name, size, who uploaded
    /// them; never the content): the roles that read the whole file, inspectors included.
    /// Volunteers and counsellors see only what their visits and sessions need, and
    /// administrators no family data.
    pub fn sees_documents(self) -> bool {
        self.sees_families() && !self.works_by_assignment()
    }

    /// Opens a document's content — a death or disability certificate, an invoice, a bank card
    /// is as private as an ID number — so exactly the roles that may unmask one
    /// ([`Role::can_reveal`]: caseworkers, and finance officers, whose payments the invoices
    /// and bank cards support), for a stated reason, audited. Inspectors read masked and so
    /// see the list only.
    pub fn opens_documents(self) -> bool {
        self.can_reveal()
    }

    /// Attaches documents to a family's file and withdraws mistaken ones: the caseworkers who
    /// record its facts ([`Role::can_record`]), in their own area.
    pub fn attaches_documents(self) -> bool {
        self.can_record()
    }

    /// Builds, checks, approves and exports payment runs and imports bank results.
    pub fn can_pay(self) -> bool {
        matches!(self, Role::Finance)
    }

    /// Sees payment runs and the ledger (read only unless [`Role::can_pay`]).
    pub fn sees_payments(self) -> bool {
        matches!(
            self,
            Role::County | Role::City | Role::Finance | Role::Inspector
        )
    }

    /// Imports census files.
    pub fn can_import(self) -> bool {
        matches!(self, Role::County | Role::City)
    }

    /// Manages users.
    pub fn can_admin(self) -> bool {
        matches!(self, Role::Admin)
    }

    /// Reads the audit log.
    pub fn can_read_audit(self) -> bool {
        matches!(self, Role::Inspector | Role::Admin)
    }

    /// Works only with the families assigned to them (volunteers' pairings, counsellors'
    /// referrals) and sees only what that work needs.
    pub fn works_by_assignment(self) -> bool {
        matches!(self, Role::Volunteer | Role::Counsellor)
    }

    /// Sees the statistical tables of their area (三(三)).
    pub fn sees_reports(self) -> bool {
        matches!(
            self,
            Role::Village
                | Role::Township
                | Role::County
                | Role::City
                | Role::Finance
                | Role::Inspector
        )
    }

    /// Sees the county assessment and the spot checks of their county or the city.
    pub fn sees_assessment(self) -> bool {
        matches!(
            self,
            Role::County | Role::City | Role::Finance | Role::Inspector
        )
    }

    /// Draws spot checks and records their findings (不定期抽查: the city's inspectors and
    /// caseworkers, never the county inspected).
    pub fn can_spot_check(self) -> bool {
        matches!(self, Role::City | Role::Inspector)
    }

    /// Sees families at all (administrators do not).
    pub fn sees_families(self) -> bool {
        !matches!(self, Role::Admin)
    }
}

/// A user of the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub area_code: String,
    pub active: bool,
}

impl User {
    /// The user as recorded with their changes.
    pub fn actor(&self) -> Actor {
        Actor::new(format!("{} ({})", self.login, self.display_name))
    }

    /// The prefix of the village codes in this user's area: the city `3713`, a county's six
    /// digits, a township's nine, a village's twelve.
    pub fn area_prefix(&self) -> &str {
        area_prefix(&self.area_code)
    }
}

/// The prefix of the village codes inside an area code.
pub fn area_prefix(code: &str) -> &str {
    if code == CITY_CODE { &code[..4] } else { code }
}

/// Linyi City's area code.
pub const CITY_CODE: &str = "371300";

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub area_code: String,
    pub password: String,
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Failed sign-ins before a login is locked, and the first lock's length (doubling after).
pub const FAILURES_BEFORE_LOCK: i64 = 5;
pub const FIRST_LOCK: Duration = Duration::from_secs(15 * 60);
const LONGEST_LOCK: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a session lives without use, and at most.
pub const SESSION_IDLE: Duration = Duration::from_secs(2 * 60 * 60);
pub const SESSION_MAX: Duration = Duration::from_secs(12 * 60 * 60);

/// The outcome of a sign-in.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the user and the session token for the cookie.
    Accepted { user: User, token: String },
    /// Wrong login or password (which one is not said).
    Refused,
    /// Too many failures: refused until this time (microseconds since the epoch).
    Locked { until_micros: i64 },
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
}

/// A break-the-glass grant.
#[derive(Debug, Clone)]
pub struct AccessGrant {
    pub grant_id: String,
    pub user_login: String,
    pub user_name: String,
    pub family_id: FamilyId,
    pub county_code: String,
    pub reason: String,
    pub granted_at: i64,
    pub expires_at: i64,
}

/// The longest break-the-glass grant.
pub const LONGEST_GRANT: Duration = Duration::from_secs(72 * 60 * 60);

fn random_token() -> String {
    crate::bulk::hex(&rand::random::<[u8; 32]>())
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A session's last use is written at most once a minute.
const TOUCH_EVERY: i64 = 60_000_000;

/// The sessions whose last use this process wrote lately. Every request of a busy session finds
/// it a minute old at the same moment; without this, each wrote it again, all queued for
/// SQLite's write lock (whose busy waits sleep up to 100 ms), and the pages stalled.
#[derive(Clone, Default)]
pub(crate) struct Touched {
    at: Arc<Mutex<HashMap<Vec<u8>, i64>>>,
}

impl Touched {
    /// Whether this request is the one to write the session's last use.
    fn claim(&self, hash: &[u8], now: i64) -> bool {
        let Ok(mut at) = self.at.lock() else {
            return true;
        };
        if at.get(hash).is_some_and(|t| now - *t < TOUCH_EVERY) {
            return false;
        }
        if at.len() >= 10_000 {
            at.retain(|_, t| now - *t < TOUCH_EVERY);
        }
        at.insert(hash.to_vec(), now);
        true
    }
}

type UserRow = (String, String, String, String, String, bool);
/// A user's columns, then the session's CSRF token, last use and expiry.
type SessionRow = (
    String,
    String,
    String,
    String,
    String,
    Flag,
    String,
    i64,
    i64,
);
/// grant id, login, name, family, county, reason, granted at, expires at.
type GrantRow = (String, String, String, String, String, String, i64, i64);

fn user_of(row: UserRow) -> Result<User, StoreError> {
    let (user_id, login, display_name, role, area_code, active) = row;
    let role = Role::parse(&role)
        .ok_or_else(|| StoreError::Corrupt(format!("user {login}: unknown role {role}")))?;
    Ok(User {
        user_id,
        login,
        display_name,
        role,
        area_code,
        active,
    })
}

const USER_COLUMNS: &str = "u.user_id, u.login, u.display_name, u.role, u.area_code, u.active";

/// `UserRow` as `Reads` hands it over.
pub(crate) type ReadUserRow = (String, String, String, String, String, Flag);

/// The active volunteers and counsellors of one area, by login (see
/// `Archive::helpers_covering`, which asks for the four areas that cover a village).
pub(crate) fn helpers_read(area: &str) -> Read {
    Read::new(
        "helpers",
        USER_COLUMNS,
        "FROM app_user u WHERE u.role IN ('volunteer', 'counsellor') AND u.active AND u.area_code = $1",
    )
    .order("u.login")
    .arg(area)
}

/// The areas whose helpers may serve a family of `village`: the city, its county, its township
/// and the village itself.
pub(crate) fn helper_areas(village: &str) -> [&str; 4] {
    [
        CITY_CODE,
        village.get(..6).unwrap_or_default(),
        village.get(..9).unwrap_or_default(),
        village,
    ]
}

/// The helpers of several areas, by login.
pub(crate) fn helpers_from(rows: Vec<Vec<ReadUserRow>>) -> Result<Vec<User>, StoreError> {
    let mut users = rows
        .into_iter()
        .flatten()
        .map(|(id, login, name, role, area, active)| {
            user_of((id, login, name, role, area, active.0))
        })
        .collect::<Result<Vec<_>, _>>()?;
    users.sort_by(|a, b| a.login.cmp(&b.login));
    Ok(users)
}

/// Hashes a password with Argon2id (on a blocking thread: it takes tens of milliseconds).
async fn hash_password(password: String) -> Result<String, StoreError> {
    tokio::task::spawn_blocking(move || {
        let hash: PasswordHash = Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|e| StoreError::Corrupt(format!("password hash: {e}")))?;
        Ok(hash.to_string())
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("password hash task: {e}")))?
}

/// Checks a password against a stored hash (on a blocking thread).
async fn verify_password(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordVerifier::<str>::verify_password(&Argon2::default(), password.as_bytes(), &stored)
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A hash nobody's password matches, verified for unknown logins so that timing does not tell
/// which logins exist.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$3Q0F5ZQ4m6jv3w0xj7m2m4bJ8eHf3YQv3wq6m4o2bXQ";

fn check_password_rules(password: &str) -> Result<(), StoreError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::invalid(
            "password",
            format!(
                "密码至少 {MIN_PASSWORD_CHARS} 个字符 / at least {MIN_PASSWORD_CHARS} characters"
            ),
        ));
    }
    Ok(())
}

impl Archive {
    /// Creates a user; the login must be new and the area must fit the role.
    pub async fn create_user(&self, new: &NewUser, actor: &Actor) -> Result<User, StoreError> {
        let login = new.login.trim();
        if login.is_empty()
            || login.len() > 64
            || !login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(StoreError::invalid(
                "login",
                "登录名只能用字母、数字和 . _ - (1–64 个) / letters, digits and . _ - only",
            ));
        }
        let display_name = new.display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 40 {
            return Err(StoreError::invalid(
                "display_name",
                "姓名必填,最多 40 字 / a name of 1–40 characters is required",
            ));
        }
        check_password_rules(&new.password)?;
        let level: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT level FROM area WHERE code = $1")
                .bind(&new.area_code)
                .fetch_optional(pool)
                .await?
        });
        let Some(level) = level else {
            return Err(StoreError::invalid(
                "area_code",
                format!(
                    "不是临沂市的区划代码 / not a Linyi area code: {}",
                    new.area_code
                ),
            ));
        };
        if !new.role.area_levels().contains(&level.as_str()) {
            return Err(StoreError::invalid(
                "area_code",
                format!(
                    "{}只能设在{}一级 / a {} works at {} level",
                    new.role.label_zh(),
                    new.role
                        .area_levels()
                        .iter()
                        .map(|l| level_zh(l))
                        .collect::<Vec<_>>()
                        .join("或"),
                    new.role.label_en(),
                    new.role.area_levels().join(" or ")
                ),
            ));
        }
        let hash = hash_password(new.password.clone()).await?;
        let user_id = format!("U{:032x}", rand::random::<u128>());
        let now = now_micros();
        let inserted = on_db!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            let taken: Option<String> = sqlx::query_scalar("SELECT user_id FROM app_user WHERE login = $1")
                .bind(login)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() {
                false
            } else {
                sqlx::query(
                    "INSERT INTO app_user (user_id, login, display_name, role, area_code, password_hash, active, created_at, created_by, password_set_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $7)",
                )
                .bind(&user_id)
                .bind(login)
                .bind(display_name)
                .bind(new.role.as_str())
                .bind(&new.area_code)
                .bind(&hash)
                .bind(now)
                .bind(&actor.name)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                true
            }
        });
        if !inserted {
            return Err(StoreError::invalid(
                "login",
                format!("登录名已被使用 / the login {login} is taken"),
            ));
        }
        self.audit(
            actor,
            "user.create",
            &format!("user:{login}"),
            &format!("{} {}", new.role.as_str(), new.area_code),
        )
        .await?;
        Ok(User {
            user_id,
            login: login.to_owned(),
            display_name: display_name.to_owned(),
            role: new.role,
            area_code: new.area_code.clone(),
            active: true,
        })
    }

    /// Every user, by login.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM app_user u ORDER BY u.login")))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(user_of).collect()
    }

    /// The active volunteers and counsellors whose area holds a village (its county, township or
    /// itself, or the city), by login: the people who can be paired with a family living there,
    /// read without loading every user of the city.
    pub async fn helpers_covering(&self, village: &str) -> Result<Vec<User>, StoreError> {
        let mut reads = Reads::default();
        let slots = helper_areas(village).map(|area| reads.add(helpers_read(area)));
        let answers = reads.run(self.db()).await?;
        helpers_from(
            slots
                .into_iter()
                .map(|slot| answers.rows(slot))
                .collect::<Result<_, _>>()?,
        )
    }

    /// One user by id.
    pub async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM app_user u WHERE u.user_id = $1")))
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(user_of).transpose()
    }

    /// One user by login.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM app_user u WHERE u.login = $1")))
                .bind(login)
                .fetch_optional(pool)
                .await?
        });
        row.map(user_of).transpose()
    }

    /// Sets a user's password and ends all their sessions.
    pub async fn set_password(
        &self,
        user_id: &str,
        password: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        check_password_rules(password)?;
        let hash = hash_password(password.to_owned()).await?;
        let now = now_micros();
        let changed = on_db!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE app_user SET password_hash = $1, password_set_at = $2 WHERE user_id = $3")
                .bind(&hash)
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM app_session WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
            done.rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::invalid(
                "user",
                format!("no such user {user_id}"),
            ));
        }
        self.audit(
            actor,
            "user.password",
            &format!("user-id:{user_id}"),
            "password changed; sessions ended",
        )
        .await
    }

    /// Checks a user's current password (for a password change).
    pub async fn check_password(&self, user_id: &str, password: &str) -> Result<bool, StoreError> {
        let stored: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT password_hash FROM app_user WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(match stored {
            Some(hash) => verify_password(password.to_owned(), hash).await,
            None => false,
        })
    }

    /// Activates or deactivates a user; deactivation ends their sessions and tokens' use.
    pub async fn set_user_active(
        &self,
        user_id: &str,
        active: bool,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        on_db!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE app_user SET active = $1 WHERE user_id = $2")
                .bind(active)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            if !active {
                sqlx::query("DELETE FROM app_session WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.audit(
            actor,
            if active {
                "user.activate"
            } else {
                "user.deactivate"
            },
            &format!("user-id:{user_id}"),
            "",
        )
        .await
    }

    /// Signs in: throttled per login; on success a new server-side session.
    pub async fn sign_in(&self, login: &str, password: &str) -> Result<SignIn, StoreError> {
        let now = now_micros();
        let login = login.trim();
        let locked: Option<i64> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE login = $1")
                .bind(login)
                .fetch_optional(pool)
                .await?
        });
        if let Some(until) = locked.filter(|&until| until > now) {
            return Ok(SignIn::Locked {
                until_micros: until,
            });
        }
        let row: Option<(String, String, bool)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT user_id, password_hash, active FROM app_user WHERE login = $1")
                .bind(login)
                .fetch_optional(pool)
                .await?
        });
        let (user_id, stored, active) = match row {
            Some(r) => r,
            None => (String::new(), DECOY_HASH.to_owned(), false),
        };
        let matches = verify_password(password.to_owned(), stored).await;
        if !(matches && active) {
            on_db!(self.db(), pool => {
                let mut tx = pool.begin().await?;
                let failures: i64 = sqlx::query_scalar(
                    "INSERT INTO login_throttle (login, failures, locked_until) VALUES ($1, 1, 0) \
                     ON CONFLICT (login) DO UPDATE SET failures = login_throttle.failures + 1 RETURNING failures",
                )
                .bind(login)
                .fetch_one(&mut *tx)
                .await?;
                if failures >= FAILURES_BEFORE_LOCK {
                    let doublings = u32::try_from(failures - FAILURES_BEFORE_LOCK).unwrap_or(u32::MAX).min(8);
                    let lock = micros(FIRST_LOCK).saturating_mul(1 << doublings).min(micros(LONGEST_LOCK));
                    sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE login = $2")
                        .bind(now + lock)
                        .bind(login)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            });
            self.audit(
                &Actor::new(login),
                "signin.refused",
                &format!("user:{login}"),
                "",
            )
            .await?;
            return Ok(SignIn::Refused);
        }
        let token = random_token();
        let csrf = random_token();
        on_db!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM login_throttle WHERE login = $1").bind(login).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM app_session WHERE expires_at < $1").bind(now).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO app_session (token_hash, user_id, csrf_token, created_at, last_seen, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(token_hash(&token))
            .bind(&user_id)
            .bind(&csrf)
            .bind(now)
            .bind(now + micros(SESSION_MAX))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        let Some(user) = self.user(&user_id).await? else {
            return Ok(SignIn::Refused);
        };
        self.audit(&user.actor(), "signin", &format!("user:{}", user.login), "")
            .await?;
        Ok(SignIn::Accepted { user, token })
    }

    /// The live session of a cookie token: not expired, not idle too long, its user active.
    /// Its last use is refreshed (at most once a minute).
    pub async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let now = now_micros();
        let hash = token_hash(token);
        // Asked on every page: a read (see `reads`), so on SQLite it runs on this thread.
        let rows: Vec<SessionRow> = Read::new(
            "session",
            format!("{USER_COLUMNS}, s.csrf_token, s.last_seen, s.expires_at"),
            "FROM app_session s JOIN app_user u ON u.user_id = s.user_id WHERE s.token_hash = $1",
        )
        .arg(hash.clone())
        .rows(self.db())
        .await?;
        let Some((id, login, name, role, area, Flag(active), csrf, last_seen, expires_at)) =
            rows.into_iter().next()
        else {
            return Ok(None);
        };
        if !active || expires_at <= now || last_seen + micros(SESSION_IDLE) <= now {
            self.sign_out(token).await?;
            return Ok(None);
        }
        if now - last_seen > TOUCH_EVERY && self.touched.claim(&hash, now) {
            on_db!(self.db(), pool => {
                sqlx::query("UPDATE app_session SET last_seen = $1 WHERE token_hash = $2")
                    .bind(now)
                    .bind(&hash)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(Some(Session {
            user: user_of((id, login, name, role, area, active))?,
            csrf_token: csrf,
        }))
    }

    /// Ends a session.
    pub async fn sign_out(&self, token: &str) -> Result<(), StoreError> {
        on_db!(self.db(), pool => {
            sqlx::query("DELETE FROM app_session WHERE token_hash = $1")
                .bind(token_hash(token))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// A new API token for a user (shown once; only its hash is kept).
    pub async fn create_api_token(
        &self,
        user_id: &str,
        label: &str,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        let token = format!("gat_{}", random_token());
        on_db!(self.db(), pool => {
            sqlx::query("INSERT INTO api_token (token_hash, user_id, label, created_at, revoked) VALUES ($1, $2, $3, $4, FALSE)")
                .bind(token_hash(&token))
                .bind(user_id)
                .bind(label)
                .bind(now_micros())
                .execute(pool)
                .await?;
        });
        self.audit(actor, "token.create", &format!("user-id:{user_id}"), label)
            .await?;
        Ok(token)
    }

    /// The active user an API token acts for.
    pub async fn token_user(&self, token: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM api_token t JOIN app_user u ON u.user_id = t.user_id \
                 WHERE t.token_hash = $1 AND t.revoked = FALSE AND u.active = TRUE"
            )))
            .bind(token_hash(token))
            .fetch_optional(pool)
            .await?
        });
        row.map(user_of).transpose()
    }

    /// Breaks the glass: read access to one family outside the user's area for `hours`, with a
    /// reason. Audited, and listed for the family's county.
    pub async fn grant_access(
        &self,
        user: &User,
        family: &FamilyId,
        reason: &str,
        length: Duration,
    ) -> Result<AccessGrant, StoreError> {
        let reason = reason.trim();
        if reason.chars().count() < 4 {
            return Err(StoreError::invalid(
                "reason",
                "请写明需要查看这户家庭的理由 / state why you need this family's file",
            ));
        }
        if length.is_zero() || length > LONGEST_GRANT {
            return Err(StoreError::invalid(
                "hours",
                format!(
                    "1–{} 小时 / 1 to {} hours",
                    LONGEST_GRANT.as_secs() / 3600,
                    LONGEST_GRANT.as_secs() / 3600
                ),
            ));
        }
        if !user.role.can_record() && user.role != Role::Finance {
            return Err(StoreError::invalid(
                "role",
                "只有专干和财务人员可以申请临时查看 / only caseworkers and finance officers may break the glass",
            ));
        }
        let county: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT county_code FROM family WHERE family_id = $1")
                .bind(family.as_str())
                .fetch_optional(pool)
                .await?
        });
        let Some(county) = county else {
            return Err(StoreError::FamilyNotFound(family.to_string()));
        };
        let now = now_micros();
        let grant = AccessGrant {
            grant_id: format!("G{:032x}", rand::random::<u128>()),
            user_login: user.login.clone(),
            user_name: user.display_name.clone(),
            family_id: family.clone(),
            county_code: county,
            reason: reason.to_owned(),
            granted_at: now,
            expires_at: now + micros(length),
        };
        on_db!(self.db(), pool => {
            sqlx::query(
                "INSERT INTO access_grant (grant_id, user_id, family_id, county_code, reason, granted_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&grant.grant_id)
            .bind(&user.user_id)
            .bind(family.as_str())
            .bind(&grant.county_code)
            .bind(&grant.reason)
            .bind(grant.granted_at)
            .bind(grant.expires_at)
            .execute(pool)
            .await?;
        });
        self.audit(&user.actor(), "access.break_glass", family.as_str(), reason)
            .await?;
        Ok(grant)
    }

    /// Break-the-glass grants on families of an area (a county sees who looked at its families),
    /// newest first.
    pub async fn grants_in(
        &self,
        area_prefix: &str,
        limit: i64,
    ) -> Result<Vec<AccessGrant>, StoreError> {
        let rows: Vec<GrantRow> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT g.grant_id, u.login, u.display_name, g.family_id, g.county_code, g.reason, g.granted_at, g.expires_at \
                 FROM access_grant g JOIN app_user u ON u.user_id = g.user_id \
                 WHERE g.county_code >= $1 AND g.county_code < $2 ORDER BY g.granted_at DESC LIMIT $3",
            )
            .bind(&area_prefix[..area_prefix.len().min(6)])
            .bind(format!("{};", &area_prefix[..area_prefix.len().min(6)]))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(
                    grant_id,
                    user_login,
                    user_name,
                    family,
                    county_code,
                    reason,
                    granted_at,
                    expires_at,
                )| AccessGrant {
                    grant_id,
                    user_login,
                    user_name,
                    family_id: FamilyId::from_db(family),
                    county_code,
                    reason,
                    granted_at,
                    expires_at,
                },
            )
            .collect())
    }

    /// Pairs a volunteer with a family (one-to-one help, 二(一)).
    pub async fn pair_volunteer(
        &self,
        volunteer: &User,
        family: &FamilyId,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        if volunteer.role != Role::Volunteer {
            return Err(StoreError::invalid(
                "volunteer",
                format!("{} is not a volunteer", volunteer.login),
            ));
        }
        let village: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT village_code FROM family_place WHERE family_id = $1")
                .bind(family.as_str())
                .fetch_optional(pool)
                .await?
        });
        let Some(village) = village else {
            return Err(StoreError::FamilyNotFound(family.to_string()));
        };
        if !village.starts_with(volunteer.area_prefix()) {
            return Err(StoreError::invalid(
                "family",
                "这户家庭不在志愿者的服务区域内 / the family is outside the volunteer's area",
            ));
        }
        if let Some((on, _)) = self.pairing_refusal(family).await? {
            return Err(StoreError::invalid(
                "family",
                format!("这户家庭已于 {on} 表示不需要志愿者结对 / the family refused pairing"),
            ));
        }
        on_db!(self.db(), pool => {
            sqlx::query(
                "INSERT INTO volunteer_pairing (user_id, family_id, paired_at, paired_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, family_id) DO NOTHING",
            )
            .bind(&volunteer.user_id)
            .bind(family.as_str())
            .bind(now_micros())
            .bind(&actor.name)
            .execute(pool)
            .await?;
        });
        self.audit(actor, "volunteer.pair", family.as_str(), &volunteer.login)
            .await
    }
}

/// 市/县/乡镇/村 for an area level.
pub fn level_zh(level: &str) -> &'static str {
    match level {
        "city" => "市",
        "county" => "县区",
        "town" => "乡镇",
        "village" => "村",
        _ => "?",
    }
}
