//! Casework (issue 6): an application (申请) from the family's request to enrolment — the
//! village's first check, the public notice (公示) with its objections, the township's review, the
//! county's approval, a rejection's reason and its one appeal — and the annual re-confirmation
//! (年度资格确认) of enrolled parents.
//!
//! Enrolment gates money: a family with applications is paid by no run until one is approved
//! (then the run pays what the rules say was due, as arrears within the pack's limit); a parent on
//! a year's re-confirmation list who is not confirmed by the deadline is paid nothing more for
//! the months after it until confirmed (then as arrears). Both are read by the payment build.
//!
//! Steps happen in order or are refused with the reason; every step records who, when, the
//! evidence and the decision, in the same transaction as its audit entry. An application carries
//! a version, so two people deciding at once cannot both succeed.

use guanai_rules::Policy;
use guanai_rules::calendar::parse_date;
use jiff::civil::Date;

use crate::access::Role;
use crate::archive::{Archive, now_micros};
use crate::checks::{not_future, text};
use crate::error::StoreError;
use crate::model::{Actor, FamilyId};
use crate::on_db;
use crate::reads::Read;
use crate::scope::{MAX_PAGE, Page, Scoped, push_scope};

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Recorded; waiting for the village's first check.
    Applied,
    /// Passed the village check; the public notice is next.
    Checked,
    /// On public notice (公示) until its last day; objections may be raised.
    Notice,
    /// Passed the township's review; the county decides.
    Reviewed,
    /// Approved by the county: the family is enrolled.
    Approved,
    Rejected,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Applied,
        Status::Checked,
        Status::Notice,
        Status::Reviewed,
        Status::Approved,
        Status::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Checked => "checked",
            Status::Notice => "notice",
            Status::Reviewed => "reviewed",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_zh(self) -> &'static str {
        match self {
            Status::Applied => "待村级初审",
            Status::Checked => "待公示",
            Status::Notice => "公示中",
            Status::Reviewed => "待县级审批",
            Status::Approved => "已批准纳入",
            Status::Rejected => "未通过",
        }
    }

    pub fn as_en(self) -> &'static str {
        match self {
            Status::Applied => "awaiting the village check",
            Status::Checked => "awaiting the public notice",
            Status::Notice => "on public notice",
            Status::Reviewed => "awaiting the county's approval",
            Status::Approved => "approved and enrolled",
            Status::Rejected => "rejected",
        }
    }
}

/// A step of the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Apply,
    VillageCheck,
    Notice,
    Objection,
    ObjectionResolved,
    TownshipReview,
    CountyApproval,
    Appeal,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Apply,
        Step::VillageCheck,
        Step::Notice,
        Step::Objection,
        Step::ObjectionResolved,
        Step::TownshipReview,
        Step::CountyApproval,
        Step::Appeal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Apply => "apply",
            Step::VillageCheck => "village_check",
            Step::Notice => "notice",
            Step::Objection => "objection",
            Step::ObjectionResolved => "objection_resolved",
            Step::TownshipReview => "township_review",
            Step::CountyApproval => "county_approval",
            Step::Appeal => "appeal",
        }
    }

    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_zh(self) -> &'static str {
        match self {
            Step::Apply => "申请",
            Step::VillageCheck => "村级初审",
            Step::Notice => "张榜公示",
            Step::Objection => "公示异议",
            Step::ObjectionResolved => "异议处理",
            Step::TownshipReview => "乡镇审核",
            Step::CountyApproval => "县级审批",
            Step::Appeal => "申诉复核",
        }
    }

    pub fn as_en(self) -> &'static str {
        match self {
            Step::Apply => "application",
            Step::VillageCheck => "village check",
            Step::Notice => "public notice",
            Step::Objection => "objection",
            Step::ObjectionResolved => "objection resolved",
            Step::TownshipReview => "township review",
            Step::CountyApproval => "county approval",
            Step::Appeal => "appeal",
        }
    }

    /// The status an application must have for this decision, and the one a pass leads to.
    fn decision_path(self) -> Option<(Status, Status)> {
        match self {
            Step::VillageCheck => Some((Status::Applied, Status::Checked)),
            Step::TownshipReview => Some((Status::Notice, Status::Reviewed)),
            Step::CountyApproval => Some((Status::Reviewed, Status::Approved)),
            _ => None,
        }
    }
}

/// A decision on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Pass,
    Reject,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Pass => "pass",
            Decision::Reject => "reject",
        }
    }
}

/// One recorded step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    pub step: Step,
    pub decision: Option<Decision>,
    pub evidence: String,
    pub reason: String,
    pub on_date: Date,
    pub actor: String,
    pub at: i64,
}

/// An objection raised during the public notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    pub objection_id: String,
    pub raised_on: Date,
    pub raised_by: String,
    pub content: String,
    pub recorded_by: String,
    /// Whether it was upheld, the resolution and who resolved it.
    pub resolved: Option<(bool, String, String)>,
}

/// An application with its steps and objections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub application_id: String,
    pub family_id: FamilyId,
    pub status: Status,
    pub applied_on: Date,
    pub applicant: String,
    pub notice_from: Option<Date>,
    pub notice_until: Option<Date>,
    pub rejected_at: Option<Step>,
    pub appealed: bool,
    pub version: i64,
    pub steps: Vec<StepRecord>,
    pub objections: Vec<Objection>,
}

impl Application {
    /// What may happen next, for the screen.
    pub fn next_step(&self) -> Option<Step> {
        match self.status {
            Status::Applied => Some(Step::VillageCheck),
            Status::Checked => Some(Step::Notice),
            Status::Notice => Some(Step::TownshipReview),
            Status::Reviewed => Some(Step::CountyApproval),
            Status::Rejected if !self.appealed => Some(Step::Appeal),
            Status::Approved | Status::Rejected => None,
        }
    }
}

