//! Families: search (name, area, census number, exact ID number), the family file (members,
//! the records timeline, this month's entitlements with the clause-citing explanation,
//! payments and ledger, contacts, visits — the section is [`super::visits`] — and documents,
//! [`super::documents`]), recording a change or a correction (after which the family's visits
//! are re-planned), revealing a masked value for a stated reason, and break-the-glass access to
//! a family outside the user's area.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_rules::engine::evaluate_traced;
use guanai_rules::explain::{Labels, Reason, render as render_reason};
use guanai_rules::{ApprovalLevel, DisabilityGrade, Fen, Hukou, Month, ResidentId, VillageCode};
use guanai_store::access::Role;
use guanai_store::family_reads::FileWants;
use guanai_store::pay::{LineView, StatementLine};
use guanai_store::scope::{FamilyQuery, FamilyRow, FamilySort, Visibility};
use guanai_store::{
    FactId, FactValue, FamilyFile, FamilyId, NewFact, PersonId, Relation, StoreError,
};
use serde::Deserialize;

use super::{
    Chrome, beijing, beijing_micros, category_label, filled, grant_label, render, service_label,
    this_month, today,
};
use crate::i18n::Lang;
use crate::state::{Post, Signed, WebError};
use crate::view::{fact_text, kind_label, relation_label};

/// Rows per page of the family list.
const PAGE_ROWS: i64 = 20;

#[derive(Deserialize, Default)]
pub struct SearchParams {
    name: Option<String>,
    area: Option<String>,
    no: Option<String>,
    id: Option<String>,
    sort: Option<String>,
    desc: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "families.html")]
struct SearchPage {
    c: Chrome,
    name: String,
    area: String,
    no: String,
    id: String,
    sort: &'static str,
    desc: bool,
    page: i64,
    rows: Vec<FamilyRow>,
    more: bool,
    error: Option<String>,
    /// An ID number registered outside the user's area: offer break-the-glass.
    outside: bool,
    query_base: String,
}

pub async fn search(signed: Signed, Query(p): Query<SearchParams>) -> Result<Response, WebError> {
    signed.require(signed.user.role.sees_families())?;
    let sort = p
        .sort
        .as_deref()
        .and_then(FamilySort::parse)
        .unwrap_or_default();
    let desc = p.desc.as_deref() == Some("1");
    let page = p.page.unwrap_or(1).clamp(1, 100_000);
    let mut error = None;
    let id_number = match filled(p.id.as_deref()) {
        Some(text) => match ResidentId::parse(&text, today()) {
            Ok(n) => Some(n),
            Err(e) => {
                error = Some(format!("{}: {e}", signed.t().id_number));
                None
            }
        },
        None => None,
    };
    let query = FamilyQuery {
        name: filled(p.name.as_deref()),
        area: filled(p.area.as_deref()),
        family_no: filled(p.no.as_deref()),
        id_number,
        sort,
        descending: desc,
        offset: (page - 1) * PAGE_ROWS,
        limit: PAGE_ROWS,
    };
    let scoped = signed.scoped();
    let (rows, more) = if error.is_some() {
        (Vec::new(), false)
    } else {
        match scoped.search(&query).await {
            Ok(found) => (found.rows, found.more),
            Err(StoreError::Invalid { field, problem }) => {
                error = Some(format!("{field}: {problem}"));
                (Vec::new(), false)
            }
            Err(e) => return Err(e.into()),
        }
    };
    let outside = rows.is_empty()
        && signed.user.role.can_reveal()
        && signed.user.role != Role::Volunteer
        && match &id_number {
            Some(n) => !signed.state().gate().find_by_id_number(n).await?.is_empty(),
            None => false,
        };
    let mut base = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("name", &p.name),
        ("area", &p.area),
        ("no", &p.no),
        ("id", &p.id),
    ] {
        if let Some(v) = filled(v.as_deref()) {
            base.append_pair(k, &v);
        }
    }
    let query_base = base.finish();
    let path = format!("/families?{query_base}");
    render(&SearchPage {
        c: Chrome::new(&signed, "families", &path),
        name: filled(p.name.as_deref()).unwrap_or_default(),
        area: filled(p.area.as_deref()).unwrap_or_default(),
        no: filled(p.no.as_deref()).unwrap_or_default(),
        id: filled(p.id.as_deref()).unwrap_or_default(),
        sort: sort.as_str(),
        desc,
        page,
        rows,
        more,
        error,
        outside,
        query_base,
    })
}

