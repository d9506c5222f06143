//! Commands of the payment side: `pay run|list|show|explain|problems|check|approve|discard|payer|
//! export|import-results|failed|close`, `ledger balance|statement|reconcile`, and `forecast`.
//! The operator (`--operator`) is recorded at every step; the approver must differ from the
//! builder. Exit codes: 0 done, 1 refused or differences found, 2 usage or system errors.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use guanai_forecast::{Mortality, Source, Subject};
use guanai_rules::engine::evaluate_traced;
use guanai_rules::explain::{Labels, Lang, Reason, render_all};
use guanai_rules::{CountyCode, Fen, GrantKind, Month, Policy};
use guanai_store::pay::{
    BuildOptions, BuildOutcome, BuildProgress, PayError, RunId, RunSummary, account_name_zh,
};
use guanai_store::{Archive, FamilyId};

use crate::archive_cmd::{ArchiveArgs, beijing, resolve, runtime, today};
use crate::cli::PolicyChoice;

#[derive(Subcommand)]
pub enum PayCommand {
    /// Build the payment run for a month: regular payments, arrears (补发), recoveries (追回) and one-time grants.
    Run(RunArgs),
    /// List payment runs, newest first.
    List,
    /// A run's summary; with --lines (or --family) its lines and the reason for each.
    Show {
        run: String,
        /// Show every line.
        #[arg(long)]
        lines: bool,
        /// Only this family's lines (family id or resident ID number).
        #[arg(long)]
        family: Option<String>,
    },
    /// Explain one line of a run in full: the rules applied, with the clauses, the facts and the pack it used.
    Explain {
        run: String,
        line: i64,
        #[arg(long, value_enum, default_value = "zh")]
        lang: crate::cli::LangArg,
    },
    /// The problems found when the run was built (blocking ones first).
    Problems { run: String },
    /// Check a draft run. Refused while blocking problems remain, unless --hold gives the reason to hold the affected transfers.
    Check {
        run: String,
        /// Hold the transfers with blocking problems (they stay owed) and check the rest; say why.
        #[arg(long, value_name = "REASON")]
        hold: Option<String>,
    },
    /// Approve a checked run (not by its builder): posts it to the ledger; nothing in it changes afterwards.
    Approve { run: String },
    /// Discard a draft or checked run: its bookings are undone, the county is free for a new run.
    Discard {
        run: String,
        #[arg(long)]
        reason: String,
    },
    /// Set a county finance's paying account (付款账户) for bank files.
    Payer {
        #[arg(long)]
        county: String,
        /// 付款单位, e.g. 临沂市兰山区财政局.
        #[arg(long)]
        name: String,
        #[arg(long)]
        account: String,
        /// 开户行.
        #[arg(long)]
        bank: String,
    },
    /// Export an approved run to the bank: per county and bank a 代发 XLSX and CSV and an ISO 20022 pain.001 file.
    Export {
        run: String,
        /// Folder for the files.
        #[arg(long)]
        out: PathBuf,
        /// The day the bank is asked to pay (default: today).
        #[arg(long)]
        execution_date: Option<String>,
    },
    /// Import the bank's return file (回盘: XLSX, CSV or pain.002): paid lines are settled, failed ones flagged and owed again.
    ImportResults { run: String, file: PathBuf },
    /// Transfers the bank returned, awaiting a corrected account (for caseworkers).
    Failed,
    /// Close a run whose transfers all have a bank result.
    Close { run: String },
}

#[derive(Args)]
pub struct RunArgs {
    /// The month to pay, YYYY-MM.
    #[arg(long)]
    month: String,
    /// Only this county (default: every county).
    #[arg(long)]
    county: Option<String>,
    /// The ledger's first month, set once by the first run (default: the first run's month);
    /// earlier months were paid before Guanai.
    #[arg(long)]
    ledger_start: Option<String>,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Trial balance: debits, credits and balance per account.
    Balance,
    /// A family's account statement (family id or resident ID number).
    Statement { family: String },
    /// Reconcile the ledger with the payment lines, the bank transfers and the booked positions; any difference fails.
    Reconcile,
}

#[derive(Args)]
pub struct ForecastArgs {
    /// First month of the forecast, YYYY-MM.
    #[arg(long)]
    from: String,
    /// Number of months.
    #[arg(long, default_value_t = 12)]
    months: u16,
    /// Only this county.
    #[arg(long)]
    county: Option<String>,
    /// Parents' monthly death probability in parts per billion (default: observed over the 12 months before --from).
    #[arg(long)]
    mortality_ppb: Option<u64>,
    /// A proposed policy pack (TOML): the forecast shows the difference it would make.
    #[arg(long, value_name = "PATH")]
    proposal: Option<PathBuf>,
    #[command(flatten)]
    policy: PolicyChoice,
}

