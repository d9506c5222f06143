//! A run's life-cycle after it is built: check (blocking problems resolved or their transfers
//! held), approve (by someone other than the creator; posts the approval entry), discard (a draft
//! or checked run, its bookings undone), close (every transfer settled). Nothing of a run changes
//! after approval except its transfers' bank status.

use std::collections::HashMap;

use guanai_pay::booked::Amounts;
use guanai_pay::{Booked, LineKind};
use guanai_rules::{Fen, Month};

use super::{PayError, RunId, RunStatus};
use crate::archive::{Archive, now_micros};
use crate::model::Actor;
use crate::on_db;

/// Moves a run from one status to the next inside `tx`, stamping when and by whom
/// (`<status>_at`, `<status>_by`); if someone moved it first, the transaction is abandoned and
/// the message returned.
macro_rules! advance_run {
    ($tx:ident, $run:ident, $from:literal => $to:literal, $now:expr, $actor:expr, $message:literal) => {{
        let updated = sqlx::query(concat!(
            "UPDATE pay_run SET status = '",
            $to,
            "', ",
            $to,
            "_at = $1, ",
            $to,
            "_by = $2 WHERE run_id = $3 AND status = '",
            $from,
            "'"
        ))
        .bind($now)
        .bind(&$actor.name)
        .bind($run.as_str())
        .execute(&mut *$tx)
        .await?;
        if updated.rows_affected() != 1 {
            $tx.rollback().await?;
            return Err(PayError::Invalid(format!($message)));
        }
    }};
}
pub(crate) use advance_run;

