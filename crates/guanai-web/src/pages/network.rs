//! The care network on the family file (二(一): 一对一志愿者 and the counselling team): the
//! volunteers paired with the family and their organisation, the family's refusal of a
//! volunteer, the volunteers' service records (医疗帮扶、生活照料、精神慰藉、法律援助), and the
//! family's referrals to a counsellor with their sessions. Caseworkers of the area pair a
//! volunteer (among the active volunteers whose area holds the family), record or withdraw a
//! refusal, and refer to a counsellor (among those covering the family's county); the paired
//! volunteer records their own help; the referral's counsellor records sessions.
//!
//! Who sees what: a volunteer sees nothing of counselling; a counsellor sees the counselling part
//! only, and alone reads a referral's reason and the session notes (sealed in the store);
//! caseworkers and inspectors see that a family was referred and how many sessions were held;
//! finance officers see neither part.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_store::access::{Role, User};
use guanai_store::family_reads::{FamilyReads, Volunteers};
use guanai_store::network::{HelpKind, Referral};
use guanai_store::scope::Visibility;
use guanai_store::{FamilyId, StoreError};
use serde::Deserialize;

use super::families::{FamilyPage, FormErrors, family_id, family_page};
use super::{render, this_month, today};
use crate::i18n::Lang;
use crate::state::{Post, Signed, WebError};

/// The forms of this section (for errors that have no form on the page).
const FORMS: [&str; 5] = ["pair", "refuse", "help", "refer", "session-"];

/// A kind of help on screen.
fn help_label(lang: Lang, kind: HelpKind) -> &'static str {
    lang.pick(
        kind.as_zh(),
        match kind {
            HelpKind::MedicalHelp => "medical help",
            HelpKind::DailyCare => "daily care",
            HelpKind::EmotionalComfort => "emotional comfort",
            HelpKind::LegalAid => "legal aid",
        },
    )
}

/// One volunteer service record.
pub(crate) struct HelpLine {
    pub(crate) on_date: String,
    pub(crate) volunteer: String,
    pub(crate) kind: &'static str,
    pub(crate) minutes: i64,
    pub(crate) note: String,
}

/// One referral to a counsellor.
pub(crate) struct ReferralLine {
    pub(crate) referral_id: String,
    pub(crate) counsellor: String,
    pub(crate) referred_on: String,
    pub(crate) referred_by: String,
    pub(crate) open: bool,
    pub(crate) status_text: String,
    pub(crate) session_count: usize,
    /// The signed-in counsellor's own referral: its reason, its sessions' notes, the form.
    pub(crate) mine: bool,
    pub(crate) reason: String,
    /// (date, minutes, notes) — notes only in the counsellor's own referral.
    pub(crate) sessions: Vec<(String, i64, String)>,
}

/// The forms' values as typed (kept when a form is refused).
#[derive(Deserialize, Default, Clone)]
pub struct NetworkForm {
    #[serde(default)]
    pub(crate) volunteer: String,
    #[serde(default)]
    pub(crate) refused_on: String,
    #[serde(default)]
    pub(crate) counsellor: String,
    #[serde(default)]
    pub(crate) referred_on: String,
    #[serde(default)]
    pub(crate) on_date: String,
    #[serde(default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) minutes: String,
    #[serde(default)]
    pub(crate) note: String,
    #[serde(default)]
    pub(crate) reason: String,
}

/// The care network section of the family file (`id="network"`).
pub(crate) struct NetworkSection {
    /// Volunteers and their records (caseworkers, inspectors, volunteers).
    pub(crate) show_volunteers: bool,
    /// (name, organisation)
    pub(crate) volunteers: Vec<(String, String)>,
    /// The family's refusal of a volunteer: (date, reason).
    pub(crate) refusal: Option<(String, String)>,
    /// Caseworkers of the area: pair, refuse, refer.
    pub(crate) can_write: bool,
    /// Volunteers who may be paired: (login, name · area).
    pub(crate) candidates: Vec<(String, String)>,
    pub(crate) help: Vec<HelpLine>,
    /// The paired volunteer: record help.
    pub(crate) can_help: bool,
    pub(crate) help_kinds: Vec<(&'static str, &'static str)>,
    /// Counselling (caseworkers, inspectors, counsellors; never volunteers).
    pub(crate) show_counselling: bool,
    pub(crate) referrals: Vec<ReferralLine>,
    /// Counsellors a caseworker may refer to: (login, name · area).
    pub(crate) counsellors: Vec<(String, String)>,
    /// The values of the refused form.
    pub(crate) form: NetworkForm,
    /// Errors of a form that is not on the page (sent by hand).
    pub(crate) stray: Vec<String>,
}

