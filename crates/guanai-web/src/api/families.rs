//! Families through the API: scoped search, the family's file with this month's evaluation,
//! recording a fact (after which the family's visits are re-planned), and revealing one sealed
//! record. ID numbers, phones and bank accounts leave masked, unmasked only through the reveal
//! (caseworkers and finance officers, with a reason, audited); a family outside the token
//! user's scope is "not found".

use axum::Json;
use axum::extract::{Path, RawQuery, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use guanai_rules::engine::{Person, evaluate_traced};
use guanai_rules::explain::{Labels, Reason, render as render_reason};
use guanai_rules::{Month, ResidentId};
use guanai_store::scope::{FamilyQuery, FamilySort, MAX_PAGE, Visibility};
use guanai_store::{FactId, FactValue, FamilyFile, FamilyId, Relation, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiUser, ErrorBody, FieldError, decode, filled, query, read_body};
use crate::i18n::Lang;
use crate::pages::families::{RecordForm, VOLUNTEER_KINDS};
use crate::pages::{this_month, today};
use crate::view::{fact_text, relation_label};

/// The largest fact request body.
const FACT_BODY_LIMIT: usize = 64 * 1024;

/// The search's criteria; every given one must hold.
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// A member's name, or its beginning (e.g. a surname).
    name: Option<String>,
    /// An area inside the user's: a county, township or village code.
    area: Option<String>,
    /// The census number (家庭编号), exactly.
    family_no: Option<String>,
    /// A resident ID number, exactly.
    id_number: Option<String>,
    /// `village` (the only order: village, then census number).
    sort: Option<String>,
    /// `true` for descending order.
    #[param(value_type = Option<bool>)]
    desc: Option<String>,
    /// Rows to skip (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
    /// Rows to return, 1–200 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

/// A page of families.
#[derive(Serialize, ToSchema)]
pub struct FamilyList {
    pub families: Vec<FamilyRowDto>,
    /// More rows follow this page.
    pub more: bool,
    pub offset: i64,
    pub limit: i64,
}

/// A family in a list.
#[derive(Serialize, ToSchema)]
pub struct FamilyRowDto {
    pub family_id: String,
    pub family_no: String,
    pub county_code: String,
    pub village_code: String,
    pub village_name: String,
    /// The members' current names.
    pub names: Vec<String>,
}

fn bool_param(field: &str, v: Option<&str>) -> Result<bool, ApiError> {
    match v.map(str::trim) {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            field,
            format!("expected true or false, not {other}"),
        )),
    }
}

pub(super) fn int_param(
    field: &str,
    v: Option<&str>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                field,
                format!(
                    "expected a whole number from {} to {}, not {text}",
                    range.start(),
                    range.end()
                ),
            )),
        },
    }
}

