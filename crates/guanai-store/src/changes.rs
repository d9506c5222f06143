//! Changes that need approval (变更审批, issue 6): a death, a later child or adoption, a move
//! between counties or villages, a disability re-assessment or recovery. The policy pack names
//! the level that approves each kind (`[casework] change_approval`); a caseworker below it cannot
//! record (or correct, or withdraw) such a fact through [`Scoped::record`] and proposes the change
//! instead. A caseworker of the family's area at that level or above — not the proposer — approves
//! it, and the fact is recorded then, with the approver as actor: approval decides *when* the fact
//! enters the archive; its effect follows its date by the engine's timing rule. The CLI's
//! `family record` (the operator, trusted) records directly and is not subject to this.

use guanai_rules::policy::{ApprovalLevel, CaseworkParams};
use jiff::Timestamp;
use jiff::civil::Date;

use crate::access::Role;
use crate::archive::{Archive, check_fact_shape, now_micros};
use crate::error::StoreError;
use crate::model::{Actor, FactId, FactValue, FamilyId, NewFact, PersonId};
use crate::on_db;
use crate::reads::{Hex, Read};
use crate::scope::{MAX_PAGE, Page, Scoped, push_scope};

/// The prefix of the reason of a fact recorded by approving request `change_id`.
fn reason_prefix(change_id: &str) -> String {
    format!("变更申请 {change_id}")
}

/// Associated data binding a sealed proposed value to its request and kind.
pub(crate) fn change_aad(change_id: &str, kind: &str) -> Vec<u8> {
    format!("change:{change_id}:{kind}").into_bytes()
}

/// The approving level a role works at; `None` for roles that record nothing.
pub fn level_of(role: Role) -> Option<ApprovalLevel> {
    match role {
        Role::Village => Some(ApprovalLevel::Village),
        Role::Township => Some(ApprovalLevel::Township),
        Role::County => Some(ApprovalLevel::County),
        Role::City => Some(ApprovalLevel::City),
        _ => None,
    }
}

/// The refusal of a direct write that needs `level`'s approval.
fn needs_approval(level: ApprovalLevel) -> StoreError {
    StoreError::invalid(
        "approval",
        format!(
            "需要{}审批，已可提交变更申请 / needs the {}'s approval: propose the change",
            level.as_zh(),
            level.as_str()
        ),
    )
}

/// A proposed change, open or decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    pub change_id: String,
    pub family_id: FamilyId,
    /// The fact kind (`FactValue::kind`).
    pub kind: String,
    pub person_id: Option<PersonId>,
    /// The fact corrected (with a value) or withdrawn (without one).
    pub replaces: Option<FactId>,
    /// `None` for a withdrawal.
    pub value: Option<FactValue>,
    pub valid_from: Option<Date>,
    pub reason: String,
    pub proposed_by: String,
    pub proposed_at: Timestamp,
    /// proposed | approved | rejected
    pub status: String,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    /// The fact recorded on approval.
    pub fact_id: Option<FactId>,
}

impl ChangeRequest {
    /// The level that approves this change under `casework`.
    pub fn approver(&self, casework: &CaseworkParams) -> ApprovalLevel {
        casework.approval_for(&self.kind)
    }

    pub fn is_open(&self) -> bool {
        self.status == "proposed"
    }
}

/// What a proposal changes, checked.
struct Proposal<'a> {
    kind: &'a str,
    person: Option<&'a PersonId>,
    fact: Option<&'a NewFact>,
    replaces: Option<&'a FactId>,
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A [`Row`] as `Reads` hands it over (the sealed value in hex).
pub(crate) type ReadChangeRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Hex>,
    Option<String>,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// See `Archive::changes_of`.
pub(crate) fn changes_read(family: &FamilyId) -> Read {
    Read::new(
        "change requests",
        COLUMNS.replace("c.sealed", "hex(c.sealed)"),
        "FROM change_request c WHERE c.family_id = $1",
    )
    .order("c.proposed_at DESC, c.change_id DESC")
    .arg(family.as_str())
}

const COLUMNS: &str = "c.change_id, c.family_id, c.kind, c.person_id, c.replaces, c.value, c.sealed, \
     c.valid_from, c.reason, c.proposed_by, c.proposed_at, c.status, c.decided_by, c.decision_note, c.fact_id";