impl NetworkSection {
    pub(crate) fn kind_selected(&self, value: &str) -> bool {
        self.form.kind == value
    }
}

/// The section of `family`'s file as `signed` may see and use it; `village` is the family's
/// village code (who may be paired or referred).
pub(crate) fn section(
    signed: &Signed,
    visibility: Visibility,
    errors: &FormErrors,
    village: Option<&str>,
    reads: &mut FamilyReads,
) -> NetworkSection {
    let lang = signed.lang;
    let role = signed.user.role;
    let own = visibility == Visibility::Own;
    let can_write = own && role.can_record();
    let Volunteers {
        paired: volunteers,
        refusal,
        help,
    } = reads.volunteers.take().unwrap_or_default();
    let help: Vec<HelpLine> = help
        .into_iter()
        .map(|h| HelpLine {
            on_date: h.on_date.to_string(),
            kind: help_label(lang, h.kind),
            volunteer: h.volunteer,
            minutes: h.minutes,
            note: h.note,
        })
        .collect();
    let users = std::mem::take(&mut reads.helpers);
    let (show_volunteers, show_counselling) = (shows_volunteers(role), shows_counselling(role));
    let covers = |u: &User| village.is_some_and(|v| v.starts_with(u.area_prefix()));
    // Named with their area: their organisation would cost a query per volunteer on every
    // view of the file (it is shown once they are paired).
    let candidates: Vec<(String, String)> = if can_write && refusal.is_none() {
        users
            .iter()
            .filter(|u| u.role == Role::Volunteer && u.active && covers(u))
            .filter(|u| !volunteers.iter().any(|(login, _, _)| *login == u.login))
            .map(|u| {
                (
                    u.login.clone(),
                    format!("{} · {}", u.display_name, super::area_name(&u.area_code)),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let counsellors: Vec<(String, String)> = users
        .iter()
        .filter(|u| u.role == Role::Counsellor && u.active && covers(u))
        .map(|u| {
            (
                u.login.clone(),
                format!("{} · {}", u.display_name, super::area_name(&u.area_code)),
            )
        })
        .collect();
    let referrals: Vec<ReferralLine> = reads
        .referrals
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|r| referral_line(r, &signed.user, lang))
        .collect();
    let can_help = own && role == Role::Volunteer;
    // Which forms are on the page: errors of any other form of this section go to its top.
    let mut shown: Vec<String> = Vec::new();
    if can_write {
        if refusal.is_none() {
            shown.push("pair".into());
            shown.push("refuse".into());
        }
        if !counsellors.is_empty() {
            shown.push("refer".into());
        }
    }
    if can_help {
        shown.push("help".into());
    }
    for r in referrals.iter().filter(|r| r.mine && r.open) {
        shown.push(format!("session-{}", r.referral_id));
    }
    let ours = FORMS
        .iter()
        .any(|f| errors.form == *f || (f.ends_with('-') && errors.form.starts_with(f)));
    let stray = if ours && !shown.contains(&errors.form) {
        errors.fields.iter().map(|(_, m)| m.clone()).collect()
    } else {
        Vec::new()
    };
    NetworkSection {
        show_volunteers,
        volunteers: volunteers
            .into_iter()
            .map(|(_, name, organisation)| (name, organisation.unwrap_or_default()))
            .collect(),
        refusal: refusal.map(|(on, reason)| (on.to_string(), reason)),
        can_write,
        candidates,
        help,
        can_help,
        help_kinds: HelpKind::ALL
            .into_iter()
            .map(|k| (k.as_str(), help_label(lang, k)))
            .collect(),
        show_counselling,
        referrals,
        counsellors,
        form: NetworkForm {
            on_date: today().to_string(),
            referred_on: today().to_string(),
            refused_on: today().to_string(),
            kind: HelpKind::EmotionalComfort.as_str().to_owned(),
            ..NetworkForm::default()
        },
        stray,
    }
}

/// Whether a role sees the volunteers' side of a family's care network (finance officers
/// need neither side: nothing here is paid).
pub(crate) fn shows_volunteers(role: Role) -> bool {
    role.can_record() || matches!(role, Role::Inspector | Role::Volunteer)
}

/// Whether a role sees a family's counselling referrals.
pub(crate) fn shows_counselling(role: Role) -> bool {
    role.can_record() || matches!(role, Role::Inspector | Role::Counsellor)
}

fn referral_line(r: Referral, reader: &User, lang: Lang) -> ReferralLine {
    // The store opens the notes for the referral's counsellor only; the same id tells the page.
    let mine = reader.role == Role::Counsellor && r.counsellor_id == reader.user_id;
    let status_text = match r.closed_on {
        Some(on) => format!("{} {on}", lang.pick("已结案", "closed")),
        None => lang.pick("进行中", "open").to_owned(),
    };
    ReferralLine {
        open: r.closed_on.is_none(),
        session_count: r.sessions.len(),
        sessions: r
            .sessions
            .into_iter()
            .map(|(on, minutes, notes)| (on.to_string(), minutes, notes.unwrap_or_default()))
            .collect(),
        reason: if mine { r.reason } else { String::new() },
        referral_id: r.referral_id,
        counsellor: r.counsellor,
        referred_on: r.referred_on.to_string(),
        referred_by: r.referred_by,
        status_text,
        mine,
    }
}

/// Refuses before a form is read when the user may not act on this family: the wrong role,
/// outside the scope (404), or a read-only break-the-glass grant.
async fn may_act(signed: &Signed, family: &FamilyId, role_may: bool) -> Result<(), WebError> {
    signed.require(role_may)?;
    match signed.scoped().visibility(family).await? {
        Some(Visibility::Own) => Ok(()),
        Some(Visibility::Granted { .. }) => Err(WebError::Forbidden),
        None => Err(WebError::NotFound),
    }
}

/// Back to the file's network section.
fn saved(family: &FamilyId) -> Response {
    Redirect::to(&format!("/families/{family}?saved=1#network")).into_response()
}

/// The family file again with the refused form's errors next to its fields (400).
async fn refused(
    signed: &Signed,
    family: &FamilyId,
    form_name: String,
    fields: Vec<(String, String)>,
    typed: NetworkForm,
) -> Result<Response, WebError> {
    let errors = FormErrors {
        form: form_name,
        fields,
    };
    let mut page: FamilyPage = family_page(
        signed,
        family,
        this_month(),
        &[],
        errors,
        None,
        today().year(),
    )
    .await?;
    page.network.form = typed;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

/// A date typed into `field`, or its error.
fn date_field(
    lang: Lang,
    field: &str,
    text: &str,
    errors: &mut Vec<(String, String)>,
) -> Option<jiff::civil::Date> {
    match guanai_rules::parse_date(text.trim()) {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push((
                field.to_owned(),
                lang.pick("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD")
                    .to_owned(),
            ));
            None
        }
    }
}

/// Minutes typed into the form, or its error.
fn minutes_field(lang: Lang, text: &str, errors: &mut Vec<(String, String)>) -> Option<i64> {
    match text.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push((
                "minutes".to_owned(),
                lang.pick("时长请填写分钟数", "the length is a number of minutes")
                    .to_owned(),
            ));
            None
        }
    }
}

/// `POST /families/{id}/volunteers`: pairs a volunteer with the family (caseworkers of the area;
/// refused when the family declined a volunteer or lives outside the volunteer's area).
pub async fn pair(Path(id): Path<String>, post: Post<NetworkForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_act(&signed, &family, signed.user.role.can_record()).await?;
    let lang = signed.lang;
    let chosen = signed
        .state()
        .gate()
        .user_by_login(form.volunteer.trim())
        .await?
        .filter(|u| u.role == Role::Volunteer && u.active);
    let problem = match chosen {
        None => lang
            .pick("请选择在职的志愿者", "choose an active volunteer")
            .to_owned(),
        Some(volunteer) => match signed.scoped().pair_volunteer(&volunteer, &family).await {
            Ok(()) => return Ok(saved(&family)),
            Err(StoreError::Invalid { problem, .. }) => problem,
            Err(e) => return Err(e.into()),
        },
    };
    refused(
        &signed,
        &family,
        "pair".into(),
        vec![("volunteer".into(), problem)],
        form,
    )
    .await
}

/// `POST /families/{id}/volunteers/refusal`: records that the family does not want a volunteer
/// (caseworkers of the area); it ends the family's pairings.
pub async fn refuse(Path(id): Path<String>, post: Post<NetworkForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_act(&signed, &family, signed.user.role.can_record()).await?;
    let mut fields = Vec::new();
    if let Some(on) = date_field(signed.lang, "refused_on", &form.refused_on, &mut fields) {
        match signed
            .scoped()
            .refuse_pairing(&family, on, &form.reason, today())
            .await
        {
            Ok(()) => return Ok(saved(&family)),
            Err(StoreError::Invalid { field, problem }) => fields.push((field, problem)),
            Err(e) => return Err(e.into()),
        }
    }
    refused(&signed, &family, "refuse".into(), fields, form).await
}

/// `POST /families/{id}/volunteers/refusal/withdraw`: the family wants a volunteer after all
/// (caseworkers of the area).
pub async fn withdraw_refusal(
    Path(id): Path<String>,
    post: Post<NetworkForm>,
) -> Result<Response, WebError> {
    let Post { signed, .. } = post;
    let family = family_id(&id)?;
    may_act(&signed, &family, signed.user.role.can_record()).await?;
    // The store's method is the archive's: the check above is the scope's write check.
    signed
        .state()
        .gate()
        .withdraw_refusal(&family, &signed.user.actor())
        .await?;
    Ok(saved(&family))
}

/// `POST /families/{id}/help`: the paired volunteer records help given to the family.
pub async fn help(Path(id): Path<String>, post: Post<NetworkForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_act(&signed, &family, signed.user.role == Role::Volunteer).await?;
    let lang = signed.lang;
    let mut fields = Vec::new();
    let on_date = date_field(lang, "on_date", &form.on_date, &mut fields);
    let kind = HelpKind::parse(form.kind.trim());
    if kind.is_none() {
        fields.push((
            "kind".to_owned(),
            lang.pick(
                "请选择服务类型(医疗帮扶、生活照料、精神慰藉、法律援助)",
                "choose medical help, daily care, emotional comfort or legal aid",
            )
            .to_owned(),
        ));
    }
    let minutes = minutes_field(lang, &form.minutes, &mut fields);
    if let (Some(on_date), Some(kind), Some(minutes)) = (on_date, kind, minutes) {
        match signed
            .scoped()
            .record_help(&family, on_date, kind, minutes, &form.note, today())
            .await
        {
            Ok(_) => return Ok(saved(&family)),
            Err(StoreError::Invalid { field, problem }) => fields.push((field, problem)),
            Err(e) => return Err(e.into()),
        }
    }
    refused(&signed, &family, "help".into(), fields, form).await
}

/// `POST /families/{id}/referrals`: refers the family to a counsellor covering its county
/// (caseworkers of the area), with the reason only the counsellor will read.
pub async fn refer(Path(id): Path<String>, post: Post<NetworkForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_act(&signed, &family, signed.user.role.can_record()).await?;
    let lang = signed.lang;
    let mut fields = Vec::new();
    let referred_on = date_field(lang, "referred_on", &form.referred_on, &mut fields);
    let counsellor = signed
        .state()
        .gate()
        .user_by_login(form.counsellor.trim())
        .await?
        .filter(|u| u.role == Role::Counsellor);
    if counsellor.is_none() {
        fields.push((
            "counsellor".to_owned(),
            lang.pick("请选择心理咨询师", "choose a counsellor")
                .to_owned(),
        ));
    }
    if let (Some(referred_on), Some(counsellor)) = (referred_on, counsellor) {
        match signed
            .scoped()
            .refer_to_counsellor(&family, &counsellor, &form.reason, referred_on, today())
            .await
        {
            Ok(_) => return Ok(saved(&family)),
            Err(StoreError::Invalid { field, problem }) => fields.push((field, problem)),
            Err(e) => return Err(e.into()),
        }
    }
    refused(&signed, &family, "refer".into(), fields, form).await
}

/// `POST /families/{id}/referrals/{referral}/sessions`: the referral's counsellor records a
/// session; the notes are sealed and read by them alone.
pub async fn session(
    Path((id, referral)): Path<(String, String)>,
    post: Post<NetworkForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_act(&signed, &family, signed.user.role == Role::Counsellor).await?;
    // The referral must be this family's.
    let referrals = signed.scoped().referrals(&family).await?;
    if !referrals.iter().any(|r| r.referral_id == referral) {
        return Err(WebError::NotFound);
    }
    let lang = signed.lang;
    let mut fields = Vec::new();
    let on_date = date_field(lang, "on_date", &form.on_date, &mut fields);
    let minutes = minutes_field(lang, &form.minutes, &mut fields);
    if let (Some(on_date), Some(minutes)) = (on_date, minutes) {
        match signed
            .scoped()
            .record_session(&referral, on_date, minutes, &form.note, today())
            .await
        {
            Ok(_) => return Ok(saved(&family)),
            Err(StoreError::Invalid { field, problem }) => fields.push((field, problem)),
            Err(e) => return Err(e.into()),
        }
    }
    refused(
        &signed,
        &family,
        format!("session-{referral}"),
        fields,
        form,
    )
    .await
}
