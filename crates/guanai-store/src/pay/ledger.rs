//! The double-entry ledger (账务). Accounts: `funding:higher` (higher-level standard funds) and
//! `funding:county:CODE` (each county's finance) are charged with what is approved; `payable:PERSON`
//! holds what is owed to a beneficiary; `receivable:FAMILY` holds recoveries still to collect;
//! `bank:clearing` holds what was sent to the bank and not yet confirmed; `bank:paid` what the
//! bank confirmed. A posting's amount is positive for a debit, negative for a credit, and every
//! entry sums to zero. `reconcile` proves the ledger, the booked positions and the payment
//! lines agree.

use std::collections::{BTreeMap, HashMap};

use guanai_pay::Booked;
use guanai_pay::booked::Amounts;
use guanai_rules::{Fen, Month};
use jiff::Timestamp;

use super::PayError;
use crate::archive::Archive;
use crate::model::FamilyId;
use crate::on_db;
use crate::reads::Read;

/// The statement that writes booked positions (`[[family_id, text], …]` in `$1`, see
/// `crate::bulk`), replacing what a family had.
pub(crate) fn upsert_positions_sql(db: &crate::db::Db) -> String {
    crate::bulk::insert_sql(
        db,
        "pay_position",
        &[
            ("family_id", crate::bulk::Col::Text),
            ("booked", crate::bulk::Col::Text),
        ],
        "ON CONFLICT (family_id) DO UPDATE SET booked = excluded.booked",
    )
}

/// Stores the postings a run's approval will make, summed per account.
#[macro_export]
macro_rules! plan_postings {
    ($tx:expr, $run:expr, $postings:expr) => {{
        let run: &str = $run;
        let postings: &[(String, Option<String>, i64)] = $postings;
        let mut sums: std::collections::BTreeMap<(&str, Option<&str>), i64> =
            std::collections::BTreeMap::new();
        for (account, family, amount) in postings {
            *sums
                .entry((account.as_str(), family.as_deref()))
                .or_default() += amount;
        }
        let rows: Vec<(usize, (&str, Option<&str>), i64)> = sums
            .into_iter()
            .filter(|(_, amount)| *amount != 0)
            .enumerate()
            .map(|(i, (key, amount))| (i, key, amount))
            .collect();
        for chunk in rows.chunks(1000) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO pay_plan_posting (run_id, posting_no, account, family_id, amount) ",
            );
            q.push_values(chunk, |mut b, (i, (account, family), amount)| {
                b.push_bind(run)
                    .push_bind(*i as i64 + 1)
                    .push_bind(*account)
                    .push_bind(*family)
                    .push_bind(*amount);
            });
            q.build().execute(&mut *$tx).await?;
        }
    }};
}

