//! Leaving the programme (退出, issue 6): moving out of Linyi (or another stated reason),
//! proposed by the family's caseworker with the date, approved by the county (not by the person
//! who proposed it). From the month the timing rule gives (an exit dated `d` counts for the months
//! after `d`'s), payment runs find nothing due — money already paid for those months is recovered —
//! and the family is planned no visits and listed for no re-confirmation. Moves between Linyi's
//! counties, deaths, later children and re-assessments are facts of the archive instead, approved
//! as [`crate::changes`] says.

use guanai_rules::Month;
use guanai_rules::calendar::parse_date;
use jiff::civil::Date;

use crate::access::Role;
use crate::archive::{Archive, now_micros};
use crate::error::StoreError;
use crate::model::{Actor, FamilyId};
use crate::on_db;
use crate::reads::Read;
use crate::scope::Scoped;

/// Why a family leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// 迁出临沂市.
    MovedOut,
    /// Another reason, stated in the detail.
    Other,
}

impl ExitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::MovedOut => "moved_out",
            ExitReason::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<ExitReason> {
        match text {
            "moved_out" => Some(ExitReason::MovedOut),
            "other" => Some(ExitReason::Other),
            _ => None,
        }
    }

    pub fn as_zh(self) -> &'static str {
        match self {
            ExitReason::MovedOut => "迁出临沂市",
            ExitReason::Other => "其他原因",
        }
    }
}

/// An exit, proposed or decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub exit_id: String,
    pub family_id: FamilyId,
    pub reason: ExitReason,
    pub detail: String,
    pub exit_on: Date,
    /// proposed | approved | rejected
    pub status: String,
    pub proposed_by: String,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
}

impl Exit {
    /// The first month nothing is due (timing rule).
    pub fn ended_from(&self) -> Month {
        Month::of(self.exit_on).next()
    }
}

/// The first month nothing is due for an exit dated `exit_on`.
pub(crate) fn ended_from(exit_on: &str) -> Result<Month, StoreError> {
    parse_date(exit_on)
        .map(|d| Month::of(d).next())
        .map_err(|e| StoreError::Corrupt(format!("exit date: {e}")))
}

pub(crate) type ExitRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn from_row(row: ExitRow) -> Result<Exit, StoreError> {
    let (exit_id, family, reason, detail, on, status, proposed_by, decided_by, note) = row;
    Ok(Exit {
        reason: ExitReason::parse(&reason)
            .ok_or_else(|| StoreError::Corrupt(format!("exit reason {reason}")))?,
        exit_on: parse_date(&on).map_err(|e| StoreError::Corrupt(format!("exit date: {e}")))?,
        family_id: FamilyId::from_db(family),
        exit_id,
        detail,
        status,
        proposed_by,
        decided_by,
        decision_note: note,
    })
}

