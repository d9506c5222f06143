//! The service checklist (issue 6, spec §6): the services the rules engine entitles each person
//! to — medical relief and the insurance contribution (二(三)), the 低保 uplift, nursing-home
//! priority and half fees, 五保 inclusion (二(四)), housing priority and funeral reimbursement
//! (二(五)) — with where each stands (offered, in progress, granted, declined), so that nothing the
//! notice promises is forgotten. Visits (二(一)) have their own plan and are not on the list.
//!
//! The entitlement comes from the engine for the month asked; the status is recorded by
//! caseworkers, each change a new row (its history), audited in the same transaction.

use guanai_rules::engine::{ServiceKind, evaluate};
use guanai_rules::{Month, Policy};
use jiff::civil::Date;

use crate::archive::{Archive, now_micros};
use crate::error::StoreError;
use crate::file::FamilyFile;
use crate::model::{Actor, FamilyId};
use crate::on_db;
use crate::reads::Read;
use crate::scope::Scoped;

/// Where a service stands for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceStatus {
    Offered,
    InProgress,
    Granted,
    Declined,
}

impl ServiceStatus {
    pub const ALL: [ServiceStatus; 4] = [
        ServiceStatus::Offered,
        ServiceStatus::InProgress,
        ServiceStatus::Granted,
        ServiceStatus::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::Offered => "offered",
            ServiceStatus::InProgress => "in_progress",
            ServiceStatus::Granted => "granted",
            ServiceStatus::Declined => "declined",
        }
    }

    pub fn parse(text: &str) -> Option<ServiceStatus> {
        ServiceStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_zh(self) -> &'static str {
        match self {
            ServiceStatus::Offered => "已告知",
            ServiceStatus::InProgress => "办理中",
            ServiceStatus::Granted => "已落实",
            ServiceStatus::Declined => "本人放弃",
        }
    }

    pub fn as_en(self) -> &'static str {
        match self {
            ServiceStatus::Offered => "offered",
            ServiceStatus::InProgress => "in progress",
            ServiceStatus::Granted => "granted",
            ServiceStatus::Declined => "declined",
        }
    }
}

/// The services on the checklist: every service of spec §6 except the visits.
pub fn on_checklist(kind: ServiceKind) -> bool {
    !matches!(
        kind,
        ServiceKind::HolidayVisits | ServiceKind::RegularVisits | ServiceKind::DedicatedVisitor
    )
}

/// Parses a service's stored name (`medical_relief` …).
pub fn service_kind(text: &str) -> Option<ServiceKind> {
    ServiceKind::ALL.into_iter().find(|k| k.as_str() == text)
}

/// The latest recorded status of a service for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    pub status: ServiceStatus,
    pub note: String,
    pub on_date: Date,
    pub recorded_by: String,
}

/// One line of a family's checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    pub person_id: String,
    pub service: ServiceKind,
    /// The engine entitles the person to it in the month asked (false: a status recorded while
    /// entitled, kept on the list after the entitlement ended).
    pub entitled: bool,
    pub status: Option<StatusRecord>,
}

/// person_id, service, status, note, on_date, recorded_by.
pub(crate) type StatusRow = (String, String, String, String, String, String);

/// A family's service statuses, oldest first.
pub(crate) fn statuses_read(family: &FamilyId) -> Read {
    Read::new(
        "service statuses",
        "person_id, service, status, note, on_date, recorded_by",
        "FROM service_status WHERE family_id = $1",
    )
    .order("recorded_at, status_id")
    .arg(family.as_str())
}

/// A family's checklist for a month from its file and its status rows (see
/// `Archive::service_checklist`).
pub(crate) fn checklist_of(
    file: &FamilyFile,
    month: Month,
    policy: &Policy,
    rows: Vec<StatusRow>,
) -> Result<Vec<ChecklistItem>, StoreError> {
    let mut items: Vec<ChecklistItem> = Vec::new();
    if let Ok(facts) = file.engine_family(month, None) {
        let eval = evaluate(&facts, month, policy);
        let parents: Vec<&crate::model::PersonRecord> = file
            .persons
            .iter()
            .filter(|p| p.relation.is_parent())
            .collect();
        for (i, set) in eval.parent_services.iter().enumerate() {
            let Some(person) = parents.get(i) else {
                continue;
            };
            for kind in set.iter().filter(|k| on_checklist(*k)) {
                items.push(ChecklistItem {
                    person_id: person.person_id.as_str().to_owned(),
                    service: kind,
                    entitled: true,
                    status: None,
                });
            }
        }
    }
    for (person, service, status, note, on, by) in rows {
        let (Some(kind), Some(status)) = (service_kind(&service), ServiceStatus::parse(&status))
        else {
            return Err(StoreError::Corrupt(format!(
                "service status {service}/{status}"
            )));
        };
        let record = StatusRecord {
            status,
            note,
            on_date: guanai_rules::parse_date(&on)
                .map_err(|e| StoreError::Corrupt(format!("service status date: {e}")))?,
            recorded_by: by,
        };
        match items
            .iter_mut()
            .find(|i| i.person_id == person && i.service == kind)
        {
            Some(item) => item.status = Some(record),
            None => items.push(ChecklistItem {
                person_id: person,
                service: kind,
                entitled: false,
                status: Some(record),
            }),
        }
    }
    Ok(items)
}

