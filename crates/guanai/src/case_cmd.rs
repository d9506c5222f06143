//! `guanai case …`, `confirm …`, `service …`, `complaint …` and `volunteer …` on the command
//! line: applications from the request to enrolment (村级初审、张榜公示、乡镇审核、县级审批, one
//! appeal), the annual re-confirmation (年度资格确认), the service checklist (spec §6), complaints
//! (投诉) and the care network (volunteers, counselling referrals). The operator
//! (`--operator`) is the person deciding: one person decides one step of an application. A step
//! out of order, or any refused input, exits 1 with the reason.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use guanai_rules::parse_date;
use guanai_store::StoreError;
use guanai_store::access::{Role, User};
use guanai_store::casework::{Application, Decision, Status, Step};
use jiff::civil::Date;

use crate::archive_cmd::{ArchiveArgs, resolve, runtime, today};
use crate::cli::PolicyChoice;

#[derive(Subcommand)]
pub enum CaseCommand {
    /// Record a family's application (the family's request, or from the census).
    Apply {
        /// Family id or a member's resident ID number.
        #[arg(long)]
        family: String,
        /// The day the application was received (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Who applied (name, relation).
        #[arg(long)]
        applicant: String,
        /// The documents seen (申请表、户口簿、独生子女证、死亡证明 …).
        #[arg(long)]
        evidence: String,
    },
    /// The village's first check (村级初审).
    Check(DecisionArgs),
    /// Post the public notice (张榜公示) of a checked application.
    Notice {
        #[arg(long)]
        application: String,
        /// The first day of the notice (default: today).
        #[arg(long)]
        from: Option<String>,
        #[command(flatten)]
        policy: PolicyChoice,
    },
    /// Record an objection raised during the notice (公示异议).
    Object {
        #[arg(long)]
        application: String,
        /// The day it was raised (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Who raised it, kept general for their privacy (e.g. 邻居).
        #[arg(long)]
        by: String,
        #[arg(long)]
        content: String,
    },
    /// Resolve an objection: upheld, or dismissed, with the reason.
    Resolve {
        #[arg(long)]
        objection: String,
        #[arg(
            long,
            conflicts_with = "dismissed",
            required_unless_present = "dismissed"
        )]
        upheld: bool,
        #[arg(long)]
        dismissed: bool,
        #[arg(long)]
        resolution: String,
    },
    /// The township's review (乡镇审核), after the notice has ended.
    Review(DecisionArgs),
    /// The county's approval (县级审批): enrolled from the month the rules give.
    Approve(DecisionArgs),
    /// The family's appeal of a rejection (once).
    Appeal {
        #[arg(long)]
        application: String,
        #[arg(long)]
        reason: String,
    },
    /// An application's steps, objections and state.
    Show { application: String },
    /// Applications of an area: open ones, or those with a status.
    List {
        /// A county, township or village code (default: the whole city).
        #[arg(long)]
        area: Option<String>,
        /// applied, checked, notice, reviewed, approved or rejected (default: every open one).
        #[arg(long)]
        status: Option<String>,
    },
    /// Applications of a family.
    Family { family: String },
    /// Propose a family's exit (退出): moved out of Linyi, or another reason; the county approves.
    Exit {
        #[arg(long)]
        family: String,
        /// The day it happened (default: today).
        #[arg(long)]
        date: Option<String>,
        /// moved-out or other.
        #[arg(long, default_value = "moved-out", value_parser = ["moved-out", "other"])]
        reason: String,
        /// Where to, or why.
        #[arg(long)]
        detail: String,
    },
    /// Approve (or --reject with --note) a proposed exit; nothing is due from the month after it.
    ExitDecide {
        #[arg(long)]
        family: String,
        #[arg(long)]
        exit: String,
        #[arg(long)]
        reject: bool,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        policy: PolicyChoice,
    },
    /// The printable public notice of an area: names masked.
    NoticeList {
        /// A county, township or village code (default: the whole city).
        #[arg(long)]
        area: Option<String>,
        /// The day (default: today).
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Args)]
pub struct DecisionArgs {
    #[arg(long)]
    application: String,
    /// Passed (the default) or rejected (needs --reason).
    #[arg(long)]
    reject: bool,
    /// What was seen (required to pass).
    #[arg(long, default_value = "")]
    evidence: String,
    /// Why (required to reject).
    #[arg(long, default_value = "")]
    reason: String,
    /// The day of the decision (default: today; not after today).
    #[arg(long)]
    date: Option<String>,
}

