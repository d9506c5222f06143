//! `guanai audit verify|list`: the audit log (审计日志) for inspectors — verify its hash chain
//! (exit 1 naming the first broken entry), and browse it newest first.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use guanai_rules::parse_date;
use guanai_store::{AuditQuery, AuditVerification};

use crate::archive_cmd::{ArchiveArgs, beijing, runtime};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain: exit 0 when intact, 1 naming the first altered, missing or inserted entry.
    Verify {
        /// A head printed by an earlier verify and kept outside the database (`SEQ:SHA256-HEX`):
        /// also checks that entries up to SEQ were not rewritten since.
        #[arg(long, value_name = "SEQ:HASH", value_parser = parse_head)]
        head: Option<(i64, Vec<u8>)>,
    },
    /// List entries, newest first.
    List {
        /// Exactly this operator.
        #[arg(long)]
        actor: Option<String>,
        /// Actions starting with this, e.g. `fact.` or `pay.approve`.
        #[arg(long, value_name = "PREFIX")]
        action: Option<String>,
        /// Targets starting with this, e.g. a family id (its facts are F…/X…).
        #[arg(long, value_name = "PREFIX")]
        target: Option<String>,
        /// From this day (Beijing time, YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Up to and including this day (Beijing time, YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Skip this many entries (the next page).
        #[arg(long, default_value_t = 0)]
        offset: u64,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
}

pub fn audit_cmd(archive: &ArchiveArgs, command: AuditCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let mut out = io::stdout().lock();
        let code = match command {
            AuditCommand::Verify { head } => {
                let v = store.verify_audit().await?;
                let code = report(&mut out, &v)?;
                match head {
                    Some((seq, kept)) if v.is_intact() => {
                        let stored = store.audit_hash(seq).await?;
                        if stored.as_deref() == Some(kept.as_slice()) {
                            writeln!(
                                out,
                                "与记录的链头一致 / matches the head kept for entry {seq}"
                            )?;
                            code
                        } else {
                            writeln!(
                                out,
                                "与记录的链头不符 / audit log rewritten: entry {seq} no longer has the hash kept for it ({})",
                                stored.map_or_else(|| "missing".to_owned(), |h| hex(&h))
                            )?;
                            ExitCode::from(1)
                        }
                    }
                    _ => code,
                }
            }
            AuditCommand::List {
                actor,
                action,
                target,
                from,
                to,
                offset,
                limit,
            } => {
                let query = AuditQuery {
                    actor,
                    action_prefix: action,
                    target_prefix: target,
                    from: from
                        .as_deref()
                        .map(|d| day_start(d, "--from", 0))
                        .transpose()?,
                    to: to.as_deref().map(|d| day_start(d, "--to", 1)).transpose()?,
                    offset,
                    limit: Some(limit),
                };
                let total = store.audit_count(&query).await?;
                let entries = store.audit_entries(&query).await?;
                for e in &entries {
                    writeln!(
                        out,
                        "{:>8}  {}  {}  {}  {}  {}",
                        e.seq,
                        beijing(e.at, "%Y-%m-%d %H:%M:%S"),
                        e.actor,
                        e.action,
                        e.target,
                        e.reason
                    )?;
                }
                if entries.is_empty() {
                    writeln!(out, "没有记录 / no entries here ({total} match)")?;
                } else {
                    let (first, last) = (offset + 1, offset + entries.len() as u64);
                    writeln!(
                        out,
                        "第 {first}–{last} 条，共 {total} 条 / entries {first}–{last} of {total} (newest first)"
                    )?;
                }
                ExitCode::SUCCESS
            }
        };
        store.db().close().await;
        Ok(code)
    })
}

fn report(out: &mut impl Write, v: &AuditVerification) -> Result<ExitCode> {
    let head = match &v.head {
        Some((seq, hash)) => format!("seq {seq}, SHA-256 {}", hex(hash)),
        None => "—".to_owned(),
    };
    match &v.first_break {
        None => {
            writeln!(
                out,
                "审计日志完整 / audit log intact: {} entries",
                v.entries
            )?;
            // Kept outside the database, the head makes a rewrite of the whole chain visible.
            writeln!(out, "链头 / head: {head}")?;
            Ok(ExitCode::SUCCESS)
        }
        Some(b) => {
            let at = b
                .seq()
                .map_or_else(String::new, |s| format!(" at entry {s}"));
            writeln!(out, "审计日志已被破坏 / audit log broken{at}: {b}")?;
            writeln!(
                out,
                "此前 {} 条完好 / {} entries intact before it; 链头 / head: {head}",
                v.entries, v.entries
            )?;
            Ok(ExitCode::from(1))
        }
    }
}

/// The start of a Beijing day, `days` after `text`.
fn day_start(text: &str, flag: &str, days: i64) -> Result<jiff::Timestamp> {
    let date = parse_date(text).with_context(|| format!("{flag}: expected YYYY-MM-DD"))?;
    let day = date
        .checked_add(jiff::Span::new().days(days))
        .with_context(|| format!("{flag}: {text}"))?;
    Ok(day
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .with_context(|| format!("{flag}: {text}"))?
        .timestamp())
}

/// `SEQ:HASH` as printed by verify (`seq N, SHA-256 HEX` is accepted too).
fn parse_head(text: &str) -> Result<(i64, Vec<u8>), String> {
    let text = text.trim().trim_start_matches("seq").trim();
    let (seq, hash) = text
        .split_once([':', ','])
        .ok_or_else(|| format!("expected SEQ:HASH, got {text}"))?;
    let seq: i64 = seq
        .trim()
        .parse()
        .map_err(|_| format!("not an entry number: {seq}"))?;
    let hash = hash.trim().trim_start_matches("SHA-256").trim();
    let bytes: Option<Vec<u8>> = (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| {
            (0..32)
                .map(|i| u8::from_str_radix(hash.get(2 * i..2 * i + 2)?, 16).ok())
                .collect()
        })
        .flatten();
    bytes
        .map(|b| (seq, b))
        .ok_or_else(|| format!("not a SHA-256 in hex (64 digits): {hash}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
