//! The command line: `eval`, `gen`, `policy propose|test|show`, `id check`, and the archive
//! commands of [`crate::archive_cmd`] and the other `*_cmd` modules (payments, casework, visits,
//! claims, reports, the web application).

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use guanai_batch::contract::EvalSettings;
use guanai_batch::generate::{GenOptions, generate};
use guanai_batch::runner::run_eval;
use guanai_batch::suite;
use guanai_rules::adjust::{Indices, factor, propose, show_atto};
use guanai_rules::explain::Lang;
use guanai_rules::policy::{Decimal, RateTable};
use guanai_rules::{Month, Policy, ResidentId};

use crate::archive_cmd::today;
use crate::{archive_cmd, audit_cmd, case_cmd, claim_cmd, pay_cmd, report_cmd, visit_cmd, web_cmd};

#[derive(Parser)]
#[command(
    name = "guanai",
    version,
    about = "关爱 Guanai — relief and care for family-planning special-difficulty families (临政办发〔2014〕42号)"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    archive: archive_cmd::ArchiveArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate families (JSON Lines, one per line) for one month: docs/eval-contract.md.
    Eval(EvalArgs),
    /// Generate synthetic families: eval input (JSON Lines) or a census spreadsheet (CSV), for tests, benchmarks and demos.
    Gen(GenArgs),
    /// Policy packs: propose adjusted rates, run declarative tests, show a pack.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Resident ID numbers (公民身份号码).
    #[command(subcommand)]
    Id(IdCommand),
    /// Census import (普查导入) from .xlsx or .csv; `--template` writes the empty template.
    Import(archive_cmd::ImportArgs),
    /// The family archive (专门档案): show, list, record and correct facts.
    #[command(subcommand)]
    Family(Box<archive_cmd::FamilyCommand>),
    /// Contact persons per area and level (联系人, 二(一)).
    #[command(subcommand)]
    Contact(archive_cmd::ContactCommand),
    /// Visits (走访, 二(一)): the year's plan, visit records, dedicated visitors, overdue lists.
    #[command(subcommand)]
    Visit(visit_cmd::VisitCommand),
    /// Applications (申请): village check, public notice (公示), township review, county approval, appeal.
    #[command(subcommand)]
    Case(Box<case_cmd::CaseCommand>),
    /// Annual re-confirmation (年度资格确认) of enrolled parents.
    #[command(subcommand)]
    Confirm(case_cmd::ConfirmCommand),
    /// The service checklist (spec §6): what each parent is entitled to, and where it stands.
    #[command(subcommand)]
    Service(case_cmd::ServiceCommand),
    /// Complaints (投诉/异议): recorded, answered within the pack's days, escalated when late.
    #[command(subcommand)]
    Complaint(Box<case_cmd::ComplaintCommand>),
    /// The care network (二(一)): volunteers' organisations, refusals of pairing, counselling referrals.
    #[command(subcommand)]
    Volunteer(case_cmd::VolunteerCommand),
    /// Export an area's families to .xlsx or .csv (masked unless --unmasked --reason).
    Export(archive_cmd::ExportArgs),
    /// Consistent online backup of the archive to a file.
    Backup { file: PathBuf },
    /// Restore a backup into an empty archive.
    Restore { file: PathBuf },
    /// Cross-checks (数据比对): reported deaths, duplicate registrations.
    #[command(subcommand)]
    Match(archive_cmd::MatchCommand),
    /// Encryption keys of the archive.
    #[command(subcommand)]
    Key(archive_cmd::KeyCommand),
    /// The audit log (审计日志): verify its hash chain, list entries.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCommand),
    /// Payment runs (发放批次, 二(二)): build, check, approve, export to the bank, import results, close.
    #[command(subcommand)]
    Pay(Box<pay_cmd::PayCommand>),
    /// The double-entry ledger: trial balance, a family's statement, reconciliation.
    #[command(subcommand)]
    Ledger(pay_cmd::LedgerCommand),
    /// Budget forecast for county finance, and what a proposed policy change would cost.
    Forecast(pay_cmd::ForecastArgs),
    /// Claims paid through payment runs: funeral reimbursement (二(五)), medical relief (二(三)).
    #[command(subcommand)]
    Claim(Box<claim_cmd::ClaimCommand>),
    /// Reports (三(三), 三(四)): statistical tables, the county assessment, the public summary, spot checks.
    #[command(subcommand)]
    Report(Box<report_cmd::ReportCommand>),
    /// Serve the web application and the JSON API (/api/v1).
    Serve(web_cmd::ServeArgs),
    /// A fresh demo: synthetic Linyi families, payments and one account per role, then serve it.
    Demo(web_cmd::DemoArgs),
    /// Users of the web application: add, list, passwords, API tokens, volunteer pairings.
    #[command(subcommand)]
    User(web_cmd::UserCommand),
}

