//! `guanai visit plan|record|show|due|assign|withdraw|follow-up`: visits (走访, 二(一)) on the
//! command line — the year's plan, visit records, dedicated visitors and the overdue lists. A
//! refused record (a date in the future, a follow-up without a deadline …) exits 1 with the
//! field and the reason; nothing is written.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use guanai_care::holidays::Holidays;
use guanai_care::visits::{Occasion, PeriodStatus, status};
use guanai_rules::{CountyCode, parse_date};
use guanai_store::visits::{DueState, NewVisit};
use jiff::civil::Date;

use crate::archive_cmd::{ArchiveArgs, beijing, resolve, runtime, today};
use crate::case_cmd::{is_area, operator, refused};
use crate::cli::PolicyChoice;

/// Days before its due date a period counts as due soon.
const DUE_SOON_DAYS: i32 = 14;

#[derive(Subcommand)]
pub enum VisitCommand {
    /// Work out every family's visits for a year (or one county's): regular, dedicated and holiday visits.
    Plan(PlanArgs),
    /// Record a visit made to a family.
    Record(RecordArgs),
    /// A family's plan for a year with each period's status, its visits and dedicated visitor.
    Show(ShowArgs),
    /// Visits overdue (or due soon) in an area, in village order.
    Due(DueArgs),
    /// Name a family's dedicated visitor (专人), replacing the current one.
    Assign {
        #[arg(long)]
        family: String,
        #[arg(long)]
        visitor: String,
        /// The visitor's unit or duty, e.g. 村计生专干.
        #[arg(long)]
        unit: String,
    },
    /// Withdraw a wrong visit record, with the reason.
    Withdraw {
        #[arg(long)]
        family: String,
        /// The visit (V…).
        #[arg(long)]
        visit: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        policy: PolicyChoice,
    },
    /// Close a visit's follow-up with what was done.
    FollowUp {
        #[arg(long)]
        family: String,
        #[arg(long)]
        visit: String,
        #[arg(long)]
        result: String,
    },
}

#[derive(Args)]
pub struct PlanArgs {
    /// The year (default: this year).
    #[arg(long)]
    year: Option<i16>,
    /// Only this county's families.
    #[arg(long)]
    county: Option<String>,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OccasionArg {
    Regular,
    SpringFestival,
    MidAutumn,
}

impl From<OccasionArg> for Occasion {
    fn from(o: OccasionArg) -> Occasion {
        match o {
            OccasionArg::Regular => Occasion::Regular,
            OccasionArg::SpringFestival => Occasion::SpringFestival,
            OccasionArg::MidAutumn => Occasion::MidAutumn,
        }
    }
}

#[derive(Args)]
pub struct RecordArgs {
    /// Family id or a member's resident ID number.
    #[arg(long)]
    family: String,
    /// The day of the visit, YYYY-MM-DD (not after today).
    #[arg(long)]
    date: String,
    #[arg(long, value_enum, default_value = "regular")]
    occasion: OccasionArg,
    /// Who visited (name, unit).
    #[arg(long)]
    visitor: String,
    /// What was found.
    #[arg(long)]
    found: String,
    /// Needs the family raised.
    #[arg(long, default_value = "")]
    needs: String,
    /// Follow-up agreed.
    #[arg(long, default_value = "")]
    follow_up: String,
    /// Deadline of the follow-up, YYYY-MM-DD.
    #[arg(long)]
    follow_up_due: Option<String>,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Args)]
pub struct ShowArgs {
    family: String,
    /// The year (default: this year).
    #[arg(long)]
    year: Option<i16>,
}

#[derive(Args)]
pub struct DueArgs {
    /// A county, township or village code (default: the whole city).
    #[arg(long)]
    area: Option<String>,
    /// Periods open today and due within this many days, instead of overdue ones.
    #[arg(long)]
    soon: Option<i32>,
    /// The day to judge by (default: today).
    #[arg(long)]
    date: Option<String>,
    /// At most this many rows.
    #[arg(long, default_value_t = 200)]
    limit: i64,
}

fn date(field: &str, text: &str) -> Result<Date> {
    parse_date(text).map_err(|e| anyhow!("{field}: {e}"))
}

fn holidays() -> Result<&'static Holidays> {
    Holidays::embedded().map_err(|e| anyhow!("the embedded festival table: {e}"))
}

pub fn visit_cmd(archive: &ArchiveArgs, command: VisitCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let code = visit(&store, archive, command).await;
        store.db().close().await;
        code
    })
}