#[derive(Subcommand)]
pub enum ConfirmCommand {
    /// Open a year's re-confirmation: every parent paid this month goes on the list.
    Open {
        #[arg(long)]
        year: i16,
        #[command(flatten)]
        policy: PolicyChoice,
    },
    /// Confirm a parent (alive, no later child, still in the area) for a year.
    Parent {
        #[arg(long)]
        year: i16,
        /// The parent (person id, P…).
        #[arg(long)]
        person: String,
        /// The day of the confirmation (default: today).
        #[arg(long)]
        date: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The year's list for an area, with who is confirmed.
    List {
        #[arg(long)]
        year: i16,
        #[arg(long)]
        area: Option<String>,
        /// Only those not confirmed yet.
        #[arg(long)]
        open: bool,
    },
}

fn day(field: &str, text: Option<&str>) -> Result<Date> {
    match text {
        Some(t) => parse_date(t).map_err(|e| anyhow!("{field}: {e}")),
        None => Ok(today()),
    }
}

/// A refusal the operator can act on exits 1 with its reason; anything else is an error.
pub(crate) fn refused(e: StoreError) -> Result<ExitCode> {
    match e {
        StoreError::Invalid { .. } | StoreError::FamilyNotFound(_) => {
            eprintln!("guanai: {e}");
            Ok(ExitCode::from(1))
        }
        other => Err(other.into()),
    }
}

/// The command line works for the whole city (or the area asked for) when listing.
pub(crate) fn operator(area: &str) -> User {
    User {
        user_id: "cli".into(),
        login: "cli".into(),
        display_name: "command line".into(),
        role: Role::City,
        area_code: area.to_owned(),
        active: true,
    }
}

/// A Linyi area code (the city, a county, township or village).
pub(crate) fn is_area(code: &str) -> bool {
    guanai_rules::area::all_areas()
        .iter()
        .any(|a| a.code == code)
}

fn known_area(area: &str) -> Result<()> {
    if is_area(area) {
        Ok(())
    } else {
        Err(anyhow!("--area: {area} is not a Linyi area code"))
    }
}

fn show(out: &mut dyn Write, a: &Application) -> io::Result<()> {
    writeln!(
        out,
        "申请 {}  家庭 {}  {}（{}）  申请人 {}  {}",
        a.application_id,
        a.family_id,
        a.status.as_zh(),
        a.status.as_str(),
        a.applicant,
        a.applied_on
    )?;
    if let (Some(from), Some(until)) = (a.notice_from, a.notice_until) {
        writeln!(out, "公示期 {from} 至 {until}")?;
    }
    for s in &a.steps {
        let decision = match s.decision {
            Some(Decision::Pass) => "通过",
            Some(Decision::Reject) => "不通过",
            None => "",
        };
        writeln!(
            out,
            "  {}  {} {decision}  {}{}{}  {}",
            s.on_date,
            s.step.as_zh(),
            s.evidence,
            if s.reason.is_empty() {
                ""
            } else {
                "  理由："
            },
            s.reason,
            s.actor
        )?;
    }
    for o in &a.objections {
        let state = match &o.resolved {
            Some((true, r, by)) => format!("异议成立：{r}（{by}）"),
            Some((false, r, by)) => format!("异议不成立：{r}（{by}）"),
            None => "待处理".to_owned(),
        };
        writeln!(
            out,
            "  异议 {} {} {}：{} — {state}",
            o.objection_id, o.raised_on, o.raised_by, o.content
        )?;
    }
    match a.next_step() {
        Some(next) => writeln!(out, "下一步：{}", next.as_zh()),
        None => writeln!(out, "已办结"),
    }
}

pub fn case_cmd(archive: &ArchiveArgs, command: CaseCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let code = case(&store, archive, command).await;
        store.db().close().await;
        code
    })
}