#[derive(Args)]
pub(crate) struct PolicyChoice {
    /// An embedded policy pack.
    #[arg(long, default_value = "linyi-2014", conflicts_with = "policy_file")]
    policy: String,
    /// A policy pack file (TOML) instead of an embedded one.
    #[arg(long, value_name = "PATH")]
    policy_file: Option<PathBuf>,
}

impl PolicyChoice {
    pub(crate) fn load(&self) -> Result<Policy> {
        match &self.policy_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read policy file {}", path.display()))?;
                Policy::from_toml(&text).with_context(|| format!("policy file {}", path.display()))
            }
            None => Ok(Policy::embedded(&self.policy)?),
        }
    }

    /// The pack's text, kept with what it computed.
    pub(crate) fn text(&self) -> Result<String> {
        match &self.policy_file {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read policy file {}", path.display())),
            None => guanai_rules::policy::embedded_text(&self.policy)
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("unknown policy pack {}", self.policy)),
        }
    }

    fn source(&self) -> String {
        self.policy_file
            .as_ref()
            .map_or_else(|| self.policy.clone(), |p| p.display().to_string())
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    Zh,
    En,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
        }
    }
}

#[derive(Args)]
struct EvalArgs {
    /// The month to evaluate, YYYY-MM.
    #[arg(long, value_parser = parse_month)]
    month: Month,
    #[command(flatten)]
    policy: PolicyChoice,
    /// Input file (JSON Lines); standard input when absent or `-`.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Output file; standard output when absent or `-`.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Language of the explanations.
    #[arg(long, value_enum, default_value = "zh")]
    lang: LangArg,
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct GenArgs {
    /// How many families.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// Seed: the same seed gives the same families, in either format.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Share of deliberately invalid families, 0 to 1.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    invalid_share: f64,
    /// Output format: `eval-json`, the eval input (JSON Lines), or `census-csv`, the census
    /// sheet as UTF-8 CSV with one row per person (the input of `guanai import`).
    #[arg(long, default_value = "eval-json", value_parser = ["eval-json", "census-csv"])]
    format: String,
    /// Output file; standard output when absent.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Propose new local rates from income growth and prices (二(二), spec §7).
    Propose(ProposeArgs),
    /// Run declarative policy test files (policies/tests/README.md).
    Test(TestArgs),
    /// Print a policy pack (TOML), e.g. to copy and edit for --policy-file.
    Show(ShowArgs),
}

#[derive(Args)]
struct ProposeArgs {
    /// Growth of urban per-capita disposable income, e.g. 0.081 for 8.1 %.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_decimal)]
    urban_income_growth: Decimal,
    /// Growth of rural per-capita net income.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_decimal)]
    rural_income_growth: Decimal,
    /// Consumer price index change.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_decimal)]
    cpi: Decimal,
    /// Adjust the local rates in force in this month (default: the latest row).
    #[arg(long, value_parser = parse_month)]
    month: Option<Month>,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Args)]
struct TestArgs {
    /// Test files or folders of *.toml files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Test against this pack file instead of the pack each test file names.
    #[arg(long, value_name = "PATH")]
    policy_file: Option<PathBuf>,
}

#[derive(Args)]
struct ShowArgs {
    #[arg(long, default_value = "linyi-2014")]
    policy: String,
}

#[derive(Subcommand)]
enum IdCommand {
    /// Check resident ID numbers (18 characters; 15-character legacy numbers are converted).
    Check {
        #[arg(required = true)]
        numbers: Vec<String>,
    },
}

fn parse_month(s: &str) -> Result<Month, String> {
    Month::parse(s).map_err(|e| e.to_string())
}