/// A person's current fact as shown on the file.
struct FactLine {
    fact_id: String,
    kind: &'static str,
    text: String,
    since: String,
    sealed: bool,
    revealed: bool,
}

struct MemberView {
    relation: &'static str,
    name: String,
    facts: Vec<FactLine>,
}

struct TimelineLine {
    when: String,
    fact_id: String,
    kind: &'static str,
    text: String,
    since: String,
    replaced: bool,
    withdrawal: bool,
    replaces: String,
    recorded_by: String,
    reason: String,
}

struct Entitlements {
    category: &'static str,
    monthly: Vec<(String, Fen, Fen, Fen)>,
    grants: Vec<(&'static str, Fen, String)>,
    services: Vec<(String, &'static str)>,
    explanation: Vec<String>,
}

/// Errors of the form that was sent, next to its fields.
#[derive(Default)]
pub(crate) struct FormErrors {
    pub(crate) form: String,
    pub(crate) fields: Vec<(String, String)>,
}

impl FormErrors {
    fn get(&self, form: &str, field: &str) -> Option<&str> {
        (self.form == form)
            .then(|| {
                self.fields
                    .iter()
                    .find(|(f, _)| f == field)
                    .map(|(_, m)| m.as_str())
            })
            .flatten()
    }
    fn open(&self, form: &str) -> bool {
        self.form == form
    }
}

#[derive(Template)]
#[template(path = "family.html")]
pub(crate) struct FamilyPage {
    c: Chrome,
    family_id: String,
    family_no: String,
    county: String,
    village: String,
    version: i64,
    month: String,
    granted_until: Option<String>,
    volunteer: bool,
    can_write: bool,
    can_reveal: bool,
    members: Vec<MemberView>,
    parents: Vec<(String, String)>,
    persons: Vec<(String, String)>,
    child: Option<String>,
    current_of_kind: Vec<(String, String, String)>,
    timeline: Vec<TimelineLine>,
    entitlements: Result<Entitlements, String>,
    payments: Vec<(String, LineView)>,
    statement: Vec<StatementLine>,
    contacts: Vec<guanai_store::contacts::Contact>,
    errors: FormErrors,
    today: String,
    /// The visit section (二(一)).
    pub(crate) visits: super::visits::VisitSection,
    /// The service checklist and the complaints about the family (spec §6; not for volunteers
    /// and counsellors).
    pub(crate) services: Option<super::services::ServiceSection>,
    /// The care network: volunteers and counselling (二(一)).
    pub(crate) network: super::network::NetworkSection,
    /// Enrolment, applications and the re-confirmation lists (issue 6; `family_casework.html`).
    pub(crate) casework: super::cases::CaseworkSection,
    /// Changes awaiting approval and decided (issue 6; `family_changes.html`).
    pub(crate) changes: super::changes::ChangesSection,
    /// The documents on file (材料; `family_documents.html`; not for volunteers and
    /// counsellors).
    pub(crate) documents: Option<super::documents::DocumentSection>,
}

impl FamilyPage {
    fn err(&self, form: &str, field: &str) -> String {
        self.errors.get(form, field).unwrap_or_default().to_owned()
    }
    fn open(&self, form: &str) -> bool {
        self.errors.open(form)
    }
    /// The current records of a kind, for the "corrects" choice of a form.
    fn of_kind(&self, kind: &str) -> Vec<&(String, String, String)> {
        self.current_of_kind
            .iter()
            .filter(|(k, _, _)| k == kind)
            .collect()
    }
}

#[derive(Deserialize, Default)]
pub struct FileParams {
    month: Option<String>,
    /// The year of the visit section (default this year).
    year: Option<i16>,
    saved: Option<String>,
    /// A change was proposed for this level's approval.
    proposed: Option<String>,
}

pub(crate) fn family_id(text: &str) -> Result<FamilyId, WebError> {
    FamilyId::parse(text).ok_or(WebError::NotFound)
}

pub async fn family(
    signed: Signed,
    Path(id): Path<String>,
    Query(p): Query<FileParams>,
) -> Result<Response, WebError> {
    let family = family_id(&id)?;
    let month = match p.month.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m).map_err(|e| WebError::BadRequest(format!("month: {e}")))?,
        None => this_month(),
    };
    let flash = match p.proposed.as_deref().and_then(ApprovalLevel::parse) {
        Some(level) => Some(super::changes::proposed_flash(signed.lang, level)),
        None => p.saved.as_ref().map(|_| signed.t().saved.to_owned()),
    };
    let year = p.year.unwrap_or_else(|| today().year()).clamp(1, 9999);
    let page = family_page(
        &signed,
        &family,
        month,
        &[],
        FormErrors::default(),
        flash,
        year,
    )
    .await?;
    render(&page)
}