impl Archive {
    /// A family's checklist for a month: every service the engine entitles a parent to, with its
    /// latest status, and services with a status no longer entitled.
    pub async fn service_checklist(
        &self,
        family: &FamilyId,
        month: Month,
        policy: &Policy,
    ) -> Result<Vec<ChecklistItem>, StoreError> {
        let file = self.family_file(family).await?;
        let rows = statuses_read(family).rows(self.db()).await?;
        checklist_of(&file, month, policy, rows)
    }

    /// Records where a service stands for a person, who must be entitled to it this month.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_service_status(
        &self,
        family: &FamilyId,
        person: &str,
        service: ServiceKind,
        status: ServiceStatus,
        note: &str,
        on_date: Date,
        policy: &Policy,
        today: Date,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        if on_date > today {
            return Err(StoreError::invalid(
                "on_date",
                format!("{on_date} 在今天（{today}）之后 / cannot be in the future"),
            ));
        }
        if note.chars().count() > 500 {
            return Err(StoreError::invalid(
                "note",
                "不能超过 500 字 / at most 500 characters",
            ));
        }
        if status == ServiceStatus::Declined && note.trim().is_empty() {
            return Err(StoreError::invalid(
                "note",
                "放弃须注明原因 / a declined service needs the family's reason",
            ));
        }
        if !on_checklist(service) {
            return Err(StoreError::invalid(
                "service",
                "走访见走访计划 / visits are tracked by the visit plan",
            ));
        }
        let checklist = self
            .service_checklist(family, Month::of(today), policy)
            .await?;
        if !checklist
            .iter()
            .any(|i| i.person_id == person && i.service == service && i.entitled)
        {
            return Err(StoreError::invalid(
                "service",
                format!(
                    "按政策此人本月不享有该项服务（{}） / the person is not entitled to {} this month",
                    service.clause(),
                    service.as_str()
                ),
            ));
        }
        let id = format!("S{:032x}", rand::random::<u128>());
        let target = format!("{family}/{person}");
        let reason = format!("{} {}", service.as_str(), status.as_str());
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO service_status (status_id, family_id, person_id, service, status, note, on_date, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&id)
            .bind(family.as_str())
            .bind(person)
            .bind(service.as_str())
            .bind(status.as_str())
            .bind(note.trim())
            .bind(on_date.to_string())
            .bind(&actor.name)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "service.status", &target, &reason);
            tx.commit().await?;
        });
        Ok(())
    }
}

impl Scoped<'_> {
    /// A family's checklist, when the user sees the family (not volunteers: it names health
    /// and welfare facts).
    pub async fn service_checklist(
        &self,
        family: &FamilyId,
        month: Month,
        policy: &Policy,
    ) -> Result<Vec<ChecklistItem>, StoreError> {
        if self.user.role == crate::access::Role::Volunteer {
            return Err(StoreError::Forbidden(
                "志愿者不查看服务清单 / volunteers do not see the service checklist".into(),
            ));
        }
        self.visibility(family)
            .await?
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))?;
        self.archive.service_checklist(family, month, policy).await
    }

    /// Records a service's status (caseworkers of the area).
    #[allow(clippy::too_many_arguments)]
    pub async fn set_service_status(
        &self,
        family: &FamilyId,
        person: &str,
        service: ServiceKind,
        status: ServiceStatus,
        note: &str,
        on_date: Date,
        policy: &Policy,
        today: Date,
    ) -> Result<(), StoreError> {
        self.require_write(family).await?;
        self.archive
            .set_service_status(
                family,
                person,
                service,
                status,
                note,
                on_date,
                policy,
                today,
                &self.user.actor(),
            )
            .await
    }
}