/// Opens a ledger entry inside a transaction; its postings follow, then `close_entry!`.
#[macro_export]
macro_rules! begin_entry {
    ($tx:expr, $entry:expr, $run:expr, $kind:expr, $memo:expr, $actor:expr, $at:expr) => {{
        sqlx::query(
            "INSERT INTO ledger_entry (entry_id, at, run_id, kind, memo, actor) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($entry)
        .bind($at)
        .bind($run)
        .bind($kind)
        .bind($memo)
        .bind($actor)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Closes a ledger entry: checks that its postings balance (else the caller's transaction is
/// abandoned and nothing is posted) and updates the running balances.
#[macro_export]
macro_rules! close_entry {
    ($tx:expr, $entry:expr) => {{
        let entry: &str = $entry;
        let sum: (Option<i64>,) = sqlx::query_as(
            "SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_posting WHERE entry_id = $1",
        )
        .bind(entry)
        .fetch_one(&mut *$tx)
        .await?;
        if sum.0.unwrap_or(0) != 0 {
            return Err($crate::pay::PayError::Invalid(format!(
                "ledger entry {entry} does not balance (off by {} fen); nothing was posted",
                sum.0.unwrap_or(0)
            )));
        }
        sqlx::query(
            "INSERT INTO ledger_balance (account, family_id, balance) \
             SELECT account, MAX(family_id), CAST(SUM(amount) AS BIGINT) FROM ledger_posting WHERE entry_id = $1 GROUP BY account \
             ON CONFLICT (account) DO UPDATE SET balance = ledger_balance.balance + excluded.balance",
        )
        .bind(entry)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// The Chinese name of an account (or account class).
pub fn account_name_zh(account: &str) -> String {
    if account == "funding:higher" {
        "上级特扶资金".to_owned()
    } else if let Some(c) = account.strip_prefix("funding:county:") {
        format!("县级财政（{c}）")
    } else if account == "payable" || account.starts_with("payable:") {
        "应付扶助对象".to_owned()
    } else if account == "receivable" || account.starts_with("receivable:") {
        "应收追回款".to_owned()
    } else if account == "bank:clearing" {
        "银行代发在途".to_owned()
    } else if account == "bank:paid" {
        "银行已付".to_owned()
    } else {
        account.to_owned()
    }
}

/// One row of the trial balance: an account (payables and receivables summed over persons and
/// families), its debits, credits and balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialBalanceRow {
    pub account: String,
    pub debit: Fen,
    pub credit: Fen,
    pub balance: Fen,
}

/// One posting on a family's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    pub at: Timestamp,
    pub run_id: Option<String>,
    pub kind: String,
    pub memo: String,
    pub account: String,
    pub amount: Fen,
}

/// at, run_id, kind, memo, account, amount.
pub(crate) type StatementRow = (i64, Option<String>, String, String, String, i64);

/// A family's postings, in the order they were booked.
pub(crate) fn statement_read(family: &FamilyId) -> Read {
    Read::new(
        "ledger statement",
        "e.at, e.run_id, e.kind, e.memo, p.account, p.amount",
        "FROM ledger_posting p JOIN ledger_entry e ON e.entry_id = p.entry_id WHERE p.family_id = $1",
    )
    .order("e.at, p.entry_id, p.posting_no")
    .arg(family.as_str())
}

pub(crate) fn statement_from(rows: Vec<StatementRow>) -> Result<Vec<StatementLine>, PayError> {
    rows.into_iter()
        .map(|(at, run_id, kind, memo, account, amount)| {
            Ok(StatementLine {
                at: Timestamp::from_microsecond(at)
                    .map_err(|e| PayError::Invalid(e.to_string()))?,
                run_id,
                kind,
                memo,
                account,
                amount: Fen(amount),
            })
        })
        .collect()
}

/// The result of a reconciliation: every difference found (none when all agrees).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconciliation {
    pub entries: i64,
    pub postings: i64,
    pub lines: i64,
    pub families: i64,
    pub differences: Vec<String>,
}

const CLASS: &str = "CASE WHEN account LIKE 'payable:%' THEN 'payable' WHEN account LIKE 'receivable:%' THEN 'receivable' ELSE account END";

impl Archive {
    /// The trial balance: debits and credits per account class; the totals are equal.
    pub async fn trial_balance(&self) -> Result<Vec<TrialBalanceRow>, PayError> {
        let sql = format!(
            "SELECT {CLASS} AS class, CAST(SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END) AS BIGINT) FROM ledger_posting GROUP BY class ORDER BY class"
        );
        let rows: Vec<(String, i64, i64)> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(account, debit, credit)| TrialBalanceRow {
                account,
                debit: Fen(debit),
                credit: Fen(credit),
                balance: Fen(debit - credit),
            })
            .collect())
    }

    /// A family's statement: every posting on its payables and receivable, oldest first.
    pub async fn statement(&self, family: &FamilyId) -> Result<Vec<StatementLine>, PayError> {
        statement_from(statement_read(family).rows(self.db()).await?)
    }

    /// What the family is owed now (failed or held transfers) and owes (recoveries to collect).
    pub async fn family_balance(&self, family: &FamilyId) -> Result<(Fen, Fen), PayError> {
        let rows: Vec<(String, i64)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT account, balance FROM ledger_balance WHERE family_id = $1")
                .bind(family.as_str())
                .fetch_all(pool)
                .await?
        });
        let owed = rows
            .iter()
            .filter(|r| r.0.starts_with("payable:"))
            .map(|r| -r.1)
            .sum();
        let debt = rows
            .iter()
            .filter(|r| r.0.starts_with("receivable:"))
            .map(|r| r.1)
            .sum();
        Ok((Fen(owed), Fen(debt)))
    }

    /// Reconciles the ledger with itself, with the payment lines and with the booked positions.
    pub async fn reconcile(&self) -> Result<Reconciliation, PayError> {
        let mut out = Reconciliation::default();
        type Line = (String, String, String, String, i64, i64, i64);
        let (
            counts,
            unbalanced,
            balances,
            sums,
            funding,
            lines_funding,
            positions,
            lines,
            bank,
            orphans,
        ) = on_db!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            let counts: (i64, i64, i64) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM ledger_entry), (SELECT COUNT(*) FROM ledger_posting), (SELECT COUNT(*) FROM pay_line)",
            ).fetch_one(&mut *tx).await?;
            let unbalanced: Vec<(String, i64)> = sqlx::query_as(
                "SELECT entry_id, CAST(SUM(amount) AS BIGINT) FROM ledger_posting GROUP BY entry_id HAVING SUM(amount) <> 0",
            ).fetch_all(&mut *tx).await?;
            let balances: Vec<(String, i64)> = sqlx::query_as("SELECT account, balance FROM ledger_balance").fetch_all(&mut *tx).await?;
            let sums: Vec<(String, i64)> = sqlx::query_as(
                "SELECT account, CAST(SUM(amount) AS BIGINT) FROM ledger_posting GROUP BY account",
            ).fetch_all(&mut *tx).await?;
            let funding: Vec<(String, i64)> = sqlx::query_as(
                "SELECT account, CAST(SUM(amount) AS BIGINT) FROM ledger_posting WHERE account LIKE 'funding:%' GROUP BY account",
            ).fetch_all(&mut *tx).await?;
            let lines_funding: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT l.county_code, CAST(SUM(l.standard_fen) AS BIGINT), CAST(SUM(l.county_fen) AS BIGINT) FROM pay_line l \
                 JOIN pay_run r ON r.run_id = l.run_id WHERE r.status IN ('approved', 'exported', 'settled', 'closed') GROUP BY l.county_code",
            ).fetch_all(&mut *tx).await?;
            let positions: Vec<(String, String)> = sqlx::query_as("SELECT family_id, booked FROM pay_position").fetch_all(&mut *tx).await?;
            let lines: Vec<Line> = sqlx::query_as(
                "SELECT l.family_id, l.person_id, l.kind, l.for_month, l.amount, l.standard_fen, l.county_fen FROM pay_line l \
                 JOIN pay_run r ON r.run_id = l.run_id WHERE r.status <> 'discarded'",
            ).fetch_all(&mut *tx).await?;
            // Lines and transfers name a person of their family, and a bank account fact of that
            // person (the tables carry no foreign keys to the archive; this is the check).
            let orphans: (i64, i64) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM pay_line l WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.person_id = l.person_id AND p.family_id = l.family_id)), \
                        (SELECT COUNT(*) FROM pay_transfer t WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.person_id = t.person_id AND p.family_id = t.family_id) \
                           OR (t.account_fact IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fact f WHERE f.fact_id = t.account_fact AND f.person_id = t.person_id AND f.kind = 'bank_account')))",
            ).fetch_one(&mut *tx).await?;
            let bank: (Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT CAST(SUM(CASE WHEN status = 'sent' THEN amount ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN status = 'paid' THEN amount ELSE 0 END) AS BIGINT) FROM pay_transfer",
            ).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            (counts, unbalanced, balances, sums, funding, lines_funding, positions, lines, bank, orphans)
        });
        out.entries = counts.0;
        out.postings = counts.1;
        out.lines = counts.2;
        if orphans.0 > 0 {
            out.differences.push(format!(
                "{} payment line(s) name a person who is not in their family",
                orphans.0
            ));
        }
        if orphans.1 > 0 {
            out.differences.push(format!(
                "{} transfer(s) name a person not in their family, or a bank account that is not theirs",
                orphans.1
            ));
        }
        for (entry, off) in unbalanced {
            out.differences.push(format!(
                "ledger entry {entry} does not balance: off by {} yuan",
                Fen(off)
            ));
        }
        // Running balances against the postings.
        let sums: HashMap<String, i64> = sums.into_iter().collect();
        let balances: HashMap<String, i64> = balances.into_iter().collect();
        for (account, sum) in &sums {
            let kept = balances.get(account).copied().unwrap_or(0);
            if kept != *sum {
                out.differences.push(format!(
                    "account {account}: balance kept {} yuan, postings sum to {} yuan",
                    Fen(kept),
                    Fen(*sum)
                ));
            }
        }
        for (account, kept) in &balances {
            if !sums.contains_key(account) && *kept != 0 {
                out.differences.push(format!(
                    "account {account}: balance {} yuan without postings",
                    Fen(*kept)
                ));
            }
        }
        // Funding sources against the approved lines.
        let funding: HashMap<String, i64> = funding.into_iter().collect();
        let mut higher = 0;
        for (county, standard, county_fen) in &lines_funding {
            higher += standard;
            let account = format!("funding:county:{county}");
            let posted = funding.get(&account).copied().unwrap_or(0);
            if posted != *county_fen {
                out.differences.push(format!(
                    "{account}: approved lines {} yuan, ledger {} yuan",
                    Fen(*county_fen),
                    Fen(posted)
                ));
            }
        }
        let posted = funding.get("funding:higher").copied().unwrap_or(0);
        if posted != higher {
            out.differences.push(format!(
                "funding:higher: approved lines {} yuan, ledger {} yuan",
                Fen(higher),
                Fen(posted)
            ));
        }
        // The bank accounts against the transfers.
        let clearing = -sums.get("bank:clearing").copied().unwrap_or(0);
        if clearing != bank.0.unwrap_or(0) {
            out.differences.push(format!(
                "bank:clearing: {} yuan in the ledger, {} yuan of transfers awaiting the bank",
                Fen(clearing),
                Fen(bank.0.unwrap_or(0))
            ));
        }
        let paid = -sums.get("bank:paid").copied().unwrap_or(0);
        if paid != bank.1.unwrap_or(0) {
            out.differences.push(format!(
                "bank:paid: {} yuan in the ledger, {} yuan of transfers the bank confirmed",
                Fen(paid),
                Fen(bank.1.unwrap_or(0))
            ));
        }
        // Booked positions against the lines.
        let mut rebuilt: BTreeMap<String, Booked> = BTreeMap::new();
        for (family, person, kind, month, amount, standard, county) in lines {
            let kind = guanai_pay::LineKind::parse(&kind).ok_or_else(|| {
                PayError::Invalid(format!("payment line of unknown kind {kind:?}"))
            })?;
            let month = Month::parse(&month).map_err(|e| PayError::Invalid(e.to_string()))?;
            if kind == guanai_pay::LineKind::FuneralReimbursement
                || kind == guanai_pay::LineKind::MedicalRelief
            {
                continue;
            }
            rebuilt.entry(family).or_default().add(
                &person,
                kind,
                month,
                Amounts {
                    amount: Fen(amount),
                    standard: Fen(standard),
                    county: Fen(county),
                },
            );
        }
        let mut stored: BTreeMap<String, Booked> = BTreeMap::new();
        for (family, text) in positions {
            stored.insert(family, Booked::parse(&text)?);
        }
        out.families = rebuilt.len() as i64;
        for (family, booked) in &rebuilt {
            let kept = stored.remove(family).unwrap_or_default();
            if kept != *booked {
                out.differences.push(format!(
                    "family {family}: booked position {} yuan, payment lines {} yuan",
                    kept.total(),
                    booked.total()
                ));
            }
        }
        for (family, kept) in stored {
            if kept != Booked::default() {
                out.differences.push(format!(
                    "family {family}: booked position {} yuan without payment lines",
                    kept.total()
                ));
            }
        }
        Ok(out)
    }
}