/// An application as a family's file lists it (its steps and objections are on its own page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub application_id: String,
    pub status: Status,
    pub applied_on: Date,
    pub applicant: String,
}

/// application_id, status, applied_on, applicant.
pub(crate) type AppliedRow = (String, String, String, String);

/// A family's applications, newest first, as its file lists them.
pub(crate) fn applied_read(family: &FamilyId) -> Read {
    Read::new(
        "applications",
        "application_id, status, applied_on, applicant",
        "FROM application WHERE family_id = $1",
    )
    .order("created_at DESC")
    .arg(family.as_str())
}

pub(crate) fn applied_from(rows: Vec<AppliedRow>) -> Result<Vec<Applied>, StoreError> {
    rows.into_iter()
        .map(|(application_id, status, applied_on, applicant)| {
            Ok(Applied {
                status: Status::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("application status {status}")))?,
                applied_on: date_of(&applied_on)?,
                application_id,
                applicant,
            })
        })
        .collect()
}

/// The re-confirmation deadlines of some years: (year, deadline).
pub(crate) type DeadlineRow = (i64, String);

/// The re-confirmation deadlines of the years `first..=last`.
pub(crate) fn deadlines_read(first: i16, last: i16) -> Read {
    Read::new(
        "re-confirmation deadlines",
        "year, deadline",
        "FROM reconfirm_campaign WHERE year >= $1 AND year <= $2",
    )
    .order("year")
    .arg(first)
    .arg(last)
}

pub(crate) fn deadlines_from(rows: Vec<DeadlineRow>) -> Result<Vec<(i16, Date)>, StoreError> {
    rows.into_iter()
        .map(|(year, deadline)| {
            let year = i16::try_from(year)
                .map_err(|_| StoreError::Corrupt(format!("re-confirmation year {year}")))?;
            Ok((year, date_of(&deadline)?))
        })
        .collect()
}

/// A family's parents on the lists of some years: the year, then a [`RosterRow`].
pub(crate) type YearRosterRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// A family's parents on the re-confirmation lists of the years `first..=last`.
pub(crate) fn family_roster_read(first: i16, last: i16, family: &FamilyId) -> Read {
    let cols = ROSTER_COLUMNS.split(" FROM ").next().unwrap_or_default();
    let from = &ROSTER_COLUMNS[cols.len()..];
    Read::new(
        "re-confirmation roster",
        format!("r.year, {cols}"),
        format!("{from} WHERE r.family_id = $1 AND r.year >= $2 AND r.year <= $3"),
    )
    .order("r.year, r.person_id")
    .arg(family.as_str())
    .arg(first)
    .arg(last)
}

pub(crate) fn family_roster_from(
    rows: Vec<YearRosterRow>,
) -> Result<Vec<(i16, RosterLine)>, StoreError> {
    rows.into_iter()
        .map(|(year, a, b, c, d, e, f)| {
            let year = i16::try_from(year)
                .map_err(|_| StoreError::Corrupt(format!("re-confirmation year {year}")))?;
            Ok((year, roster_line((a, b, c, d, e, f))?))
        })
        .collect()
}

/// A family's enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolment {
    /// Imported by the census, without an application: enrolled.
    Census,
    /// An application was approved (its id).
    Approved(String),
    /// Applications, none approved: not paid (the latest one's status).
    Pending(Status),
}

impl Enrolment {
    /// A family's enrolment from its applications, newest first.
    pub fn of(applied: &[Applied]) -> Enrolment {
        if let Some(a) = applied.iter().find(|a| a.status == Status::Approved) {
            return Enrolment::Approved(a.application_id.clone());
        }
        match applied.first() {
            None => Enrolment::Census,
            Some(a) => Enrolment::Pending(a.status),
        }
    }

    pub fn is_enrolled(&self) -> bool {
        !matches!(self, Enrolment::Pending(_))
    }
}

/// One line of the printable public notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeLine {
    pub application_id: String,
    pub village_code: String,
    pub family_no: String,
    /// Names masked as published (张*英): nothing that identifies beyond the village.
    pub masked_names: Vec<String>,
    pub notice_from: Date,
    pub notice_until: Date,
}

/// A parent on a year's re-confirmation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterLine {
    pub person_id: String,
    pub family_id: FamilyId,
    pub family_no: String,
    pub village_code: String,
    pub name: String,
    pub confirmed_on: Option<Date>,
}

/// A year's re-confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub year: i16,
    pub deadline: Date,
    pub persons: i64,
    pub confirmed: i64,
}

/// The longest free text of a step.
const MAX_TEXT: usize = 2000;

fn date_of(text: &str) -> Result<Date, StoreError> {
    parse_date(text).map_err(|e| StoreError::Corrupt(format!("casework date: {e}")))
}

fn refused(problem: impl Into<String>) -> StoreError {
    StoreError::invalid("step", problem)
}

/// The application row: id, family, status, applied_on, applicant, notice_from, notice_until,
/// rejected_at, appealed, version.
type ApplicationRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    i64,
);

const APPLICATION_COLUMNS: &str = "a.application_id, a.family_id, a.status, a.applied_on, a.applicant, a.notice_from, a.notice_until, a.rejected_at, a.appealed, a.version";