fn run_id(text: &str) -> Result<RunId> {
    RunId::parse(text).ok_or_else(|| {
        anyhow::anyhow!("{text:?} is not a payment run id (YYYYMM-COUNTY-N or YYYYMM-all-N, e.g. 202612-371302-1)")
    })
}

fn month(field: &str, text: &str) -> Result<Month> {
    Month::parse(text).map_err(|e| anyhow::anyhow!("{field}: {e}"))
}

fn county(field: &str, text: &str) -> Result<CountyCode> {
    CountyCode::parse(text).map_err(|e| anyhow::anyhow!("{field}: {e}"))
}

/// Refusals of the payment side are the user's to act on: exit 1 with the message.
fn refused(e: PayError) -> Result<ExitCode> {
    match e {
        PayError::Store(s) => Err(s.into()),
        other => {
            eprintln!("guanai: {other}");
            Ok(ExitCode::from(1))
        }
    }
}

fn nature_zh(nature: &str) -> &'static str {
    guanai_pay::Nature::parse(nature).map_or("?", |n| n.as_zh())
}

fn kind_zh(kind: &str) -> &'static str {
    guanai_pay::LineKind::parse(kind).map_or("?", |k| k.as_zh())
}

fn clause(kind: &str) -> &'static str {
    guanai_pay::LineKind::parse(kind).map_or("", |k| k.clause())
}

fn print_summary(out: &mut dyn Write, s: &RunSummary) -> io::Result<()> {
    let run = &s.run_id;
    writeln!(
        out,
        "发放批次 {run}  {} 月  范围 {}  状态 {}（{}）",
        s.month,
        if s.scope == "all" { "全市" } else { &s.scope },
        s.status.as_zh(),
        s.status.as_str()
    )?;
    writeln!(
        out,
        "  政策 {}（{}…）  事实截至 {}  账期自 {}，补发最远至 {}",
        s.policy_name,
        &s.policy_digest[..12.min(s.policy_digest.len())],
        beijing(s.known_at, "%Y-%m-%d %H:%M:%S"),
        s.ledger_first,
        s.arrears_from
    )?;
    let who = |label: &str, v: &Option<String>| {
        v.as_ref()
            .map(|v| format!("  {label} {v}"))
            .unwrap_or_default()
    };
    writeln!(
        out,
        "  制单 {}{}{}{}{}",
        s.created_by,
        who("审核", &s.checked_by),
        who("批准", &s.approved_by),
        who("报送", &s.exported_by),
        who("关闭", &s.closed_by)
    )?;
    writeln!(
        out,
        "  明细 {} 条，合计 {} 元 / {} lines, {} yuan",
        s.lines, s.total, s.lines, s.total
    )?;
    for (nature, count, amount) in &s.by_nature {
        writeln!(
            out,
            "    {:<4} {count:>9} 条 {amount:>16} 元",
            nature_zh(nature)
        )?;
    }
    writeln!(out, "  资金来源 / funding:")?;
    writeln!(
        out,
        "    上级特扶资金 higher-level funds {:>16} 元",
        s.standard
    )?;
    for (county, amount) in &s.by_county {
        let name = CountyCode::parse(county).map(|c| c.name()).unwrap_or("");
        writeln!(out, "    县级财政 {county} {name:<8} {amount:>16} 元")?;
    }
    writeln!(out, "  代发 / transfers:")?;
    for (status, count, amount) in &s.transfers {
        let zh = match status.as_str() {
            "pending" => "待报送",
            "held" => "暂缓",
            "sent" => "已报送",
            "paid" => "已到账",
            "failed" => "被退回",
            _ => "",
        };
        writeln!(out, "    {zh:<4} {status:<8} {count:>9} 笔 {amount:>16} 元")?;
    }
    if s.beyond_limit > Fen::ZERO {
        writeln!(
            out,
            "  超出补发期限未发 {} 元（见问题清单）",
            s.beyond_limit
        )?;
    }
    writeln!(
        out,
        "  问题 {} 个，其中阻断 {} 个 / {} problems, {} blocking",
        s.problems, s.blocking, s.problems, s.blocking
    )?;
    Ok(())
}

