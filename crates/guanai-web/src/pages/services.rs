//! The service checklist on the family file (spec §6, issue 6): for this month, each parent's
//! entitled services — medical relief and the insurance contribution (二(三)), the 低保 uplift,
//! nursing-home priority and half fees, 五保 (二(四)), housing priority and funeral
//! reimbursement (二(五)) — with where each stands (未办理 / 已告知 / 办理中 / 已落实 / 本人放弃), and a form
//! per service for caseworkers of the area; services no longer entitled but with a recorded
//! status stay on the list, marked. The section also lists the complaints about the family
//! (see [`super::complaints`]). Volunteers and counsellors do not see it: it names health and
//! welfare facts their work does not need.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_store::StoreError;
use guanai_store::access::Role;
use guanai_store::family_reads::FamilyReads;
use guanai_store::scope::Visibility;
use guanai_store::services::{ServiceStatus, service_kind};
use serde::Deserialize;

use super::complaints::{ComplaintLine, complaint_line};
use super::families::{FormErrors, family_id, family_page};
use super::{render, service_label, this_month, today};
use crate::i18n::Lang;
use crate::state::{Post, Signed, WebError};

/// The most complaints about one family listed on its file.
pub(crate) const FAMILY_COMPLAINTS: i64 = 20;

/// A status on screen, in the page's language.
pub(crate) fn status_label(lang: Lang, status: ServiceStatus) -> &'static str {
    lang.pick(status.as_zh(), status.as_en())
}

/// One service of one parent on the checklist.
pub(crate) struct ServiceLine {
    /// The name of its form (`service-{person}-{service}`), for errors and `open`.
    pub(crate) form: String,
    pub(crate) person_id: String,
    pub(crate) person: String,
    pub(crate) service: &'static str,
    /// The service with its clause: 医疗救助 (二(三)).
    pub(crate) label: &'static str,
    /// Entitled this month (false: a status recorded earlier, kept on the list).
    pub(crate) entitled: bool,
    /// `none`, `offered`, `in_progress`, `granted`, `declined` (a CSS class).
    pub(crate) status: &'static str,
    pub(crate) status_text: &'static str,
    pub(crate) on_date: String,
    pub(crate) note: String,
    pub(crate) recorded_by: String,
}

/// The values of a status form as typed (kept when the form is refused).
#[derive(Deserialize, Default, Clone)]
pub struct ServiceForm {
    #[serde(default)]
    person: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    on_date: String,
    #[serde(default)]
    note: String,
}

/// The checklist section of the family file (`id="services"`).
pub(crate) struct ServiceSection {
    pub(crate) month: String,
    pub(crate) lines: Vec<ServiceLine>,
    /// Caseworkers of the area: set a service's status.
    pub(crate) can_write: bool,
    pub(crate) statuses: Vec<(&'static str, &'static str)>,
    /// The refused form's values.
    pub(crate) kept: ServiceForm,
    /// Errors of a status form for a service not on the list (sent by hand).
    pub(crate) stray: Vec<String>,
    /// The complaints about the family (caseworkers only).
    pub(crate) complaints: Option<Vec<ComplaintLine>>,
}

impl ServiceSection {
    /// The status a line's form starts with: the typed one after a refusal, else the current.
    pub(crate) fn status_selected(&self, line: &ServiceLine, value: &str) -> bool {
        if self.kept.person == line.person_id && self.kept.service == line.service {
            self.kept.status == value
        } else if line.status == "none" {
            value == ServiceStatus::Offered.as_str()
        } else {
            line.status == value
        }
    }

    /// The date a line's form starts with.
    pub(crate) fn date_of(&self, line: &ServiceLine) -> String {
        if self.kept.person == line.person_id && self.kept.service == line.service {
            self.kept.on_date.clone()
        } else {
            today().to_string()
        }
    }

    /// The note a line's form starts with.
    pub(crate) fn note_of(&self, line: &ServiceLine) -> String {
        if self.kept.person == line.person_id && self.kept.service == line.service {
            self.kept.note.clone()
        } else {
            String::new()
        }
    }
}

