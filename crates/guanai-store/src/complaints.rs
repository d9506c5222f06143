//! Complaints (投诉/异议, issue 6): raised by a family, a neighbour or a volunteer, about a family
//! or about an area's work; recorded with the area whose caseworkers must answer, answered within
//! the pack's days (`casework.complaint_answer_days`), and escalated one level up (village →
//! township → county → city) for every further period it stays unanswered. Escalation is worked
//! out from the dates whenever a complaint is read, so it can never be forgotten.
//!
//! Privacy: the complainant's name and contact are sealed (shown only through an audited
//! reveal); a complaint about a family is seen only by caseworkers of its area (a volunteer sees
//! the complaints they filed).

use guanai_rules::Policy;
use guanai_rules::calendar::parse_date;
use jiff::civil::Date;

use crate::access::{CITY_CODE, Role};
use crate::archive::{Archive, now_micros};
use crate::error::StoreError;
use crate::model::{Actor, FamilyId};
use crate::on_db;
use crate::reads::Read;
use crate::scope::{MAX_PAGE, Page, Scoped, prefix_end};

/// Who raised a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Family,
    Neighbour,
    Volunteer,
    Other,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Family,
        Source::Neighbour,
        Source::Volunteer,
        Source::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Family => "family",
            Source::Neighbour => "neighbour",
            Source::Volunteer => "volunteer",
            Source::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_zh(self) -> &'static str {
        match self {
            Source::Family => "家庭本人",
            Source::Neighbour => "邻居群众",
            Source::Volunteer => "志愿者",
            Source::Other => "其他",
        }
    }
}

/// The levels a complaint climbs when it is late.
pub const LEVELS: [&str; 4] = ["village", "township", "county", "city"];

/// The level of an area code: 12 digits a village, 9 a township, 6 a county, the city's code.
fn level_of(code: &str) -> usize {
    match code.len() {
        _ if code == CITY_CODE => 3,
        12 => 0,
        9 => 1,
        _ => 2,
    }
}

/// The area code at a level above `code` (its township, county or the city).
fn area_at(code: &str, level: usize) -> String {
    match level {
        0 => code.to_owned(),
        1 => code.get(..9).unwrap_or(code).to_owned(),
        2 => code.get(..6).unwrap_or(code).to_owned(),
        _ => CITY_CODE.to_owned(),
    }
}

/// A complaint to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComplaint {
    /// The area whose caseworkers answer (a village, township or county code, or the city).
    pub area_code: String,
    pub family: Option<FamilyId>,
    pub source: Source,
    /// Name and contact of who complained (sealed).
    pub complainant: String,
    pub summary: String,
    pub detail: String,
    pub received_on: Date,
}

/// A recorded complaint, with where it stands on the day it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    pub complaint_id: String,
    pub area_code: String,
    pub family_id: Option<FamilyId>,
    pub source: Source,
    pub summary: String,
    pub detail: String,
    pub received_on: Date,
    pub due_on: Date,
    /// The answer, when and by whom.
    pub answer: Option<(String, Date, String)>,
    pub recorded_by: String,
    /// Unanswered after its due day: the area it has been escalated to (and the level's name).
    pub escalated_to: Option<(String, &'static str)>,
}

/// complaint_id, area, family, source, summary, detail, received_on, due_on, answer,
/// answered_on, answered_by, recorded_by.
pub(crate) type Row = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// A family's complaints, newest first (see `Scoped::complaints_about`).
pub(crate) fn complaints_read(family: &FamilyId) -> Read {
    Read::new(
        "complaints",
        COLUMNS,
        "FROM complaint c WHERE c.family_id = $1",
    )
    .order("c.received_on DESC, c.complaint_id")
    .arg(family.as_str())
}

const COLUMNS: &str = "c.complaint_id, c.area_code, c.family_id, c.source, c.summary, c.detail, c.received_on, c.due_on, c.answer, c.answered_on, c.answered_by, c.recorded_by";

fn date_of(text: &str) -> Result<Date, StoreError> {
    parse_date(text).map_err(|e| StoreError::Corrupt(format!("complaint date: {e}")))
}

fn complainant_aad(id: &str) -> Vec<u8> {
    format!("complaint:{id}:complainant").into_bytes()
}