/// Tells the operator on stderr where a long build has got to.
fn tell_progress(step: BuildProgress) {
    match step {
        BuildProgress::Written {
            families,
            of,
            lines,
        } => {
            eprintln!(
                "已计算并写入 {families}/{of} 户，{lines} 条发放明细（未提交） / {families} of {of} families planned and written, {lines} lines (not yet committed)"
            );
        }
        BuildProgress::Committed => eprintln!("已提交 / committed"),
    }
}

pub fn pay_cmd(archive: &ArchiveArgs, command: PayCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let code = pay(&store, archive, command).await;
        store.db().close().await;
        code
    })
}

async fn pay(store: &Archive, archive: &ArchiveArgs, command: PayCommand) -> Result<ExitCode> {
    let actor = archive.actor();
    let mut out = io::stdout().lock();
    match command {
        PayCommand::Run(args) => {
            let policy = args.policy.load()?;
            let text = args.policy.text()?;
            let options = BuildOptions {
                month: month("--month", &args.month)?,
                county: args
                    .county
                    .as_deref()
                    .map(|c| county("--county", c))
                    .transpose()?,
                policy: &policy,
                policy_text: &text,
                ledger_start: args
                    .ledger_start
                    .as_deref()
                    .map(|m| month("--ledger-start", m))
                    .transpose()?,
                progress: Some(&tell_progress),
            };
            match store.build_run(&options, &actor).await {
                Ok(BuildOutcome::Built(summary)) => {
                    print_summary(&mut out, &summary)?;
                    writeln!(
                        out,
                        "下一步：guanai pay problems {0}；guanai pay check {0}",
                        summary.run_id
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Ok(BuildOutcome::NothingNew { families, open }) => {
                    let pending = open
                        .map(|r| format!("（应发款项已在未报送的批次 {r} 中）"))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "{families} 户均已足额入账，无新增发放{pending} / nothing new to pay for {} ({families} families checked)",
                        options.month
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        PayCommand::List => {
            let runs = store.list_runs().await?;
            writeln!(out, "批次\t月份\t范围\t状态\t条数\t合计(元)\t制单\t批准")?;
            for s in runs {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    s.run_id,
                    s.month,
                    s.scope,
                    s.status.as_zh(),
                    s.lines,
                    s.total,
                    s.created_by,
                    s.approved_by.unwrap_or_default()
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        PayCommand::Show { run, lines, family } => {
            let run = run_id(&run)?;
            let summary = match store.run_summary(&run).await {
                Ok(s) => s,
                Err(e) => return refused(e),
            };
            print_summary(&mut out, &summary)?;
            if lines || family.is_some() {
                let family = match family {
                    Some(key) => Some(resolve(store, &key).await?),
                    None => None,
                };
                let (_, known_at) = store.run_basis(&run).await?;
                writeln!(
                    out,
                    "序号\t家庭\t人员\t所属月\t项目\t性质\t金额\t上级\t县级\t应发\t原已发\t依据"
                )?;
                for l in store.run_lines(&run, family.as_ref()).await? {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{} 事实版本 v{}，截至 {}",
                        l.line_no,
                        l.family_id,
                        l.person_id,
                        l.for_month,
                        kind_zh(&l.kind),
                        nature_zh(&l.nature),
                        l.amount,
                        l.standard,
                        l.county,
                        l.due,
                        l.booked_before,
                        clause(&l.kind),
                        l.family_version,
                        beijing(known_at, "%Y-%m-%d %H:%M")
                    )?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        PayCommand::Explain { run, line, lang } => {
            explain(store, &mut out, &run_id(&run)?, line, lang.into()).await
        }
        PayCommand::Problems { run } => {
            let run = run_id(&run)?;
            let mut problems = match store.problems(&run, false).await {
                Ok(p) => p,
                Err(e) => return refused(e),
            };
            problems.sort_by_key(|p| (!p.blocking, p.problem_no));
            for p in &problems {
                writeln!(
                    out,
                    "{}\t{}\t{}\t家庭 {}\t{}\t{}",
                    p.problem_no,
                    if p.blocking {
                        if p.resolved { "已暂缓" } else { "阻断" }
                    } else {
                        "提示"
                    },
                    p.code,
                    p.family_id,
                    p.person_id.as_deref().unwrap_or(""),
                    p.detail
                )?;
            }
            let open = problems
                .iter()
                .filter(|p| p.blocking && !p.resolved)
                .count();
            writeln!(
                out,
                "问题 {} 个，未解决的阻断 {open} 个 / {} problems, {open} blocking",
                problems.len(),
                problems.len()
            )?;
            Ok(if open == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        PayCommand::Check { run, hold } => {
            let run = run_id(&run)?;
            match store.check_run(&run, hold.as_deref(), &actor).await {
                Ok(()) => {
                    writeln!(
                        out,
                        "批次 {run} 已审核 / checked by {}；下一步由他人批准：guanai pay approve {run}",
                        actor.name
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        PayCommand::Approve { run } => {
            let run = run_id(&run)?;
            match store.approve_run(&run, &actor).await {
                Ok(()) => {
                    writeln!(
                        out,
                        "批次 {run} 已批准并记账 / approved by {}；下一步：guanai pay export {run} --out 文件夹",
                        actor.name
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        PayCommand::Discard { run, reason } => {
            let run = run_id(&run)?;
            match store.discard_run(&run, &reason, &actor).await {
                Ok(()) => {
                    writeln!(out, "批次 {run} 已作废 / discarded")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        PayCommand::Payer {
            county: code,
            name,
            account,
            bank,
        } => {
            let code = county("--county", &code)?;
            let payer = guanai_bank::Payer {
                name,
                account,
                bank,
            };
            match store.set_payer(code, &payer, &actor).await {
                Ok(()) => {
                    writeln!(
                        out,
                        "{} {} 付款账户已设置 / paying account set",
                        code,
                        code.name()
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        PayCommand::Export {
            run,
            out: dir,
            execution_date,
        } => {
            let run = run_id(&run)?;
            let date = match execution_date {
                Some(text) => guanai_rules::parse_date(&text)
                    .map_err(|e| anyhow::anyhow!("--execution-date: {e}"))?,
                None => today(),
            };
            match store.export_run(&run, &dir, date, &actor).await {
                Ok(files) => {
                    for f in &files.files {
                        writeln!(
                            out,
                            "{} {}：{} 笔，{} 元",
                            f.county_code, f.bank, f.count, f.total
                        )?;
                        for p in &f.paths {
                            writeln!(out, "  {}", p.display())?;
                        }
                    }
                    writeln!(
                        out,
                        "共 {} 笔，{} 元，已报送 / {} transfers, {} yuan exported. 文件含完整身份证号与账号，请妥善保管。",
                        files.count, files.total, files.count, files.total
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        PayCommand::ImportResults { run, file } => {
            let run = run_id(&run)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match store.import_results(&run, &bytes, &name, &actor).await {
                Ok(report) => {
                    writeln!(
                        out,
                        "到账 {} 笔，{} 元 / {} paid",
                        report.paid, report.paid_total, report.paid
                    )?;
                    for (no, family, amount, reason) in &report.failed {
                        writeln!(
                            out,
                            "  退回 #{no} 家庭 {family} {amount} 元：{reason}（请核实账户，更正后下一批次补发）"
                        )?;
                    }
                    writeln!(
                        out,
                        "退回 {} 笔；待回盘 {} 笔{}",
                        report.failed.len(),
                        report.waiting,
                        if report.settled {
                            "；批次已全部回盘，可关闭：guanai pay close ".to_owned() + run.as_str()
                        } else {
                            String::new()
                        }
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        PayCommand::Failed => {
            let failed = store.failed_transfers().await?;
            for (run, t) in &failed {
                writeln!(
                    out,
                    "{run}\t#{}\t家庭 {}\t人员 {}\t{} 元\t{}",
                    t.transfer_no, t.family_id, t.person_id, t.amount, t.note
                )?;
            }
            writeln!(
                out,
                "被银行退回 {} 笔 / {} returned transfers",
                failed.len(),
                failed.len()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        PayCommand::Close { run } => {
            let run = run_id(&run)?;
            match store.close_run(&run, &actor).await {
                Ok(()) => {
                    writeln!(out, "批次 {run} 已关闭 / closed")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
    }
}

/// Re-derives one line from the run's frozen basis: the facts as recorded up to the run's
/// moment and the pack it used, through the same engine, with every rule rendered.
async fn explain(
    store: &Archive,
    out: &mut dyn Write,
    run: &RunId,
    line_no: i64,
    lang: Lang,
) -> Result<ExitCode> {
    let (text, known_at) = match store.run_basis(run).await {
        Ok(b) => b,
        Err(e) => return refused(e),
    };
    let lines = store.run_lines(run, None).await?;
    let Some(line) = lines.iter().find(|l| l.line_no == line_no) else {
        bail!(
            "payment run {run} has no line {line_no} (it has {})",
            lines.len()
        );
    };
    let policy = Policy::from_toml(&text).context("the run's policy pack")?;
    let family = FamilyId::parse(&line.family_id)
        .ok_or_else(|| anyhow::anyhow!("bad family id {}", line.family_id))?;
    let file = store.family_file(&family).await?;
    let for_month = month("for_month", &line.for_month)?;
    writeln!(
        out,
        "批次 {run} 第 {line_no} 条：{} {} {} {} 元（上级 {} + 县级 {}）",
        line.for_month,
        kind_zh(&line.kind),
        nature_zh(&line.nature),
        line.amount,
        line.standard,
        line.county
    )?;
    writeln!(
        out,
        "  计算：应发 {} − 原已入账 {} = {} 元；依据 {}；政策 {}；事实截至 {}（家庭 {}，版本 v{}）",
        line.due,
        line.booked_before,
        line.amount,
        clause(&line.kind),
        policy.name,
        beijing(known_at, "%Y-%m-%d %H:%M:%S"),
        line.family_id,
        line.family_version
    )?;
    let facts = file.engine_family(for_month, Some(known_at))?;
    let mut reasons: Vec<Reason> = Vec::new();
    evaluate_traced(&facts, for_month, &policy, &mut reasons);
    let names: Vec<&str> = file
        .people(Some(known_at))
        .iter()
        .filter(|p| p.relation.is_parent())
        .map(|p| p.relation.as_zh())
        .collect();
    let labels = Labels {
        parents: [
            names.first().copied().unwrap_or("父母一"),
            names.get(1).copied().unwrap_or("父母二"),
        ],
        child: "子女",
    };
    for text in render_all(&reasons, lang, &facts, &labels, &policy) {
        writeln!(out, "  · {text}")?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn ledger_cmd(archive: &ArchiveArgs, command: LedgerCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let mut out = io::stdout().lock();
        let code = match command {
            LedgerCommand::Balance => {
                let rows = store.trial_balance().await?;
                writeln!(out, "科目\t账户\t借方(元)\t贷方(元)\t余额(元)")?;
                let (mut d, mut c) = (Fen::ZERO, Fen::ZERO);
                for r in &rows {
                    writeln!(out, "{}\t{}\t{}\t{}\t{}", account_name_zh(&r.account), r.account, r.debit, r.credit, r.balance)?;
                    d = d + r.debit;
                    c = c + r.credit;
                }
                writeln!(out, "合计\t\t{d}\t{c}\t{}", d - c)?;
                if d == c { ExitCode::SUCCESS } else { ExitCode::from(1) }
            }
            LedgerCommand::Statement { family } => {
                let family = resolve(&store, &family).await?;
                let lines = store.statement(&family).await?;
                writeln!(out, "时间\t批次\t业务\t账户\t借方(元)\t贷方(元)\t摘要")?;
                for l in &lines {
                    let (debit, credit) = if l.amount >= Fen::ZERO { (l.amount, Fen::ZERO) } else { (Fen::ZERO, Fen(-l.amount.get())) };
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        beijing(l.at, "%Y-%m-%d %H:%M"),
                        l.run_id.as_deref().unwrap_or(""),
                        l.kind,
                        account_name_zh(&l.account),
                        debit,
                        credit,
                        l.memo
                    )?;
                }
                let (owed, debt) = store.family_balance(&family).await?;
                writeln!(out, "应付未付 {owed} 元；应收追回 {debt} 元 / owed {owed}, to recover {debt}")?;
                ExitCode::SUCCESS
            }
            LedgerCommand::Reconcile => {
                let r = store.reconcile().await?;
                for d in &r.differences {
                    writeln!(out, "  差异 / difference: {d}")?;
                }
                writeln!(
                    out,
                    "对账：凭证 {} 张，分录 {} 条，发放明细 {} 条，家庭 {} 户；差异 {} 处 / {} differences",
                    r.entries, r.postings, r.lines, r.families, r.differences.len(), r.differences.len()
                )?;
                if r.differences.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
            }
        };
        store.db().close().await;
        Ok(code)
    })
}

pub fn forecast_cmd(archive: &ArchiveArgs, args: ForecastArgs) -> Result<ExitCode> {
    let from = month("--from", &args.from)?;
    if args.months == 0 || args.months > 120 {
        bail!("--months: between 1 and 120, got {}", args.months);
    }
    let only = args
        .county
        .as_deref()
        .map(|c| county("--county", c))
        .transpose()?;
    let policy = args.policy.load()?;
    let proposal = match &args.proposal {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(
                Policy::from_toml(&text)
                    .with_context(|| format!("policy file {}", path.display()))?,
            )
        }
        None => None,
    };
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let awards = store.grant_awards().await?;
        // Grants first due before the ledger's first month were paid before Guanai.
        let settled_before = store.ledger_start().await?;
        let mut subjects = Vec::new();
        let mut skipped = 0usize;
        // Linyi city (3713) unless one county is asked for.
        let area = only.map_or_else(|| "3713".to_owned(), |c| c.to_string());
        let ids: Vec<FamilyId> = store
            .list_families(&area)
            .await?
            .into_iter()
            .map(|f| f.family_id)
            .collect();
        for chunk in ids.chunks(500) {
            for file in store.payment_files(chunk).await? {
                match file.engine_family(from, None) {
                    Ok(family) => {
                        let listed = guanai_rules::evaluate(&family, from, &policy);
                        let mut paid = [false; 3];
                        for (i, kind) in GrantKind::ALL.iter().enumerate() {
                            let awarded = awards
                                .binary_search_by(|(f, k)| {
                                    (f.as_str(), k.as_str())
                                        .cmp(&(file.family_id.as_str(), kind.as_str()))
                                })
                                .is_ok();
                            let before = listed.one_time[i].is_some_and(|g| {
                                settled_before.is_some_and(|start| g.due_from < start)
                            });
                            paid[i] = awarded || before;
                        }
                        subjects.push(Subject {
                            family,
                            paid_grants: paid,
                        });
                    }
                    Err(_) => skipped += 1,
                }
            }
        }
        store.db().close().await;
        let mortality = match args.mortality_ppb {
            Some(ppb) => {
                Mortality::from_ppb(ppb).map_err(|e| anyhow::anyhow!("--mortality-ppb: {e}"))?
            }
            None => Mortality::observed(
                &subjects,
                Month::of(from.first_day().saturating_sub(jiff::Span::new().years(1))),
                from.prev(),
            ),
        };
        let mut out = io::stdout().lock();
        writeln!(
            out,
            "预算预测 {from} 起 {} 个月，{} 户{}；父母月死亡率 {} ppb；政策 {}",
            args.months,
            subjects.len(),
            if skipped > 0 {
                format!("（{skipped} 户档案不完整未计入）")
            } else {
                String::new()
            },
            mortality.ppb(),
            policy.name
        )?;
        let source_zh = |s: Source| match s {
            Source::Higher => "上级资金",
            Source::County => "县级财政",
        };
        match &proposal {
            None => {
                let f =
                    guanai_forecast::forecast(&subjects, &policy, from, args.months, &mortality);
                writeln!(
                    out,
                    "区县\t名称\t资金来源\t月份\t扶助金(元)\t一次性(元)\t人数"
                )?;
                for c in &f.cells {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        c.county,
                        c.county.name(),
                        source_zh(c.source),
                        c.month,
                        c.monthly,
                        c.grants,
                        c.parents
                    )?;
                }
                writeln!(out, "区县\t名称\t资金来源\t合计(元)")?;
                for (county, source, total) in f.by_county() {
                    writeln!(
                        out,
                        "{county}\t{}\t{}\t{total}",
                        county.name(),
                        source_zh(source)
                    )?;
                }
                writeln!(out, "总计 {} 元 / total {} yuan", f.total(), f.total())?;
            }
            Some(proposal) => {
                let c = guanai_forecast::compare(
                    &subjects,
                    &policy,
                    proposal,
                    from,
                    args.months,
                    &mortality,
                );
                writeln!(
                    out,
                    "区县\t名称\t月份\t资金来源\t现行(元)\t调整后(元)\t差额(元)"
                )?;
                for (county, m, source, base, new, diff) in c.differences() {
                    writeln!(
                        out,
                        "{county}\t{}\t{m}\t{}\t{base}\t{new}\t{diff}",
                        county.name(),
                        source_zh(source)
                    )?;
                }
                writeln!(
                    out,
                    "现行 {} 元，调整后 {} 元，差额 {} 元 / base {}, proposal {}, difference {}",
                    c.base.total(),
                    c.proposal.total(),
                    c.total_difference(),
                    c.base.total(),
                    c.proposal.total(),
                    c.total_difference()
                )?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