impl Archive {
    /// Records a family's application (the village, on the family's request or from the
    /// census). Refused while another application is open, once one is approved, and for a
    /// census family already being paid (enrolled by the census). New families usually come in
    /// as applications with their census rows (`ImportOptions::applications`).
    pub async fn apply(
        &self,
        family: &FamilyId,
        applied_on: Date,
        applicant: &str,
        evidence: &str,
        today: Date,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        not_future("applied_on", applied_on, today)?;
        text("applicant", applicant, true, MAX_TEXT)?;
        text("evidence", evidence, true, MAX_TEXT)?;
        let exists: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT family_id FROM family WHERE family_id = $1").bind(family.as_str()).fetch_optional(pool).await?
        });
        if exists.is_none() {
            return Err(StoreError::FamilyNotFound(family.to_string()));
        }
        let open: Vec<(String,)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT status FROM application WHERE family_id = $1 AND status NOT IN ('rejected')")
                .bind(family.as_str())
                .fetch_all(pool)
                .await?
        });
        let (applications, paid): (i64, i64) = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM application WHERE family_id = $1), \
                 (SELECT CAST(COUNT(*) AS BIGINT) FROM pay_position WHERE family_id = $1)",
            )
            .bind(family.as_str())
            .fetch_one(pool)
            .await?
        });
        if applications == 0 && paid > 0 {
            return Err(StoreError::invalid(
                "family",
                "这户已按普查在册列入发放批次，无需申请 / the family is enrolled by the census and already in a payment run",
            ));
        }
        if let Some((status,)) = open.first() {
            let what = Status::parse(status).map_or("?", Status::as_zh);
            return Err(StoreError::invalid(
                "family",
                format!(
                    "这户已有申请（{what}） / the family already has an application that is open or approved"
                ),
            ));
        }
        let id = format!("A{:032x}", rand::random::<u128>());
        let now = now_micros();
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO application (application_id, family_id, status, applied_on, applicant, appealed, version, created_at, created_by) \
                 VALUES ($1, $2, 'applied', $3, $4, FALSE, 1, $5, $6)",
            )
            .bind(&id)
            .bind(family.as_str())
            .bind(applied_on.to_string())
            .bind(applicant.trim())
            .bind(now)
            .bind(&actor.name)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO application_step (application_id, step_no, step, decision, evidence, reason, on_date, actor, at) \
                 VALUES ($1, 1, 'apply', '', $2, '', $3, $4, $5)",
            )
            .bind(&id)
            .bind(evidence.trim())
            .bind(applied_on.to_string())
            .bind(&actor.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "application.apply", &format!("{family}/{id}"), applicant.trim());
            tx.commit().await?;
        });
        Ok(id)
    }

    /// An application with its steps and objections.
    pub async fn application(&self, id: &str) -> Result<Application, StoreError> {
        let row: Option<ApplicationRow> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {APPLICATION_COLUMNS} FROM application a WHERE a.application_id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let Some(row) = row else {
            return Err(StoreError::invalid(
                "application",
                format!("申请 {id} 不存在 / no such application"),
            ));
        };
        self.application_from(row).await
    }

    async fn application_from(&self, row: ApplicationRow) -> Result<Application, StoreError> {
        let (
            id,
            family,
            status,
            applied_on,
            applicant,
            from,
            until,
            rejected_at,
            appealed,
            version,
        ) = row;
        type StepRow = (String, String, String, String, String, String, i64);
        let steps: Vec<StepRow> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT step, decision, evidence, reason, on_date, actor, at FROM application_step WHERE application_id = $1 ORDER BY step_no")
                .bind(&id)
                .fetch_all(pool)
                .await?
        });
        type ObjectionRow = (
            String,
            String,
            String,
            String,
            String,
            Option<bool>,
            Option<String>,
            Option<String>,
        );
        let objections: Vec<ObjectionRow> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT objection_id, raised_on, raised_by, content, recorded_by, upheld, resolution, resolved_by FROM objection WHERE application_id = $1 ORDER BY raised_on, recorded_at")
                .bind(&id)
                .fetch_all(pool)
                .await?
        });
        let corrupt =
            |what: &str, text: &str| StoreError::Corrupt(format!("application {what} {text}"));
        Ok(Application {
            family_id: FamilyId::from_db(family),
            status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            applied_on: date_of(&applied_on)?,
            applicant,
            notice_from: from.as_deref().map(date_of).transpose()?,
            notice_until: until.as_deref().map(date_of).transpose()?,
            rejected_at: rejected_at.as_deref().and_then(Step::parse),
            appealed,
            version,
            steps: steps
                .into_iter()
                .map(|(step, decision, evidence, reason, on, actor, at)| {
                    Ok(StepRecord {
                        step: Step::parse(&step).ok_or_else(|| corrupt("step", &step))?,
                        decision: match decision.as_str() {
                            "pass" => Some(Decision::Pass),
                            "reject" => Some(Decision::Reject),
                            _ => None,
                        },
                        evidence,
                        reason,
                        on_date: date_of(&on)?,
                        actor,
                        at,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            objections: objections
                .into_iter()
                .map(
                    |(
                        objection_id,
                        raised_on,
                        raised_by,
                        content,
                        recorded_by,
                        upheld,
                        resolution,
                        by,
                    )| {
                        Ok(Objection {
                            objection_id,
                            raised_on: date_of(&raised_on)?,
                            raised_by,
                            content,
                            recorded_by,
                            resolved: match (upheld, resolution, by) {
                                (Some(u), Some(r), Some(b)) => Some((u, r, b)),
                                _ => None,
                            },
                        })
                    },
                )
                .collect::<Result<_, StoreError>>()?,
            application_id: id,
        })
    }

    /// A family's applications, newest first.
    pub async fn applications_of(&self, family: &FamilyId) -> Result<Vec<Application>, StoreError> {
        let rows: Vec<ApplicationRow> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {APPLICATION_COLUMNS} FROM application a WHERE a.family_id = $1 ORDER BY a.created_at DESC")))
                .bind(family.as_str())
                .fetch_all(pool)
                .await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.application_from(row).await?);
        }
        Ok(out)
    }

    /// Whether a family is enrolled (see the module comment).
    pub async fn enrolment(&self, family: &FamilyId) -> Result<Enrolment, StoreError> {
        let applied = applied_from(applied_read(family).rows(self.db()).await?)?;
        Ok(Enrolment::of(&applied))
    }

    /// Appends a step and moves the application, if it still has `expected_version`.
    #[allow(clippy::too_many_arguments)]
    async fn advance(
        &self,
        application: &Application,
        expected_version: i64,
        step: Step,
        decision: Option<Decision>,
        evidence: &str,
        reason: &str,
        on_date: Date,
        set: &str,
        binds: &[Option<String>],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let id = application.application_id.as_str();
        let step_no = application.steps.len() as i64 + 1;
        let now = now_micros();
        let sql = format!(
            "UPDATE application SET {set}, version = version + 1 WHERE application_id = ${} AND version = ${}",
            binds.len() + 1,
            binds.len() + 2
        );
        let target = format!("{}/{id}", application.family_id);
        let audit_reason = match decision {
            Some(d) => format!("{} {}", step.as_str(), d.as_str()),
            None => step.as_str().to_owned(),
        };
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for b in binds {
                q = q.bind(b.clone());
            }
            let moved = q.bind(id).bind(expected_version).execute(&mut *tx).await?;
            if moved.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::invalid(
                    "version",
                    "申请已被他人处理，请刷新后重试 / the application was changed meanwhile: reload it",
                ));
            }
            sqlx::query(
                "INSERT INTO application_step (application_id, step_no, step, decision, evidence, reason, on_date, actor, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id)
            .bind(step_no)
            .bind(step.as_str())
            .bind(decision.map_or("", Decision::as_str))
            .bind(evidence.trim())
            .bind(reason.trim())
            .bind(on_date.to_string())
            .bind(&actor.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "application.step", &target, &audit_reason);
            tx.commit().await?;
        });
        Ok(())
    }

    /// A decision of the village (first check), the township (review) or the county (approval).
    /// In order only: the review after the notice's last day with every objection resolved; a
    /// person decides one step of an application at most (four eyes). A rejection needs a reason.
    #[allow(clippy::too_many_arguments)]
    pub async fn decide(
        &self,
        application_id: &str,
        expected_version: i64,
        step: Step,
        decision: Decision,
        evidence: &str,
        reason: &str,
        today: Date,
        actor: &Actor,
    ) -> Result<Status, StoreError> {
        let a = self.application(application_id).await?;
        let Some((from, to)) = step.decision_path() else {
            return Err(refused(format!(
                "{} 不是审核步骤 / not a decision step",
                step.as_zh()
            )));
        };
        if a.status != from {
            return Err(refused(format!(
                "申请当前为“{}”，不能进行{} / the application is {}; {} is not its next step",
                a.status.as_zh(),
                step.as_zh(),
                a.status.as_en(),
                step.as_en()
            )));
        }
        match decision {
            Decision::Pass => text("evidence", evidence, true, MAX_TEXT)?,
            Decision::Reject => {
                text("evidence", evidence, false, MAX_TEXT)?;
                text("reason", reason, true, MAX_TEXT)?;
            }
        }
        text("reason", reason, false, MAX_TEXT)?;
        if step == Step::TownshipReview {
            let until = a
                .notice_until
                .ok_or_else(|| refused("没有公示期 / no public notice"))?;
            if today <= until {
                return Err(refused(format!(
                    "公示期至 {until} 才结束，不能提前审核 / the public notice runs until {until}: review after it ends"
                )));
            }
            if a.objections.iter().any(|o| o.resolved.is_none()) {
                return Err(refused(
                    "还有未处理的公示异议 / every objection must be resolved before the review",
                ));
            }
        }
        let decided_before = a
            .steps
            .iter()
            .any(|s| s.step.decision_path().is_some() && s.actor == actor.name && s.step != step);
        if decided_before {
            return Err(refused(
                "同一人不能审核同一申请的两个环节 / one person decides one step of an application (four eyes)",
            ));
        }
        let (status, set, binds): (Status, &str, Vec<Option<String>>) = match decision {
            Decision::Pass => (to, "status = $1", vec![Some(to.as_str().to_owned())]),
            Decision::Reject => (
                Status::Rejected,
                "status = $1, rejected_at = $2",
                vec![
                    Some(Status::Rejected.as_str().to_owned()),
                    Some(step.as_str().to_owned()),
                ],
            ),
        };
        self.advance(
            &a,
            expected_version,
            step,
            Some(decision),
            evidence,
            reason,
            today,
            set,
            &binds,
            actor,
        )
        .await?;
        Ok(status)
    }

    /// Posts the public notice (公示) of a checked application from `from` (not in the future),
    /// for the pack's number of days.
    pub async fn post_notice(
        &self,
        application_id: &str,
        expected_version: i64,
        from: Date,
        policy: &Policy,
        today: Date,
        actor: &Actor,
    ) -> Result<Date, StoreError> {
        let a = self.application(application_id).await?;
        if a.status != Status::Checked {
            return Err(refused(format!(
                "申请当前为“{}”，不能公示（须先通过村级初审） / only a checked application is posted",
                a.status.as_zh()
            )));
        }
        not_future("notice_from", from, today)?;
        let checked = a
            .steps
            .iter()
            .rev()
            .find(|s| s.step == Step::VillageCheck)
            .map(|s| s.on_date);
        if checked.is_some_and(|c| from < c) {
            return Err(StoreError::invalid(
                "notice_from",
                "公示不能早于村级初审 / the notice cannot start before the village check",
            ));
        }
        let days = i64::from(policy.casework.notice_days);
        let until = from
            .checked_add(jiff::Span::new().days(days - 1))
            .map_err(|e| StoreError::invalid("notice_from", e.to_string()))?;
        self.advance(
            &a,
            expected_version,
            Step::Notice,
            None,
            &format!("公示 {from} 至 {until}（{days} 天）"),
            "",
            from,
            "status = $1, notice_from = $2, notice_until = $3",
            &[
                Some(Status::Notice.as_str().to_owned()),
                Some(from.to_string()),
                Some(until.to_string()),
            ],
            actor,
        )
        .await?;
        Ok(until)
    }

    /// Records an objection raised during the notice period (not after today).
    pub async fn record_objection(
        &self,
        application_id: &str,
        raised_on: Date,
        raised_by: &str,
        content: &str,
        today: Date,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        let a = self.application(application_id).await?;
        text("raised_by", raised_by, true, MAX_TEXT)?;
        text("content", content, true, MAX_TEXT)?;
        not_future("raised_on", raised_on, today)?;
        let (Some(from), Some(until), Status::Notice) = (a.notice_from, a.notice_until, a.status)
        else {
            return Err(refused(
                "申请不在公示期 / the application is not on public notice",
            ));
        };
        if raised_on < from || raised_on > until {
            return Err(StoreError::invalid(
                "raised_on",
                format!(
                    "异议须在公示期 {from} 至 {until} 内提出 / objections are raised during the notice"
                ),
            ));
        }
        let id = format!("O{:032x}", rand::random::<u128>());
        let step_no = a.steps.len() as i64 + 1;
        let now = now_micros();
        let target = format!("{}/{}", a.family_id, a.application_id);
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO objection (objection_id, application_id, raised_on, raised_by, content, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(application_id)
            .bind(raised_on.to_string())
            .bind(raised_by.trim())
            .bind(content.trim())
            .bind(&actor.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO application_step (application_id, step_no, step, decision, evidence, reason, on_date, actor, at) \
                 VALUES ($1, $2, 'objection', '', '', $3, $4, $5, $6)",
            )
            .bind(application_id)
            .bind(step_no)
            .bind(&id)
            .bind(raised_on.to_string())
            .bind(&actor.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "application.objection", &target, &id);
            tx.commit().await?;
        });
        Ok(id)
    }

    /// Resolves an objection: upheld (the township should then reject) or not, with the reason.
    pub async fn resolve_objection(
        &self,
        objection_id: &str,
        upheld: bool,
        resolution: &str,
        today: Date,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        text("resolution", resolution, true, MAX_TEXT)?;
        let app: Option<(String,)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT application_id FROM objection WHERE objection_id = $1 AND resolved_at IS NULL")
                .bind(objection_id)
                .fetch_optional(pool)
                .await?
        });
        let Some((application_id,)) = app else {
            return Err(StoreError::invalid(
                "objection",
                "异议不存在或已处理 / no such open objection",
            ));
        };
        let a = self.application(&application_id).await?;
        let step_no = a.steps.len() as i64 + 1;
        let now = now_micros();
        let target = format!("{}/{}", a.family_id, a.application_id);
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query("UPDATE objection SET upheld = $1, resolution = $2, resolved_by = $3, resolved_at = $4 WHERE objection_id = $5 AND resolved_at IS NULL")
                .bind(upheld)
                .bind(resolution.trim())
                .bind(&actor.name)
                .bind(now)
                .bind(objection_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO application_step (application_id, step_no, step, decision, evidence, reason, on_date, actor, at) \
                 VALUES ($1, $2, 'objection_resolved', $3, '', $4, $5, $6, $7)",
            )
            .bind(&application_id)
            .bind(step_no)
            .bind(if upheld { "reject" } else { "pass" })
            .bind(resolution.trim())
            .bind(today.to_string())
            .bind(&actor.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "application.objection_resolved", &target, objection_id);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Appeals a rejection, once: the application returns to the step that rejected it.
    pub async fn appeal(
        &self,
        application_id: &str,
        expected_version: i64,
        reason: &str,
        today: Date,
        actor: &Actor,
    ) -> Result<Status, StoreError> {
        let a = self.application(application_id).await?;
        text("reason", reason, true, MAX_TEXT)?;
        if a.status != Status::Rejected {
            return Err(refused(
                "只有未通过的申请可以申诉 / only a rejected application is appealed",
            ));
        }
        if a.appealed {
            return Err(refused(
                "申诉只能提出一次 / an application is appealed once",
            ));
        }
        let back = match a.rejected_at {
            Some(Step::VillageCheck) => Status::Applied,
            Some(Step::TownshipReview) => Status::Notice,
            Some(Step::CountyApproval) => Status::Reviewed,
            _ => {
                return Err(refused(
                    "找不到被驳回的环节 / the rejecting step is unknown",
                ));
            }
        };
        self.advance(
            &a,
            expected_version,
            Step::Appeal,
            None,
            "",
            reason,
            today,
            "status = $1, rejected_at = NULL, appealed = TRUE",
            &[Some(back.as_str().to_owned())],
            actor,
        )
        .await?;
        Ok(back)
    }

    /// Opens a year's re-confirmation: every parent paid monthly assistance in `today`'s month
    /// (enrolled families that have not left the programme) goes on the list; the deadline is the pack's day of that year.
    pub async fn open_reconfirmation(
        &self,
        year: i16,
        policy: &Policy,
        today: Date,
        actor: &Actor,
    ) -> Result<Campaign, StoreError> {
        let (m, d) = policy.casework.reconfirm_deadline;
        let deadline = Date::new(year, m, d)
            .map_err(|e| StoreError::invalid("year", format!("{year}: {e}")))?;
        if deadline < today {
            return Err(StoreError::invalid(
                "year",
                format!("{year} 年的确认截止日 {deadline} 已过 / the deadline has passed"),
            ));
        }
        let exists: Option<i64> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT persons FROM reconfirm_campaign WHERE year = $1").bind(i64::from(year)).fetch_optional(pool).await?
        });
        if exists.is_some() {
            return Err(StoreError::invalid(
                "year",
                format!("{year} 年的资格确认已经开始 / already opened"),
            ));
        }
        let month = guanai_rules::Month::of(today);
        let pending: std::collections::HashSet<String> = {
            let rows: Vec<(String,)> = on_db!(self.db(), pool => {
                sqlx::query_as("SELECT family_id FROM application GROUP BY family_id HAVING SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END) = 0 \
                                UNION SELECT family_id FROM family_exit WHERE status = 'approved'")
                    .fetch_all(pool)
                    .await?
            });
            rows.into_iter().map(|r| r.0).collect()
        };
        let ids: Vec<FamilyId> = {
            let rows: Vec<(String,)> = on_db!(self.db(), pool => {
                sqlx::query_as("SELECT family_id FROM family ORDER BY family_id").fetch_all(pool).await?
            });
            rows.into_iter()
                .filter(|r| !pending.contains(&r.0))
                .filter_map(|r| FamilyId::parse(&r.0))
                .collect()
        };
        let mut roster: Vec<(String, String)> = Vec::new();
        for chunk in ids.chunks(500) {
            for file in self.payment_files(chunk).await? {
                let Ok(family) = file.engine_family(month, None) else {
                    continue;
                };
                let eval = guanai_rules::evaluate(&family, month, policy);
                let parents: Vec<&crate::model::PersonRecord> = file
                    .persons
                    .iter()
                    .filter(|p| p.relation.is_parent())
                    .collect();
                for (i, _) in eval.monthly() {
                    if let Some(p) = parents.get(i) {
                        roster.push((
                            p.person_id.as_str().to_owned(),
                            file.family_id.as_str().to_owned(),
                        ));
                    }
                }
            }
        }
        let now = now_micros();
        let persons = roster.len() as i64;
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query("INSERT INTO reconfirm_campaign (year, deadline, opened_at, opened_by, persons) VALUES ($1, $2, $3, $4, $5)")
                .bind(i64::from(year))
                .bind(deadline.to_string())
                .bind(now)
                .bind(&actor.name)
                .bind(persons)
                .execute(&mut *tx)
                .await?;
            for chunk in roster.chunks(1000) {
                let mut q = sqlx::QueryBuilder::new("INSERT INTO reconfirm_roster (year, person_id, family_id) ");
                q.push_values(chunk, |mut b, (person, family)| {
                    b.push_bind(i64::from(year)).push_bind(person.as_str()).push_bind(family.as_str());
                });
                q.build().execute(&mut *tx).await?;
            }
            crate::audit::append_audit!(&mut *tx, actor, "reconfirm.open", &year.to_string(), &format!("{persons} parents, deadline {deadline}"));
            tx.commit().await?;
        });
        Ok(Campaign {
            year,
            deadline,
            persons,
            confirmed: 0,
        })
    }

    /// A year's re-confirmation, with how many are confirmed.
    pub async fn reconfirmation(&self, year: i16) -> Result<Option<Campaign>, StoreError> {
        let row: Option<(String, i64)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT deadline, persons FROM reconfirm_campaign WHERE year = $1").bind(i64::from(year)).fetch_optional(pool).await?
        });
        let Some((deadline, persons)) = row else {
            return Ok(None);
        };
        let confirmed: i64 = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM reconfirm_roster WHERE year = $1 AND confirmed_on IS NOT NULL")
                .bind(i64::from(year))
                .fetch_one(pool)
                .await?
        });
        Ok(Some(Campaign {
            year,
            deadline: date_of(&deadline)?,
            persons,
            confirmed,
        }))
    }

    /// Confirms a parent for a year (alive, no later child, still in the area — a parent for
    /// whom one of these no longer holds is not confirmed: record the change instead).
    pub async fn confirm_parent(
        &self,
        year: i16,
        person: &str,
        confirmed_on: Date,
        note: &str,
        today: Date,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        not_future("confirmed_on", confirmed_on, today)?;
        text("note", note, false, MAX_TEXT)?;
        if confirmed_on.year() != year && confirmed_on.year() != year - 1 {
            return Err(StoreError::invalid(
                "confirmed_on",
                format!(
                    "{confirmed_on} 不在 {year} 年度的确认期内 / outside the year's re-confirmation"
                ),
            ));
        }
        let row: Option<(String, Option<String>)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT family_id, confirmed_on FROM reconfirm_roster WHERE year = $1 AND person_id = $2")
                .bind(i64::from(year))
                .bind(person)
                .fetch_optional(pool)
                .await?
        });
        let Some((family, confirmed)) = row else {
            return Err(StoreError::invalid(
                "person",
                format!("{person} 不在 {year} 年度确认名单中 / not on the year's list"),
            ));
        };
        if confirmed.is_some() {
            return Err(StoreError::invalid(
                "person",
                "已经确认过 / already confirmed",
            ));
        }
        let target = format!("{family}/{person}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query("UPDATE reconfirm_roster SET confirmed_on = $1, confirmed_by = $2, confirmed_at = $3, note = $4 WHERE year = $5 AND person_id = $6 AND confirmed_on IS NULL")
                .bind(confirmed_on.to_string())
                .bind(&actor.name)
                .bind(now_micros())
                .bind(note.trim())
                .bind(i64::from(year))
                .bind(person)
                .execute(&mut *tx)
                .await?;
            crate::audit::append_audit!(&mut *tx, actor, "reconfirm.confirm", &target, &year.to_string());
            tx.commit().await?;
        });
        Ok(())
    }
}