impl Archive {
    pub(crate) async fn run_status(&self, run: &str) -> Result<RunStatus, PayError> {
        let row: Option<(String,)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT status FROM pay_run WHERE run_id = $1").bind(run).fetch_optional(pool).await?
        });
        let (status,) = row.ok_or_else(|| PayError::RunNotFound(run.to_owned()))?;
        RunStatus::parse(&status)
            .ok_or_else(|| PayError::Invalid(format!("run {run} has an unknown status {status:?}")))
    }

    async fn expect_status(
        &self,
        run: &RunId,
        needed: RunStatus,
        action: &'static str,
    ) -> Result<(), PayError> {
        let status = self.run_status(run.as_str()).await?;
        if status != needed {
            return Err(PayError::WrongStatus {
                run: run.to_string(),
                status: status.as_str(),
                action,
                needed: needed.as_str(),
            });
        }
        Ok(())
    }

    /// Checks a draft run. Refused while blocking problems remain, unless `hold` is given: then
    /// the affected transfers are held (the money stays owed and is paid by a later run once the
    /// problem is fixed) and the hold is recorded with the reason.
    pub async fn check_run(
        &self,
        run: &RunId,
        hold: Option<&str>,
        actor: &Actor,
    ) -> Result<(), PayError> {
        self.expect_status(run, RunStatus::Draft, "checking")
            .await?;
        let blocking = self.problems(run, true).await?;
        let open: Vec<_> = blocking.iter().filter(|p| !p.resolved).collect();
        if !open.is_empty() && hold.is_none() {
            let list = open
                .iter()
                .take(20)
                .map(|p| format!("  [{}] 家庭 {} {}", p.code, p.family_id, p.detail))
                .collect::<Vec<_>>()
                .join("\n");
            let more = if open.len() > 20 {
                format!(
                    "\n  … and {} more (guanai pay problems {run})",
                    open.len() - 20
                )
            } else {
                String::new()
            };
            return Err(PayError::Blocked {
                run: run.to_string(),
                count: open.len(),
                list: format!("{list}{more}"),
            });
        }
        let now = now_micros();
        let reason = hold.unwrap_or_default().trim().to_owned();
        if !open.is_empty() && reason.is_empty() {
            return Err(PayError::Invalid(
                "--hold: say why the transfers are held".to_owned(),
            ));
        }
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            if !open.is_empty() {
                sqlx::query(
                    "UPDATE pay_transfer SET status = 'held', note = $1 WHERE run_id = $2 AND status = 'pending' AND transfer_no IN \
                     (SELECT transfer_no FROM pay_problem WHERE run_id = $2 AND blocking AND transfer_no IS NOT NULL)",
                )
                .bind(format!("审核时暂缓：{reason}"))
                .bind(run.as_str())
                .execute(&mut *tx)
                .await?;
            }
            advance_run!(tx, run, "draft" => "checked", now, actor, "payment run {run} changed while it was being checked; try again");
            crate::audit::append_audit!(&mut *tx, actor, "pay.check", run.as_str(), if open.is_empty() { "checked" } else { &reason });
            tx.commit().await?;
        });
        Ok(())
    }

    /// Approves a checked run (four eyes: not by its creator) and posts the approval entry.
    pub async fn approve_run(&self, run: &RunId, actor: &Actor) -> Result<(), PayError> {
        self.expect_status(run, RunStatus::Checked, "approval")
            .await?;
        let summary = self.run_summary(run).await?;
        if summary.created_by == actor.name {
            return Err(PayError::SameApprover {
                run: run.to_string(),
                creator: summary.created_by,
            });
        }
        let now = now_micros();
        let entry = format!("E{}-approve", run.as_str());
        let memo = format!("{} 发放批次 {} 批准", summary.month, run.as_str());
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            advance_run!(tx, run, "checked" => "approved", now, actor, "payment run {run} changed while it was being approved; try again");
            crate::begin_entry!(&mut *tx, &entry, run.as_str(), "approve", &memo, &actor.name, now);
            sqlx::query(
                "INSERT INTO ledger_posting (entry_id, posting_no, account, family_id, amount) \
                 SELECT $1, posting_no, account, family_id, amount FROM pay_plan_posting WHERE run_id = $2",
            )
            .bind(&entry)
            .bind(run.as_str())
            .execute(&mut *tx)
            .await?;
            // The lines' own postings: each source's funds charged, each person's payable credited.
            sqlx::query(
                "INSERT INTO ledger_posting (entry_id, posting_no, account, family_id, amount) \
                 SELECT $1, (SELECT COUNT(*) FROM pay_plan_posting WHERE run_id = $2) + ROW_NUMBER() OVER (ORDER BY account), account, family_id, amount FROM ( \
                   SELECT 'payable:' || person_id AS account, MAX(family_id) AS family_id, -CAST(SUM(amount) AS BIGINT) AS amount FROM pay_line WHERE run_id = $2 GROUP BY person_id \
                   UNION ALL SELECT 'funding:higher', NULL, CAST(SUM(standard_fen) AS BIGINT) FROM pay_line WHERE run_id = $2 \
                   UNION ALL SELECT 'funding:county:' || county_code, NULL, CAST(SUM(county_fen) AS BIGINT) FROM pay_line WHERE run_id = $2 GROUP BY county_code \
                 ) AS p WHERE amount <> 0",
            )
            .bind(&entry)
            .bind(run.as_str())
            .execute(&mut *tx)
            .await?;
            crate::close_entry!(&mut *tx, &entry);
            // The run's lines summed for reports (三(三)): they never change after approval.
            sqlx::query(
                "INSERT INTO pay_run_total (run_id, month, county_code, village_code, kind, nature, lines, families, amount, standard_fen, county_fen) \
                 SELECT l.run_id, $2, MAX(l.county_code), COALESCE(p.village_code, l.county_code || '000000'), l.kind, l.nature, \
                 COUNT(*), COUNT(DISTINCT l.family_id), CAST(SUM(l.amount) AS BIGINT), CAST(SUM(l.standard_fen) AS BIGINT), CAST(SUM(l.county_fen) AS BIGINT) \
                 FROM pay_line l LEFT JOIN family_place p ON p.family_id = l.family_id WHERE l.run_id = $1 \
                 GROUP BY l.run_id, COALESCE(p.village_code, l.county_code || '000000'), l.kind, l.nature",
            )
            .bind(run.as_str())
            .bind(summary.month.to_string())
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "pay.approve", run.as_str(), "approved");
            tx.commit().await?;
        });
        Ok(())
    }

    /// Discards a draft or checked run: its lines stay on record, its bookings and grant awards
    /// are undone, and the county is free for a new run.
    pub async fn discard_run(
        &self,
        run: &RunId,
        reason: &str,
        actor: &Actor,
    ) -> Result<(), PayError> {
        let status = self.run_status(run.as_str()).await?;
        if !matches!(status, RunStatus::Draft | RunStatus::Checked) {
            return Err(PayError::WrongStatus {
                run: run.to_string(),
                status: status.as_str(),
                action: "discarding",
                needed: "draft or checked",
            });
        }
        if reason.trim().is_empty() {
            return Err(PayError::Invalid(
                "--reason: say why the run is discarded".to_owned(),
            ));
        }
        type Line = (String, String, String, String, i64, i64, i64);
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let lines: Vec<Line> = sqlx::query_as(
                "SELECT family_id, person_id, kind, for_month, amount, standard_fen, county_fen FROM pay_line WHERE run_id = $1",
            )
            .bind(run.as_str())
            .fetch_all(&mut *tx)
            .await?;
            let mut by_family: HashMap<String, Vec<&Line>> = HashMap::new();
            for l in &lines {
                by_family.entry(l.0.clone()).or_default().push(l);
            }
            let families: Vec<&String> = by_family.keys().collect();
            let mut stored: HashMap<String, String> = HashMap::with_capacity(families.len());
            for chunk in families.chunks(500) {
                let mut q = sqlx::QueryBuilder::new("SELECT family_id, booked FROM pay_position WHERE family_id IN (");
                let mut list = q.separated(", ");
                for family in chunk {
                    list.push_bind(family.as_str());
                }
                list.push_unseparated(")");
                let rows: Vec<(String, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
                stored.extend(rows);
            }
            let mut positions = Vec::with_capacity(by_family.len());
            for (family, lines) in &by_family {
                let mut booked = match stored.get(family) {
                    Some(t) => Booked::parse(t)?,
                    None => Booked::default(),
                };
                for (_, person, kind, month, amount, standard, county) in lines.iter().copied() {
                    let Some(kind) = LineKind::parse(kind) else { continue };
                    if !matches!(kind, LineKind::Monthly(_) | LineKind::Grant(_)) {
                        continue;
                    }
                    let month = Month::parse(month).map_err(|e| PayError::Invalid(e.to_string()))?;
                    booked.add(person, kind, month, Amounts {
                        amount: Fen(-amount),
                        standard: Fen(-standard),
                        county: Fen(-county),
                    });
                }
                positions.push((family.clone(), booked.to_text()));
            }
            let position_sql = super::ledger::upsert_positions_sql(self.db());
            for chunk in positions.chunks(crate::bulk::ROWS) {
                let rows = serde_json::to_string(chunk)
                    .map_err(|e| PayError::Invalid(format!("booked positions: {e}")))?;
                sqlx::query(sqlx::AssertSqlSafe(position_sql.as_str()))
                    .bind(rows)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM grant_award WHERE run_id = $1").bind(run.as_str()).execute(&mut *tx).await?;
            // Its claims are paid by a later run.
            sqlx::query("UPDATE claim SET run_id = NULL, line_no = NULL WHERE run_id = $1").bind(run.as_str()).execute(&mut *tx).await?;
            sqlx::query("UPDATE pay_transfer SET status = 'held', note = $1 WHERE run_id = $2")
                .bind(format!("批次作废：{reason}"))
                .bind(run.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE pay_run SET status = 'discarded', closed_at = $1, closed_by = $2 WHERE run_id = $3")
                .bind(now_micros())
                .bind(&actor.name)
                .bind(run.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE pay_county SET open_run = NULL, generation = generation + 1 WHERE open_run = $1")
                .bind(run.as_str())
                .execute(&mut *tx)
                .await?;
            crate::audit::append_audit!(&mut *tx, actor, "pay.discard", run.as_str(), reason);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Closes a run whose transfers all have a bank result (or were held).
    pub async fn close_run(&self, run: &RunId, actor: &Actor) -> Result<(), PayError> {
        let status = self.run_status(run.as_str()).await?;
        if !matches!(status, RunStatus::Exported | RunStatus::Settled) {
            return Err(PayError::WrongStatus {
                run: run.to_string(),
                status: status.as_str(),
                action: "closing",
                needed: "settled",
            });
        }
        let pending: (i64,) = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT COUNT(*) FROM pay_transfer WHERE run_id = $1 AND status = 'sent'")
                .bind(run.as_str())
                .fetch_one(pool)
                .await?
        });
        if pending.0 > 0 {
            return Err(PayError::NotSettled {
                run: run.to_string(),
                pending: pending.0,
            });
        }
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query("UPDATE pay_run SET status = 'closed', closed_at = $1, closed_by = $2 WHERE run_id = $3")
                .bind(now_micros())
                .bind(&actor.name)
                .bind(run.as_str())
                .execute(&mut *tx)
                .await?;
            crate::audit::append_audit!(&mut *tx, actor, "pay.close", run.as_str(), "closed");
            tx.commit().await?;
        });
        Ok(())
    }
}