/// The family file for `month` (entitlements) and `visit_year` (the visit section).
pub(crate) async fn family_page(
    signed: &Signed,
    family: &FamilyId,
    month: Month,
    revealed: &[FactId],
    errors: FormErrors,
    flash: Option<String>,
    visit_year: i16,
) -> Result<FamilyPage, WebError> {
    let lang = signed.lang;
    let scoped = signed.scoped();
    let (file, visibility) = scoped.family_file(family).await?;
    let role = signed.user.role;
    // Volunteers and counsellors see the limited file (no timeline, entitlements, payments).
    let volunteer = role.works_by_assignment();
    let granted_until = match visibility {
        Visibility::Granted { until_micros } => Some(beijing_micros(until_micros)),
        Visibility::Own => None,
    };
    let can_write = role.can_record() && visibility == Visibility::Own;
    // The records in force and the members, worked out once for the whole page.
    let current = file.current(None);
    let people = file.people(None);
    let village = current.iter().rev().find_map(|f| match &f.value {
        Some(FactValue::Registration { village, .. }) => Some(*village),
        _ => None,
    });
    let members = members(&people, lang, revealed, volunteer);
    let name_of = |p: &guanai_store::file::PersonView<'_>| {
        format!(
            "{} {}",
            relation_label(lang, p.relation),
            p.name().unwrap_or_default()
        )
    };
    let parents: Vec<(String, String)> = people
        .iter()
        .filter(|p| matches!(p.relation, Relation::Mother | Relation::Father))
        .map(|p| (p.person_id.to_string(), name_of(p)))
        .collect();
    let persons: Vec<(String, String)> = people
        .iter()
        .map(|p| (p.person_id.to_string(), name_of(p)))
        .collect();
    let child = people
        .iter()
        .find(|p| p.relation == Relation::Child)
        .map(|p| p.person_id.to_string());
    let current_of_kind = current
        .into_iter()
        .filter_map(|f| {
            f.value.as_ref().map(|v| {
                let who = f
                    .person_id
                    .as_ref()
                    .and_then(|p| persons.iter().find(|(id, _)| id == p.as_str()))
                    .map(|(_, n)| format!("{n}: "))
                    .unwrap_or_default();
                (
                    f.kind.clone(),
                    f.fact_id.to_string(),
                    format!("{who}{}", fact_text(lang, v, false)),
                )
            })
        })
        .collect();
    let can_read_payments = !volunteer && (role.sees_payments() || role.can_record());
    let village_code = village.map(|v| v.to_string());
    // Every section's rows in one statement (guanai_store::family_reads).
    let wants = FileWants {
        payments: can_read_payments,
        checklist: super::services::shows_checklist(role).then(this_month),
        complaints: (super::services::shows_checklist(role) && role.can_record())
            .then_some(super::services::FAMILY_COMPLAINTS),
        volunteers: super::network::shows_volunteers(role),
        helpers: can_write,
        referrals: super::network::shows_counselling(role),
        cases: super::cases::sees_cases(role),
        changes: super::cases::sees_cases(role),
        documents: role.sees_documents(),
        visit_year,
        today: today(),
    };
    let mut reads = scoped
        .family_reads(&file, village, signed.state().policy(), &wants)
        .await?;
    let (timeline, entitlements, payments, statement) = if volunteer {
        (Vec::new(), Err(String::new()), Vec::new(), Vec::new())
    } else {
        let (payments, statement) = reads.payments.take().unwrap_or_default();
        (
            timeline(&file, lang),
            entitlements(&file, month, signed, &parents),
            payments,
            statement,
        )
    };
    let contacts = std::mem::take(&mut reads.contacts);
    let visits = super::visits::section(signed, visibility, visit_year, &mut reads);
    let services = super::services::section(signed, visibility, &errors, &persons, &mut reads);
    let network = super::network::section(
        signed,
        visibility,
        &errors,
        village_code.as_deref(),
        &mut reads,
    );
    let casework = super::cases::section(signed, visibility, &mut reads);
    let changes = super::changes::section(signed, visibility, &mut reads);
    let documents = super::documents::section(signed, visibility, &mut reads);
    let path = format!("/families/{family}");
    Ok(FamilyPage {
        c: Chrome::new(signed, "families", &path).with_flash(flash),
        family_id: family.to_string(),
        family_no: file.family_no.clone(),
        county: super::area_name(&file.county_code.to_string()),
        village: village
            .map(|v| super::village_path(&v.to_string()))
            .unwrap_or_default(),
        version: file.version,
        month: month.to_string(),
        granted_until,
        volunteer,
        can_write,
        can_reveal: role.can_reveal() && !volunteer,
        members,
        parents,
        persons,
        child,
        current_of_kind,
        timeline,
        entitlements,
        payments,
        statement,
        contacts,
        errors,
        today: today().to_string(),
        visits,
        services,
        network,
        casework,
        changes,
        documents,
    })
}