/// A roster row: person, family, census number, village, name, confirmed on.
type RosterRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// The columns and tables a [`RosterRow`] is read from (`reconfirm_roster r` with the family,
/// its place and the person's name).
const ROSTER_COLUMNS: &str = "r.person_id, r.family_id, f.family_no, p.village_code, n.name, r.confirmed_on FROM reconfirm_roster r \
     JOIN family f ON f.family_id = r.family_id JOIN family_place p ON p.family_id = r.family_id \
     LEFT JOIN person_name n ON n.person_id = r.person_id";

fn roster_line(row: RosterRow) -> Result<RosterLine, StoreError> {
    let (person_id, family, family_no, village_code, name, confirmed) = row;
    Ok(RosterLine {
        person_id,
        family_id: FamilyId::from_db(family),
        family_no,
        village_code,
        name: name.unwrap_or_default(),
        confirmed_on: confirmed.as_deref().map(date_of).transpose()?,
    })
}

/// The printable notice masks names: the first character and, for longer names, the last
/// (张*英, 李*); the census number and the village stay, nothing else is published.
pub fn mask_for_notice(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

impl Scoped<'_> {
    fn require_level(&self, allowed: &[Role], what: &str) -> Result<(), StoreError> {
        if allowed.contains(&self.user.role) {
            Ok(())
        } else {
            Err(StoreError::Forbidden(format!(
                "{what}：此角色无权操作 / this role may not do this"
            )))
        }
    }

    async fn require_application(&self, id: &str) -> Result<Application, StoreError> {
        let a = self.archive.application(id).await?;
        self.require_write(&a.family_id).await?;
        Ok(a)
    }

    /// Records an application for a family of the area (caseworkers).
    pub async fn apply(
        &self,
        family: &FamilyId,
        applied_on: Date,
        applicant: &str,
        evidence: &str,
        today: Date,
    ) -> Result<String, StoreError> {
        self.require_write(family).await?;
        self.archive
            .apply(
                family,
                applied_on,
                applicant,
                evidence,
                today,
                &self.user.actor(),
            )
            .await
    }

    /// A decision, by the level the procedure names: the village check by the village (or the
    /// township for it), the review by the township (or the county), the approval by the county
    /// (or the city).
    #[allow(clippy::too_many_arguments)]
    pub async fn decide(
        &self,
        application_id: &str,
        expected_version: i64,
        step: Step,
        decision: Decision,
        evidence: &str,
        reason: &str,
        today: Date,
    ) -> Result<Status, StoreError> {
        let allowed: &[Role] = match step {
            Step::VillageCheck => &[Role::Village, Role::Township],
            Step::TownshipReview => &[Role::Township, Role::County],
            Step::CountyApproval => &[Role::County, Role::City],
            _ => &[],
        };
        self.require_level(allowed, step.as_zh())?;
        self.require_application(application_id).await?;
        self.archive
            .decide(
                application_id,
                expected_version,
                step,
                decision,
                evidence,
                reason,
                today,
                &self.user.actor(),
            )
            .await
    }

    /// Posts the public notice (the village or the township).
    pub async fn post_notice(
        &self,
        application_id: &str,
        expected_version: i64,
        from: Date,
        policy: &Policy,
        today: Date,
    ) -> Result<Date, StoreError> {
        self.require_level(&[Role::Village, Role::Township], Step::Notice.as_zh())?;
        self.require_application(application_id).await?;
        self.archive
            .post_notice(
                application_id,
                expected_version,
                from,
                policy,
                today,
                &self.user.actor(),
            )
            .await
    }

    /// Records an objection (caseworkers of the area).
    pub async fn record_objection(
        &self,
        application_id: &str,
        raised_on: Date,
        raised_by: &str,
        content: &str,
        today: Date,
    ) -> Result<String, StoreError> {
        self.require_application(application_id).await?;
        self.archive
            .record_objection(
                application_id,
                raised_on,
                raised_by,
                content,
                today,
                &self.user.actor(),
            )
            .await
    }

    /// Resolves an objection (the township or the county).
    pub async fn resolve_objection(
        &self,
        application_id: &str,
        objection_id: &str,
        upheld: bool,
        resolution: &str,
        today: Date,
    ) -> Result<(), StoreError> {
        self.require_level(
            &[Role::Township, Role::County],
            Step::ObjectionResolved.as_zh(),
        )?;
        let a = self.require_application(application_id).await?;
        if !a.objections.iter().any(|o| o.objection_id == objection_id) {
            return Err(StoreError::invalid(
                "objection",
                "异议不属于此申请 / not this application's objection",
            ));
        }
        self.archive
            .resolve_objection(objection_id, upheld, resolution, today, &self.user.actor())
            .await
    }

    /// Records the family's appeal of a rejection (caseworkers of the area).
    pub async fn appeal(
        &self,
        application_id: &str,
        expected_version: i64,
        reason: &str,
        today: Date,
    ) -> Result<Status, StoreError> {
        self.require_application(application_id).await?;
        self.archive
            .appeal(
                application_id,
                expected_version,
                reason,
                today,
                &self.user.actor(),
            )
            .await
    }

    /// An application the user may see.
    pub async fn application(&self, id: &str) -> Result<Application, StoreError> {
        let a = self.archive.application(id).await?;
        match self.visibility(&a.family_id).await? {
            Some(_) if self.user.role != Role::Volunteer => Ok(a),
            _ => Err(StoreError::FamilyNotFound(a.family_id.to_string())),
        }
    }

    /// Applications in scope with a status (all open ones when `None`), in village order.
    pub async fn applications(
        &self,
        status: Option<Status>,
        offset: i64,
        limit: i64,
    ) -> Result<Page<(Application, String)>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows: Vec<(String, String)> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT a.application_id, p.village_code FROM application a JOIN family f ON f.family_id = a.family_id \
                 JOIN family_place p ON p.family_id = a.family_id WHERE ",
            );
            match status {
                Some(s) => {
                    q.push("a.status = ");
                    q.push_bind(s.as_str());
                }
                None => {
                    q.push("a.status NOT IN ('approved', 'rejected')");
                }
            }
            push_scope!(q, &self.user);
            q.push(" ORDER BY p.village_code, f.family_no, a.created_at LIMIT ");
            q.push_bind(limit + 1);
            q.push(" OFFSET ");
            q.push_bind(offset.max(0));
            q.build_query_as().fetch_all(pool).await?
        });
        let more = rows.len() as i64 > limit;
        let mut out = Vec::new();
        for (id, village) in rows.into_iter().take(limit as usize) {
            out.push((self.archive.application(&id).await?, village));
        }
        Ok(Page { rows: out, more })
    }

    /// The printable public notice of the area: applications on notice today, names masked.
    pub async fn notice_list(&self, today: Date) -> Result<Vec<NoticeLine>, StoreError> {
        let rows: Vec<(String, String, String, String, String, String)> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT a.application_id, a.family_id, p.village_code, f.family_no, a.notice_from, a.notice_until FROM application a \
                 JOIN family f ON f.family_id = a.family_id JOIN family_place p ON p.family_id = a.family_id \
                 WHERE a.status = 'notice' AND a.notice_from <= ",
            );
            q.push_bind(today.to_string());
            q.push(" AND a.notice_until >= ");
            q.push_bind(today.to_string());
            push_scope!(q, &self.user);
            q.push(" ORDER BY p.village_code, f.family_no");
            q.build_query_as().fetch_all(pool).await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for (application_id, family, village_code, family_no, from, until) in rows {
            let names: Vec<(String,)> = on_db!(self.archive.db(), pool => {
                sqlx::query_as("SELECT name FROM person_name WHERE family_id = $1 ORDER BY person_id").bind(&family).fetch_all(pool).await?
            });
            out.push(NoticeLine {
                application_id,
                village_code,
                family_no,
                masked_names: names.iter().map(|n| mask_for_notice(&n.0)).collect(),
                notice_from: date_of(&from)?,
                notice_until: date_of(&until)?,
            });
        }
        Ok(out)
    }

    /// Opens a year's re-confirmation (the city).
    pub async fn open_reconfirmation(
        &self,
        year: i16,
        policy: &Policy,
        today: Date,
    ) -> Result<Campaign, StoreError> {
        self.require_level(&[Role::City], "年度资格确认")?;
        self.archive
            .open_reconfirmation(year, policy, today, &self.user.actor())
            .await
    }

    /// Confirms a parent of a family in the area (caseworkers).
    pub async fn confirm_parent(
        &self,
        year: i16,
        family: &FamilyId,
        person: &str,
        confirmed_on: Date,
        note: &str,
        today: Date,
    ) -> Result<(), StoreError> {
        self.require_write(family).await?;
        let belongs: Option<String> = on_db!(self.archive.db(), pool => {
            sqlx::query_scalar("SELECT person_id FROM reconfirm_roster WHERE year = $1 AND person_id = $2 AND family_id = $3")
                .bind(i64::from(year))
                .bind(person)
                .bind(family.as_str())
                .fetch_optional(pool)
                .await?
        });
        if belongs.is_none() {
            return Err(StoreError::invalid(
                "person",
                format!("{person} 不在这户的 {year} 年度确认名单中 / not on this family's list"),
            ));
        }
        self.archive
            .confirm_parent(year, person, confirmed_on, note, today, &self.user.actor())
            .await
    }

    /// The year's list in scope (unconfirmed first when `open_only`), in village order.
    pub async fn roster(
        &self,
        year: i16,
        open_only: bool,
        offset: i64,
        limit: i64,
    ) -> Result<Page<RosterLine>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows: Vec<RosterRow> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(format!("SELECT {ROSTER_COLUMNS} WHERE r.year = "));
            q.push_bind(i64::from(year));
            if open_only {
                q.push(" AND r.confirmed_on IS NULL");
            }
            push_scope!(q, &self.user);
            q.push(" ORDER BY p.village_code, f.family_no, r.person_id LIMIT ");
            q.push_bind(limit + 1);
            q.push(" OFFSET ");
            q.push_bind(offset.max(0));
            q.build_query_as().fetch_all(pool).await?
        });
        let more = rows.len() as i64 > limit;
        let rows = rows
            .into_iter()
            .take(limit as usize)
            .map(roster_line)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { rows, more })
    }
}

impl Scoped<'_> {
    /// How many parents of a year's list are in the user's scope, and how many of them are
    /// confirmed (the campaign's figures are city-wide).
    pub async fn roster_counts(&self, year: i16) -> Result<(i64, i64), StoreError> {
        on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN r.confirmed_on IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) \
                 FROM reconfirm_roster r JOIN family f ON f.family_id = r.family_id JOIN family_place p ON p.family_id = r.family_id WHERE r.year = ",
            );
            q.push_bind(i64::from(year));
            push_scope!(q, &self.user);
            Ok(q.build_query_as().fetch_one(pool).await?)
        })
    }
}
