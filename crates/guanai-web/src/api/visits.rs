//! Visits through the API (走访, 二(一)): a family's plan for a year with each period's
//! standing, its visit records and its dedicated visitor; recording a visit (validated by the
//! family page's form and the store, like the page); and the overdue visits in the token
//! user's scope. A family outside the scope is "not found" before anything else is said.

use axum::Json;
use axum::extract::{Path, RawQuery, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use guanai_care::visits::status;
use guanai_store::StoreError;
use guanai_store::visits::{DueState, VisitRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiUser, ErrorBody, FieldError, decode, query, read_body};
use super::families::{family_id, int_param, lang_param};
use crate::pages::today;
use crate::pages::visits::{DUE_SOON_DAYS, VisitForm, holidays, needs_dedicated_on};

/// The largest visit request body.
const VISIT_BODY_LIMIT: usize = 64 * 1024;

/// Rows per page of the overdue list.
const PAGE_ROWS: i64 = 50;

/// A family's visits: the year's plan, the records and the dedicated visitor.
#[derive(Serialize, ToSchema)]
pub struct FamilyVisitsDto {
    pub family_id: String,
    pub year: i16,
    /// The day the statuses are for (today in Beijing), YYYY-MM-DD.
    pub today: String,
    /// An open period is `due_soon` when at most this many days remain.
    pub due_soon_days: i32,
    /// The periods of the year, by due date (empty when no plan was made or nothing is due).
    pub periods: Vec<PeriodDto>,
    /// Every visit recorded, newest first, withdrawn ones included (marked).
    pub visits: Vec<VisitDto>,
    pub dedicated_visitor: Option<DedicatedVisitorDto>,
    /// A period needing a dedicated visitor covers today and none is named (未落实专人联系).
    pub dedicated_visitor_missing: bool,
}

/// One period within which a visit is due.
#[derive(Serialize, ToSchema)]
pub struct PeriodDto {
    /// `regular` | `spring_festival` | `mid_autumn`.
    pub kind: String,
    /// `regular` (一般) | `high` (重点, a dedicated visitor).
    pub level: String,
    /// First and last day (inclusive), YYYY-MM-DD.
    pub starts_on: String,
    pub due_on: String,
    /// `done` | `overdue` | `due_soon` | `open` | `not_yet`.
    pub status: String,
    /// The visit that satisfied it.
    pub visit_id: Option<String>,
    pub visited_on: Option<String>,
}

/// A recorded visit.
#[derive(Serialize, ToSchema)]
pub struct VisitDto {
    pub visit_id: String,
    pub visited_on: String,
    /// `regular` | `spring_festival` | `mid_autumn`.
    pub occasion: String,
    pub visitor: String,
    pub found: String,
    pub needs: String,
    pub follow_up: String,
    pub follow_up_due: Option<String>,
    /// The follow-up's result, who closed it and when (RFC 3339).
    pub follow_up_result: Option<String>,
    pub follow_up_done_by: Option<String>,
    pub follow_up_done_at: Option<String>,
    /// RFC 3339.
    pub recorded_at: String,
    pub recorded_by: String,
    /// Who withdrew it and why.
    pub withdrawn_by: Option<String>,
    pub withdrawn_reason: Option<String>,
}

/// A family's dedicated visitor (专人).
#[derive(Serialize, ToSchema)]
pub struct DedicatedVisitorDto {
    pub visitor: String,
    pub unit: String,
    /// RFC 3339.
    pub assigned_at: String,
    pub assigned_by: String,
}

fn rfc3339(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).map_or_else(|_| micros.to_string(), |t| t.to_string())
}

