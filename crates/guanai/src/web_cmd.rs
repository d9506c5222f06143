//! `guanai serve` (the web application and the JSON API), `guanai user …` (accounts, API
//! tokens, volunteer pairings) and `guanai demo` (a fresh archive with synthetic Linyi data and
//! one account per role, served at once).

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use guanai_store::Archive;
use guanai_store::access::{ALL_ROLES, NewUser, Role};
use guanai_web::AppState;

use crate::archive_cmd::{ArchiveArgs, runtime};
use crate::cli::PolicyChoice;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GUANAI_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Send the session cookie without `Secure`, for plain HTTP on a trusted intranet. Without
    /// it, browsers keep the cookie only over HTTPS or on localhost.
    #[arg(long, env = "GUANAI_INSECURE_COOKIES")]
    insecure_cookies: bool,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from GUANAI_PASSWORD or the first line of stdin.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// village | township | county | city | finance | inspector | volunteer | counsellor | admin
        #[arg(long)]
        role: String,
        /// The user's area: a village (12 digits), township (9), county (6) or the city 371300.
        #[arg(long)]
        area: String,
    },
    /// List users.
    List,
    /// Set a user's password (read like `add`); ends their sessions.
    Passwd {
        login: String,
    },
    /// Deactivate a user (sessions end; tokens stop working) or activate again.
    Deactivate {
        login: String,
    },
    Activate {
        login: String,
    },
    /// Create an API token for a user (printed once).
    Token {
        login: String,
        #[arg(long, default_value = "integration")]
        label: String,
    },
    /// Pair a volunteer with a family (one-to-one help, 二(一)).
    Pair {
        #[arg(long)]
        volunteer: String,
        #[arg(long)]
        family: String,
    },
}

pub fn serve_cmd(archive: &ArchiveArgs, args: ServeArgs) -> Result<ExitCode> {
    let policy = args.policy.load()?;
    let text = args.policy.text()?;
    runtime()?.block_on(async {
        let opened = archive.open().await?;
        serve(
            opened,
            policy,
            text,
            args.addr,
            !args.insecure_cookies,
            None,
        )
        .await
    })
}

/// Serves until Ctrl-C; prints the address (and, for the demo, the logins) once listening.
pub(crate) async fn serve(
    archive: Archive,
    policy: guanai_rules::Policy,
    policy_text: String,
    addr: SocketAddr,
    secure_cookies: bool,
    banner: Option<String>,
) -> Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let users = archive.users().await?;
    println!(
        "关爱 Guanai 已启动 / listening on {}",
        guanai_web::url_of(bound)
    );
    if users.is_empty() {
        println!("还没有用户 / no users yet: create one with `guanai user add --role admin …`");
    }
    if !secure_cookies {
        println!(
            "注意: 会话 cookie 未设 Secure (--insecure-cookies) / note: session cookies are sent over plain HTTP"
        );
    } else if !bound.ip().is_loopback() {
        println!(
            "注意: 会话 cookie 仅经 HTTPS 发送;纯 HTTP 内网请加 --insecure-cookies / note: cookies need HTTPS (or --insecure-cookies)"
        );
    }
    if let Some(banner) = banner {
        println!("{banner}");
    }
    println!("按 Ctrl-C 停止 / Ctrl-C stops the server");
    let state = AppState::new(archive, policy, policy_text, secure_cookies);
    guanai_web::serve_on(state, listener).await?;
    Ok(ExitCode::SUCCESS)
}