fn parse_decimal(s: &str) -> Result<Decimal, String> {
    Decimal::parse(s).ok_or_else(|| format!("not a decimal number like 0.081: {s}"))
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("expected a share between 0 and 1, got {s}")),
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Eval(args) => eval(args),
        Command::Gen(args) => gen_families(args),
        Command::Policy(PolicyCommand::Propose(args)) => policy_propose(args),
        Command::Policy(PolicyCommand::Test(args)) => policy_test(args),
        Command::Policy(PolicyCommand::Show(args)) => policy_show(args),
        Command::Id(IdCommand::Check { numbers }) => id_check(&numbers),
        Command::Import(args) => archive_cmd::import_cmd(&cli.archive, args),
        Command::Family(command) => archive_cmd::family_cmd(&cli.archive, *command),
        Command::Contact(command) => archive_cmd::contact_cmd(&cli.archive, command),
        Command::Visit(command) => visit_cmd::visit_cmd(&cli.archive, command),
        Command::Case(command) => case_cmd::case_cmd(&cli.archive, *command),
        Command::Confirm(command) => case_cmd::confirm_cmd(&cli.archive, command),
        Command::Service(command) => case_cmd::service_cmd(&cli.archive, command),
        Command::Complaint(command) => case_cmd::complaint_cmd(&cli.archive, *command),
        Command::Volunteer(command) => case_cmd::volunteer_cmd(&cli.archive, command),
        Command::Export(args) => archive_cmd::export_cmd(&cli.archive, args),
        Command::Backup { file } => archive_cmd::backup_cmd(&cli.archive, &file),
        Command::Restore { file } => archive_cmd::restore_cmd(&cli.archive, &file),
        Command::Match(command) => archive_cmd::match_cmd(&cli.archive, command),
        Command::Key(command) => archive_cmd::key_cmd(&cli.archive, command),
        Command::Audit(command) => audit_cmd::audit_cmd(&cli.archive, command),
        Command::Pay(command) => pay_cmd::pay_cmd(&cli.archive, *command),
        Command::Ledger(command) => pay_cmd::ledger_cmd(&cli.archive, command),
        Command::Forecast(args) => pay_cmd::forecast_cmd(&cli.archive, args),
        Command::Claim(command) => claim_cmd::claim_cmd(&cli.archive, *command),
        Command::Report(command) => report_cmd::report_cmd(&cli.archive, *command),
        Command::Serve(args) => web_cmd::serve_cmd(&cli.archive, args),
        Command::Demo(args) => web_cmd::demo_cmd(args),
        Command::User(command) => web_cmd::user_cmd(&cli.archive, command),
    }
}

fn open_output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    match path {
        Some(p) if p != Path::new("-") => {
            let file = File::create(p)
                .with_context(|| format!("cannot write output file {}", p.display()))?;
            Ok(Box::new(BufWriter::with_capacity(1 << 20, file)))
        }
        _ => Ok(Box::new(BufWriter::with_capacity(
            1 << 20,
            io::stdout().lock(),
        ))),
    }
}