/// Searches the families in the token user's scope.
#[utoipa::path(
    get,
    path = "/api/v1/families",
    tag = "families",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of families in the user's scope", body = FamilyList),
        (status = 400, description = "A malformed parameter, named", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role sees no families", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn search(user: ApiUser, RawQuery(raw): RawQuery) -> Result<Json<FamilyList>, ApiError> {
    if !user.user.role.sees_families() {
        return Err(ApiError::forbidden("forbidden: this role sees no families"));
    }
    let p: SearchParams = query(raw.as_deref())?;
    let sort = match filled(p.sort.as_deref()) {
        None => FamilySort::default(),
        Some(s) => FamilySort::parse(&s)
            .ok_or_else(|| ApiError::bad_request("sort", format!("expected village, not {s}")))?,
    };
    let id_number = filled(p.id_number.as_deref())
        .map(|text| {
            ResidentId::parse(&text, today()).map_err(|e| ApiError::bad_request("id_number", e))
        })
        .transpose()?;
    let offset = int_param("offset", p.offset.as_deref(), 0, 0..=i64::from(i32::MAX))?;
    let limit = int_param("limit", p.limit.as_deref(), 20, 1..=MAX_PAGE)?;
    let found = user
        .scoped()
        .search(&FamilyQuery {
            name: filled(p.name.as_deref()),
            area: filled(p.area.as_deref()),
            family_no: filled(p.family_no.as_deref()),
            id_number,
            sort,
            descending: bool_param("desc", p.desc.as_deref())?,
            offset,
            limit,
        })
        .await
        .map_err(|e| match e {
            StoreError::Invalid { field, problem } => ApiError::bad_request(&field, problem),
            e => e.into(),
        })?;
    Ok(Json(FamilyList {
        families: found
            .rows
            .into_iter()
            .map(|r| FamilyRowDto {
                family_id: r.family_id.to_string(),
                family_no: r.family_no,
                county_code: r.county_code,
                village_code: r.village_code,
                village_name: r.village_name,
                names: r.names,
            })
            .collect(),
        more: found.more,
        offset,
        limit,
    }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileParams {
    month: Option<String>,
    lang: Option<String>,
}

/// A family's file: members, current facts (masked) and the month's evaluation.
#[derive(Serialize, ToSchema)]
pub struct FamilyDto {
    pub family_id: String,
    /// The census number (家庭编号).
    pub family_no: String,
    pub county_code: String,
    pub county_name: String,
    /// The village of the registration in force, when there is one.
    pub village_code: Option<String>,
    pub village_name: Option<String>,
    /// Pass it back when recording a fact (optimistic concurrency).
    pub version: i64,
    /// `own` (in the user's area) or `granted` (break-the-glass, read only).
    pub access: String,
    /// When a break-the-glass grant ends (RFC 3339).
    pub granted_until: Option<String>,
    pub members: Vec<MemberDto>,
    /// The records in force, masked (volunteers and counsellors see only what a visit needs).
    pub facts: Vec<FactDto>,
    /// The evaluated month, YYYY-MM.
    pub month: String,
    /// The month's entitlements (absent for volunteers and counsellors, or when the file cannot
    /// be evaluated).
    pub evaluation: Option<EvaluationDto>,
    /// Why the file cannot be evaluated.
    pub evaluation_error: Option<String>,
}

/// A member of the family.
#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    pub person_id: String,
    /// `mother` | `father` | `child` | `guardian`.
    pub relation: String,
    pub name: Option<String>,
    /// `female` | `male`.
    pub sex: Option<String>,
    /// YYYY-MM-DD.
    pub birth_date: Option<String>,
    /// The resident ID number, masked (e.g. `372832********0242`).
    pub id_number: Option<String>,
}

/// A record in force, as a masked sentence.
#[derive(Serialize, ToSchema)]
pub struct FactDto {
    pub fact_id: String,
    /// The person it is about; absent for family-level facts (registration, notes).
    pub person_id: Option<String>,
    pub kind: String,
    /// The event date or the date since which it holds.
    pub valid_from: Option<String>,
    /// The fact in words; ID numbers, phones and accounts masked.
    pub text: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
}

/// The entitlements of one month, as the rules engine decides them.
#[derive(Serialize, ToSchema)]
pub struct EvaluationDto {
    pub month: String,
    /// `bereaved` | `orphan` | `disabled` | `none`.
    pub category: String,
    pub monthly: Vec<MonthlyDto>,
    pub one_time: Vec<GrantDto>,
    pub services: Vec<ServiceDto>,
    /// The reasons, citing the notice's clauses.
    pub explanation: Vec<String>,
}

/// Monthly assistance of one parent; `amount_fen = standard_fen + county_fen`.
#[derive(Serialize, ToSchema)]
pub struct MonthlyDto {
    pub person_id: String,
    /// `bereaved_assistance` | `disabled_assistance`.
    pub kind: String,
    #[schema(example = 50000)]
    pub amount_fen: i64,
    /// Paid from higher-level funds.
    #[schema(example = 17000)]
    pub standard_fen: i64,
    /// The raised part, paid by county finance.
    #[schema(example = 33000)]
    pub county_fen: i64,
}

/// A one-time grant the family is entitled to as of the month.
#[derive(Serialize, ToSchema)]
pub struct GrantDto {
    /// `bereaved_grant` | `orphan_grant` | `disabled_grant`.
    pub kind: String,
    #[schema(example = 1000000)]
    pub amount_fen: i64,
    /// Always `county`.
    pub payer: String,
    /// The first month it was due, YYYY-MM.
    pub due_from: String,
}

/// A service entitlement.
#[derive(Serialize, ToSchema)]
pub struct ServiceDto {
    pub person_id: String,
    pub kind: String,
}

pub(super) fn family_id(text: &str) -> Result<FamilyId, ApiError> {
    FamilyId::parse(text).ok_or_else(|| ApiError::not_found(format!("family {text} not found")))
}

pub(super) fn lang_param(v: Option<&str>) -> Result<Lang, ApiError> {
    match v.map(str::trim) {
        None | Some("") => Ok(Lang::Zh),
        Some(text) => Lang::parse(text)
            .ok_or_else(|| ApiError::bad_request("lang", format!("expected zh or en, not {text}"))),
    }
}

/// One family in the token user's scope.
#[utoipa::path(
    get,
    path = "/api/v1/families/{id}",
    tag = "families",
    params(
        ("id" = String, Path, description = "The family's archive id (F…)"),
        ("month" = Option<String>, Query, description = "The month to evaluate, YYYY-MM (default: this month)"),
        ("lang" = Option<String>, Query, description = "Language of texts and explanation: `zh` (default) or `en`"),
    ),
    responses(
        (status = 200, description = "The family", body = FamilyDto),
        (status = 400, description = "A malformed parameter, named", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such family in the user's scope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn family(
    user: ApiUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<FamilyDto>, ApiError> {
    let p: FileParams = query(raw.as_deref())?;
    let family = family_id(&id)?;
    let month = match filled(p.month.as_deref()) {
        Some(m) => Month::parse(&m).map_err(|e| ApiError::bad_request("month", e))?,
        None => this_month(),
    };
    let lang = lang_param(p.lang.as_deref())?;
    let (file, visibility) = user.scoped().family_file(&family).await?;
    // Volunteers and counsellors see only what their work needs (no ID numbers, no evaluation).
    let volunteer = user.user.role.works_by_assignment();
    let (evaluation, evaluation_error) = if volunteer {
        (None, None)
    } else {
        match evaluation(&file, month, lang, user.state().policy()) {
            Ok(e) => (Some(e), None),
            Err(e) => (None, Some(e)),
        }
    };
    let village = file.registration(month, None).map(|(_, v)| v.to_string());
    let county_code = file.county_code.to_string();
    Ok(Json(FamilyDto {
        family_id: file.family_id.to_string(),
        family_no: file.family_no.clone(),
        county_name: crate::pages::area_name(&county_code),
        county_code,
        village_name: village.as_deref().map(crate::pages::village_path),
        village_code: village,
        version: file.version,
        access: match visibility {
            Visibility::Own => "own",
            Visibility::Granted { .. } => "granted",
        }
        .to_owned(),
        granted_until: match visibility {
            Visibility::Granted { until_micros } => jiff::Timestamp::from_microsecond(until_micros)
                .ok()
                .map(|t| t.to_string()),
            Visibility::Own => None,
        },
        members: members(&file, volunteer),
        facts: facts(&file, lang, volunteer),
        month: month.to_string(),
        evaluation,
        evaluation_error,
    }))
}

fn members(file: &FamilyFile, volunteer: bool) -> Vec<MemberDto> {
    file.people(None)
        .into_iter()
        .map(|p| {
            let identity = p.facts.iter().rev().find_map(|f| match &f.value {
                Some(FactValue::Identity {
                    sex, birth_date, ..
                }) => Some((sex.as_str().to_owned(), birth_date.to_string())),
                _ => None,
            });
            let id_number = if volunteer {
                None
            } else {
                p.facts.iter().rev().find_map(|f| match &f.value {
                    Some(FactValue::IdNumber { number }) => Some(number.masked()),
                    _ => None,
                })
            };
            MemberDto {
                person_id: p.person_id.to_string(),
                relation: p.relation.as_str().to_owned(),
                name: p.name().map(str::to_owned),
                sex: identity.as_ref().map(|i| i.0.clone()),
                birth_date: identity.map(|i| i.1),
                id_number,
            }
        })
        .collect()
}

fn facts(file: &FamilyFile, lang: Lang, volunteer: bool) -> Vec<FactDto> {
    file.current(None)
        .into_iter()
        .filter(|f| !volunteer || VOLUNTEER_KINDS.contains(&f.kind.as_str()))
        .filter_map(|f| {
            let value = f.value.as_ref()?;
            Some(FactDto {
                fact_id: f.fact_id.to_string(),
                person_id: f.person_id.as_ref().map(ToString::to_string),
                kind: f.kind.clone(),
                valid_from: f.valid_from.map(|d| d.to_string()),
                text: fact_text(lang, value, false),
                recorded_at: f.recorded_at.to_string(),
            })
        })
        .collect()
}

/// The month's entitlements: the same engine call and explanation as the family page.
fn evaluation(
    file: &FamilyFile,
    month: Month,
    lang: Lang,
    policy: &guanai_rules::Policy,
) -> Result<EvaluationDto, String> {
    let family = file.engine_family(month, None).map_err(|e| e.to_string())?;
    let mut reasons: Vec<Reason> = Vec::new();
    let e = evaluate_traced(&family, month, policy, &mut reasons);
    // The engine's parents are the file's mother and father, in the file's order.
    let people = file.people(None);
    let parents: Vec<_> = people
        .iter()
        .filter(|p| matches!(p.relation, Relation::Mother | Relation::Father))
        .collect();
    let child = people.iter().find(|p| p.relation == Relation::Child);
    let parent_id = |i: usize| {
        parents
            .get(i)
            .map(|p| p.person_id.to_string())
            .unwrap_or_default()
    };
    let label = |i: usize| {
        parents
            .get(i)
            .map(|p| {
                format!(
                    "{} {}",
                    relation_label(lang, p.relation),
                    p.name().unwrap_or_default()
                )
            })
            .unwrap_or_default()
    };
    let (label0, label1) = (label(0), label(1));
    let labels = Labels {
        parents: [&label0, &label1],
        child: lang.pick("子女", "the child"),
    };
    let explanation = reasons
        .iter()
        .map(|r| {
            let mut text = String::new();
            render_reason(r, lang.rules(), &family, &labels, policy, &mut text);
            text
        })
        .collect();
    Ok(EvaluationDto {
        month: month.to_string(),
        category: e.category.as_str().to_owned(),
        monthly: e
            .monthly()
            .map(|(i, m)| MonthlyDto {
                person_id: parent_id(i),
                kind: m.kind.as_str().to_owned(),
                amount_fen: m.amount.get(),
                standard_fen: m.standard.get(),
                county_fen: m.county.get(),
            })
            .collect(),
        one_time: e
            .grants()
            .map(|g| GrantDto {
                kind: g.kind.as_str().to_owned(),
                amount_fen: g.amount.get(),
                payer: "county".to_owned(),
                due_from: g.due_from.to_string(),
            })
            .collect(),
        services: e
            .services()
            .map(|(who, kind)| ServiceDto {
                person_id: match who {
                    Person::Parent(i) => parent_id(usize::from(i)),
                    Person::Child => child.map(|c| c.person_id.to_string()).unwrap_or_default(),
                },
                kind: kind.as_str().to_owned(),
            })
            .collect(),
        explanation,
    })
}

/// A fact to record about a family (or a correction of one, with `replaces`). The fields a
/// kind uses are those of the family page's form, validated by the same code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFact {
    /// `death` | `later_child` | `disability` | `phone` | `bank_account` | `welfare` |
    /// `health` | `living` | `registration` | `id_number` | `note`.
    #[schema(example = "death")]
    pub kind: String,
    /// The family's version as last read (a stale one is refused with 409).
    pub version: i64,
    /// The person it is about (P…); not used for `registration` and `note`.
    pub person_id: Option<String>,
    /// The event date or the date since which it holds, YYYY-MM-DD; required for `death`,
    /// `later_child` and `disability`; not in the future.
    pub date: Option<String>,
    /// A record in force this one corrects (X…).
    pub replaces: Option<String>,
    /// Why it is recorded (kept in the file and the audit log).
    pub reason: Option<String>,
    /// `death`, `disability`: the certificate number.
    pub certificate_no: Option<String>,
    /// `disability`: 1–4.
    pub grade: Option<i64>,
    /// `phone`: 7–20 digits; `id_number`: the resident ID number.
    pub number: Option<String>,
    /// `bank_account`: the bank.
    pub bank: Option<String>,
    /// `bank_account`: 8–32 digits.
    pub account: Option<String>,
    /// `welfare`.
    pub dibao: Option<bool>,
    /// `welfare`.
    pub wubao: Option<bool>,
    /// `health`.
    pub chronically_ill: Option<bool>,
    /// `living`: e.g. 独居.
    pub situation: Option<String>,
    /// `registration`: `urban` or `rural`.
    pub hukou: Option<String>,
    /// `registration`: the 12-digit village code.
    pub village: Option<String>,
    /// `note`: the text.
    pub text: Option<String>,
}

impl RecordFact {
    /// The family page's form with the same values: one validation for both.
    fn form(&self) -> RecordForm {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let checked = |v: Option<bool>| v.unwrap_or(false).then(|| "on".to_owned());
        RecordForm {
            form: self.kind.clone(),
            version: self.version,
            replaces: text(&self.replaces),
            person: text(&self.person_id),
            date: text(&self.date),
            certificate_no: text(&self.certificate_no),
            grade: self.grade.map(|g| g.to_string()).unwrap_or_default(),
            number: text(&self.number),
            bank: text(&self.bank),
            account: text(&self.account),
            dibao: checked(self.dibao),
            wubao: checked(self.wubao),
            chronically_ill: checked(self.chronically_ill),
            situation: text(&self.situation),
            hukou: text(&self.hukou),
            village: text(&self.village),
            text: text(&self.text),
            reason: text(&self.reason),
        }
    }
}

/// The API's name for a field of the family page's form.
fn api_field(form_field: &str) -> String {
    match form_field {
        "form" => "kind",
        "person" => "person_id",
        "valid_from" => "date",
        other => other,
    }
    .to_owned()
}

/// The fact as recorded.
#[derive(Serialize, ToSchema)]
pub struct Recorded {
    pub fact_id: String,
    /// The family's new version.
    pub version: i64,
}

/// A change proposed instead of recorded: the kind needs the approval of a level above the
/// user's (issue 6).
#[derive(Serialize, ToSchema)]
pub struct ChangeProposed {
    pub change_id: String,
    /// Always `proposed`.
    pub status: &'static str,
    /// The level that approves it: `township`, `county` or `city`.
    pub approver: &'static str,
}

/// Records a fact (caseworkers, own area). A kind the policy has approved by a level above the
/// user's (a death by the township, a later child, a move or a re-assessment by the county, by
/// default) is proposed instead: 202 with the change's id.
#[utoipa::path(
    post,
    path = "/api/v1/families/{id}/facts",
    tag = "families",
    params(
        ("id" = String, Path, description = "The family's archive id (F…)"),
        ("lang" = Option<String>, Query, description = "Language of field errors: `zh` (default) or `en`"),
    ),
    request_body = RecordFact,
    responses(
        (status = 201, description = "Recorded", body = Recorded),
        (status = 202, description = "Proposed for the approval of the level the policy names (`change_id`, `status: proposed`); recorded once approved", body = ChangeProposed),
        (status = 400, description = "A body that is not JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not record, or the family is open read-only", body = ErrorBody),
        (status = 404, description = "No such family in the user's scope", body = ErrorBody),
        (status = 409, description = "The family changed since `version` was read", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Fields refused, each named", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn record_fact(
    user: ApiUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct Params {
        lang: Option<String>,
    }
    let p: Params = query(raw.as_deref())?;
    let lang = lang_param(p.lang.as_deref())?;
    let family = family_id(&id)?;
    let scoped = user.scoped();
    // Outside the scope is "not found" before anything about the body is said.
    if scoped.visibility(&family).await?.is_none() {
        return Err(StoreError::FamilyNotFound(family.to_string()).into());
    }
    let body: RecordFact = decode(&read_body(request, FACT_BODY_LIMIT, true).await?)?;
    let form = body.form();
    let fact = form.fact(lang).map_err(|errors| {
        ApiError::unprocessable(
            errors
                .fields
                .into_iter()
                .map(|(field, message)| FieldError {
                    field: api_field(&field),
                    message,
                })
                .collect(),
        )
    })?;
    let reason = form.reason.trim();
    let casework = &user.state().policy().casework;
    let replaces = body
        .replaces
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let old = replaces.and_then(FactId::parse);
    let written = match (replaces, &old) {
        (None, _) => {
            scoped
                .record(&family, form.version, fact.clone(), reason, casework)
                .await
        }
        (Some(_), Some(old)) => {
            scoped
                .correct(
                    &family,
                    form.version,
                    old,
                    Some(fact.clone()),
                    reason,
                    casework,
                )
                .await
        }
        (Some(_), None) => Err(StoreError::Invalid {
            field: "replaces".into(),
            problem: "not a record id".into(),
        }),
    };
    // Above the user's level: proposed for approval instead (issue 6).
    let written = match written {
        Err(StoreError::Invalid { field, .. }) if field == "approval" => {
            let kind = fact.value.kind();
            match scoped
                .propose_change(&family, Some(fact), old.as_ref(), reason, today())
                .await
            {
                Ok(change_id) => {
                    return Ok((
                        StatusCode::ACCEPTED,
                        Json(ChangeProposed {
                            change_id,
                            status: "proposed",
                            approver: casework.approval_for(kind).as_str(),
                        }),
                    )
                        .into_response());
                }
                Err(e) => Err(e),
            }
        }
        other => other,
    };
    match written {
        Ok((fact_id, version)) => {
            // As after the page's form: the visits due may have changed (二(一)).
            crate::pages::visits::replan(user.state(), &family).await;
            Ok((
                StatusCode::CREATED,
                [(
                    header::LOCATION,
                    format!("{}/families/{family}", super::PREFIX),
                )],
                Json(Recorded {
                    fact_id: fact_id.to_string(),
                    version,
                }),
            )
                .into_response())
        }
        Err(StoreError::Invalid { field, problem }) => {
            Err(ApiError::unprocessable(vec![FieldError {
                field: api_field(&field),
                message: problem,
            }]))
        }
        Err(e) => Err(e.into()),
    }
}

/// Revealing one sealed record (an ID number, phone, bank account, health detail).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// The record's id (X…), as listed in the family's `facts`.
    pub fact: String,
    /// Why the full value is needed (at least two characters; written to the audit log).
    pub reason: String,
    /// Language of `text`: `zh` (default) or `en`.
    pub lang: Option<String>,
}

/// A record's full value.
#[derive(Serialize, ToSchema)]
pub struct RevealedDto {
    pub fact_id: String,
    pub kind: String,
    /// The record in words, unmasked.
    pub text: String,
    /// The record as stored (its `kind` and fields), unmasked.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

/// The full value of one record of a family in the user's area, for a stated reason. Only
/// caseworkers and finance officers may; every reveal is written to the audit log.
#[utoipa::path(
    post,
    path = "/api/v1/families/{id}/reveal",
    tag = "families",
    params(("id" = String, Path, description = "The family's archive id (F…)")),
    request_body(content = RevealRequest, description = "The record and why it is needed"),
    responses(
        (status = 200, description = "The unmasked record (audited)", body = RevealedDto),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "This role sees masked values only", body = ErrorBody),
        (status = 404, description = "No such family in the user's scope, or no such record of it", body = ErrorBody),
        (status = 422, description = "No reason given", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reveal(
    user: ApiUser,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<RevealedDto>, ApiError> {
    let family = family_id(&id)?;
    let bytes = read_body(request, 16 * 1024, false).await?;
    let body: RevealRequest = decode(&bytes)?;
    let lang = lang_param(body.lang.as_deref())?;
    let fact = FactId::parse(body.fact.trim())
        .ok_or_else(|| ApiError::not_found(format!("fact {} not found", body.fact.trim())))?;
    let value = match user.scoped().reveal(&family, &fact, &body.reason).await {
        Ok(value) => value,
        Err(StoreError::Invalid { field, problem }) => {
            return Err(ApiError::unprocessable(vec![FieldError {
                field,
                message: problem,
            }]));
        }
        Err(StoreError::FactNotFound(..)) => {
            return Err(ApiError::not_found(format!("fact {fact} not found")));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Json(RevealedDto {
        fact_id: fact.to_string(),
        kind: value.kind().to_owned(),
        text: fact_text(lang, &value, true),
        value: serde_json::to_value(&value).map_err(ApiError::internal)?,
    }))
}
