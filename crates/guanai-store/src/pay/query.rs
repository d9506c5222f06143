//! Reading payment runs: the summary a finance officer checks (totals by nature and funding
//! source, transfers, problems), the lines with their reasons, the transfers and the problems.

use guanai_rules::Fen;
use jiff::Timestamp;

use super::{PayError, RunId, RunStatus};
use crate::archive::Archive;
use crate::model::FamilyId;
use crate::on_db;
use crate::reads::Read;

/// A run at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub run_id: RunId,
    pub month: String,
    pub scope: String,
    pub status: RunStatus,
    pub known_at: Timestamp,
    pub ledger_first: String,
    pub arrears_from: String,
    pub policy_name: String,
    pub policy_digest: String,
    pub created_by: String,
    pub checked_by: Option<String>,
    pub approved_by: Option<String>,
    pub exported_by: Option<String>,
    pub closed_by: Option<String>,
    pub lines: i64,
    /// Total of the lines, and by nature: (nature, count, amount).
    pub total: Fen,
    pub by_nature: Vec<(String, i64, Fen)>,
    /// By funding source: higher-level funds, and county finance per county.
    pub standard: Fen,
    pub by_county: Vec<(String, Fen)>,
    /// Transfers by status: (status, count, amount).
    pub transfers: Vec<(String, i64, Fen)>,
    pub problems: i64,
    pub blocking: i64,
    pub beyond_limit: Fen,
}

/// A line with the facts of its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineView {
    pub line_no: i64,
    pub family_id: String,
    pub person_id: String,
    pub county_code: String,
    pub kind: String,
    pub nature: String,
    pub for_month: String,
    pub amount: Fen,
    pub standard: Fen,
    pub county: Fen,
    pub booked_before: Fen,
    pub due: Fen,
    pub family_version: i64,
}

/// A transfer to a bank account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferView {
    pub transfer_no: i64,
    pub family_id: String,
    pub person_id: String,
    pub county_code: String,
    pub amount: Fen,
    pub account_fact: Option<String>,
    pub status: String,
    pub note: String,
}

/// A problem found when the run was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemView {
    pub problem_no: i64,
    pub family_id: String,
    pub person_id: Option<String>,
    pub code: String,
    pub detail: String,
    pub blocking: bool,
    pub transfer_no: Option<i64>,
    /// The affected transfer was held (or the run discarded).
    pub resolved: bool,
}

/// The columns a [`LineView`] is read from (`pay_line` as `l`).
const LINE_COLUMNS: &str = "l.line_no, l.family_id, l.person_id, l.county_code, l.kind, l.nature, l.for_month, \
     l.amount, l.standard_fen, l.county_fen, l.booked_before, l.due, l.family_version";

#[derive(sqlx::FromRow)]
struct StoredLine {
    line_no: i64,
    family_id: String,
    person_id: String,
    county_code: String,
    kind: String,
    nature: String,
    for_month: String,
    amount: i64,
    standard_fen: i64,
    county_fen: i64,
    booked_before: i64,
    due: i64,
    family_version: i64,
}

/// A family's line as `Reads` hands it over: the run, then the [`StoredLine`].
pub(crate) type FamilyLineRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// Every payment line of a family, across runs (not discarded), oldest first.
pub(crate) fn family_lines_read(family: &FamilyId) -> Read {
    Read::new(
        "payment lines",
        format!("l.run_id, {LINE_COLUMNS}"),
        "FROM pay_line l JOIN pay_run r ON r.run_id = l.run_id WHERE l.family_id = $1 AND r.status <> 'discarded'",
    )
    .order("r.created_at, l.line_no")
    .arg(family.as_str())
}

pub(crate) fn family_lines_from(rows: Vec<FamilyLineRow>) -> Vec<(String, LineView)> {
    rows.into_iter()
        .map(|r| {
            let line = StoredLine {
                line_no: r.1,
                family_id: r.2,
                person_id: r.3,
                county_code: r.4,
                kind: r.5,
                nature: r.6,
                for_month: r.7,
                amount: r.8,
                standard_fen: r.9,
                county_fen: r.10,
                booked_before: r.11,
                due: r.12,
                family_version: r.13,
            };
            (r.0, LineView::from(line))
        })
        .collect()
}

impl From<StoredLine> for LineView {
    fn from(r: StoredLine) -> LineView {
        LineView {
            line_no: r.line_no,
            family_id: r.family_id,
            person_id: r.person_id,
            county_code: r.county_code,
            kind: r.kind,
            nature: r.nature,
            for_month: r.for_month,
            amount: Fen(r.amount),
            standard: Fen(r.standard_fen),
            county: Fen(r.county_fen),
            booked_before: Fen(r.booked_before),
            due: Fen(r.due),
            family_version: r.family_version,
        }
    }
}