fn eval(args: EvalArgs) -> Result<ExitCode> {
    let policy = args.policy.load()?;
    let input: Box<dyn Read + Send> = match &args.input {
        Some(p) if p != Path::new("-") => Box::new(
            File::open(p).with_context(|| format!("cannot read input file {}", p.display()))?,
        ),
        _ => Box::new(io::stdin()),
    };
    let output = open_output(args.output.as_deref())?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let settings = EvalSettings {
        month: args.month,
        lang: args.lang.into(),
        today: today(),
    };
    let summary = run_eval(input, output, &policy, &settings, threads).context("eval failed")?;
    eprintln!(
        "guanai eval {}: {} evaluated, {} rejected ({} lines, policy {})",
        args.month,
        summary.evaluated,
        summary.rejected,
        summary.lines,
        args.policy.source()
    );
    Ok(if summary.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn gen_families(args: GenArgs) -> Result<ExitCode> {
    let mut out = open_output(args.output.as_deref())?;
    use guanai_batch::generate::GenFormat;
    let (format, invalid_unit) = match args.format.as_str() {
        "eval-json" => (GenFormat::EvalJson, "lines"),
        "census-csv" => (GenFormat::CensusCsv, "families"),
        other => bail!("unknown --format {other}: expected eval-json or census-csv"),
    };
    let options = GenOptions {
        count: args.count,
        seed: args.seed,
        invalid_share: args.invalid_share,
        format,
    };
    let summary = generate(&options, &mut out).context("cannot write generated families")?;
    out.flush().context("cannot write generated families")?;
    eprintln!(
        "guanai gen: {} families ({} invalid {invalid_unit}), seed {}",
        summary.families, summary.invalid, args.seed
    );
    Ok(ExitCode::SUCCESS)
}

fn policy_propose(args: ProposeArgs) -> Result<ExitCode> {
    let policy = args.policy.load()?;
    let indices = Indices {
        urban_income_growth: args.urban_income_growth,
        rural_income_growth: args.rural_income_growth,
        cpi: args.cpi,
    };
    let row = match args.month {
        Some(m) => policy.row_in_force(RateTable::Local, m),
        None => policy.local_rate.last(),
    };
    let Some(row) = row else {
        bail!("the pack {} has no local rate to adjust", policy.name)
    };
    let w = &policy.adjustment;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "动态调整建议 / Dynamic adjustment proposal (二(二); spec §7) — pack {}",
        policy.name
    )?;
    writeln!(
        out,
        "Adjusting the local rates in force from {} ({})",
        row.from, row.source
    )?;
    writeln!(
        out,
        "factor = 1 + {}×{} (urban income) + {}×{} (rural income) + {}×{} (CPI) = {}",
        w.urban_income,
        indices.urban_income_growth,
        w.rural_income,
        indices.rural_income_growth,
        w.cpi,
        indices.cpi,
        show_atto(factor(&policy, &indices))
    )?;
    writeln!(
        out,
        "new = old × factor, rounded up to a multiple of {} yuan",
        w.round_up_to
    )?;
    let mut proposed = Vec::new();
    for (label, by) in [
        ("bereaved 失独", &row.bereaved),
        ("disabled 伤残", &row.disabled),
    ] {
        for (hukou, old) in [("urban", by.urban), ("rural", by.rural)] {
            let p = propose(&policy, &indices, guanai_rules::Fen(old));
            writeln!(
                out,
                "  {label} {hukou}: {} × {} = {} yuan → {} yuan",
                p.old,
                show_atto(p.factor_atto),
                show_atto(p.unrounded_atto_fen / 100),
                p.new
            )?;
            proposed.push(p.new.get());
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "# A proposal only: adopting it is an approved policy change with its own start month."
    )?;
    writeln!(out, "# Add this row to the pack with that month as `from`:")?;
    writeln!(out, "[[local_rate]]")?;
    writeln!(out, "from = \"YYYY-MM\"")?;
    writeln!(
        out,
        "source = \"dynamic adjustment: urban {} rural {} cpi {}\"",
        indices.urban_income_growth, indices.rural_income_growth, indices.cpi
    )?;
    if let [bu, br, du, dr] = proposed[..] {
        writeln!(out, "bereaved = {{ urban = {bu}, rural = {br} }}")?;
        writeln!(out, "disabled = {{ urban = {du}, rural = {dr} }}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn test_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read folder {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn policy_test(args: TestArgs) -> Result<ExitCode> {
    let override_policy = match &args.policy_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read policy file {}", path.display()))?;
            Some(
                Policy::from_toml(&text)
                    .with_context(|| format!("policy file {}", path.display()))?,
            )
        }
        None => None,
    };
    let settings = EvalSettings {
        month: Month::parse("2014-10")?,
        lang: Lang::En,
        today: today(),
    };
    let (mut passed, mut failed) = (0u64, 0u64);
    let mut out = io::stdout().lock();
    for path in test_files(&args.files)? {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read test file {label}"))?;
        let policy = match &override_policy {
            Some(p) => p.clone(),
            None => {
                let name = suite::declared_policy(&label, &text)?
                    .unwrap_or_else(|| "linyi-2014".to_owned());
                Policy::embedded(&name).with_context(|| label.to_string())?
            }
        };
        let report = suite::run_file(&label, &text, &policy, &settings)?;
        passed += report.passed;
        failed += report.failures.len() as u64;
        for f in &report.failures {
            writeln!(out, "FAIL {label}: {} @ {}", f.case, f.month)?;
            for p in &f.problems {
                writeln!(out, "     {p}")?;
            }
        }
        writeln!(
            out,
            "{label}: {} passed, {} failed",
            report.passed,
            report.failures.len()
        )?;
    }
    writeln!(out, "policy: {passed} passed, {failed} failed")?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn policy_show(args: ShowArgs) -> Result<ExitCode> {
    // Check it loads, then print the pack as shipped (with its comments).
    Policy::embedded(&args.policy)?;
    let text = guanai_rules::policy::embedded_text(&args.policy).unwrap_or_default();
    io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn id_check(numbers: &[String]) -> Result<ExitCode> {
    let today = today();
    let mut all_valid = true;
    let mut out = io::stdout().lock();
    for number in numbers {
        let parsed = if number.len() == 15 {
            ResidentId::from_legacy(number, today)
        } else {
            ResidentId::parse(number, today)
        };
        match parsed {
            Ok(id) => {
                let legacy = if number.len() == 15 {
                    format!(" (converted from 15 characters: {})", id.as_str())
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "{}: valid — born {}, {}, address code {}{legacy}",
                    id.masked(),
                    id.birth_date(),
                    id.sex().as_str(),
                    id.address_code()
                )?;
            }
            Err(e) => {
                all_valid = false;
                writeln!(out, "{number}: invalid — {e} / {}", e.zh())?;
            }
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