impl Archive {
    fn change_from_row(&self, row: Row) -> Result<ChangeRequest, StoreError> {
        let (
            change_id,
            family,
            kind,
            person,
            replaces,
            value,
            sealed,
            valid_from,
            reason,
            proposed_by,
            proposed_at,
            status,
            decided_by,
            note,
            fact_id,
        ) = row;
        let corrupt = |e: String| StoreError::Corrupt(format!("change {change_id}: {e}"));
        let value = match (value, sealed) {
            (Some(json), _) => {
                Some(serde_json::from_str::<FactValue>(&json).map_err(|e| corrupt(e.to_string()))?)
            }
            (None, Some(sealed)) => {
                let plain = self
                    .keys()
                    .decrypt(&sealed, &change_aad(&change_id, &kind))?;
                Some(
                    serde_json::from_slice::<FactValue>(&plain)
                        .map_err(|e| corrupt(e.to_string()))?,
                )
            }
            (None, None) => None,
        };
        Ok(ChangeRequest {
            family_id: FamilyId::from_db(family),
            person_id: person.map(PersonId::from_db),
            replaces: replaces.map(FactId::from_db),
            value,
            valid_from: valid_from
                .as_deref()
                .map(guanai_rules::parse_date)
                .transpose()
                .map_err(|e| corrupt(e.to_string()))?,
            proposed_at: Timestamp::from_microsecond(proposed_at)
                .map_err(|e| corrupt(e.to_string()))?,
            fact_id: fact_id.map(FactId::from_db),
            change_id,
            kind,
            reason,
            proposed_by,
            status,
            decided_by,
            decision_note: note,
        })
    }

    /// One change request.
    pub async fn change(&self, change_id: &str) -> Result<Option<ChangeRequest>, StoreError> {
        let row: Option<Row> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM change_request c WHERE c.change_id = $1")))
                .bind(change_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(|r| self.change_from_row(r)).transpose()
    }

    /// A family's change requests, newest first.
    pub async fn changes_of(&self, family: &FamilyId) -> Result<Vec<ChangeRequest>, StoreError> {
        self.changes_from(changes_read(family).rows(self.db()).await?)
    }

    pub(crate) fn changes_from(
        &self,
        rows: Vec<ReadChangeRow>,
    ) -> Result<Vec<ChangeRequest>, StoreError> {
        rows.into_iter()
            .map(|(a, b, c, d, e, f, sealed, g, h, i, j, k, l, m, n)| {
                let sealed = sealed.map(|s| s.0);
                self.change_from_row((a, b, c, d, e, f, sealed, g, h, i, j, k, l, m, n))
            })
            .collect()
    }

    /// Stores a proposed change (checked by the caller) and audits it.
    async fn insert_change(
        &self,
        family: &FamilyId,
        proposal: Proposal<'_>,
        reason: &str,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        let Proposal {
            kind,
            person,
            fact,
            replaces,
        } = proposal;
        let id = format!("C{:032x}", rand::random::<u128>());
        let (value, sealed, key_id) = match fact.map(|f| &f.value) {
            None => (None, None, None),
            Some(v) => {
                let json =
                    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                if v.is_sealed() {
                    let sealed = self.keys().encrypt(json.as_bytes(), &change_aad(&id, kind));
                    (None, Some(sealed), Some(i64::from(self.keys().active_id())))
                } else {
                    (Some(json), None, None)
                }
            }
        };
        let target = format!("{family}/{id}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO change_request (change_id, family_id, kind, person_id, replaces, value, sealed, key_id, \
                 valid_from, reason, proposed_by, proposed_at, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'proposed')",
            )
            .bind(&id)
            .bind(family.as_str())
            .bind(kind)
            .bind(person.map(PersonId::as_str))
            .bind(replaces.map(FactId::as_str))
            .bind(&value)
            .bind(&sealed)
            .bind(key_id)
            .bind(fact.and_then(|f| f.valid_from).map(|d| d.to_string()))
            .bind(reason)
            .bind(&actor.name)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "change.propose", &target, kind);
            tx.commit().await?;
        });
        Ok(id)
    }

    /// Marks an open request decided (with the fact recorded on approval) and audits it.
    async fn close_change(
        &self,
        change: &ChangeRequest,
        approve: bool,
        fact: Option<&FactId>,
        note: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let decision = if approve { "approved" } else { "rejected" };
        let target = format!("{}/{}", change.family_id, change.change_id);
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let done = sqlx::query(
                "UPDATE change_request SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4, fact_id = $5 \
                 WHERE change_id = $6 AND status = 'proposed'",
            )
            .bind(decision)
            .bind(&actor.name)
            .bind(now_micros())
            .bind(note)
            .bind(fact.map(FactId::as_str))
            .bind(&change.change_id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::invalid("change", "变更申请已处理 / already decided"));
            }
            crate::audit::append_audit!(&mut *tx, actor, "change.decide", &target, decision);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The kind of a family's fact, if it has that fact.
    async fn fact_kind(
        &self,
        family: &FamilyId,
        fact: &FactId,
    ) -> Result<Option<(String, Option<PersonId>)>, StoreError> {
        let row: Option<(String, Option<String>)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT kind, person_id FROM fact WHERE fact_id = $1 AND family_id = $2")
                .bind(fact.as_str())
                .bind(family.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(k, p)| (k, p.map(PersonId::from_db))))
    }
}