async fn decide(
    store: &guanai_store::Archive,
    archive: &ArchiveArgs,
    step: Step,
    args: DecisionArgs,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let version = match store.application(&args.application).await {
        Ok(a) => a.version,
        Err(e) => return refused(e),
    };
    let on = day("--date", args.date.as_deref())?;
    if on > today() {
        eprintln!("guanai: --date: {on} is after today");
        return Ok(ExitCode::from(1));
    }
    let decision = if args.reject {
        Decision::Reject
    } else {
        Decision::Pass
    };
    match store
        .decide(
            &args.application,
            version,
            step,
            decision,
            &args.evidence,
            &args.reason,
            on,
            &archive.actor(),
        )
        .await
    {
        Ok(status) => {
            writeln!(
                out,
                "{}：{} → {}",
                step.as_zh(),
                args.application,
                status.as_zh()
            )?;
            if status == Status::Approved {
                writeln!(
                    out,
                    "已纳入扶助；下一次发放批次按规则补发应发款项 / enrolled: the next payment run pays what is due"
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => refused(e),
    }
}

async fn case(
    store: &guanai_store::Archive,
    archive: &ArchiveArgs,
    command: CaseCommand,
) -> Result<ExitCode> {
    let actor = archive.actor();
    let mut out = io::stdout().lock();
    match command {
        CaseCommand::Apply {
            family,
            date,
            applicant,
            evidence,
        } => {
            let family = resolve(store, &family).await?;
            let on = day("--date", date.as_deref())?;
            match store
                .apply(&family, on, &applicant, &evidence, today(), &actor)
                .await
            {
                Ok(id) => {
                    writeln!(out, "已受理申请 {id}（{family}），待村级初审")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        CaseCommand::Check(args) => {
            decide(store, archive, Step::VillageCheck, args, &mut out).await
        }
        CaseCommand::Review(args) => {
            decide(store, archive, Step::TownshipReview, args, &mut out).await
        }
        CaseCommand::Approve(args) => {
            decide(store, archive, Step::CountyApproval, args, &mut out).await
        }
        CaseCommand::Notice {
            application,
            from,
            policy,
        } => {
            let policy = policy.load()?;
            let from = day("--from", from.as_deref())?;
            let version = match store.application(&application).await {
                Ok(a) => a.version,
                Err(e) => return refused(e),
            };
            match store
                .post_notice(&application, version, from, &policy, today(), &actor)
                .await
            {
                Ok(until) => {
                    writeln!(out, "已公示 {application}：{from} 至 {until}")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        CaseCommand::Object {
            application,
            date,
            by,
            content,
        } => {
            let on = day("--date", date.as_deref())?;
            match store
                .record_objection(&application, on, &by, &content, today(), &actor)
                .await
            {
                Ok(id) => {
                    writeln!(out, "已登记异议 {id}")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        CaseCommand::Resolve {
            objection,
            upheld,
            dismissed: _,
            resolution,
        } => match store
            .resolve_objection(&objection, upheld, &resolution, today(), &actor)
            .await
        {
            Ok(()) => {
                writeln!(
                    out,
                    "异议 {objection}：{}",
                    if upheld { "成立" } else { "不成立" }
                )?;
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => refused(e),
        },
        CaseCommand::Appeal {
            application,
            reason,
        } => {
            let version = match store.application(&application).await {
                Ok(a) => a.version,
                Err(e) => return refused(e),
            };
            match store
                .appeal(&application, version, &reason, today(), &actor)
                .await
            {
                Ok(status) => {
                    writeln!(out, "已受理申诉，申请回到“{}”", status.as_zh())?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        CaseCommand::Show { application } => match store.application(&application).await {
            Ok(a) => {
                show(&mut out, &a)?;
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => refused(e),
        },
        CaseCommand::List { area, status } => {
            let area = area.unwrap_or_else(|| "371300".to_owned());
            known_area(&area)?;
            let status = status
                .as_deref()
                .map(|s| Status::parse(s).ok_or_else(|| anyhow!("--status: unknown status {s}")))
                .transpose()?;
            let user = operator(&area);
            let page = store.scoped(&user).applications(status, 0, 200).await?;
            writeln!(out, "申请\t家庭\t村\t状态\t申请日期")?;
            for (a, village) in &page.rows {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    a.application_id,
                    a.family_id,
                    village,
                    a.status.as_zh(),
                    a.applied_on
                )?;
            }
            writeln!(
                out,
                "共 {} 件{}",
                page.rows.len(),
                if page.more {
                    "（只显示前 200 件）"
                } else {
                    ""
                }
            )?;
            Ok(ExitCode::SUCCESS)
        }
        CaseCommand::Family { family } => {
            let family = resolve(store, &family).await?;
            let enrolment = store.enrolment(&family).await?;
            writeln!(
                out,
                "{family}：{}",
                match &enrolment {
                    guanai_store::casework::Enrolment::Census => "普查在册".to_owned(),
                    guanai_store::casework::Enrolment::Approved(id) =>
                        format!("已批准纳入（{id}）"),
                    guanai_store::casework::Enrolment::Pending(s) =>
                        format!("未纳入：{}", s.as_zh()),
                }
            )?;
            for a in store.applications_of(&family).await? {
                show(&mut out, &a)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        CaseCommand::Exit {
            family,
            date,
            reason,
            detail,
        } => {
            let family = resolve(store, &family).await?;
            let on = day("--date", date.as_deref())?;
            let reason = if reason == "other" {
                guanai_store::exits::ExitReason::Other
            } else {
                guanai_store::exits::ExitReason::MovedOut
            };
            match store
                .propose_exit(&family, reason, &detail, on, today(), &actor)
                .await
            {
                Ok(id) => {
                    writeln!(out, "已提出退出 {id}（{family}，{on}），待县区审批")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        CaseCommand::ExitDecide {
            family,
            exit,
            reject,
            note,
            policy,
        } => {
            let policy = policy.load()?;
            let family = resolve(store, &family).await?;
            if store
                .exit_of(&family)
                .await?
                .is_none_or(|e| e.exit_id != exit)
            {
                eprintln!("guanai: --exit: {exit} is not this family's exit");
                return Ok(ExitCode::from(1));
            }
            match store.decide_exit(&exit, !reject, &note, &actor).await {
                Ok(()) => {
                    let holidays = guanai_care::holidays::Holidays::embedded()
                        .map_err(|e| anyhow!("the embedded festival table: {e}"))?;
                    store
                        .replan_family(&family, today().year(), &policy, holidays)
                        .await?;
                    writeln!(
                        out,
                        "{family} 退出{}",
                        if reject {
                            "不予批准"
                        } else {
                            "已批准：次月起不再发放，多发的追回"
                        }
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        CaseCommand::NoticeList { area, date } => {
            let area = area.unwrap_or_else(|| "371300".to_owned());
            known_area(&area)?;
            let on = day("--date", date.as_deref())?;
            let user = operator(&area);
            let lines = store.scoped(&user).notice_list(on).await?;
            writeln!(
                out,
                "计划生育特殊困难家庭扶助对象公示（{on}）\n村\t家庭编号\t姓名\t公示期"
            )?;
            for l in &lines {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{} 至 {}",
                    guanai_rules::VillageCode::parse(&l.village_code)
                        .map(|v| v.name().to_owned())
                        .unwrap_or_else(|_| l.village_code.clone()),
                    l.family_no,
                    l.masked_names.join("、"),
                    l.notice_from,
                    l.notice_until
                )?;
            }
            writeln!(
                out,
                "共 {} 户。对公示内容有异议的，请在公示期内向村（居）委会或乡镇（街道）计生办反映。",
                lines.len()
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn confirm_cmd(archive: &ArchiveArgs, command: ConfirmCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let code = confirm(&store, archive, command).await;
        store.db().close().await;
        code
    })
}

async fn confirm(
    store: &guanai_store::Archive,
    archive: &ArchiveArgs,
    command: ConfirmCommand,
) -> Result<ExitCode> {
    let actor = archive.actor();
    let mut out = io::stdout().lock();
    match command {
        ConfirmCommand::Open { year, policy } => {
            let policy = policy.load()?;
            match store
                .open_reconfirmation(year, &policy, today(), &actor)
                .await
            {
                Ok(c) => {
                    writeln!(
                        out,
                        "{year} 年度资格确认已开始：{} 名扶助对象，截止 {}；逾期未确认者自次月起暂停发放",
                        c.persons, c.deadline
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        ConfirmCommand::Parent {
            year,
            person,
            date,
            note,
        } => {
            let on = day("--date", date.as_deref())?;
            match store
                .confirm_parent(year, &person, on, &note, today(), &actor)
                .await
            {
                Ok(()) => {
                    writeln!(out, "已确认 {person}（{year} 年度）")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        ConfirmCommand::List { year, area, open } => {
            let area = area.unwrap_or_else(|| "371300".to_owned());
            known_area(&area)?;
            let user = operator(&area);
            let page = store.scoped(&user).roster(year, open, 0, 200).await?;
            writeln!(out, "村\t家庭编号\t姓名\t人员\t确认日期")?;
            for r in &page.rows {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    r.village_code,
                    r.family_no,
                    r.name,
                    r.person_id,
                    r.confirmed_on
                        .map_or_else(|| "未确认".to_owned(), |d| d.to_string())
                )?;
            }
            if let Some(c) = store.reconfirmation(year).await? {
                writeln!(
                    out,
                    "全市 {} 人，已确认 {} 人，截止 {}{}",
                    c.persons,
                    c.confirmed,
                    c.deadline,
                    if page.more {
                        "（列表只显示前 200 行）"
                    } else {
                        ""
                    }
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// A family's service checklist (spec §6) for a month, with each service's status.
    List {
        family: String,
        /// YYYY-MM (default: this month).
        #[arg(long)]
        month: Option<String>,
        #[command(flatten)]
        policy: PolicyChoice,
    },
    /// Record where a service stands for a parent: offered, in_progress, granted or declined.
    Set {
        #[arg(long)]
        family: String,
        /// The parent (person id, P…).
        #[arg(long)]
        person: String,
        /// medical_relief, insurance_contribution_paid, dibao_uplift, nursing_home_priority,
        /// nursing_home_fee_half, wubao_inclusion, housing_priority or funeral_reimbursement.
        #[arg(long)]
        service: String,
        #[arg(long)]
        status: String,
        /// What was done (required when declined: the family's reason).
        #[arg(long, default_value = "")]
        note: String,
        /// The day (default: today).
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        policy: PolicyChoice,
    },
}

pub fn service_cmd(archive: &ArchiveArgs, command: ServiceCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let code = service(&store, archive, command).await;
        store.db().close().await;
        code
    })
}

async fn service(
    store: &guanai_store::Archive,
    archive: &ArchiveArgs,
    command: ServiceCommand,
) -> Result<ExitCode> {
    use guanai_store::services::{ServiceStatus, service_kind};
    let mut out = io::stdout().lock();
    match command {
        ServiceCommand::List {
            family,
            month,
            policy,
        } => {
            let policy = policy.load()?;
            let family = resolve(store, &family).await?;
            let month = match month {
                Some(m) => guanai_rules::Month::parse(&m).map_err(|e| anyhow!("--month: {e}"))?,
                None => guanai_rules::Month::of(today()),
            };
            writeln!(out, "{family} {month} 服务清单")?;
            for item in store.service_checklist(&family, month, &policy).await? {
                let status = item.status.as_ref().map_or_else(
                    || "未办理".to_owned(),
                    |s| {
                        format!(
                            "{} {} {}（{}）",
                            s.status.as_zh(),
                            s.on_date,
                            s.note,
                            s.recorded_by
                        )
                    },
                );
                writeln!(
                    out,
                    "{}\t{}\t{}\t{status}{}",
                    item.person_id,
                    item.service.as_str(),
                    item.service.clause(),
                    if item.entitled {
                        ""
                    } else {
                        "\t（本月已不享有）"
                    }
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ServiceCommand::Set {
            family,
            person,
            service,
            status,
            note,
            date,
            policy,
        } => {
            let policy = policy.load()?;
            let family = resolve(store, &family).await?;
            let Some(kind) = service_kind(&service) else {
                eprintln!("guanai: --service: unknown service {service}");
                return Ok(ExitCode::from(1));
            };
            let Some(status) = ServiceStatus::parse(&status) else {
                eprintln!(
                    "guanai: --status: {status} is not offered, in_progress, granted or declined"
                );
                return Ok(ExitCode::from(1));
            };
            let on = day("--date", date.as_deref())?;
            match store
                .set_service_status(
                    &family,
                    &person,
                    kind,
                    status,
                    &note,
                    on,
                    &policy,
                    today(),
                    &archive.actor(),
                )
                .await
            {
                Ok(()) => {
                    writeln!(out, "{person} {}：{}", kind.as_str(), status.as_zh())?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
    }
}

#[derive(Subcommand)]
pub enum ComplaintCommand {
    /// Record a complaint (投诉/异议) for the area whose caseworkers must answer it.
    File {
        /// The area (village, township or county code; the city 371300).
        #[arg(long)]
        area: String,
        /// The family concerned, if any (family id or a member's ID number).
        #[arg(long)]
        family: Option<String>,
        /// family, neighbour, volunteer or other.
        #[arg(long)]
        source: String,
        /// Name and contact of who complained (sealed).
        #[arg(long)]
        complainant: String,
        #[arg(long)]
        summary: String,
        #[arg(long)]
        detail: String,
        /// The day it was received (default: today).
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        policy: PolicyChoice,
    },
    /// Answer a complaint.
    Answer {
        complaint: String,
        #[arg(long)]
        answer: String,
    },
    /// Complaints of an area: open (default), late (escalated) or all.
    List {
        #[arg(long)]
        area: Option<String>,
        #[arg(long, default_value = "open", value_parser = ["open", "late", "all"])]
        show: String,
        #[command(flatten)]
        policy: PolicyChoice,
    },
    /// Who complained, for a stated reason (audited).
    Reveal {
        complaint: String,
        #[arg(long)]
        reason: String,
    },
}

pub fn complaint_cmd(archive: &ArchiveArgs, command: ComplaintCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let code = complaint(&store, archive, command).await;
        store.db().close().await;
        code
    })
}

async fn complaint(
    store: &guanai_store::Archive,
    archive: &ArchiveArgs,
    command: ComplaintCommand,
) -> Result<ExitCode> {
    use guanai_store::complaints::{ComplaintFilter, NewComplaint, Source};
    let mut out = io::stdout().lock();
    match command {
        ComplaintCommand::File {
            area,
            family,
            source,
            complainant,
            summary,
            detail,
            date,
            policy,
        } => {
            let policy = policy.load()?;
            let Some(source) = Source::parse(&source) else {
                eprintln!(
                    "guanai: --source: {source} is not family, neighbour, volunteer or other"
                );
                return Ok(ExitCode::from(1));
            };
            let family = match family {
                Some(f) => Some(resolve(store, &f).await?),
                None => None,
            };
            let new = NewComplaint {
                area_code: area,
                family,
                source,
                complainant,
                summary,
                detail,
                received_on: day("--date", date.as_deref())?,
            };
            match store
                .file_complaint(&new, &policy, today(), &archive.actor())
                .await
            {
                Ok(id) => {
                    let c = store.complaint(&id, &policy, today()).await?;
                    writeln!(out, "已登记投诉 {id}，应于 {} 前答复", c.due_on)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        ComplaintCommand::Answer { complaint, answer } => {
            match store
                .answer_complaint(&complaint, &answer, today(), &archive.actor())
                .await
            {
                Ok(()) => {
                    writeln!(out, "已答复 {complaint}")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        ComplaintCommand::List { area, show, policy } => {
            let policy = policy.load()?;
            let area = area.unwrap_or_else(|| "371300".to_owned());
            known_area(&area)?;
            let filter = match show.as_str() {
                "late" => ComplaintFilter::Late,
                "all" => ComplaintFilter::All,
                _ => ComplaintFilter::Open,
            };
            let user = operator(&area);
            let page = store
                .scoped(&user)
                .complaints(filter, &policy, today(), 0, 200)
                .await?;
            writeln!(out, "投诉\t区域\t来源\t摘要\t受理\t期限\t状态")?;
            for c in &page.rows {
                let state = match (&c.answer, &c.escalated_to) {
                    (Some((_, on, _)), _) => format!("已答复 {on}"),
                    (None, Some((code, _))) => format!("逾期，已升级至 {code}"),
                    (None, None) => "办理中".to_owned(),
                };
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{state}",
                    c.complaint_id,
                    c.area_code,
                    c.source.as_zh(),
                    c.summary,
                    c.received_on,
                    c.due_on
                )?;
            }
            writeln!(out, "共 {} 件", page.rows.len())?;
            Ok(ExitCode::SUCCESS)
        }
        ComplaintCommand::Reveal { complaint, reason } => {
            match store
                .reveal_complainant(&complaint, &reason, &archive.actor())
                .await
            {
                Ok(who) => {
                    writeln!(out, "{who}")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
    }
}

#[derive(Subcommand)]
pub enum VolunteerCommand {
    /// Register a volunteer account's organisation and skills.
    Register {
        #[arg(long)]
        login: String,
        #[arg(long)]
        organisation: String,
        #[arg(long, default_value = "")]
        skills: String,
    },
    /// Record that a family does not want a volunteer (ends its pairings).
    Refuse {
        #[arg(long)]
        family: String,
        #[arg(long, default_value = "")]
        reason: String,
        /// The day (default: today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Refer a family to a counsellor (a user with the counsellor role).
    Refer {
        #[arg(long)]
        family: String,
        /// The counsellor's login.
        #[arg(long)]
        counsellor: String,
        #[arg(long)]
        reason: String,
    },
    /// A family's volunteers, their service records and counselling referrals (no notes).
    Show { family: String },
}

pub fn volunteer_cmd(archive: &ArchiveArgs, command: VolunteerCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let code = volunteer(&store, archive, command).await;
        store.db().close().await;
        code
    })
}

async fn volunteer(
    store: &guanai_store::Archive,
    archive: &ArchiveArgs,
    command: VolunteerCommand,
) -> Result<ExitCode> {
    let actor = archive.actor();
    let mut out = io::stdout().lock();
    let user_of = |login: &str| {
        let login = login.to_owned();
        async move {
            store
                .user_by_login(&login)
                .await?
                .ok_or_else(|| anyhow!("no user {login}"))
        }
    };
    match command {
        VolunteerCommand::Register {
            login,
            organisation,
            skills,
        } => {
            let user = user_of(&login).await?;
            match store
                .register_volunteer(&user, &organisation, &skills, &actor)
                .await
            {
                Ok(()) => {
                    writeln!(out, "志愿者 {login}：{organisation}")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        VolunteerCommand::Refuse {
            family,
            reason,
            date,
        } => {
            let family = resolve(store, &family).await?;
            let on = day("--date", date.as_deref())?;
            match store
                .refuse_pairing(&family, on, &reason, today(), &actor)
                .await
            {
                Ok(()) => {
                    writeln!(out, "{family} 不需要志愿者结对（{on}）")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        VolunteerCommand::Refer {
            family,
            counsellor,
            reason,
        } => {
            let family = resolve(store, &family).await?;
            let counsellor = user_of(&counsellor).await?;
            match store
                .refer_to_counsellor(&family, &counsellor, &reason, today(), today(), &actor)
                .await
            {
                Ok(id) => {
                    writeln!(out, "已转介 {id}：{family} → {}", counsellor.login)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        VolunteerCommand::Show { family } => {
            let family = resolve(store, &family).await?;
            if let Some((on, reason)) = store.pairing_refusal(&family).await? {
                writeln!(out, "不需要志愿者结对：{on} {reason}")?;
            }
            for (login, name, org) in store.volunteers_of(&family).await? {
                writeln!(
                    out,
                    "结对志愿者 {name}（{login}）{}",
                    org.unwrap_or_default()
                )?;
            }
            for h in store.help_of(&family).await? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{} 分钟\t{}",
                    h.on_date,
                    h.volunteer,
                    h.kind.as_zh(),
                    h.minutes,
                    h.note
                )?;
            }
            // The command line reads as no counsellor: notes stay sealed.
            let nobody = operator("371300");
            for r in store.referrals_of(&family, &nobody).await? {
                writeln!(
                    out,
                    "心理咨询转介 {} → {}（{}）{} 次{}",
                    r.referral_id,
                    r.counsellor,
                    r.referred_on,
                    r.sessions.len(),
                    r.closed_on
                        .map(|d| format!("，{d} 结案"))
                        .unwrap_or_default()
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
