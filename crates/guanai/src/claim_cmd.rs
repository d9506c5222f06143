//! `guanai claim funeral|medical|list`: claims paid through payment runs — funeral
//! reimbursement (二(五)) and medical relief (二(三)). The rules engine decides; the decision, the
//! evidence seen and the pack are recorded, refusals too (exit 1 with the reason).

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use guanai_rules::claims::HospitalLevel;
use guanai_rules::{Fen, parse_date};
use guanai_store::pay::{ClaimView, FuneralClaimInput, MedicalClaimInput, PayError};
use guanai_store::{Archive, PersonId};

use crate::archive_cmd::{ArchiveArgs, beijing, resolve, runtime};
use crate::cli::PolicyChoice;

#[derive(Subcommand)]
pub enum ClaimCommand {
    /// Funeral reimbursement for a deceased bereaved parent (二(五)): invoice, cremation at a city funeral home, once per parent.
    Funeral(FuneralArgs),
    /// Medical relief on the personal burden after insurance (二(三)): public city/county/township hospital, parent 49+, the county's ratio and annual cap.
    Medical(MedicalArgs),
    /// A family's claims and how they were decided and paid.
    List { family: String },
}

#[derive(Args)]
pub struct FuneralArgs {
    /// Family id or a member's resident ID number.
    #[arg(long)]
    family: String,
    /// The deceased parent (person id, P…).
    #[arg(long)]
    person: String,
    /// Invoice amount in yuan, e.g. 2360.00.
    #[arg(long)]
    invoice: String,
    #[arg(long)]
    invoice_no: String,
    /// The body was cremated (火化).
    #[arg(long)]
    cremated: bool,
    #[arg(long, default_value = "")]
    funeral_home: String,
    /// The funeral home is a city funeral home (市殡仪馆).
    #[arg(long)]
    city_funeral_home: bool,
    /// What was seen: certificates, invoice numbers.
    #[arg(long)]
    evidence: String,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Args)]
pub struct MedicalArgs {
    #[arg(long)]
    family: String,
    /// The parent treated (person id, P…).
    #[arg(long)]
    person: String,
    /// Date of treatment (discharge), YYYY-MM-DD.
    #[arg(long)]
    treated_on: String,
    #[arg(long)]
    hospital: String,
    #[arg(long, value_enum)]
    level: LevelArg,
    /// Total cost in yuan.
    #[arg(long)]
    total: String,
    /// Paid by medical insurance, in yuan.
    #[arg(long)]
    insurance_paid: String,
    #[arg(long)]
    evidence: String,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LevelArg {
    City,
    County,
    Township,
    Provincial,
    Private,
}

impl From<LevelArg> for HospitalLevel {
    fn from(l: LevelArg) -> HospitalLevel {
        match l {
            LevelArg::City => HospitalLevel::City,
            LevelArg::County => HospitalLevel::County,
            LevelArg::Township => HospitalLevel::Township,
            LevelArg::Provincial => HospitalLevel::Provincial,
            LevelArg::Private => HospitalLevel::Private,
        }
    }
}

fn yuan(field: &str, text: &str) -> Result<Fen> {
    Fen::parse_yuan(text)
        .ok_or_else(|| anyhow!("{field}: not an amount in yuan (e.g. 2360.00): {text:?}"))
}

fn person(text: &str) -> Result<PersonId> {
    PersonId::parse(text)
        .ok_or_else(|| anyhow!("--person: not a person id (P followed by 32 hex digits): {text:?}"))
}

fn show(out: &mut dyn Write, c: &ClaimView) -> io::Result<()> {
    let kind = guanai_pay::LineKind::parse(&c.kind).map_or("?", |k| k.as_zh());
    let status = if c.status == "approved" {
        "核准"
    } else {
        "不予报销"
    };
    writeln!(
        out,
        "{} {kind} {status} {} 元（申请 {} 元） 人员 {} 事件日 {} 登记 {} {}",
        c.claim_id,
        c.amount,
        c.claimed,
        c.person_id,
        c.event_date,
        beijing(c.recorded_at, "%Y-%m-%d %H:%M"),
        c.recorded_by
    )?;
    writeln!(out, "  决定：{}", c.decision)?;
    writeln!(out, "  凭证：{}", c.evidence)?;
    if let Some(run) = &c.run_id {
        writeln!(
            out,
            "  发放：批次 {run} 第 {} 条",
            c.line_no.unwrap_or_default()
        )?;
    } else if c.status == "approved" {
        writeln!(out, "  发放：待下一发放批次")?;
    }
    Ok(())
}

pub fn claim_cmd(archive: &ArchiveArgs, command: ClaimCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let code = claim(&store, archive, command).await;
        store.db().close().await;
        code
    })
}

async fn claim(store: &Archive, archive: &ArchiveArgs, command: ClaimCommand) -> Result<ExitCode> {
    let actor = archive.actor();
    let mut out = io::stdout().lock();
    let filed = match command {
        ClaimCommand::List { family } => {
            let family = resolve(store, &family).await?;
            for c in store.claims_of(&family).await? {
                show(&mut out, &c)?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        ClaimCommand::Funeral(args) => {
            let policy = args.policy.load()?;
            let input = FuneralClaimInput {
                family: resolve(store, &args.family).await?,
                person: person(&args.person)?,
                invoice: yuan("--invoice", &args.invoice)?,
                invoice_no: args.invoice_no,
                cremated: args.cremated,
                funeral_home: args.funeral_home,
                city_funeral_home: args.city_funeral_home,
                evidence: args.evidence,
            };
            store.file_funeral_claim(&input, &policy, &actor).await
        }
        ClaimCommand::Medical(args) => {
            let policy = args.policy.load()?;
            let input = MedicalClaimInput {
                family: resolve(store, &args.family).await?,
                person: person(&args.person)?,
                treated_on: parse_date(&args.treated_on)
                    .map_err(|e| anyhow!("--treated-on: {e}"))?,
                hospital: args.hospital,
                hospital_level: args.level.into(),
                total: yuan("--total", &args.total)?,
                insurance_paid: yuan("--insurance-paid", &args.insurance_paid)?,
                evidence: args.evidence,
            };
            store.file_medical_claim(&input, &policy, &actor).await
        }
    };
    match filed {
        Ok(view) => {
            show(&mut out, &view)?;
            Ok(if view.status == "approved" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(PayError::Store(e)) => Err(e.into()),
        Err(e) => {
            eprintln!("guanai: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