impl Scoped<'_> {
    /// The user's level, or a refusal for roles that record nothing.
    fn level(&self) -> Result<ApprovalLevel, StoreError> {
        level_of(self.user.role).ok_or_else(|| {
            StoreError::Forbidden(
                "只有专干可以登记或更正 / only caseworkers record and correct facts".into(),
            )
        })
    }

    /// Refuses a direct write of a fact of `kind` the user's level may not make alone.
    pub(crate) fn check_level(
        &self,
        kind: &str,
        casework: &CaseworkParams,
    ) -> Result<(), StoreError> {
        let needed = casework.approval_for(kind);
        if needed > self.level()? {
            return Err(needs_approval(needed));
        }
        Ok(())
    }

    /// Refuses a correction or withdrawal of `replaces` (or of a `replacement`'s kind) the
    /// user's level may not make alone.
    pub(crate) async fn check_correction_level(
        &self,
        family: &FamilyId,
        replaces: &FactId,
        replacement: Option<&NewFact>,
        casework: &CaseworkParams,
    ) -> Result<(), StoreError> {
        if let Some(f) = replacement {
            self.check_level(f.value.kind(), casework)?;
        }
        if let Some((kind, _)) = self.archive.fact_kind(family, replaces).await? {
            self.check_level(&kind, casework)?;
        }
        Ok(())
    }

    /// Proposes a change of a family's facts (caseworkers of the area): a new fact (`fact`,
    /// `replaces: None`), a correction (both) or a withdrawal (`fact: None`, `replaces`). Nothing
    /// is recorded until it is approved.
    pub async fn propose_change(
        &self,
        family: &FamilyId,
        fact: Option<NewFact>,
        replaces: Option<&FactId>,
        reason: &str,
        today: Date,
    ) -> Result<String, StoreError> {
        self.require_write(family).await?;
        // The reason is as optional as on the record path (the forms do not require it).
        let reason = reason.trim();
        if reason.chars().count() > 500 {
            return Err(StoreError::invalid(
                "reason",
                "不能超过 500 字 / at most 500 characters",
            ));
        }
        let old = match replaces {
            Some(old) => Some(
                self.archive
                    .fact_kind(family, old)
                    .await?
                    .ok_or_else(|| StoreError::FactNotFound(old.clone(), family.clone()))?,
            ),
            None => None,
        };
        let (kind, person) = match (&fact, old) {
            (None, None) => {
                return Err(StoreError::invalid(
                    "fact",
                    "请填写变更内容 / say what changes",
                ));
            }
            (None, Some((kind, person))) => (kind, person),
            (Some(f), old) => {
                check_fact_shape(f)?;
                let kind = f.value.kind().to_owned();
                if let Some((old_kind, _)) = old
                    && old_kind != kind
                {
                    return Err(StoreError::invalid(
                        "kind",
                        format!("a {kind} fact cannot replace a {old_kind} fact"),
                    ));
                }
                if let Some(on) = f.valid_from
                    && on > today
                {
                    return Err(StoreError::invalid(
                        "valid_from",
                        format!("{on} 在今天之后 / a change is recorded once it happened"),
                    ));
                }
                if let Some(p) = &f.person_id {
                    let file = self.archive.family_file(family).await?;
                    if !file.persons.iter().any(|r| &r.person_id == p) {
                        return Err(StoreError::invalid(
                            "person",
                            format!("{p} is not a member of family {family}"),
                        ));
                    }
                }
                (kind, f.person_id.clone())
            }
        };
        self.archive
            .insert_change(
                family,
                Proposal {
                    kind: &kind,
                    person: person.as_ref(),
                    fact: fact.as_ref(),
                    replaces,
                },
                reason,
                &self.user.actor(),
            )
            .await
    }

    /// Approves or rejects a proposed change of `family` (a caseworker of the family's area at or
    /// above the level the policy names for its kind; not the proposer). An approval records the
    /// fact with the approver as actor; a refusal by the archive (the fact is no longer valid)
    /// leaves the request open and is returned.
    pub async fn decide_change(
        &self,
        family: &FamilyId,
        change_id: &str,
        approve: bool,
        note: &str,
        casework: &CaseworkParams,
    ) -> Result<(), StoreError> {
        self.require_write(family).await?;
        let change = self
            .archive
            .change(change_id)
            .await?
            .filter(|c| &c.family_id == family)
            .ok_or_else(|| {
                StoreError::invalid("change", "变更申请不属于这户 / not this family's change")
            })?;
        let needed = change.approver(casework);
        if needed > self.level()? {
            return Err(StoreError::Forbidden(format!(
                "此变更由{}审批 / this change is approved by the {}",
                needed.as_zh(),
                needed.as_str()
            )));
        }
        if !change.is_open() {
            return Err(StoreError::invalid(
                "change",
                "变更申请已处理 / already decided",
            ));
        }
        let actor = self.user.actor();
        if change.proposed_by == actor.name {
            return Err(StoreError::invalid(
                "change",
                "提出人不能自行批准 / the proposer does not decide (four eyes)",
            ));
        }
        let note = note.trim();
        if !approve {
            if note.is_empty() {
                return Err(StoreError::invalid(
                    "note",
                    "不予批准须说明理由 / a rejection needs a reason",
                ));
            }
            return self
                .archive
                .close_change(&change, false, None, note, &actor)
                .await;
        }
        // Crash-safe: a fact recorded by an earlier approval that did not get to close the
        // request is found by its reason, and not recorded twice.
        let prefix = reason_prefix(&change.change_id);
        let file = self.archive.family_file(family).await?;
        let recorded = file
            .facts
            .iter()
            .find(|f| f.reason.starts_with(&prefix))
            .map(|f| f.fact_id.clone());
        let fact_id = match recorded {
            Some(id) => id,
            None => {
                // A record corrected or withdrawn since the proposal is not corrected again.
                if let Some(old) = &change.replaces
                    && file.facts.iter().any(|f| f.replaces.as_ref() == Some(old))
                {
                    return Err(StoreError::invalid(
                        "change",
                        "该记录已被更正或撤销，请重新提交 / the record was corrected or withdrawn since: propose again",
                    ));
                }
                let reason = format!("{prefix}：{}", change.reason);
                let fact = change.value.clone().map(|value| NewFact {
                    person_id: change.person_id.clone(),
                    value,
                    valid_from: change.valid_from,
                });
                let written = match (&change.replaces, fact) {
                    (Some(old), fact) => {
                        self.archive
                            .correct(family, file.version, old, fact, &actor, &reason)
                            .await
                    }
                    (None, Some(fact)) => {
                        self.archive
                            .record(family, file.version, fact, &actor, &reason)
                            .await
                    }
                    (None, None) => {
                        return Err(StoreError::Corrupt(format!(
                            "change {change_id}: neither a value nor a fact to withdraw"
                        )));
                    }
                };
                written?.0
            }
        };
        self.archive
            .close_change(&change, true, Some(&fact_id), note, &actor)
            .await
    }

    /// Open change requests of families in the user's area, oldest first.
    pub async fn pending_changes(
        &self,
        offset: i64,
        limit: i64,
    ) -> Result<Page<ChangeRequest>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows: Vec<Row> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(format!(
                "SELECT {COLUMNS} FROM change_request c JOIN family f ON f.family_id = c.family_id \
                 JOIN family_place p ON p.family_id = c.family_id WHERE c.status = 'proposed'"
            ));
            push_scope!(q, &self.user);
            q.push(" ORDER BY c.proposed_at, c.change_id LIMIT ");
            q.push_bind(limit + 1);
            q.push(" OFFSET ");
            q.push_bind(offset.max(0));
            q.build_query_as().fetch_all(pool).await?
        });
        let more = rows.len() as i64 > limit;
        let rows = rows
            .into_iter()
            .take(limit as usize)
            .map(|r| self.archive.change_from_row(r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { rows, more })
    }
}