impl Archive {
    /// Proposes a family's exit (one open or approved exit per family).
    pub async fn propose_exit(
        &self,
        family: &FamilyId,
        reason: ExitReason,
        detail: &str,
        exit_on: Date,
        today: Date,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        if exit_on > today {
            return Err(StoreError::invalid(
                "exit_on",
                format!("{exit_on} 在今天之后 / an exit is recorded once it happened"),
            ));
        }
        if detail.trim().is_empty() {
            return Err(StoreError::invalid(
                "detail",
                "请写明迁往何处或退出原因 / say where to, or why",
            ));
        }
        if detail.chars().count() > 500 {
            return Err(StoreError::invalid(
                "detail",
                "不能超过 500 字 / at most 500 characters",
            ));
        }
        if self.exit_of(family).await?.is_some() {
            return Err(StoreError::invalid(
                "family",
                "这户已有退出申请或已退出 / the family already has an exit",
            ));
        }
        self.family_file(family).await?;
        let id = format!("E{:032x}", rand::random::<u128>());
        let target = format!("{family}/{id}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO family_exit (exit_id, family_id, reason, detail, exit_on, status, proposed_by, proposed_at) \
                 VALUES ($1, $2, $3, $4, $5, 'proposed', $6, $7)",
            )
            .bind(&id)
            .bind(family.as_str())
            .bind(reason.as_str())
            .bind(detail.trim())
            .bind(exit_on.to_string())
            .bind(&actor.name)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "exit.propose", &target, reason.as_str());
            tx.commit().await?;
        });
        Ok(id)
    }

    /// Approves or rejects a proposed exit; not by the person who proposed it.
    pub async fn decide_exit(
        &self,
        exit_id: &str,
        approve: bool,
        note: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let row: Option<(String, String, String)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT family_id, status, proposed_by FROM family_exit WHERE exit_id = $1")
                .bind(exit_id)
                .fetch_optional(pool)
                .await?
        });
        let Some((family, status, proposed_by)) = row else {
            return Err(StoreError::invalid("exit", "退出申请不存在 / no such exit"));
        };
        if status != "proposed" {
            return Err(StoreError::invalid(
                "exit",
                "退出申请已处理 / already decided",
            ));
        }
        if proposed_by == actor.name {
            return Err(StoreError::invalid(
                "exit",
                "提出人不能自行批准 / the proposer does not decide (four eyes)",
            ));
        }
        if !approve && note.trim().is_empty() {
            return Err(StoreError::invalid(
                "note",
                "不予批准须说明理由 / a rejection needs a reason",
            ));
        }
        let decision = if approve { "approved" } else { "rejected" };
        let target = format!("{family}/{exit_id}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let done = sqlx::query("UPDATE family_exit SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4 WHERE exit_id = $5 AND status = 'proposed'")
                .bind(decision)
                .bind(&actor.name)
                .bind(now_micros())
                .bind(note.trim())
                .bind(exit_id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::invalid("exit", "退出申请已处理 / already decided"));
            }
            crate::audit::append_audit!(&mut *tx, actor, "exit.decide", &target, decision);
            tx.commit().await?;
        });
        Ok(())
    }

    /// A family's open or approved exit.
    pub async fn exit_of(&self, family: &FamilyId) -> Result<Option<Exit>, StoreError> {
        exit_from(exit_read(family).rows(self.db()).await?)
    }
}

/// See `Archive::exit_of`.
pub(crate) fn exit_read(family: &FamilyId) -> Read {
    Read::new(
        "exit",
        "exit_id, family_id, reason, detail, exit_on, status, proposed_by, decided_by, decision_note",
        "FROM family_exit WHERE family_id = $1 AND status <> 'rejected'",
    )
    .arg(family.as_str())
}

pub(crate) fn exit_from(rows: Vec<ExitRow>) -> Result<Option<Exit>, StoreError> {
    rows.into_iter().next().map(from_row).transpose()
}

impl Scoped<'_> {
    /// Proposes an exit (caseworkers of the area).
    pub async fn propose_exit(
        &self,
        family: &FamilyId,
        reason: ExitReason,
        detail: &str,
        exit_on: Date,
        today: Date,
    ) -> Result<String, StoreError> {
        self.require_write(family).await?;
        self.archive
            .propose_exit(family, reason, detail, exit_on, today, &self.user.actor())
            .await
    }

    /// Decides an exit (county or city caseworkers of the family's area).
    pub async fn decide_exit(
        &self,
        family: &FamilyId,
        exit_id: &str,
        approve: bool,
        note: &str,
    ) -> Result<(), StoreError> {
        if !matches!(self.user.role, Role::County | Role::City) {
            return Err(StoreError::Forbidden(
                "退出由县区审批 / exits are approved by the county".into(),
            ));
        }
        self.require_write(family).await?;
        if self
            .archive
            .exit_of(family)
            .await?
            .is_none_or(|e| e.exit_id != exit_id)
        {
            return Err(StoreError::invalid(
                "exit",
                "退出申请不属于这户 / not this family's exit",
            ));
        }
        self.archive
            .decide_exit(exit_id, approve, note, &self.user.actor())
            .await
    }
}