fn read_password() -> Result<String> {
    if let Ok(p) = std::env::var("GUANAI_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn user_cmd(args: &ArchiveArgs, command: UserCommand) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let archive = args.open().await?;
        let actor = args.actor();
        let find = |login: String| {
            let archive = archive.clone();
            async move {
                archive
                    .user_by_login(&login)
                    .await?
                    .with_context(|| format!("no user {login}"))
            }
        };
        match command {
            UserCommand::Add {
                login,
                name,
                role,
                area,
            } => {
                let Some(role) = Role::parse(&role) else {
                    bail!(
                        "--role: unknown role {role} (one of {})",
                        ALL_ROLES
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                };
                let password = read_password()?;
                let user = archive
                    .create_user(
                        &NewUser {
                            login,
                            display_name: name,
                            role,
                            area_code: area,
                            password,
                        },
                        &actor,
                    )
                    .await?;
                println!(
                    "{} {} {} {}",
                    user.login,
                    user.role.as_str(),
                    user.area_code,
                    user.display_name
                );
            }
            UserCommand::List => {
                for u in archive.users().await? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        u.login,
                        u.role.label_zh(),
                        u.area_code,
                        u.display_name,
                        if u.active { "启用" } else { "停用" }
                    );
                }
            }
            UserCommand::Passwd { login } => {
                let user = find(login).await?;
                archive
                    .set_password(&user.user_id, &read_password()?, &actor)
                    .await?;
                println!("密码已更新,会话已结束 / password set; sessions ended");
            }
            UserCommand::Deactivate { login } => {
                let user = find(login).await?;
                archive
                    .set_user_active(&user.user_id, false, &actor)
                    .await?;
            }
            UserCommand::Activate { login } => {
                let user = find(login).await?;
                archive.set_user_active(&user.user_id, true, &actor).await?;
            }
            UserCommand::Token { login, label } => {
                let user = find(login).await?;
                println!(
                    "{}",
                    archive
                        .create_api_token(&user.user_id, &label, &actor)
                        .await?
                );
            }
            UserCommand::Pair { volunteer, family } => {
                let user = find(volunteer).await?;
                let family = guanai_store::FamilyId::parse(&family)
                    .with_context(|| format!("--family: not a family id: {family}"))?;
                archive.pair_volunteer(&user, &family, &actor).await?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

#[derive(Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, env = "GUANAI_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Folder of the demo archive: created afresh at every start (only a folder this command
    /// made is ever removed).
    #[arg(long, default_value = "guanai-demo")]
    dir: std::path::PathBuf,
    /// Synthetic census families.
    #[arg(long, default_value_t = 3000)]
    families: usize,
    /// Seed of every random choice: the same seed gives the same demo.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Months of payment runs up to this month.
    #[arg(long, default_value_t = 3)]
    months: u32,
    /// Fill the archive and exit without serving (for scripts and tests).
    #[arg(long)]
    no_serve: bool,
}

/// The demo accounts' password (printed at start; the demo holds synthetic data only).
pub(crate) const DEMO_PASSWORD: &str = "guanai-demo-2026";

/// A marker file in a folder `guanai demo` made, so that only such a folder is replaced.
const DEMO_MARKER: &str = ".guanai-demo";

pub fn demo_cmd(args: DemoArgs) -> Result<ExitCode> {
    let policy = guanai_rules::Policy::embedded("linyi-2014")?;
    let text = guanai_rules::policy::embedded_text("linyi-2014")
        .context("the shipped policy pack")?
        .to_owned();
    if args.dir.exists() {
        if !args.dir.join(DEMO_MARKER).exists() {
            bail!(
                "{} exists and was not made by `guanai demo`: choose another --dir",
                args.dir.display()
            );
        }
        std::fs::remove_dir_all(&args.dir)
            .with_context(|| format!("removing the old demo in {}", args.dir.display()))?;
    }
    std::fs::create_dir_all(&args.dir)?;
    std::fs::write(
        args.dir.join(DEMO_MARKER),
        "made by guanai demo; replaced at every start\n",
    )?;
    runtime()?.block_on(async {
        let keys = guanai_crypto::Keyring::load_or_create(
            &args.dir.join("guanai.key"),
            guanai_crypto::Algorithm::Aes256Gcm,
        )?;
        let url = format!("sqlite://{}", args.dir.join("guanai.db").display());
        let archive = Archive::open(&url, keys).await?;
        // Beijing's today: the pages count months in Beijing time too.
        let today = guanai_web::pages::today();
        let options = crate::demo::DemoOptions {
            families: args.families,
            seed: args.seed,
            months: args.months,
            files_dir: Some(args.dir.join("files")),
            ..crate::demo::DemoOptions::new(today)
        };
        let report = crate::demo::populate(&archive, &policy, &text, &options, |step| println!("· {step}")).await?;
        let logins = demo_users(&archive).await?;
        let mut banner = format!(
            "演示数据 / demo data: {} 户 families, {} 人 persons, {} 个发放批次 payment runs\n演示账户 / demo logins (密码 password: {DEMO_PASSWORD}):",
            report.families,
            report.persons,
            report.runs.len()
        );
        for (login, label, area) in &logins {
            banner.push_str(&format!("\n  {login:<10} {label} · {area}"));
        }
        if args.no_serve {
            println!("{banner}");
            return Ok(ExitCode::SUCCESS);
        }
        serve(archive, policy, text, args.addr, true, Some(banner)).await
    })
}

/// One account per role, placed where the demo's families are; the volunteer is paired with
/// three families of their township, the counsellor has one family of the county referred.
async fn demo_users(archive: &Archive) -> Result<Vec<(String, String, String)>> {
    let actor = guanai_store::Actor::new("guanai demo");
    let villages = archive.busiest_villages(1).await?;
    let village = villages
        .first()
        .map(|v| v.0.clone())
        .context("the demo archive has no families")?;
    let town = village[..9].to_owned();
    let county = village[..6].to_owned();
    let accounts: [(&str, &str, Role, &str); 10] = [
        ("village", "王芳", Role::Village, &village),
        ("township", "孙强", Role::Township, &town),
        (
            "county",
            crate::demo::STAFF.caseworker,
            Role::County,
            &county,
        ),
        ("city", "周敏", Role::City, guanai_store::access::CITY_CODE),
        (
            "finance",
            crate::demo::STAFF.finance,
            Role::Finance,
            guanai_store::access::CITY_CODE,
        ),
        (
            "clerk",
            crate::demo::STAFF.clerk,
            Role::Finance,
            guanai_store::access::CITY_CODE,
        ),
        (
            "inspector",
            "吴刚",
            Role::Inspector,
            guanai_store::access::CITY_CODE,
        ),
        ("volunteer", "郑丽", Role::Volunteer, &town),
        ("counsellor", "赵静", Role::Counsellor, &county),
        (
            "admin",
            "管理员",
            Role::Admin,
            guanai_store::access::CITY_CODE,
        ),
    ];
    let mut out = Vec::new();
    for (login, name, role, area) in accounts {
        let user = archive
            .create_user(
                &NewUser {
                    login: login.into(),
                    display_name: name.into(),
                    role,
                    area_code: area.to_owned(),
                    password: DEMO_PASSWORD.into(),
                },
                &actor,
            )
            .await?;
        if role == Role::Volunteer {
            let page = archive
                .scoped(&user_with_role(&user, Role::Township))
                .search(&guanai_store::scope::FamilyQuery {
                    limit: 3,
                    ..Default::default()
                })
                .await?;
            for row in page.rows {
                archive
                    .pair_volunteer(&user, &row.family_id, &actor)
                    .await?;
            }
            archive
                .register_volunteer(&user, "沂南县计生协会志愿者服务队", "陪伴、代办", &actor)
                .await?;
        }
        if role == Role::Counsellor {
            // One family of the county referred, with a first session on file.
            let page = archive
                .scoped(&user_with_role(&user, Role::County))
                .search(&guanai_store::scope::FamilyQuery {
                    limit: 1,
                    ..Default::default()
                })
                .await?;
            let today = crate::archive_cmd::today();
            for row in page.rows {
                let referral = archive
                    .refer_to_counsellor(
                        &row.family_id,
                        &user,
                        "子女去世后长期失眠、情绪低落",
                        today,
                        today,
                        &actor,
                    )
                    .await?;
                archive
                    .record_session(
                        &referral,
                        &user,
                        today,
                        50,
                        "首次访谈：睡眠差，愿意每周交谈一次",
                        today,
                    )
                    .await?;
            }
        }
        out.push((
            login.to_owned(),
            format!("{name} ({} {})", role.label_zh(), role.label_en()),
            guanai_web::pages::area_name(area),
        ));
    }
    Ok(out)
}

/// The same person seen as another role (to pick the volunteer's families from their area).
fn user_with_role(user: &guanai_store::access::User, role: Role) -> guanai_store::access::User {
    guanai_store::access::User {
        role,
        ..user.clone()
    }
}