/// The kinds a volunteer sees: what a visit needs.
pub(crate) const VOLUNTEER_KINDS: [&str; 4] = ["identity", "phone", "living", "death"];

fn members(
    people: &[guanai_store::file::PersonView<'_>],
    lang: Lang,
    revealed: &[FactId],
    volunteer: bool,
) -> Vec<MemberView> {
    people
        .iter()
        .map(|p| MemberView {
            relation: relation_label(lang, p.relation),
            name: p.name().unwrap_or_default().to_owned(),
            facts: p
                .facts
                .iter()
                .filter(|f| !volunteer || VOLUNTEER_KINDS.contains(&f.kind.as_str()))
                .filter_map(|f| {
                    let v = f.value.as_ref()?;
                    let reveal = revealed.contains(&f.fact_id);
                    Some(FactLine {
                        fact_id: f.fact_id.to_string(),
                        kind: kind_label(lang, &f.kind),
                        text: fact_text(lang, v, reveal),
                        since: f.valid_from.map(|d| d.to_string()).unwrap_or_default(),
                        sealed: v.is_sealed()
                            && matches!(
                                v,
                                FactValue::IdNumber { .. }
                                    | FactValue::Phone { .. }
                                    | FactValue::BankAccount { .. }
                            ),
                        revealed: reveal,
                    })
                })
                .collect(),
        })
        .collect()
}

fn timeline(file: &FamilyFile, lang: Lang) -> Vec<TimelineLine> {
    file.facts
        .iter()
        .rev()
        .map(|f| TimelineLine {
            when: beijing(&f.recorded_at),
            fact_id: f.fact_id.to_string(),
            kind: kind_label(lang, &f.kind),
            text: f.value.as_ref().map_or_else(
                || lang.pick("撤销", "withdrawn").to_owned(),
                |v| fact_text(lang, v, false),
            ),
            since: f.valid_from.map(|d| d.to_string()).unwrap_or_default(),
            replaced: file
                .facts
                .iter()
                .any(|g| g.replaces.as_ref() == Some(&f.fact_id)),
            withdrawal: f.value.is_none(),
            replaces: f
                .replaces
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            recorded_by: f.recorded_by.clone(),
            reason: f.reason.clone(),
        })
        .collect()
}

fn entitlements(
    file: &FamilyFile,
    month: Month,
    signed: &Signed,
    parents: &[(String, String)],
) -> Result<Entitlements, String> {
    let lang = signed.lang;
    let policy = signed.state().policy();
    let family = file.engine_family(month, None).map_err(|e| e.to_string())?;
    let mut reasons: Vec<Reason> = Vec::new();
    let e = evaluate_traced(&family, month, policy, &mut reasons);
    let label = |i: usize| parents.get(i).map_or("", |p| p.1.as_str());
    let labels = Labels {
        parents: [label(0), label(1)],
        child: lang.pick("子女", "the child"),
    };
    let mut explanation = Vec::with_capacity(reasons.len());
    for r in &reasons {
        let mut text = String::new();
        render_reason(r, lang.rules(), &family, &labels, policy, &mut text);
        explanation.push(text);
    }
    let mut services = Vec::new();
    for (i, set) in e.parent_services.iter().enumerate() {
        for s in set.iter() {
            services.push((label(i).to_owned(), service_label(lang, s)));
        }
    }
    for s in e.child_services.iter() {
        services.push((labels.child.to_owned(), service_label(lang, s)));
    }
    Ok(Entitlements {
        category: category_label(lang, e.category),
        monthly: e
            .monthly()
            .map(|(i, m)| (label(i).to_owned(), m.amount, m.standard, m.county))
            .collect(),
        grants: e
            .grants()
            .map(|g| (grant_label(lang, g.kind), g.amount, g.due_from.to_string()))
            .collect(),
        services,
        explanation,
    })
}

/// A change or correction from one of the file's forms.
#[derive(Deserialize)]
pub struct RecordForm {
    pub(crate) form: String,
    pub(crate) version: i64,
    #[serde(default)]
    pub(crate) replaces: String,
    #[serde(default)]
    pub(crate) person: String,
    #[serde(default)]
    pub(crate) date: String,
    #[serde(default)]
    pub(crate) certificate_no: String,
    #[serde(default)]
    pub(crate) grade: String,
    #[serde(default)]
    pub(crate) number: String,
    #[serde(default)]
    pub(crate) bank: String,
    #[serde(default)]
    pub(crate) account: String,
    #[serde(default)]
    pub(crate) dibao: Option<String>,
    #[serde(default)]
    pub(crate) wubao: Option<String>,
    #[serde(default)]
    pub(crate) chronically_ill: Option<String>,
    #[serde(default)]
    pub(crate) situation: String,
    #[serde(default)]
    pub(crate) hukou: String,
    #[serde(default)]
    pub(crate) village: String,
    #[serde(default)]
    pub(crate) text: String,
    #[serde(default)]
    pub(crate) reason: String,
}

/// The longest free text accepted in a form field.
const MAX_TEXT: usize = 500;

impl RecordForm {
    /// The fact the form describes, or the errors next to its fields.
    pub(crate) fn fact(&self, lang: Lang) -> Result<NewFact, FormErrors> {
        let mut errors = Vec::new();
        let mut err = |field: &str, zh: &str, en: &str| {
            errors.push((field.to_owned(), lang.pick(zh, en).to_owned()))
        };
        let person = match self.person.trim() {
            "" => None,
            p => match PersonId::parse(p) {
                Some(p) => Some(p),
                None => {
                    err("person", "请选择人员", "choose a person");
                    None
                }
            },
        };
        let date = match self.date.trim() {
            "" => None,
            d => match guanai_rules::parse_date(d) {
                Ok(d) if d > today() => {
                    err(
                        "date",
                        "日期不能晚于今天",
                        "the date cannot be in the future",
                    );
                    None
                }
                Ok(d) => Some(d),
                Err(_) => {
                    err("date", "日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD");
                    None
                }
            },
        };
        for (field, text) in [
            ("certificate_no", &self.certificate_no),
            ("situation", &self.situation),
            ("text", &self.text),
            ("reason", &self.reason),
            ("bank", &self.bank),
        ] {
            if text.chars().count() > MAX_TEXT {
                err(
                    field,
                    "内容过长(最多500字)",
                    "too long (500 characters at most)",
                );
            }
        }
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let value = match self.form.as_str() {
            "death" => Some(FactValue::Death {
                certificate_no: optional(&self.certificate_no),
            }),
            "later_child" => Some(FactValue::LaterChild),
            "disability" => match self
                .grade
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(DisabilityGrade::new)
            {
                Some(grade) => Some(FactValue::Disability {
                    grade,
                    certificate_no: optional(&self.certificate_no),
                }),
                None => {
                    err("grade", "伤残等级为 1–4", "a grade is 1 to 4");
                    None
                }
            },
            "phone" => {
                let n = self.number.trim();
                if n.len() < 7
                    || n.len() > 20
                    || !n.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                {
                    err(
                        "number",
                        "电话号码应为 7–20 位数字",
                        "a phone number is 7 to 20 digits",
                    );
                    None
                } else {
                    Some(FactValue::Phone {
                        number: n.to_owned(),
                    })
                }
            }
            "bank_account" => {
                let account: String = self
                    .account
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                if self.bank.trim().is_empty() {
                    err("bank", "请填写开户行", "name the bank");
                }
                if account.len() < 8
                    || account.len() > 32
                    || !account.bytes().all(|b| b.is_ascii_digit())
                {
                    err(
                        "account",
                        "账号应为 8–32 位数字",
                        "an account number is 8 to 32 digits",
                    );
                    None
                } else {
                    Some(FactValue::BankAccount {
                        bank: self.bank.trim().to_owned(),
                        account,
                    })
                }
            }
            "welfare" => Some(FactValue::Welfare {
                dibao: self.dibao.is_some(),
                wubao: self.wubao.is_some(),
            }),
            "health" => Some(FactValue::Health {
                chronically_ill: self.chronically_ill.is_some(),
            }),
            "living" => match optional(&self.situation) {
                Some(situation) => Some(FactValue::Living { situation }),
                None => {
                    err(
                        "situation",
                        "请填写居住状况",
                        "describe the living situation",
                    );
                    None
                }
            },
            "registration" => {
                let hukou = match self.hukou.as_str() {
                    "urban" => Some(Hukou::Urban),
                    "rural" => Some(Hukou::Rural),
                    _ => {
                        err("hukou", "请选择户口性质", "choose urban or rural");
                        None
                    }
                };
                let village = match VillageCode::parse(self.village.trim()) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        errors.push(("village".to_owned(), e.to_string()));
                        None
                    }
                };
                hukou
                    .zip(village)
                    .map(|(hukou, village)| FactValue::Registration { hukou, village })
            }
            "id_number" => match ResidentId::parse(self.number.trim(), today()) {
                Ok(number) => Some(FactValue::IdNumber { number }),
                Err(e) => {
                    errors.push(("number".to_owned(), e.to_string()));
                    None
                }
            },
            "note" => match optional(&self.text) {
                Some(text) => Some(FactValue::Note { text }),
                None => {
                    errors.push((
                        "text".to_owned(),
                        lang.pick("请填写备注内容", "write the note").to_owned(),
                    ));
                    None
                }
            },
            _ => {
                return Err(FormErrors {
                    form: self.form.clone(),
                    fields: vec![("form".into(), "unknown form".into())],
                });
            }
        };
        let Some(value) = value.filter(|_| errors.is_empty()) else {
            return Err(FormErrors {
                form: self.form.clone(),
                fields: errors,
            });
        };
        if value.is_dated() && date.is_none() && !errors.iter().any(|(f, _)| f == "date") {
            return Err(FormErrors {
                form: self.form.clone(),
                fields: vec![(
                    "date".to_owned(),
                    lang.pick("请填写日期", "the date is required").to_owned(),
                )],
            });
        }
        Ok(NewFact {
            person_id: if value.is_family_level() {
                None
            } else {
                person
            },
            value,
            valid_from: date,
        })
    }
}

