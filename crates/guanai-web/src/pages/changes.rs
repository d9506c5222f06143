//! Changes awaiting approval on the family file (变更审批, issue 6; `family_changes.html`): a
//! death, a later child, a move or a re-assessment submitted by a caseworker below the level the
//! policy names is proposed instead of recorded (the record forms do so on the store's refusal),
//! listed here, and approved or rejected by a caseworker of that level — not the proposer.

use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_rules::ApprovalLevel;
use guanai_store::changes::{ChangeRequest, level_of};
use guanai_store::family_reads::FamilyReads;
use guanai_store::scope::Visibility;
use guanai_store::{FactId, FamilyId, NewFact, StoreError};
use serde::Deserialize;

use super::cases::may_write_family;
use super::families::{FormErrors, family_id, family_page};
use super::{beijing, render, this_month, today};
use crate::i18n::Lang;
use crate::state::{Post, Signed, WebError};
use crate::view::{fact_text, kind_label};

/// One change request as the file shows it.
pub(crate) struct ChangeView {
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    /// The new value, or "withdrawn".
    pub(crate) what: String,
    pub(crate) date: String,
    pub(crate) reason: String,
    pub(crate) proposed_by: String,
    pub(crate) proposed_at: String,
    pub(crate) open: bool,
    pub(crate) status: &'static str,
    /// The level that approves it.
    pub(crate) approver: &'static str,
    pub(crate) decided_by: String,
    pub(crate) note: String,
    pub(crate) can_decide: bool,
}

/// The family's change requests, newest first (caseworkers and inspectors).
pub(crate) struct ChangesSection {
    pub(crate) shown: bool,
    pub(crate) rows: Vec<ChangeView>,
}

/// The flash after a proposal: who approves it.
pub(crate) fn proposed_flash(lang: Lang, level: ApprovalLevel) -> String {
    lang.pick(
        &format!("已提交变更申请，待{}审批", level.as_zh()),
        &format!("proposed: awaiting the {}'s approval", level.as_str()),
    )
    .to_owned()
}

/// Proposes `fact` (or the withdrawal of `replaces`) instead of recording it, and redirects to
/// the file with the flash naming the approving level.
pub(crate) async fn propose(
    signed: &Signed,
    family: &FamilyId,
    fact: Option<NewFact>,
    replaces: Option<&FactId>,
    reason: &str,
) -> Result<Result<Response, StoreError>, WebError> {
    let scoped = signed.scoped();
    let id = match scoped
        .propose_change(family, fact, replaces, reason, today())
        .await
    {
        Ok(id) => id,
        Err(e @ StoreError::Invalid { .. }) => return Ok(Err(e)),
        Err(e) => return Err(e.into()),
    };
    let level = proposed_level(signed, &id).await?;
    Ok(Ok(Redirect::to(&format!(
        "/families/{family}?proposed={}#changes",
        level.as_str()
    ))
    .into_response()))
}

/// The level that approves a just-proposed change.
pub(crate) async fn proposed_level(
    signed: &Signed,
    change_id: &str,
) -> Result<ApprovalLevel, WebError> {
    let change = signed
        .state()
        .gate()
        .change(change_id)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(change.approver(&signed.state().policy().casework))
}

fn view(lang: Lang, c: ChangeRequest, approver: ApprovalLevel, can_decide: bool) -> ChangeView {
    ChangeView {
        kind: kind_label(lang, &c.kind),
        what: match &c.value {
            Some(v) => fact_text(lang, v, false),
            None => lang.pick("撤销该记录", "withdraw the record").to_owned(),
        },
        date: c.valid_from.map(|d| d.to_string()).unwrap_or_default(),
        proposed_at: beijing(&c.proposed_at),
        open: c.is_open(),
        status: match c.status.as_str() {
            "approved" => lang.pick("已批准并登记", "approved and recorded"),
            "rejected" => lang.pick("不予批准", "rejected"),
            _ => lang.pick("待审批", "awaiting approval"),
        },
        approver: lang.pick(approver.as_zh(), approver.as_str()),
        decided_by: c.decided_by.clone().unwrap_or_default(),
        note: c.decision_note.clone().unwrap_or_default(),
        can_decide,
        id: c.change_id,
        reason: c.reason,
        proposed_by: c.proposed_by,
    }
}

/// The family's change requests.
pub(crate) fn section(
    signed: &Signed,
    visibility: Visibility,
    reads: &mut FamilyReads,
) -> ChangesSection {
    let role = signed.user.role;
    let Some(changes) = reads
        .changes
        .take()
        .filter(|_| super::cases::sees_cases(role))
    else {
        return ChangesSection {
            shown: false,
            rows: Vec::new(),
        };
    };
    let casework = &signed.state().policy().casework;
    let actor = signed.user.actor();
    let own = visibility == Visibility::Own;
    let level = level_of(role);
    let rows = changes
        .into_iter()
        .map(|c| {
            let approver = c.approver(casework);
            let can_decide = own
                && c.is_open()
                && c.proposed_by != actor.name
                && level.is_some_and(|l| l >= approver);
            view(signed.lang, c, approver, can_decide)
        })
        .collect();
    ChangesSection { shown: true, rows }
}

/// The decision form's fields.
#[derive(Deserialize, Default)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /families/{id}/changes/{change}`: approves (recording the fact) or rejects a proposed
/// change; an approval re-plans the family's visits.
pub async fn decide(
    Path((id, change)): Path<(String, String)>,
    post: Post<DecideForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_write_family(&signed, &family, signed.user.role.can_record()).await?;
    let approve = form.decision != "reject";
    let casework = &signed.state().policy().casework;
    match signed
        .scoped()
        .decide_change(&family, change.trim(), approve, &form.note, casework)
        .await
    {
        Ok(()) => {
            if approve {
                super::visits::replan(signed.state(), &family).await;
            }
            Ok(Redirect::to(&format!("/families/{family}?saved=1#changes")).into_response())
        }
        Err(StoreError::Invalid { field, problem }) => {
            let errors = FormErrors {
                form: "change-decide".into(),
                fields: vec![(field, problem)],
            };
            let page = family_page(
                &signed,
                &family,
                this_month(),
                &[],
                errors,
                None,
                today().year(),
            )
            .await?;
            Ok((axum::http::StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