async fn visit(
    store: &guanai_store::Archive,
    archive: &ArchiveArgs,
    command: VisitCommand,
) -> Result<ExitCode> {
    let actor = archive.actor();
    let mut out = io::stdout().lock();
    match command {
        VisitCommand::Plan(args) => {
            let policy = args.policy.load()?;
            let year = args.year.unwrap_or(today().year());
            let county = args
                .county
                .as_deref()
                .map(|c| CountyCode::parse(c).map_err(|e| anyhow!("--county: {e}")))
                .transpose()?;
            match store
                .plan_visits(year, county, &policy, holidays()?, &actor)
                .await
            {
                Ok(s) => {
                    writeln!(
                        out,
                        "{year} 年走访计划：{} 户，{} 个走访周期{}（政策 {}）",
                        s.families,
                        s.periods,
                        if s.unplannable > 0 {
                            format!("；{} 户档案不完整无法计划", s.unplannable)
                        } else {
                            String::new()
                        },
                        s.policy_name
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        VisitCommand::Record(args) => {
            let policy = args.policy.load()?;
            let family = resolve(store, &args.family).await?;
            let visit = NewVisit {
                visited_on: date("--date", &args.date)?,
                occasion: args.occasion.into(),
                visitor: args.visitor,
                found: args.found,
                needs: args.needs,
                follow_up: args.follow_up,
                follow_up_due: args
                    .follow_up_due
                    .as_deref()
                    .map(|d| date("--follow-up-due", d))
                    .transpose()?,
            };
            match store
                .record_visit(&family, &visit, &policy, holidays()?, today(), &actor)
                .await
            {
                Ok(id) => {
                    writeln!(
                        out,
                        "已登记走访 {id}：{family} {} {}",
                        visit.visited_on,
                        visit.occasion.as_zh()
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        VisitCommand::Show(args) => {
            let family = resolve(store, &args.family).await?;
            let year = args.year.unwrap_or(today().year());
            let now = today();
            writeln!(out, "{family} {year} 年走访计划")?;
            let plan = store.visit_plan_of(&family, year).await?;
            if plan.is_empty() {
                writeln!(out, "（无：未生成计划，或该户本年不需走访）")?;
            }
            for p in &plan {
                let state = status(&p.period, p.visited_on, now, DUE_SOON_DAYS);
                let done = match state {
                    PeriodStatus::Done(on) => format!("{} {on}", state.as_zh()),
                    other => other.as_zh().to_owned(),
                };
                writeln!(
                    out,
                    "{}\t{}\t{} – {}\t{done}",
                    p.period.kind.occasion().as_zh(),
                    p.period.level.as_zh(),
                    p.period.starts_on,
                    p.period.due_on
                )?;
            }
            match store.dedicated_visitor_of(&family).await? {
                Some(v) => writeln!(out, "专人：{}（{}）", v.visitor, v.unit)?,
                None => writeln!(out, "专人：未指定")?,
            }
            for v in store.visits_of(&family).await? {
                let withdrawn = v
                    .withdrawn
                    .as_ref()
                    .map(|(by, why)| format!(" [已撤销：{by}，{why}]"))
                    .unwrap_or_default();
                let follow = if v.follow_up.is_empty() {
                    String::new()
                } else {
                    let done = v
                        .follow_up_done
                        .as_ref()
                        .map(|(result, _, _)| format!("，已办结：{result}"))
                        .unwrap_or_default();
                    format!(
                        "；后续：{}（期限 {}{done}）",
                        v.follow_up,
                        v.follow_up_due.map(|d| d.to_string()).unwrap_or_default()
                    )
                };
                let recorded = jiff::Timestamp::from_microsecond(v.recorded_at)
                    .map(|t| beijing(t, "%Y-%m-%d %H:%M"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}{follow}\t{} {recorded}{withdrawn}",
                    v.visit_id,
                    v.visited_on,
                    v.occasion.as_zh(),
                    v.visitor,
                    v.found,
                    v.recorded_by
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        VisitCommand::Due(args) => {
            let area = args.area.unwrap_or_else(|| "371300".to_owned());
            if !is_area(&area) {
                eprintln!("guanai: --area: {area} is not a Linyi area code");
                return Ok(ExitCode::from(1));
            }
            let on = match &args.date {
                Some(d) => date("--date", d)?,
                None => today(),
            };
            let state = match args.soon {
                Some(days) => DueState::DueSoon { days },
                None => DueState::Overdue,
            };
            let user = operator(&area);
            let page = store
                .scoped(&user)
                .due_visits(state, on, 0, args.limit)
                .await?;
            writeln!(out, "村\t家庭编号\t家庭\t姓名\t类别\t期限")?;
            for r in &page.rows {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{} – {}",
                    r.family.village_name,
                    r.family.family_no,
                    r.family.family_id,
                    r.family.names.join("、"),
                    r.kind.occasion().as_zh(),
                    r.starts_on,
                    r.due_on
                )?;
            }
            writeln!(
                out,
                "共 {} 条{}",
                page.rows.len(),
                if page.more { "（还有更多）" } else { "" }
            )?;
            Ok(ExitCode::SUCCESS)
        }
        VisitCommand::Assign {
            family,
            visitor,
            unit,
        } => {
            let family = resolve(store, &family).await?;
            match store
                .assign_dedicated_visitor(&family, &visitor, &unit, &actor)
                .await
            {
                Ok(_) => {
                    writeln!(out, "{family} 的专人：{visitor}（{unit}）")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        VisitCommand::Withdraw {
            family,
            visit,
            reason,
            policy,
        } => {
            let policy = policy.load()?;
            let family = resolve(store, &family).await?;
            match store
                .withdraw_visit(&family, &visit, &reason, &policy, holidays()?, &actor)
                .await
            {
                Ok(()) => {
                    writeln!(out, "已撤销走访记录 {visit}")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        VisitCommand::FollowUp {
            family,
            visit,
            result,
        } => {
            let family = resolve(store, &family).await?;
            match store
                .close_follow_up(&family, &visit, &result, &actor)
                .await
            {
                Ok(()) => {
                    writeln!(out, "走访 {visit} 的后续事项已办结")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
    }
}
