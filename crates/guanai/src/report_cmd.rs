//! `guanai report stats|assessment|public|spot-check|refresh`: reports (三(三), 三(四)) on the
//! command line. The command line acts as an operator over the whole archive: any area, any
//! county. Tables print as aligned plain text (Chinese headings unless `--english`), or are
//! written as CSV (UTF-8 with a BOM) or XLSX — the same tables the web pages show. The statistical
//! register is refreshed before every report. Input the archive refuses (a bad month or area, a
//! period that ends before it starts, an unknown checklist item, a failure without a note) exits
//! 2 naming the field; nothing is written.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use guanai_report::export::cell_text;
use guanai_report::scorecard::{CHECKLIST, points_text};
use guanai_report::{ColumnKind, Table};
use guanai_rules::{CountyCode, Month, VillageCode, parse_date};
use guanai_store::Archive;
use guanai_store::access::{CITY_CODE, area_prefix};
use guanai_store::assessment::{NewFinding, SpotCheck, SpotFamily};
use guanai_store::reports::ReportRequest;
use jiff::civil::Date;

use crate::archive_cmd::{ArchiveArgs, beijing, resolve, runtime, today};
use crate::case_cmd::is_area;
use crate::cli::PolicyChoice;

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Statistical tables (统计报表) of an area and period: families, payments by month and by
    /// area, grants, services, visits; `--charts DIR` also writes the three charts (SVG).
    Stats(StatsArgs),
    /// The county assessment (目标责任考核, 三(三)): each county's score and rank, and where
    /// points were lost.
    Assessment(AssessmentArgs),
    /// The public summary (公示, 三(四)): counts and money per county, small counts withheld,
    /// no names or ID numbers.
    Public(PublicArgs),
    /// Unannounced spot checks (不定期抽查, 三(三)): draw families, record findings, verify a draw.
    #[command(subcommand)]
    SpotCheck(SpotCheckCommand),
    /// Bring the statistical register up to date (the other report commands do it themselves).
    Refresh {
        #[command(flatten)]
        policy: PolicyChoice,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned plain-text tables.
    Text,
    /// CSV, UTF-8 with a byte-order mark (opens in Excel).
    Csv,
    /// An XLSX workbook, one sheet per table (needs --output).
    Xlsx,
}

#[derive(Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Output file (required for xlsx); standard output when absent or `-`.
    #[arg(long)]
    output: Option<PathBuf>,
    /// English headings and notes instead of Chinese.
    #[arg(long)]
    english: bool,
}

#[derive(Args)]
pub struct PeriodArgs {
    /// First month, YYYY-MM (default: January of --to's year).
    #[arg(long)]
    from: Option<String>,
    /// Last month, YYYY-MM (default: this month, Beijing time).
    #[arg(long)]
    to: Option<String>,
}

#[derive(Args)]
pub struct StatsArgs {
    /// A county, township or village code (default: the whole city, 371300).
    #[arg(long)]
    area: Option<String>,
    #[command(flatten)]
    period: PeriodArgs,
    /// Visits are counted as of this day, YYYY-MM-DD (default: today).
    #[arg(long)]
    as_of: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
    /// Also write payments.svg, families.svg and visits.svg into this folder.
    #[arg(long, value_name = "DIR")]
    charts: Option<PathBuf>,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Args)]
pub struct AssessmentArgs {
    /// A county code, or the city (371300, the default) for every county.
    #[arg(long)]
    area: Option<String>,
    /// The assessment covers the year of this day up to it, YYYY-MM-DD (default: today).
    #[arg(long)]
    as_of: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Args)]
pub struct PublicArgs {
    #[command(flatten)]
    period: PeriodArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Subcommand)]