fn from_row(row: Row, today: Date, answer_days: u16) -> Result<Complaint, StoreError> {
    let (
        id,
        area,
        family,
        source,
        summary,
        detail,
        received,
        due,
        answer,
        answered_on,
        by,
        recorded_by,
    ) = row;
    let due_on = date_of(&due)?;
    let answer = match (answer, answered_on, by) {
        (Some(a), Some(on), Some(by)) => Some((a, date_of(&on)?, by)),
        _ => None,
    };
    let escalated_to = if answer.is_none() && today > due_on {
        let late = due_on.until(today).map_or(0, |s| s.get_days()).max(1);
        let steps = 1 + (late - 1) / i32::from(answer_days.max(1));
        let level = (level_of(&area) + steps as usize).min(3);
        (level > level_of(&area)).then(|| (area_at(&area, level), LEVELS[level]))
    } else {
        None
    };
    Ok(Complaint {
        source: Source::parse(&source)
            .ok_or_else(|| StoreError::Corrupt(format!("complaint source {source}")))?,
        family_id: family.map(FamilyId::from_db),
        received_on: date_of(&received)?,
        due_on,
        answer,
        escalated_to,
        complaint_id: id,
        area_code: area,
        summary,
        detail,
        recorded_by,
    })
}

impl Archive {
    /// Records a complaint; it is due the pack's number of days after it was received.
    pub async fn file_complaint(
        &self,
        new: &NewComplaint,
        policy: &Policy,
        today: Date,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        if new.received_on > today {
            return Err(StoreError::invalid(
                "received_on",
                format!("{} 在今天之后 / cannot be in the future", new.received_on),
            ));
        }
        for (field, text, max) in [
            ("complainant", &new.complainant, 200),
            ("summary", &new.summary, 200),
            ("detail", &new.detail, 4000),
        ] {
            if text.trim().is_empty() {
                return Err(StoreError::invalid(field, "必填 / required"));
            }
            if text.chars().count() > max {
                return Err(StoreError::invalid(
                    field,
                    format!("不能超过 {max} 字 / at most {max} characters"),
                ));
            }
        }
        let known: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT code FROM area WHERE code = $1").bind(&new.area_code).fetch_optional(pool).await?
        });
        if known.is_none() {
            return Err(StoreError::invalid(
                "area",
                format!(
                    "{} 不是临沂的区划代码 / not a Linyi area code",
                    new.area_code
                ),
            ));
        }
        if let Some(family) = &new.family {
            let village: Option<String> = on_db!(self.db(), pool => {
                sqlx::query_scalar("SELECT village_code FROM family_place WHERE family_id = $1").bind(family.as_str()).fetch_optional(pool).await?
            });
            match village {
                None => return Err(StoreError::FamilyNotFound(family.to_string())),
                Some(v) if !v.starts_with(crate::access::area_prefix(&new.area_code)) => {
                    return Err(StoreError::invalid(
                        "area",
                        "所涉家庭不在该区域 / the family is outside this area",
                    ));
                }
                Some(_) => {}
            }
        }
        let days = i64::from(policy.casework.complaint_answer_days);
        let due = new
            .received_on
            .checked_add(jiff::Span::new().days(days))
            .map_err(|e| StoreError::invalid("received_on", e.to_string()))?;
        let id = format!("Q{:032x}", rand::random::<u128>());
        let sealed = self
            .keys()
            .encrypt(new.complainant.trim().as_bytes(), &complainant_aad(&id));
        let target = match &new.family {
            Some(f) => format!("{f}/{id}"),
            None => format!("{}/{id}", new.area_code),
        };
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO complaint (complaint_id, area_code, family_id, source, complainant, summary, detail, received_on, due_on, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&id)
            .bind(&new.area_code)
            .bind(new.family.as_ref().map(|f| f.as_str().to_owned()))
            .bind(new.source.as_str())
            .bind(sealed)
            .bind(new.summary.trim())
            .bind(new.detail.trim())
            .bind(new.received_on.to_string())
            .bind(due.to_string())
            .bind(&actor.name)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "complaint.file", &target, new.source.as_str());
            tx.commit().await?;
        });
        Ok(id)
    }

    /// A complaint as it stands on `today`.
    pub async fn complaint(
        &self,
        id: &str,
        policy: &Policy,
        today: Date,
    ) -> Result<Complaint, StoreError> {
        let row: Option<Row> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM complaint c WHERE c.complaint_id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let row = row.ok_or_else(|| {
            StoreError::invalid("complaint", format!("投诉 {id} 不存在 / no such complaint"))
        })?;
        from_row(row, today, policy.casework.complaint_answer_days)
    }

    /// Answers a complaint (once).
    pub async fn answer_complaint(
        &self,
        id: &str,
        answer: &str,
        today: Date,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        if answer.trim().is_empty() {
            return Err(StoreError::invalid("answer", "必填 / required"));
        }
        if answer.chars().count() > 4000 {
            return Err(StoreError::invalid(
                "answer",
                "不能超过 4000 字 / at most 4000 characters",
            ));
        }
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let done = sqlx::query("UPDATE complaint SET answer = $1, answered_on = $2, answered_by = $3 WHERE complaint_id = $4 AND answer IS NULL")
                .bind(answer.trim())
                .bind(today.to_string())
                .bind(&actor.name)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::invalid("complaint", "投诉不存在或已答复 / no such open complaint"));
            }
            crate::audit::append_audit!(&mut *tx, actor, "complaint.answer", id, "answered");
            tx.commit().await?;
        });
        Ok(())
    }

    /// The complainant's name and contact, for a stated reason; audited.
    pub async fn reveal_complainant(
        &self,
        id: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        if reason.trim().chars().count() < 2 {
            return Err(StoreError::invalid(
                "reason",
                "请写明查看理由 / state why you need it",
            ));
        }
        let sealed: Option<Vec<u8>> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT complainant FROM complaint WHERE complaint_id = $1").bind(id).fetch_optional(pool).await?
        });
        let sealed = sealed.ok_or_else(|| {
            StoreError::invalid("complaint", format!("投诉 {id} 不存在 / no such complaint"))
        })?;
        let plain = self.keys().decrypt(&sealed, &complainant_aad(id))?;
        self.audit(actor, "complaint.reveal", id, reason.trim())
            .await?;
        Ok(String::from_utf8_lossy(&plain).into_owned())
    }
}