type RunRow = (
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    String,
);

impl Archive {
    /// The summary of a run.
    pub async fn run_summary(&self, run: &RunId) -> Result<RunSummary, PayError> {
        let (head, natures, funding, transfers, problems) = on_db!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            let head: Option<RunRow> = sqlx::query_as(
                "SELECT r.month, r.scope, r.status, r.known_at, r.ledger_first, r.arrears_from, r.policy_digest, r.created_by, \
                 r.checked_by, r.approved_by, r.exported_by, r.closed_by, r.beyond_limit, p.name \
                 FROM pay_run r JOIN pay_policy p ON p.digest = r.policy_digest WHERE r.run_id = $1",
            )
            .bind(run.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let natures: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT nature, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM pay_line WHERE run_id = $1 GROUP BY nature ORDER BY nature",
            )
            .bind(run.as_str())
            .fetch_all(&mut *tx)
            .await?;
            let funding: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT county_code, CAST(SUM(standard_fen) AS BIGINT), CAST(SUM(county_fen) AS BIGINT) FROM pay_line WHERE run_id = $1 GROUP BY county_code ORDER BY county_code",
            )
            .bind(run.as_str())
            .fetch_all(&mut *tx)
            .await?;
            let transfers: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT status, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM pay_transfer WHERE run_id = $1 GROUP BY status ORDER BY status",
            )
            .bind(run.as_str())
            .fetch_all(&mut *tx)
            .await?;
            let problems: (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), CAST(SUM(CASE WHEN blocking THEN 1 ELSE 0 END) AS BIGINT) FROM pay_problem WHERE run_id = $1",
            )
            .bind(run.as_str())
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            (head, natures, funding, transfers, problems)
        });
        let head = head.ok_or_else(|| PayError::RunNotFound(run.to_string()))?;
        let status = RunStatus::parse(&head.2)
            .ok_or_else(|| PayError::Invalid(format!("run {run}: unknown status {:?}", head.2)))?;
        let total = natures.iter().map(|n| n.2).sum();
        Ok(RunSummary {
            run_id: run.clone(),
            month: head.0,
            scope: head.1,
            status,
            known_at: Timestamp::from_microsecond(head.3)
                .map_err(|e| PayError::Invalid(e.to_string()))?,
            ledger_first: head.4,
            arrears_from: head.5,
            policy_digest: head.6,
            created_by: head.7,
            checked_by: head.8,
            approved_by: head.9,
            exported_by: head.10,
            closed_by: head.11,
            beyond_limit: Fen(head.12),
            policy_name: head.13,
            lines: natures.iter().map(|n| n.1).sum(),
            total: Fen(total),
            by_nature: natures
                .into_iter()
                .map(|(n, c, a)| (n, c, Fen(a)))
                .collect(),
            standard: Fen(funding.iter().map(|f| f.1).sum()),
            by_county: funding.into_iter().map(|(c, _, a)| (c, Fen(a))).collect(),
            transfers: transfers
                .into_iter()
                .map(|(s, c, a)| (s, c, Fen(a)))
                .collect(),
            problems: problems.0,
            blocking: problems.1.unwrap_or(0),
        })
    }

    /// Runs, newest first.
    pub async fn list_runs(&self) -> Result<Vec<RunSummary>, PayError> {
        let ids: Vec<(String,)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT run_id FROM pay_run ORDER BY created_at DESC").fetch_all(pool).await?
        });
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            if let Some(run) = RunId::parse(&id) {
                out.push(self.run_summary(&run).await?);
            }
        }
        Ok(out)
    }

    /// The lines of a run, optionally of one family.
    pub async fn run_lines(
        &self,
        run: &RunId,
        family: Option<&FamilyId>,
    ) -> Result<Vec<LineView>, PayError> {
        let rows: Vec<StoredLine> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {LINE_COLUMNS} FROM pay_line l WHERE l.run_id = $1 AND ($2 IS NULL OR l.family_id = $2) ORDER BY l.line_no"
            )))
            .bind(run.as_str())
            .bind(family.map(|f| f.as_str()))
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(LineView::from).collect())
    }

    /// One page of a run's lines, in line order (lines are numbered from 1 without gaps).
    pub async fn run_lines_page(
        &self,
        run: &RunId,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<LineView>, PayError> {
        let rows: Vec<StoredLine> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {LINE_COLUMNS} FROM pay_line l WHERE l.run_id = $1 AND l.line_no > $2 ORDER BY l.line_no LIMIT $3"
            )))
            .bind(run.as_str())
            .bind(offset.max(0))
            .bind(limit.clamp(1, 10_000))
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(LineView::from).collect())
    }

    /// Every payment line of a family, across runs (not discarded), oldest first.
    pub async fn family_payments(
        &self,
        family: &FamilyId,
    ) -> Result<Vec<(String, LineView)>, PayError> {
        Ok(family_lines_from(
            family_lines_read(family).rows(self.db()).await?,
        ))
    }

    /// The transfers of a run.
    pub async fn run_transfers(&self, run: &RunId) -> Result<Vec<TransferView>, PayError> {
        type Row = (
            i64,
            String,
            String,
            String,
            i64,
            Option<String>,
            String,
            String,
        );
        let rows: Vec<Row> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT transfer_no, family_id, person_id, county_code, amount, account_fact, status, note FROM pay_transfer WHERE run_id = $1 ORDER BY transfer_no",
            )
            .bind(run.as_str())
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| TransferView {
                transfer_no: r.0,
                family_id: r.1,
                person_id: r.2,
                county_code: r.3,
                amount: Fen(r.4),
                account_fact: r.5,
                status: r.6,
                note: r.7,
            })
            .collect())
    }

    /// The problems of a run (only the blocking ones with `blocking_only`).
    pub async fn problems(
        &self,
        run: &RunId,
        blocking_only: bool,
    ) -> Result<Vec<ProblemView>, PayError> {
        type Row = (
            i64,
            String,
            Option<String>,
            String,
            String,
            bool,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Row> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT p.problem_no, p.family_id, p.person_id, p.code, p.detail, p.blocking, p.transfer_no, t.status FROM pay_problem p \
                 LEFT JOIN pay_transfer t ON t.run_id = p.run_id AND t.transfer_no = p.transfer_no \
                 WHERE p.run_id = $1 AND ($2 = FALSE OR p.blocking) ORDER BY p.problem_no",
            )
            .bind(run.as_str())
            .bind(blocking_only)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| ProblemView {
                problem_no: r.0,
                family_id: r.1,
                person_id: r.2,
                code: r.3,
                detail: r.4,
                blocking: r.5,
                transfer_no: r.6,
                resolved: r.7.as_deref() == Some("held"),
            })
            .collect())
    }

    /// Transfers the bank returned whose account has not been corrected yet (for caseworkers).
    pub async fn failed_transfers(&self) -> Result<Vec<(String, TransferView)>, PayError> {
        type Row = (
            String,
            i64,
            String,
            String,
            String,
            i64,
            Option<String>,
            String,
            String,
        );
        let rows: Vec<Row> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT run_id, transfer_no, family_id, person_id, county_code, amount, account_fact, status, note FROM pay_transfer \
                 WHERE status = 'failed' ORDER BY run_id, transfer_no",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.0,
                    TransferView {
                        transfer_no: r.1,
                        family_id: r.2,
                        person_id: r.3,
                        county_code: r.4,
                        amount: Fen(r.5),
                        account_fact: r.6,
                        status: r.7,
                        note: r.8,
                    },
                )
            })
            .collect())
    }
}