/// The checklist section for this month, or `None` for the roles that do not see it.
/// `persons` names the family's members by person id.
pub(crate) fn section(
    signed: &Signed,
    visibility: Visibility,
    errors: &FormErrors,
    persons: &[(String, String)],
    reads: &mut FamilyReads,
) -> Option<ServiceSection> {
    let role = signed.user.role;
    if !shows_checklist(role) {
        return None;
    }
    let items = reads.checklist.take()?;
    let lang = signed.lang;
    let month = this_month();
    let today = today();
    let lines: Vec<ServiceLine> = items
        .into_iter()
        .map(|item| {
            let person = persons
                .iter()
                .find(|(id, _)| *id == item.person_id)
                .map_or_else(|| item.person_id.clone(), |(_, name)| name.clone());
            let (status, status_text, on_date, note, recorded_by) = match item.status {
                Some(s) => (
                    s.status.as_str(),
                    status_label(lang, s.status),
                    s.on_date.to_string(),
                    s.note,
                    s.recorded_by,
                ),
                None => (
                    "none",
                    lang.pick("未办理", "not started"),
                    String::new(),
                    String::new(),
                    String::new(),
                ),
            };
            ServiceLine {
                form: format!("service-{}-{}", item.person_id, item.service.as_str()),
                service: item.service.as_str(),
                label: service_label(lang, item.service),
                entitled: item.entitled,
                person_id: item.person_id,
                person,
                status,
                status_text,
                on_date,
                note,
                recorded_by,
            }
        })
        .collect();
    let can_write = role.can_record() && visibility == Visibility::Own;
    // A refused form for a line without a form (not entitled, sent by hand): its errors go
    // to the top of the section.
    let stray = if errors.form.starts_with("service-")
        && !lines
            .iter()
            .any(|l| can_write && l.entitled && l.form == errors.form)
    {
        errors.fields.iter().map(|(_, m)| m.clone()).collect()
    } else {
        Vec::new()
    };
    let complaints = reads.complaints.take().map(|list| {
        list.into_iter()
            .map(|c| complaint_line(c, lang, today))
            .collect()
    });
    Some(ServiceSection {
        month: month.to_string(),
        lines,
        can_write,
        statuses: ServiceStatus::ALL
            .into_iter()
            .map(|s| (s.as_str(), status_label(lang, s)))
            .collect(),
        kept: ServiceForm::default(),
        stray,
        complaints,
    })
}

/// Whether a role sees the service checklist on a family's file.
pub(crate) fn shows_checklist(role: Role) -> bool {
    !role.works_by_assignment() && role.sees_families()
}

/// `POST /families/{id}/services`: records where a service stands for a parent (caseworkers of
/// the area). The store refuses a service the parent is not entitled to this month, a
/// declined service without the family's reason, and a date in the future; the refusal is shown
/// next to the field of that service's form.
pub async fn set_status(
    Path(id): Path<String>,
    post: Post<ServiceForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    signed.require(signed.user.role.can_record())?;
    match signed.scoped().visibility(&family).await? {
        Some(Visibility::Own) => {}
        Some(Visibility::Granted { .. }) => return Err(WebError::Forbidden),
        None => return Err(WebError::NotFound),
    }
    let lang = signed.lang;
    let mut fields = Vec::new();
    let service = service_kind(form.service.trim());
    if service.is_none() {
        fields.push((
            "service".to_owned(),
            lang.pick("请选择服务项目", "choose a service").to_owned(),
        ));
    }
    let status = ServiceStatus::parse(form.status.trim());
    if status.is_none() {
        fields.push((
            "status".to_owned(),
            lang.pick(
                "请选择状态(已告知、办理中、已落实、本人放弃)",
                "choose offered, in progress, granted or declined",
            )
            .to_owned(),
        ));
    }
    let on_date = match guanai_rules::parse_date(form.on_date.trim()) {
        Ok(d) => Some(d),
        Err(_) => {
            fields.push((
                "on_date".to_owned(),
                lang.pick("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD")
                    .to_owned(),
            ));
            None
        }
    };
    if let (Some(service), Some(status), Some(on_date)) = (service, status, on_date) {
        let state = signed.state();
        match signed
            .scoped()
            .set_service_status(
                &family,
                form.person.trim(),
                service,
                status,
                &form.note,
                on_date,
                state.policy(),
                today(),
            )
            .await
        {
            Ok(()) => {
                return Ok(
                    Redirect::to(&format!("/families/{family}?saved=1#services")).into_response(),
                );
            }
            Err(StoreError::Invalid { field, problem }) => fields.push((field, problem)),
            Err(e) => return Err(e.into()),
        }
    }
    let errors = FormErrors {
        form: format!("service-{}-{}", form.person.trim(), form.service.trim()),
        fields,
    };
    let mut page = family_page(
        &signed,
        &family,
        this_month(),
        &[],
        errors,
        None,
        today().year(),
    )
    .await?;
    if let Some(services) = page.services.as_mut() {
        services.kept = form;
    }
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}