pub async fn record(Path(id): Path<String>, post: Post<RecordForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    let lang = signed.lang;
    let reason = form.reason.trim().to_owned();
    let outcome = match form.fact(lang) {
        Err(errors) => Err(errors),
        Ok(fact) => {
            let scoped = signed.scoped();
            let casework = &signed.state().policy().casework;
            let replaces = FactId::parse(form.replaces.trim());
            let written = match &replaces {
                Some(old) => {
                    scoped
                        .correct(
                            &family,
                            form.version,
                            old,
                            Some(fact.clone()),
                            &reason,
                            casework,
                        )
                        .await
                }
                None if form.replaces.trim().is_empty() => {
                    scoped
                        .record(&family, form.version, fact.clone(), &reason, casework)
                        .await
                }
                None => Err(StoreError::Invalid {
                    field: "replaces".into(),
                    problem: "not a record id".into(),
                }),
            };
            // Above the user's level: the submission becomes a change proposal (issue 6).
            let written = match written {
                Err(StoreError::Invalid { field, .. }) if field == "approval" => {
                    match super::changes::propose(
                        &signed,
                        &family,
                        Some(fact),
                        replaces.as_ref(),
                        &reason,
                    )
                    .await?
                    {
                        Ok(redirect) => return Ok(redirect),
                        Err(e) => Err(e),
                    }
                }
                other => other,
            };
            match written {
                Ok(_) => Ok(()),
                Err(StoreError::Invalid { field, problem }) => {
                    let field = if field == "valid_from" {
                        "date".to_owned()
                    } else {
                        field
                    };
                    Err(FormErrors {
                        form: form.form.clone(),
                        fields: vec![(field, problem)],
                    })
                }
                Err(e @ StoreError::Conflict { .. }) => Err(FormErrors {
                    form: form.form.clone(),
                    fields: vec![("form".into(), e.to_string())],
                }),
                Err(e) => return Err(e.into()),
            }
        }
    };
    match outcome {
        Ok(()) => {
            // A change of facts can change the visits due (二(一)): a death, an illness.
            super::visits::replan(signed.state(), &family).await;
            Ok(Redirect::to(&format!("/families/{family}?saved=1")).into_response())
        }
        Err(errors) => {
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
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    version: i64,
    fact: String,
    reason: String,
}

pub async fn withdraw(
    Path(id): Path<String>,
    post: Post<WithdrawForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    let fact = FactId::parse(form.fact.trim()).ok_or(WebError::NotFound)?;
    let reason = form.reason.trim();
    let written = signed
        .scoped()
        .correct(
            &family,
            form.version,
            &fact,
            None,
            reason,
            &signed.state().policy().casework,
        )
        .await;
    // Above the user's level: the withdrawal becomes a change proposal (issue 6).
    let written = match written {
        Err(StoreError::Invalid { field, .. }) if field == "approval" => {
            match super::changes::propose(&signed, &family, None, Some(&fact), reason).await? {
                Ok(redirect) => return Ok(redirect),
                Err(e) => Err(e),
            }
        }
        other => other,
    };
    match written {
        Ok(_) => {
            super::visits::replan(signed.state(), &family).await;
            Ok(Redirect::to(&format!("/families/{family}?saved=1")).into_response())
        }
        Err(StoreError::Invalid { field, problem }) => {
            let errors = FormErrors {
                form: "withdraw".into(),
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
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RevealForm {
    fact: String,
    reason: String,
}

/// Shows one masked value in full, for a reason written to the audit log. The value is in this
/// response only (never cached, never in a URL).
pub async fn reveal(Path(id): Path<String>, post: Post<RevealForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    let fact = FactId::parse(form.fact.trim()).ok_or(WebError::NotFound)?;
    match signed.scoped().reveal(&family, &fact, &form.reason).await {
        Ok(_) => render(
            &family_page(
                &signed,
                &family,
                this_month(),
                &[fact],
                FormErrors::default(),
                None,
                today().year(),
            )
            .await?,
        ),
        Err(StoreError::Invalid { field, problem }) => {
            let errors = FormErrors {
                form: format!("reveal-{fact}"),
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
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct GlassForm {
    id: String,
    reason: String,
    hours: Option<u64>,
}

/// Break the glass: read access to the family registered with an ID number outside the user's
/// area, for a few hours, with a reason; audited and shown to the family's county.
pub async fn break_glass(post: Post<GlassForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let number = ResidentId::parse(form.id.trim(), today())
        .map_err(|e| WebError::BadRequest(format!("id: {e}")))?;
    let state = signed.state();
    let found = state.gate().find_by_id_number(&number).await?;
    let Some((family, _)) = found.first() else {
        return Err(WebError::NotFound);
    };
    let hours = form.hours.unwrap_or(24);
    state
        .gate()
        .grant_access(
            &signed.user,
            family,
            &form.reason,
            std::time::Duration::from_secs(hours.saturating_mul(3600)),
        )
        .await?;
    Ok(Redirect::to(&format!("/families/{family}")).into_response())
}