pub enum SpotCheckCommand {
    /// Draw families of a county's programme at random from a seed anyone can re-run.
    Draw(DrawArgs),
    /// Spot checks of the city or of one county, newest first.
    List {
        /// A county code, or the city (371300, the default).
        #[arg(long)]
        area: Option<String>,
    },
    /// A spot check: the families drawn and each checklist item's latest finding.
    Show {
        /// The spot check (S…).
        check: String,
    },
    /// Record a finding: a checklist item of a drawn family passed or failed.
    Record(FindingArgs),
    /// Draw again from the stored list with the stored seed; exit 1 unless the same families result.
    Verify {
        /// The spot check (S…).
        check: String,
    },
}

#[derive(Args)]
pub struct DrawArgs {
    /// The county (6 digits).
    #[arg(long)]
    county: String,
    /// Families in the programme in this month, YYYY-MM (default: this month).
    #[arg(long)]
    month: Option<String>,
    /// Families to draw (default: the pack's assessment.spot_check_size).
    #[arg(long)]
    size: Option<i64>,
    /// The seed (default: a random one, printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Why, or by whose order, the check is made.
    #[arg(long, default_value = "")]
    note: String,
    #[command(flatten)]
    policy: PolicyChoice,
}

#[derive(Args)]
#[command(group(ArgGroup::new("result").required(true).args(["passed", "failed"])))]
pub struct FindingArgs {
    /// The spot check (S…).
    check: String,
    /// A family drawn in the check: family id or a member's resident ID number.
    #[arg(long)]
    family: String,
    /// The checklist item: identity, category, payment, visits, services or privacy.
    #[arg(long)]
    item: String,
    /// The item was found in order.
    #[arg(long)]
    passed: bool,
    /// The item was not in order (needs --note saying what was wrong).
    #[arg(long)]
    failed: bool,
    /// What was found (required with --failed).
    #[arg(long, default_value = "")]
    note: String,
    /// The day it was checked, YYYY-MM-DD (default: today; not after today).
    #[arg(long)]
    on: Option<String>,
}

fn month(field: &str, text: &str) -> Result<Month> {
    Month::parse(text.trim())
        .map_err(|e| anyhow!("{field}: {text:?} 不是月份 / not a month YYYY-MM ({e})"))
}

fn day(field: &str, text: Option<&str>) -> Result<Date> {
    match text {
        Some(t) => parse_date(t.trim())
            .map_err(|e| anyhow!("{field}: {t:?} 不是日期 / not a date YYYY-MM-DD ({e})")),
        None => Ok(today()),
    }
}

/// The period asked for: `to` defaults to this month, `from` to January of `to`'s year.
fn period(args: &PeriodArgs) -> Result<(Month, Month)> {
    let to = match &args.to {
        Some(t) => month("to", t)?,
        None => Month::of(today()),
    };
    let from = match &args.from {
        Some(f) => month("from", f)?,
        None => Month::new(to.year(), 1).unwrap_or(to),
    };
    Ok((from, to))
}

/// The village-code prefix of an area: the city (371300 or 3713), a county, township or village.
fn report_prefix(area: Option<&str>) -> Result<String> {
    match area.map(str::trim) {
        None | Some(CITY_CODE) | Some("3713") => Ok(area_prefix(CITY_CODE).to_owned()),
        Some(a) if is_area(a) => Ok(a.to_owned()),
        Some(a) => bail!("area: {a:?} 不是临沂市的县区、乡镇或村代码 / not a Linyi area code"),
    }
}

/// The prefix of the city or of one county.
fn county_prefix(area: Option<&str>) -> Result<String> {
    match area.map(str::trim) {
        None | Some(CITY_CODE) | Some("3713") => Ok(area_prefix(CITY_CODE).to_owned()),
        Some(a) => match CountyCode::parse(a) {
            Ok(_) => Ok(a.to_owned()),
            Err(_) => bail!("area: {a:?} 不是临沂市或其县区的代码 / not the city or a county code"),
        },
    }
}

fn county_label(code: &str) -> String {
    match CountyCode::parse(code) {
        Ok(c) => format!("{}（{code}）", c.name()),
        Err(_) => code.to_owned(),
    }
}

