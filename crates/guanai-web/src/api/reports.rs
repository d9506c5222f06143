//! Reports through the API (issue 7): the statistical tables of the token user's area (or an
//! area inside it) for a period, and the county assessment's scorecard and lost points — the
//! very `guanai_report::Table`s the pages, XLSX and CSV files render, as JSON. The same scope
//! rules as the pages: an area outside the user's is 403, a role without reports 403.

use axum::Json;
use axum::extract::RawQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiUser, ErrorBody, FieldError, query};
use super::families::lang_param;
use crate::i18n::Lang;
use crate::pages::reports::{ReportQuery, report_for};
use crate::pages::today;

/// A report table: title and subtitle in both languages, typed columns, rows, totals, notes.
/// (Documentation of `guanai_report::Table`, which is what is sent.)
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TableDoc {
    /// A short stable name: `families`, `payments_by_month`, `payments_by_area`, `grants`,
    /// `services`, `visits`, `scorecard`, `lost_points`.
    pub key: String,
    pub title: LabelDoc,
    /// The area and period covered.
    pub subtitle: LabelDoc,
    pub columns: Vec<ColumnDoc>,
    /// Rows of cells, one cell per column. A cell is an object with one key naming its kind:
    /// `{"Text": "兰山区"}`, `{"Count": 12}`, `{"Fen": 123456}` (integer fen), `{"Share": 8750}`
    /// (basis points, `null` when there is nothing to divide), or the string `"Suppressed"`
    /// (withheld from publication, 三(四)).
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Vec<Vec<serde_json::Value>>,
    /// The totals row (counts and money summed; shares of the totals), when the table has one.
    #[schema(value_type = Option<Vec<Object>>)]
    pub totals: Option<Vec<serde_json::Value>>,
    /// Definitions and the clauses the figures answer to.
    pub notes: Vec<LabelDoc>,
}

/// A text in Chinese and English.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LabelDoc {
    pub zh: String,
    pub en: String,
}

/// A column: its label and what it holds.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ColumnDoc {
    pub label: LabelDoc,
    /// `Text` (a row heading), `Count`, `Fen` (money in integer fen) or `Share` (basis points,
    /// 10000 = 100 %).
    #[schema(example = "Count")]
    pub kind: String,
}

/// The statistical tables of an area and period.
#[derive(Serialize, ToSchema)]
pub struct StatisticsDto {
    /// The area's code prefix (`3713` for the city, a county's 6 digits, a township's 9, a
    /// village's 12).
    pub area: String,
    pub area_name: String,
    /// YYYY-MM, inclusive.
    pub from: String,
    pub to: String,
    /// The day visits are counted to (of `to`'s year), YYYY-MM-DD.
    pub as_of: String,
    /// Families on the register of the area (in the programme or not).
    pub register_families: i64,
    /// Families and persons, payments by month, payments by area, one-time grants, services,
    /// visits — in that order.
    #[schema(value_type = Vec<TableDoc>)]
    pub tables: Vec<guanai_report::Table>,
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatisticsParams {
    /// A county (6 digits), township (9) or village (12) code inside the user's area (default:
    /// the user's own area).
    area: Option<String>,
    /// First month, YYYY-MM (default: January of `to`'s year).
    from: Option<String>,
    /// Last month, YYYY-MM (default: this month).
    to: Option<String>,
    /// Visits are counted as of this day, YYYY-MM-DD (default: the last day of `to`, or today).
    as_of: Option<String>,
}

fn refused(fields: Vec<(String, String)>) -> ApiError {
    ApiError::unprocessable(
        fields
            .into_iter()
            .map(|(field, message)| FieldError { field, message })
            .collect(),
    )
}

/// The statistical tables of the user's area (or an area inside it) for a period.
#[utoipa::path(
    get,
    path = "/api/v1/reports/statistics",
    tag = "reports",
    params(StatisticsParams),
    responses(
        (status = 200, description = "The six tables", body = StatisticsDto),
        (status = 400, description = "An unknown or repeated parameter, named", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role sees no reports, or the area is outside the user's", body = ErrorBody),
        (status = 422, description = "A month, date or area that does not read, or a period that runs backwards, named", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn statistics(
    user: ApiUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<StatisticsDto>, ApiError> {
    let p: StatisticsParams = query(raw.as_deref())?;
    if !user.user.role.sees_reports() {
        return Err(ApiError::forbidden(
            "role: reports are for caseworkers, finance officers and inspectors",
        ));
    }
    let q = ReportQuery {
        area: p.area.unwrap_or_default(),
        from: p.from.unwrap_or_default(),
        to: p.to.unwrap_or_default(),
        as_of: p.as_of.unwrap_or_default(),
    }
    .filled(today());
    let (prefix, period, report) =
        match report_for(&user.scoped(), user.state().policy(), &q, Lang::En, false).await? {
            Ok(report) => report,
            Err(fields) => return Err(refused(fields)),
        };
    Ok(Json(StatisticsDto {
        area: prefix,
        register_families: report.register_families,
        tables: report.tables().into_iter().cloned().collect(),
        area_name: report.area_name,
        from: period.from.to_string(),
        to: period.to.to_string(),
        as_of: period.as_of.to_string(),
    }))
}

/// The county assessment as of a day.
#[derive(Serialize, ToSchema)]
pub struct AssessmentDto {
    /// YYYY-MM-DD.
    pub as_of: String,
    /// A row per county: each indicator's share (weights in the column labels), the score
    /// ("87.50", out of 100) and the rank.
    #[schema(value_type = TableDoc)]
    pub scorecard: guanai_report::Table,
    /// Every lost point's items: county, indicator, points lost, the reference (a family id, a
    /// month or a run) and what was wrong, in the language asked for.
    #[schema(value_type = TableDoc)]
    pub lost: guanai_report::Table,
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssessmentParams {
    /// The assessment day, YYYY-MM-DD (default: today in Beijing); the year is its year.
    as_of: Option<String>,
    /// Language of the lost points' texts: `zh` (default) or `en`.
    lang: Option<String>,
}

/// The assessment of the user's county (or every county, for the city) as of a day.
#[utoipa::path(
    get,
    path = "/api/v1/reports/assessment",
    tag = "reports",
    params(AssessmentParams),
    responses(
        (status = 200, description = "The scorecard and the lost points", body = AssessmentDto),
        (status = 400, description = "An unknown or malformed parameter, named", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role sees no assessment", body = ErrorBody),
        (status = 422, description = "A date that does not read, named", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn assessment(
    user: ApiUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<AssessmentDto>, ApiError> {
    let p: AssessmentParams = query(raw.as_deref())?;
    let lang = lang_param(p.lang.as_deref())?;
    if !user.user.role.sees_assessment() {
        return Err(ApiError::forbidden(
            "role: the assessment is for county and city staff and inspectors",
        ));
    }
    let as_of = match crate::pages::filled(p.as_of.as_deref()) {
        None => today(),
        Some(text) => guanai_rules::parse_date(&text)
            .map_err(|e| refused(vec![("as_of".to_owned(), format!("{e}: {text}"))]))?,
    };
    let a = match user
        .scoped()
        .assessment(user.state().policy(), as_of, lang == Lang::En)
        .await
    {
        Ok(a) => a,
        Err(guanai_store::StoreError::Invalid { field, problem }) => {
            return Err(refused(vec![(field, problem)]));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Json(AssessmentDto {
        as_of: as_of.to_string(),
        scorecard: a.table,
        lost: a.lost,
    }))
}