impl From<VisitRecord> for VisitDto {
    fn from(v: VisitRecord) -> VisitDto {
        let (result, by, at) = match v.follow_up_done {
            Some((result, by, at)) => (Some(result), Some(by), Some(rfc3339(at))),
            None => (None, None, None),
        };
        let (withdrawn_by, withdrawn_reason) = v.withdrawn.unzip();
        VisitDto {
            visit_id: v.visit_id,
            visited_on: v.visited_on.to_string(),
            occasion: v.occasion.as_str().to_owned(),
            visitor: v.visitor,
            found: v.found,
            needs: v.needs,
            follow_up: v.follow_up,
            follow_up_due: v.follow_up_due.map(|d| d.to_string()),
            follow_up_result: result,
            follow_up_done_by: by,
            follow_up_done_at: at,
            recorded_at: rfc3339(v.recorded_at),
            recorded_by: v.recorded_by,
            withdrawn_by,
            withdrawn_reason,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct YearParams {
    year: Option<String>,
}

/// A family's visits for a year (default this year).
#[utoipa::path(
    get,
    path = "/api/v1/families/{id}/visits",
    tag = "visits",
    params(
        ("id" = String, Path, description = "The family's archive id (F…)"),
        ("year" = Option<i64>, Query, description = "The plan's year (default: this year in Beijing)"),
    ),
    responses(
        (status = 200, description = "The plan, the visits and the dedicated visitor", body = FamilyVisitsDto),
        (status = 400, description = "A malformed parameter, named", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such family in the user's scope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn family_visits(
    user: ApiUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<FamilyVisitsDto>, ApiError> {
    let p: YearParams = query(raw.as_deref())?;
    let family = family_id(&id)?;
    let today = today();
    let year = int_param("year", p.year.as_deref(), i64::from(today.year()), 1..=9999)?;
    let year = i16::try_from(year).map_err(|e| ApiError::bad_request("year", e))?;
    let scoped = user.scoped();
    let plan = scoped.visit_plan(&family, year).await?;
    let visits = scoped.visits(&family).await?;
    let dedicated = scoped.dedicated_visitor(&family).await?;
    Ok(Json(FamilyVisitsDto {
        family_id: family.to_string(),
        year,
        today: today.to_string(),
        due_soon_days: DUE_SOON_DAYS,
        dedicated_visitor_missing: dedicated.is_none() && needs_dedicated_on(&plan, today),
        periods: plan
            .iter()
            .map(|p| PeriodDto {
                kind: p.period.kind.as_str().to_owned(),
                level: p.period.level.as_str().to_owned(),
                starts_on: p.period.starts_on.to_string(),
                due_on: p.period.due_on.to_string(),
                status: status(&p.period, p.visited_on, today, DUE_SOON_DAYS)
                    .as_str()
                    .to_owned(),
                visit_id: p.visit_id.clone(),
                visited_on: p.visited_on.map(|d| d.to_string()),
            })
            .collect(),
        visits: visits.into_iter().map(VisitDto::from).collect(),
        dedicated_visitor: dedicated.map(|d| DedicatedVisitorDto {
            visitor: d.visitor,
            unit: d.unit,
            assigned_at: rfc3339(d.assigned_at),
            assigned_by: d.assigned_by,
        }),
    }))
}

/// A visit to record. The values are those of the family page's form, checked by the same code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordVisit {
    /// YYYY-MM-DD; not in the future, not before the programme began.
    #[schema(example = "2026-11-30")]
    pub visited_on: String,
    /// `regular` (定期巡访, also a dedicated visitor's visit) | `spring_festival` | `mid_autumn`.
    #[schema(example = "regular")]
    pub occasion: String,
    /// Who went (name and unit).
    pub visitor: String,
    /// What was found: health, living conditions, mood. Required.
    pub found: String,
    /// Needs the family raised.
    pub needs: Option<String>,
    /// A follow-up agreed; needs `follow_up_due`.
    pub follow_up: Option<String>,
    /// The follow-up's deadline, YYYY-MM-DD, not before the visit.
    pub follow_up_due: Option<String>,
}

/// The visit as recorded.
#[derive(Serialize, ToSchema)]
pub struct VisitRecorded {
    pub visit_id: String,
}

/// Records a visit (caseworkers of the area, the paired volunteer).
#[utoipa::path(
    post,
    path = "/api/v1/families/{id}/visits",
    tag = "visits",
    params(
        ("id" = String, Path, description = "The family's archive id (F…)"),
        ("lang" = Option<String>, Query, description = "Language of field errors: `zh` (default) or `en`"),
    ),
    request_body = RecordVisit,
    responses(
        (status = 201, description = "Recorded; the family's plan is worked out again", body = VisitRecorded),
        (status = 400, description = "A body that is not JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not record visits, or the family is open read-only", body = ErrorBody),
        (status = 404, description = "No such family in the user's scope", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Fields refused, each named", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn record_visit(
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
    if scoped.visibility(&family).await?.is_none() {
        return Err(StoreError::FamilyNotFound(family.to_string()).into());
    }
    let body: RecordVisit = decode(&read_body(request, VISIT_BODY_LIMIT, true).await?)?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let form = VisitForm {
        visited_on: body.visited_on.clone(),
        occasion: body.occasion.clone(),
        visitor: body.visitor.clone(),
        found: body.found.clone(),
        needs: text(&body.needs),
        follow_up: text(&body.follow_up),
        follow_up_due: text(&body.follow_up_due),
    };
    let refused = |fields: Vec<(String, String)>| {
        ApiError::unprocessable(
            fields
                .into_iter()
                .map(|(field, message)| FieldError { field, message })
                .collect(),
        )
    };
    let visit = form.visit(lang).map_err(refused)?;
    let holidays = holidays()?;
    match scoped
        .record_visit(&family, &visit, user.state().policy(), holidays, today())
        .await
    {
        Ok(visit_id) => Ok((
            StatusCode::CREATED,
            [(
                header::LOCATION,
                format!("{}/families/{family}/visits", super::PREFIX),
            )],
            Json(VisitRecorded { visit_id }),
        )
            .into_response()),
        Err(StoreError::Invalid { field, problem }) => Err(refused(vec![(field, problem)])),
        Err(e) => Err(e.into()),
    }
}

/// The overdue list's query.
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverdueParams {
    /// The page, from 1 (default 1); 50 periods a page.
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
}

/// A page of overdue periods.
#[derive(Serialize, ToSchema)]
pub struct OverdueList {
    /// The day "overdue" is judged on (today in Beijing): due before it and not visited.
    pub today: String,
    pub periods: Vec<DuePeriodDto>,
    pub page: i64,
    pub page_size: i64,
    /// More periods follow this page.
    pub more: bool,
}

/// A period due and not visited, with its family.
#[derive(Serialize, ToSchema)]
pub struct DuePeriodDto {
    pub family_id: String,
    pub family_no: String,
    pub county_code: String,
    pub village_code: String,
    pub village_name: String,
    pub names: Vec<String>,
    /// `regular` | `spring_festival` | `mid_autumn`.
    pub kind: String,
    /// `regular` | `high`.
    pub level: String,
    pub starts_on: String,
    pub due_on: String,
}

/// Overdue visits in the token user's scope, in village order.
#[utoipa::path(
    get,
    path = "/api/v1/visits/overdue",
    tag = "visits",
    params(OverdueParams),
    responses(
        (status = 200, description = "A page of overdue periods", body = OverdueList),
        (status = 400, description = "A malformed parameter, named", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role sees no families", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn overdue(
    user: ApiUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<OverdueList>, ApiError> {
    if !user.user.role.sees_families() {
        return Err(ApiError::forbidden("forbidden: this role sees no families"));
    }
    let p: OverdueParams = query(raw.as_deref())?;
    let page = int_param("page", p.page.as_deref(), 1, 1..=100_000)?;
    let today = today();
    let found = user
        .scoped()
        .due_visits(DueState::Overdue, today, (page - 1) * PAGE_ROWS, PAGE_ROWS)
        .await?;
    Ok(Json(OverdueList {
        today: today.to_string(),
        periods: found
            .rows
            .into_iter()
            .map(|d| DuePeriodDto {
                family_id: d.family.family_id.to_string(),
                family_no: d.family.family_no,
                county_code: d.family.county_code,
                village_code: d.family.village_code,
                village_name: d.family.village_name,
                names: d.family.names,
                kind: d.kind.as_str().to_owned(),
                level: d.level.as_str().to_owned(),
                starts_on: d.starts_on.to_string(),
                due_on: d.due_on.to_string(),
            })
            .collect(),
        page,
        page_size: PAGE_ROWS,
        more: found.more,
    }))
}