/// Which complaints a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplaintFilter {
    /// Not answered yet.
    Open,
    /// Not answered and past the due day (escalated).
    Late,
    All,
}

impl Scoped<'_> {
    pub(crate) fn sees_complaints(&self) -> Result<(), StoreError> {
        if self.user.role.can_record()
            || matches!(self.user.role, Role::Inspector | Role::Volunteer)
        {
            Ok(())
        } else {
            Err(StoreError::Forbidden(
                "此角色不处理投诉 / this role does not handle complaints".into(),
            ))
        }
    }

    /// Whether a complaint is in the user's scope.
    fn covers(&self, c: &Complaint) -> bool {
        if self.user.role == Role::Volunteer {
            return c.recorded_by == self.user.actor().name;
        }
        c.area_code.starts_with(self.user.area_prefix())
    }

    /// Records a complaint: caseworkers for their area; a volunteer about a paired family.
    pub async fn file_complaint(
        &self,
        new: &NewComplaint,
        policy: &Policy,
        today: Date,
    ) -> Result<String, StoreError> {
        self.sees_complaints()?;
        if self.user.role == Role::Inspector {
            return Err(StoreError::Forbidden(
                "督查人员不登记投诉 / inspectors read complaints".into(),
            ));
        }
        match (&new.family, self.user.role) {
            (Some(family), _) => {
                self.visibility(family)
                    .await?
                    .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))?;
            }
            (None, Role::Volunteer) => {
                return Err(StoreError::invalid(
                    "family",
                    "志愿者的投诉须涉及结对家庭 / a volunteer's complaint concerns a paired family",
                ));
            }
            (None, _) => {}
        }
        if self.user.role != Role::Volunteer && !new.area_code.starts_with(self.user.area_prefix())
        {
            return Err(StoreError::invalid(
                "area",
                "只能登记本辖区的投诉 / a complaint is filed within your area",
            ));
        }
        self.archive
            .file_complaint(new, policy, today, &self.user.actor())
            .await
    }

    /// A complaint in scope.
    pub async fn complaint(
        &self,
        id: &str,
        policy: &Policy,
        today: Date,
    ) -> Result<Complaint, StoreError> {
        self.sees_complaints()?;
        let c = self.archive.complaint(id, policy, today).await?;
        if self.covers(&c) {
            Ok(c)
        } else {
            Err(StoreError::invalid(
                "complaint",
                format!("投诉 {id} 不存在 / no such complaint"),
            ))
        }
    }

    /// Answers a complaint (caseworkers whose area holds it).
    pub async fn answer_complaint(
        &self,
        id: &str,
        answer: &str,
        policy: &Policy,
        today: Date,
    ) -> Result<(), StoreError> {
        if !self.user.role.can_record() {
            return Err(StoreError::Forbidden(
                "只有专干可以答复投诉 / only caseworkers answer complaints".into(),
            ));
        }
        self.complaint(id, policy, today).await?;
        self.archive
            .answer_complaint(id, answer, today, &self.user.actor())
            .await
    }

    /// The complainant, for a reason (caseworkers whose area holds it); audited.
    pub async fn reveal_complainant(
        &self,
        id: &str,
        reason: &str,
        policy: &Policy,
        today: Date,
    ) -> Result<String, StoreError> {
        if !self.user.role.can_record() {
            return Err(StoreError::Forbidden(
                "只有专干可以查看投诉人 / only caseworkers see who complained".into(),
            ));
        }
        self.complaint(id, policy, today).await?;
        self.archive
            .reveal_complainant(id, reason, &self.user.actor())
            .await
    }

    /// Complaints in scope, oldest due first.
    pub async fn complaints(
        &self,
        filter: ComplaintFilter,
        policy: &Policy,
        today: Date,
        offset: i64,
        limit: i64,
    ) -> Result<Page<Complaint>, StoreError> {
        self.sees_complaints()?;
        let limit = limit.clamp(1, MAX_PAGE);
        let rows: Vec<Row> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(format!("SELECT {COLUMNS} FROM complaint c WHERE "));
            if self.user.role == Role::Volunteer {
                q.push("c.recorded_by = ");
                q.push_bind(self.user.actor().name);
            } else {
                let prefix = self.user.area_prefix().to_owned();
                q.push("c.area_code >= ");
                q.push_bind(prefix.clone());
                q.push(" AND c.area_code < ");
                q.push_bind(prefix_end(&prefix));
            }
            match filter {
                ComplaintFilter::Open => {
                    q.push(" AND c.answer IS NULL");
                }
                ComplaintFilter::Late => {
                    q.push(" AND c.answer IS NULL AND c.due_on < ");
                    q.push_bind(today.to_string());
                }
                ComplaintFilter::All => {}
            }
            q.push(" ORDER BY c.due_on, c.complaint_id LIMIT ");
            q.push_bind(limit + 1);
            q.push(" OFFSET ");
            q.push_bind(offset.max(0));
            q.build_query_as().fetch_all(pool).await?
        });
        let more = rows.len() as i64 > limit;
        let answer_days = policy.casework.complaint_answer_days;
        let rows = rows
            .into_iter()
            .take(limit as usize)
            .map(|r| from_row(r, today, answer_days))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { rows, more })
    }
}

impl Scoped<'_> {
    /// The complaints about one family that the user may see, newest first (at most `limit`):
    /// the family file's list (issue 6). Caseworkers and inspectors see those of their area;
    /// a volunteer those they filed.
    pub async fn complaints_about(
        &self,
        family: &FamilyId,
        policy: &Policy,
        today: Date,
        limit: i64,
    ) -> Result<Vec<Complaint>, StoreError> {
        self.sees_complaints()?;
        self.visibility(family)
            .await?
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))?;
        let rows = complaints_read(family).rows(self.archive.db()).await?;
        self.complaints_from(rows, policy, today, limit)
    }

    /// The complaints the user may see of a family's rows, newest first (at most `limit`).
    pub(crate) fn complaints_from(
        &self,
        mut rows: Vec<Row>,
        policy: &Policy,
        today: Date,
        limit: i64,
    ) -> Result<Vec<Complaint>, StoreError> {
        rows.truncate(usize::try_from(limit.clamp(1, MAX_PAGE)).unwrap_or(1));
        let answer_days = policy.casework.complaint_answer_days;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let c = from_row(row, today, answer_days)?;
            if self.covers(&c) {
                out.push(c);
            }
        }
        Ok(out)
    }
}