fn village_label(code: &str) -> String {
    match VillageCode::parse(code) {
        Ok(v) => format!("{code} {}", v.name()),
        Err(_) => code.to_owned(),
    }
}

/// xlsx needs a file; checked before any work is done.
fn check_output(output: &OutputArgs) -> Result<()> {
    let to_stdout = output.output.as_deref().is_none_or(|p| p == Path::new("-"));
    if output.format == Format::Xlsx && to_stdout {
        bail!("output: XLSX 须用 --output 指定文件 / --format xlsx needs --output FILE");
    }
    Ok(())
}

pub fn report_cmd(archive: &ArchiveArgs, command: ReportCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let code = report(&store, archive, command).await;
        store.db().close().await;
        code
    })
}

async fn report(
    store: &Archive,
    archive: &ArchiveArgs,
    command: ReportCommand,
) -> Result<ExitCode> {
    match command {
        ReportCommand::Stats(args) => stats(store, args).await,
        ReportCommand::Assessment(args) => assessment(store, args).await,
        ReportCommand::Public(args) => public(store, args).await,
        ReportCommand::SpotCheck(command) => spot_check(store, archive, command).await,
        ReportCommand::Refresh { policy } => {
            let policy = policy.load()?;
            let r = store.refresh_register(&policy).await?;
            println!(
                "统计台账已更新：{} 户中重新计算 {} 户 / register refreshed: {} of {} families recomputed",
                r.families, r.refreshed, r.refreshed, r.families
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn stats(store: &Archive, args: StatsArgs) -> Result<ExitCode> {
    let prefix = report_prefix(args.area.as_deref())?;
    let (from, to) = period(&args.period)?;
    let as_of = day("as_of", args.as_of.as_deref())?;
    check_output(&args.output)?;
    let policy = args.policy.load()?;
    let request = ReportRequest {
        prefix,
        from,
        to,
        as_of,
        english: args.output.english,
    };
    let report = store.statistical_report(&policy, &request).await?;
    if let Some(dir) = &args.charts {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("charts: cannot create {}", dir.display()))?;
        for (name, svg) in [
            ("payments.svg", &report.payments_chart),
            ("families.svg", &report.families_chart),
            ("visits.svg", &report.visits_chart),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, svg)
                .with_context(|| format!("charts: cannot write {}", path.display()))?;
        }
        eprintln!("图表已写入 / charts written to {}", dir.display());
    }
    let english = args.output.english;
    let heading = if english {
        format!(
            "{}: statistical report {from} to {to}, visits as of {as_of}; {} families on the register",
            report.area_name, report.register_families
        )
    } else {
        format!(
            "{} 统计报表　{from} 至 {to}，走访截至 {as_of}；统计台账 {} 户",
            report.area_name, report.register_families
        )
    };
    emit(&report.tables(), &args.output, &heading)?;
    Ok(ExitCode::SUCCESS)
}

async fn assessment(store: &Archive, args: AssessmentArgs) -> Result<ExitCode> {
    let prefix = county_prefix(args.area.as_deref())?;
    let as_of = day("as_of", args.as_of.as_deref())?;
    check_output(&args.output)?;
    let policy = args.policy.load()?;
    let english = args.output.english;
    let a = store.assessment(&policy, &prefix, as_of, english).await?;
    let mut heading = if english {
        format!("County assessment {} as of {as_of}:", as_of.year())
    } else {
        format!("{} 年考核，截至 {as_of}：", as_of.year())
    };
    for s in &a.scores {
        heading.push_str(&if english {
            format!(
                "\n  {}. {} {} points",
                s.rank,
                s.name.pick(true),
                points_text(s.score)
            )
        } else {
            format!(
                "\n  第 {} 名　{}　{} 分",
                s.rank,
                s.name.pick(false),
                points_text(s.score)
            )
        });
    }
    if a.scores.is_empty() {
        heading.push_str(if english {
            "\n  (no county to assess)"
        } else {
            "\n  （无可考核的县区）"
        });
    }
    emit(&[&a.table, &a.lost], &args.output, &heading)?;
    Ok(ExitCode::SUCCESS)
}

async fn public(store: &Archive, args: PublicArgs) -> Result<ExitCode> {
    let (from, to) = period(&args.period)?;
    check_output(&args.output)?;
    let policy = args.policy.load()?;
    let tables = store.public_summary(&policy, from, to).await?;
    let refs: Vec<&Table> = tables.iter().collect();
    emit(&refs, &args.output, "")?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the tables as asked: text (after `heading`) or CSV to the file or standard output,
/// XLSX to the file.
fn emit(tables: &[&Table], output: &OutputArgs, heading: &str) -> Result<()> {
    let english = output.english;
    let bytes = match output.format {
        Format::Text => {
            let mut text = String::new();
            if !heading.is_empty() {
                text.push_str(heading);
                text.push_str("\n\n");
            }
            for (i, t) in tables.iter().enumerate() {
                if i > 0 {
                    text.push('\n');
                }
                text.push_str(&render(t, english));
            }
            text.into_bytes()
        }
        Format::Csv => guanai_report::to_csv(tables, english),
        Format::Xlsx => guanai_report::to_xlsx(tables, english)?,
    };
    match output.output.as_deref().filter(|p| *p != Path::new("-")) {
        Some(path) => {
            std::fs::write(path, &bytes)
                .with_context(|| format!("output: cannot write {}", path.display()))?;
            println!(
                "已写入 {} 张表到 {} / wrote {} table(s)",
                tables.len(),
                path.display(),
                tables.len()
            );
        }
        None => {
            let mut out = io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Columns a text takes in a terminal (CJK and full-width forms count two).
fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// A table as aligned plain text: title, subtitle, header, rule, rows, totals, notes. Headings
/// and text are left-aligned, figures right-aligned.
fn render(table: &Table, english: bool) -> String {
    let mut lines: Vec<Vec<String>> = Vec::with_capacity(table.rows.len() + 2);
    lines.push(
        table
            .columns
            .iter()
            .map(|c| c.label.pick(english).to_owned())
            .collect(),
    );
    for row in &table.rows {
        lines.push(row.iter().map(|c| cell_text(c, english, false)).collect());
    }
    if let Some(totals) = &table.totals {
        lines.push(totals.iter().map(|c| cell_text(c, english, true)).collect());
    }
    let mut widths = vec![0; table.columns.len()];
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(width(cell));
        }
    }
    let total_width = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    let rule = "-".repeat(total_width);
    let mut out = String::new();
    out.push_str(table.title.pick(english));
    out.push('\n');
    let subtitle = table.subtitle.pick(english);
    if !subtitle.is_empty() {
        out.push_str(subtitle);
        out.push('\n');
    }
    let write_line = |out: &mut String, cells: &[String]| {
        let mut line = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = " ".repeat(w.saturating_sub(width(cell)));
            let right = table
                .columns
                .get(i)
                .is_some_and(|c| c.kind != ColumnKind::Text);
            if right {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&pad);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    let body_end = 1 + table.rows.len();
    for (i, line) in lines.iter().enumerate() {
        if i == 1 || (i == body_end && table.totals.is_some()) {
            out.push_str(&rule);
            out.push('\n');
        }
        write_line(&mut out, line);
    }
    if table.rows.is_empty() {
        out.push_str(if english {
            "(no rows)\n"
        } else {
            "（无数据）\n"
        });
    }
    for note in &table.notes {
        out.push_str(if english { "Note: " } else { "注：" });
        out.push_str(note.pick(english));
        out.push('\n');
    }
    out
}

async fn spot_check(
    store: &Archive,
    archive: &ArchiveArgs,
    command: SpotCheckCommand,
) -> Result<ExitCode> {
    let mut out = io::stdout().lock();
    match command {
        SpotCheckCommand::Draw(args) => {
            let month = match &args.month {
                Some(m) => month("month", m)?,
                None => Month::of(today()),
            };
            let county = args.county.trim();
            if CountyCode::parse(county).is_err() {
                bail!("county: {county:?} 不是临沂市的县区代码 / not a Linyi county code");
            }
            let policy = args.policy.load()?;
            let size = args.size.unwrap_or(policy.assessment.spot_check_size);
            // The draw reads the register: bring it up to date first.
            store.refresh_register(&policy).await?;
            let check = store
                .draw_spot_check(county, month, size, args.seed, &args.note, &archive.actor())
                .await?;
            writeln!(
                out,
                "已抽查 {}：{} {}，在册 {} 户中抽取 {} 户 / drew {} of {} families",
                check.check_id,
                county_label(&check.county_code),
                check.month,
                check.population,
                check.families.len(),
                check.families.len(),
                check.population
            )?;
            writeln!(out, "种子 / seed: {}", check.seed)?;
            writeln!(
                out,
                "名单摘要 / population digest: {}",
                check.population_digest
            )?;
            write_families(&mut out, &check)?;
            Ok(ExitCode::SUCCESS)
        }
        SpotCheckCommand::List { area } => {
            let prefix = county_prefix(area.as_deref())?;
            let checks = store.spot_checks(&prefix).await?;
            writeln!(
                out,
                "抽查\t县区\t月份\t抽取/在册\t抽查时间\t抽查人\t已查项\t不合格项"
            )?;
            for c in &checks {
                let at = jiff::Timestamp::from_microsecond(c.drawn_at)
                    .map(|t| beijing(t, "%Y-%m-%d %H:%M"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}/{}\t{at}\t{}\t{}\t{}",
                    c.check_id,
                    county_label(&c.county_code),
                    c.month,
                    c.sample_size,
                    c.population,
                    c.drawn_by,
                    c.checked,
                    c.failed
                )?;
            }
            writeln!(out, "共 {} 次 / {} spot checks", checks.len(), checks.len())?;
            Ok(ExitCode::SUCCESS)
        }
        SpotCheckCommand::Show { check } => {
            let check = store.spot_check(check.trim()).await?;
            let at = jiff::Timestamp::from_microsecond(check.drawn_at)
                .map(|t| beijing(t, "%Y-%m-%d %H:%M"))
                .unwrap_or_default();
            writeln!(
                out,
                "抽查 {}：{} {}，在册 {} 户中抽取 {} 户",
                check.check_id,
                county_label(&check.county_code),
                check.month,
                check.population,
                check.families.len()
            )?;
            writeln!(
                out,
                "抽取：{} {at}；种子 {}；名单摘要 {}",
                check.drawn_by, check.seed, check.population_digest
            )?;
            if !check.note.is_empty() {
                writeln!(out, "说明：{}", check.note)?;
            }
            let failed = check.findings.iter().filter(|f| !f.passed).count();
            writeln!(
                out,
                "已查 {} 项（共 {} 项），不合格 {failed} 项",
                check.findings.len(),
                check.families.len() * CHECKLIST.len()
            )?;
            writeln!(out, "序号\t家庭\t家庭编号\t村")?;
            for f in &check.families {
                write_family(&mut out, f)?;
                for (key, zh, _) in CHECKLIST {
                    let finding = check
                        .findings
                        .iter()
                        .find(|x| x.family_id == f.family_id && x.item == key);
                    let result = match finding {
                        None => "未查".to_owned(),
                        Some(x) => {
                            let note = if x.note.is_empty() {
                                String::new()
                            } else {
                                format!("：{}", x.note)
                            };
                            format!(
                                "{}{note}（{}，{}）",
                                if x.passed { "合格" } else { "不合格" },
                                x.checked_on,
                                x.recorded_by
                            )
                        }
                    };
                    writeln!(out, "\t{key}\t{zh}\t{result}")?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SpotCheckCommand::Record(args) => {
            let checked_on = day("on", args.on.as_deref())?;
            let family = resolve(store, args.family.trim()).await?;
            let check = args.check.trim();
            let item = args.item.trim();
            store
                .record_spot_finding(
                    check,
                    &family,
                    NewFinding {
                        item,
                        passed: args.passed,
                        note: &args.note,
                        checked_on,
                    },
                    today(),
                    &archive.actor(),
                )
                .await?;
            let zh = CHECKLIST
                .iter()
                .find(|(k, _, _)| *k == item)
                .map_or(item, |(_, zh, _)| zh);
            writeln!(
                out,
                "已记录 {check} {family} {zh}：{}（{checked_on}）",
                if args.failed { "不合格" } else { "合格" }
            )?;
            Ok(ExitCode::SUCCESS)
        }
        SpotCheckCommand::Verify { check } => {
            let check = check.trim();
            let v = store.verify_spot_check(check).await?;
            let yes = |b: bool| if b { "一致 / yes" } else { "不一致 / NO" };
            writeln!(out, "抽查 {check}")?;
            writeln!(
                out,
                "名单摘要与保存的一致 / list matches its digest: {}",
                yes(v.digest_matches)
            )?;
            writeln!(
                out,
                "重新抽取得到相同家庭 / the redraw gives the same families: {}",
                yes(v.same_families)
            )?;
            Ok(if v.digest_matches && v.same_families {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn write_families(out: &mut dyn Write, check: &SpotCheck) -> io::Result<()> {
    writeln!(out, "序号\t家庭\t家庭编号\t村")?;
    for f in &check.families {
        write_family(out, f)?;
    }
    Ok(())
}

/// A drawn family's line: draw number, family id, census number, village.
fn write_family(out: &mut dyn Write, f: &SpotFamily) -> io::Result<()> {
    writeln!(
        out,
        "{}\t{}\t{}\t{}",
        f.draw_no,
        f.family_id,
        f.family_no,
        village_label(&f.village_code)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use guanai_report::{Cell, Column, Label};

    #[test]
    fn chinese_characters_take_two_columns() {
        assert_eq!(width("合计"), 4);
        assert_eq!(width("abc"), 3);
        assert_eq!(width("兰山区　2026"), 12);
        assert_eq!(width("（户）"), 6);
    }

    #[test]
    fn tables_line_up_whatever_the_script() {
        let table = Table {
            key: "t".into(),
            title: Label::new("表", "Table"),
            subtitle: Label::new("临沂市", "Linyi"),
            columns: vec![
                Column::new(ColumnKind::Text, "地区", "Area"),
                Column::new(ColumnKind::Count, "户数", "Families"),
            ],
            rows: vec![
                vec![Cell::Text("兰山区".into()), Cell::Count(12)],
                vec![Cell::Text("x".into()), Cell::Count(3)],
            ],
            totals: Some(vec![Cell::Text("合计".into()), Cell::Count(15)]),
            notes: vec![Label::new("说明", "A note")],
        };
        let text = render(&table, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "表");
        assert_eq!(lines[1], "临沂市");
        assert_eq!(lines[2], "地区    户数");
        assert_eq!(lines[3], "------------");
        assert_eq!(lines[4], "兰山区    12");
        assert_eq!(lines[5], "x          3");
        assert_eq!(lines[6], "------------");
        assert_eq!(lines[7], "合计      15");
        assert_eq!(lines[8], "注：说明");
        let english = render(&table, true);
        assert!(english.contains("Total"), "{english}");
        assert!(english.contains("Note: A note"), "{english}");
    }

    #[test]
    fn areas_are_checked_before_anything_is_read() {
        assert_eq!(report_prefix(None).ok().as_deref(), Some("3713"));
        assert_eq!(report_prefix(Some("371300")).ok().as_deref(), Some("3713"));
        assert!(report_prefix(Some("37x")).is_err_and(|e| e.to_string().starts_with("area:")));
        assert_eq!(
            county_prefix(Some("371302")).ok().as_deref(),
            Some("371302")
        );
        assert!(county_prefix(Some("371302001")).is_err());
        assert!(month("from", "2026-13").is_err_and(|e| e.to_string().starts_with("from:")));
    }
}