impl Archive {
    /// The policy pack text and the moment of the facts a run used (to explain any of its lines).
    pub async fn run_basis(&self, run: &RunId) -> Result<(String, Timestamp), PayError> {
        let row: Option<(String, i64)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT p.text, r.known_at FROM pay_run r JOIN pay_policy p ON p.digest = r.policy_digest WHERE r.run_id = $1")
                .bind(run.as_str())
                .fetch_optional(pool)
                .await?
        });
        let (text, known_at) = row.ok_or_else(|| PayError::RunNotFound(run.to_string()))?;
        let known_at =
            Timestamp::from_microsecond(known_at).map_err(|e| PayError::Invalid(e.to_string()))?;
        Ok((text, known_at))
    }

    /// The ledger's first month (set by the first payment run): months and one-time grants
    /// falling due before it were paid before Guanai.
    pub async fn ledger_start(&self) -> Result<Option<guanai_rules::Month>, PayError> {
        self.setting("ledger_start")
            .await?
            .map(|m| guanai_rules::Month::parse(&m).map_err(|e| PayError::Invalid(e.to_string())))
            .transpose()
    }

    /// One-time grants awarded so far: (family, kind).
    pub async fn grant_awards(&self) -> Result<Vec<(String, String)>, PayError> {
        let rows: Vec<(String, String)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT family_id, kind FROM grant_award ORDER BY family_id").fetch_all(pool).await?
        });
        Ok(rows)
    }
}
