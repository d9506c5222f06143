//! Reports (统计报表, 三(三); issue 7): the statistical tables of the user's area or an area
//! inside it for a period, with their charts, as a page, a printable page and XLSX/CSV
//! downloads; the county assessment (考核评分) with the items behind every lost point; and the
//! public summary (公示, 三(四)) that anyone may read without signing in — counts and totals
//! only, small counts withheld. The store makes every figure (through the user's scope); this
//! module lays out the `guanai_report::Table`s it returns, so the figure on screen is the figure
//! in the file.

use askama::Template;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use guanai_report::export::cell_text;
use guanai_report::scorecard::points_text;
use guanai_report::{Cell, ColumnKind, Table, share_text};
use guanai_rules::Month;
use guanai_store::reports::{Assessment, StatisticalReport, child_level};
use guanai_store::{FamilyId, StoreError};
use jiff::civil::Date;
use serde::Deserialize;

use super::payments::download_response;
use super::{Chrome, area_name, beijing, filled, render, today};
use crate::i18n::{Lang, Texts};
use crate::state::{AppState, Signed, WebError, lang_of};

/// Fields of a form or query refused, with the problem: (field, message).
pub(crate) type FieldErrors = Vec<(String, String)>;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const CSV: &str = "text/csv; charset=utf-8";

/// A file a report is downloaded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Xlsx,
    Csv,
}

impl FileKind {
    fn extension(self) -> &'static str {
        match self {
            FileKind::Xlsx => "xlsx",
            FileKind::Csv => "csv",
        }
    }

    /// The tables as this kind of file, in the page's language.
    fn write(self, tables: &[&Table], english: bool) -> Result<Vec<u8>, WebError> {
        match self {
            FileKind::Xlsx => guanai_report::to_xlsx(tables, english)
                .map_err(|e| WebError::Internal(format!("report workbook: {e}"))),
            FileKind::Csv => Ok(guanai_report::to_csv(tables, english)),
        }
    }

    fn response(self, name: &str, bytes: Vec<u8>) -> Response {
        let content_type = match self {
            FileKind::Xlsx => XLSX,
            FileKind::Csv => CSV,
        };
        download_response(content_type, &format!("{name}.{}", self.extension()), bytes)
    }
}

/// One cell on screen: its text (as the CSV writes it) and whether it is a figure (right-aligned).
pub(crate) type HtmlCell = (String, bool);

/// A report table as the templates show it (`report_table.html`).
pub(crate) struct HtmlTable {
    pub(crate) key: String,
    pub(crate) title: String,
    pub(crate) subtitle: String,
    pub(crate) headers: Vec<HtmlCell>,
    pub(crate) rows: Vec<Vec<HtmlCell>>,
    pub(crate) totals: Option<Vec<HtmlCell>>,
    pub(crate) notes: Vec<String>,
}

/// A figure with its thousands grouped: "-1287970.00" → "-1,287,970.00".
fn grouped(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text),
    };
    let (whole, fraction) = match rest.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + whole.len() / 3);
    out.push_str(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    out
}

impl HtmlTable {
    pub(crate) fn of(table: &Table, english: bool) -> HtmlTable {
        let figure: Vec<bool> = table
            .columns
            .iter()
            .map(|c| c.kind != ColumnKind::Text)
            .collect();
        let line = |cells: &[Cell], totals: bool| -> Vec<HtmlCell> {
            cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    let text = match cell {
                        // On screen, thousands are grouped (1,287,970.00); files keep plain numbers.
                        Cell::Fen(_) | Cell::Count(_) => grouped(&cell_text(cell, english, totals)),
                        _ => cell_text(cell, english, totals),
                    };
                    // Points ("87.50") are text columns holding figures.
                    let number = figure.get(i).copied().unwrap_or(false)
                        || (!text.is_empty()
                            && text
                                .bytes()
                                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-'));
                    (text, number)
                })
                .collect()
        };
        HtmlTable {
            key: table.key.clone(),
            title: table.title.pick(english).to_owned(),
            subtitle: table.subtitle.pick(english).to_owned(),
            headers: table
                .columns
                .iter()
                .zip(&figure)
                .map(|(c, f)| (c.label.pick(english).to_owned(), *f))
                .collect(),
            rows: table.rows.iter().map(|r| line(r, false)).collect(),
            totals: table.totals.as_ref().map(|t| line(t, true)),
            notes: table
                .notes
                .iter()
                .map(|n| n.pick(english).to_owned())
                .collect(),
        }
    }
}

fn english(lang: Lang) -> bool {
    lang == Lang::En
}

/// The message of a field, or nothing.
pub(crate) fn field_error<'a>(errors: &'a FieldErrors, field: &str) -> &'a str {
    errors
        .iter()
        .find(|(f, _)| f == field)
        .map_or("", |(_, m)| m.as_str())
}

/// Every field error in one line (a refused download has no form to show them next to).
fn errors_line(errors: &FieldErrors) -> String {
    errors
        .iter()
        .map(|(f, m)| format!("{f}: {m}"))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) fn month_field(
    lang: Lang,
    field: &str,
    text: &str,
    errors: &mut FieldErrors,
) -> Option<Month> {
    match Month::parse(text.trim()) {
        Ok(m) => Some(m),
        Err(_) => {
            errors.push((
                field.to_owned(),
                format!(
                    "{} ({})",
                    lang.pick("月份格式应为 YYYY-MM", "a month is YYYY-MM"),
                    text.trim()
                ),
            ));
            None
        }
    }
}

pub(crate) fn date_field(
    lang: Lang,
    field: &str,
    text: &str,
    errors: &mut FieldErrors,
) -> Option<Date> {
    match guanai_rules::parse_date(text.trim()) {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push((
                field.to_owned(),
                format!(
                    "{} ({})",
                    lang.pick("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD"),
                    text.trim()
                ),
            ));
            None
        }
    }
}

/// The last day of a month.
fn last_day(month: Month) -> Date {
    let first = month.next().first_day();
    first.yesterday().unwrap_or(first)
}

/// What a statistical report is asked for: `?area=&from=&to=&as_of=` (every field optional).
#[derive(Deserialize, Default, Clone)]
pub struct ReportQuery {
    #[serde(default)]
    pub area: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub as_of: String,
}

/// A report's period, read.
pub(crate) struct Period {
    pub(crate) area: Option<String>,
    pub(crate) from: Month,
    pub(crate) to: Month,
    pub(crate) as_of: Date,
}

impl ReportQuery {
    /// The query with its empty fields given their defaults: this year up to this month, as of
    /// the period's last day (today when the period runs to this month).
    pub(crate) fn filled(mut self, today: Date) -> ReportQuery {
        self.area = self.area.trim().to_owned();
        if self.to.trim().is_empty() {
            self.to = Month::of(today).to_string();
        }
        let to = Month::parse(self.to.trim()).ok();
        if self.from.trim().is_empty() {
            let year = to.map_or(today.year(), Month::year);
            self.from = Month::new(year, 1)
                .unwrap_or_else(|| Month::of(today))
                .to_string();
        }
        if self.as_of.trim().is_empty() {
            self.as_of = to.map_or(today, |m| last_day(m).min(today)).to_string();
        }
        self
    }

    /// The period, or the fields that do not read. Whether the area is the user's and the
    /// period runs forward the store decides.
    pub(crate) fn period(&self, lang: Lang) -> Result<Period, FieldErrors> {
        let mut errors = Vec::new();
        let from = month_field(lang, "from", &self.from, &mut errors);
        let to = month_field(lang, "to", &self.to, &mut errors);
        let as_of = date_field(lang, "as_of", &self.as_of, &mut errors);
        match (from, to, as_of) {
            (Some(from), Some(to), Some(as_of)) => Ok(Period {
                area: filled(Some(self.area.as_str())),
                from,
                to,
                as_of,
            }),
            _ => Err(errors),
        }
    }

    /// The query string of the same report (for the download and print links).
    pub(crate) fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("area", self.area.trim())
            .append_pair("from", self.from.trim())
            .append_pair("to", self.to.trim())
            .append_pair("as_of", self.as_of.trim())
            .finish()
    }
}

/// The report of a query as the user may see it: the store's report, or the fields refused.
/// An area outside the user's is 403 and a role without reports is 403, before anything else.
async fn load(
    signed: &Signed,
    q: &ReportQuery,
) -> Result<Result<(String, Period, StatisticalReport), FieldErrors>, WebError> {
    signed.require(signed.user.role.sees_reports())?;
    Ok(report_for(
        &signed.scoped(),
        signed.state().policy(),
        q,
        signed.lang,
        signed.lang == Lang::En,
    )
    .await?)
}

/// The report a query asks for in a user's scope (the pages and the API): the area's prefix,
/// the period and the store's report, or the fields refused (named, in `lang`).
pub(crate) async fn report_for(
    scoped: &guanai_store::scope::Scoped<'_>,
    policy: &guanai_rules::Policy,
    q: &ReportQuery,
    lang: Lang,
    english_charts: bool,
) -> Result<Result<(String, Period, StatisticalReport), FieldErrors>, StoreError> {
    let prefix = match scoped.report_prefix(filled(Some(q.area.as_str())).as_deref()) {
        Ok(prefix) => prefix,
        Err(StoreError::Invalid { field, problem }) => return Ok(Err(vec![(field, problem)])),
        Err(e) => return Err(e),
    };
    let period = match q.period(lang) {
        Ok(p) => p,
        Err(errors) => return Ok(Err(errors)),
    };
    match scoped
        .statistical_report(
            policy,
            period.area.as_deref(),
            period.from,
            period.to,
            period.as_of,
            english_charts,
        )
        .await
    {
        Ok(report) => Ok(Ok((prefix, period, report))),
        Err(StoreError::Invalid { field, problem }) => Ok(Err(vec![(field, problem)])),
        Err(e) => Err(e),
    }
}

/// An area the report may be asked for.
pub(crate) struct AreaOption {
    pub(crate) code: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// The areas offered: the user's own (the empty value), the areas one level below it, and —
/// when an area inside is chosen — the areas on the way down to it and those just below it.
fn area_options(own_code: &str, own_prefix: &str, selected: &str) -> Vec<AreaOption> {
    let selected = selected.trim();
    let inside = !selected.is_empty()
        && selected.len() > own_prefix.len()
        && selected.starts_with(own_prefix)
        && selected.bytes().all(|b| b.is_ascii_digit());
    let mut parents = vec![own_prefix.to_owned()];
    if inside {
        for len in [6, 9, 12] {
            if len > own_prefix.len() && len <= selected.len() {
                parents.push(selected[..len].to_owned());
            }
        }
    }
    let mut codes: Vec<(String, &'static str)> = Vec::new();
    for area in guanai_rules::area::all_areas() {
        if area.code == own_code || area.code == own_prefix {
            continue;
        }
        let listed = parents.iter().any(|p| {
            (area.code.starts_with(p.as_str()) && area.code.len() == child_level(p))
                || area.code == *p
        });
        if listed {
            codes.push((area.code, area.name));
        }
    }
    codes.sort();
    codes.dedup();
    let mut options = vec![AreaOption {
        code: String::new(),
        label: area_name(own_code),
        selected: !inside,
    }];
    for (code, name) in codes {
        let depth = [6, 9, 12]
            .iter()
            .filter(|&&l| l > own_prefix.len() && l <= code.len())
            .count();
        options.push(AreaOption {
            label: format!("{}{name} ({code})", "\u{3000}".repeat(depth)),
            selected: inside && code == selected,
            code,
        });
    }
    options
}

/// A statistical report on screen.
pub(crate) struct ReportView {
    pub(crate) area_name: String,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) as_of: String,
    pub(crate) register_families: i64,
    pub(crate) payments_chart: String,
    pub(crate) families_chart: String,
    pub(crate) visits_chart: String,
    pub(crate) tables: Vec<HtmlTable>,
}

impl ReportView {
    fn of(period: &Period, report: StatisticalReport, lang: Lang) -> ReportView {
        ReportView {
            tables: report
                .tables()
                .iter()
                .map(|t| HtmlTable::of(t, english(lang)))
                .collect(),
            area_name: report.area_name,
            from: period.from.to_string(),
            to: period.to.to_string(),
            as_of: period.as_of.to_string(),
            register_families: report.register_families,
            payments_chart: report.payments_chart,
            families_chart: report.families_chart,
            visits_chart: report.visits_chart,
        }
    }
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    c: Chrome,
    q: ReportQuery,
    areas: Vec<AreaOption>,
    errors: FieldErrors,
    report: Option<ReportView>,
    /// The query of the report shown, for the download and print links.
    query: String,
}

impl ReportsPage {
    fn err(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

/// `GET /reports`: the form, then the charts and the six tables of the chosen area and period
/// (roles that see reports; an area outside the user's is 403, a field that does not read is
/// 400 with the form again).
pub async fn reports(signed: Signed, Query(q): Query<ReportQuery>) -> Result<Response, WebError> {
    let q = q.filled(today());
    let loaded = load(&signed, &q).await?;
    let (status, errors, report) = match loaded {
        Ok((_, period, report)) => (
            StatusCode::OK,
            Vec::new(),
            Some(ReportView::of(&period, report, signed.lang)),
        ),
        Err(errors) => (StatusCode::BAD_REQUEST, errors, None),
    };
    let page = ReportsPage {
        c: Chrome::new(
            &signed,
            "reports",
            &format!("/reports?{}", q.query_string()),
        ),
        areas: area_options(&signed.user.area_code, signed.user.area_prefix(), &q.area),
        query: q.query_string(),
        q,
        errors,
        report,
    };
    Ok((status, render(&page)?).into_response())
}

#[derive(Template)]
#[template(path = "report_print.html")]
struct PrintPage {
    lang: Lang,
    t: &'static Texts,
    report: ReportView,
    printed_at: String,
    printed_by: String,
    /// The report's page.
    back: String,
}

/// `GET /reports/print`: the same report on a clean page for printing (no navigation, a table
/// per printed page, the area, period and date in the header).
pub async fn print(signed: Signed, Query(q): Query<ReportQuery>) -> Result<Response, WebError> {
    let q = q.filled(today());
    match load(&signed, &q).await? {
        Ok((_, period, report)) => render(&PrintPage {
            lang: signed.lang,
            t: signed.t(),
            report: ReportView::of(&period, report, signed.lang),
            printed_at: beijing(&jiff::Timestamp::now()),
            printed_by: signed.user.display_name.clone(),
            back: format!("/reports?{}", q.query_string()),
        }),
        Err(errors) => Err(WebError::BadRequest(errors_line(&errors))),
    }
}

async fn download(signed: Signed, q: ReportQuery, kind: FileKind) -> Result<Response, WebError> {
    let q = q.filled(today());
    let (prefix, period, report) = match load(&signed, &q).await? {
        Ok(loaded) => loaded,
        Err(errors) => return Err(WebError::BadRequest(errors_line(&errors))),
    };
    let name = format!(
        "{}-{}-{}-{}",
        signed.lang.pick("统计报表", "report"),
        report.area_name,
        period.from,
        period.to
    );
    let bytes = kind.write(&report.tables(), english(signed.lang))?;
    signed
        .state()
        .gate()
        .audit(&signed.user.actor(), "report.download", &prefix, &name)
        .await?;
    Ok(kind.response(&name, bytes))
}

/// `GET /reports/download.xlsx`: the six tables as a workbook, a sheet each.
pub async fn download_xlsx(
    signed: Signed,
    Query(q): Query<ReportQuery>,
) -> Result<Response, WebError> {
    download(signed, q, FileKind::Xlsx).await
}

/// `GET /reports/download.csv`: the six tables one after another (UTF-8 with a BOM).
pub async fn download_csv(
    signed: Signed,
    Query(q): Query<ReportQuery>,
) -> Result<Response, WebError> {
    download(signed, q, FileKind::Csv).await
}

/// `?as_of=` of the assessment.
#[derive(Deserialize, Default, Clone)]
pub struct AsOfQuery {
    #[serde(default)]
    pub as_of: String,
}

/// One item behind lost points: a family (linked to its file), a month or a run.
pub(crate) struct ItemView {
    pub(crate) reference: String,
    pub(crate) family: bool,
    pub(crate) detail: String,
}

pub(crate) struct IndicatorView {
    pub(crate) label: String,
    pub(crate) weight: i64,
    pub(crate) rate: String,
    pub(crate) points: String,
    pub(crate) lost: String,
    pub(crate) lost_any: bool,
    pub(crate) items: Vec<ItemView>,
    pub(crate) more: i64,
}

pub(crate) struct CountyView {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) score: String,
    pub(crate) rank: usize,
    pub(crate) indicators: Vec<IndicatorView>,
}

fn county_views(assessment: &Assessment, lang: Lang) -> Vec<CountyView> {
    assessment
        .scores
        .iter()
        .map(|c| CountyView {
            code: c.county.clone(),
            name: c.name.pick(english(lang)).to_owned(),
            score: points_text(c.score),
            rank: c.rank,
            indicators: c
                .indicators
                .iter()
                .map(|i| IndicatorView {
                    label: i.indicator.label().pick(english(lang)).to_owned(),
                    weight: i.weight,
                    rate: share_text(i.rate),
                    points: points_text(i.points),
                    lost: points_text(i.lost),
                    lost_any: i.lost > 0,
                    items: i
                        .measure
                        .items
                        .iter()
                        .map(|item| ItemView {
                            family: FamilyId::parse(&item.reference).is_some(),
                            reference: item.reference.clone(),
                            detail: item.detail.pick(english(lang)).to_owned(),
                        })
                        .collect(),
                    more: i.measure.more,
                })
                .collect(),
        })
        .collect()
}

/// The assessment as of the query's day (default today), or the field refused.
async fn load_assessment(
    signed: &Signed,
    as_of: &str,
) -> Result<Result<(Date, Assessment), FieldErrors>, WebError> {
    signed.require(signed.user.role.sees_assessment())?;
    let mut errors = Vec::new();
    let Some(as_of) = date_field(signed.lang, "as_of", as_of, &mut errors) else {
        return Ok(Err(errors));
    };
    match signed
        .scoped()
        .assessment(signed.state().policy(), as_of, english(signed.lang))
        .await
    {
        Ok(a) => Ok(Ok((as_of, a))),
        Err(StoreError::Invalid { field, problem }) => Ok(Err(vec![(field, problem)])),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "assessment.html")]
struct AssessmentPage {
    c: Chrome,
    as_of: String,
    errors: FieldErrors,
    scorecard: Option<HtmlTable>,
    counties: Vec<CountyView>,
    query: String,
}

impl AssessmentPage {
    fn err(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

fn as_of_or_today(q: &AsOfQuery) -> String {
    filled(Some(q.as_of.as_str())).unwrap_or_else(|| today().to_string())
}

/// `GET /reports/assessment`: the scorecard of the user's county (or every county, for the
/// city) as of a day, and per county where its points were lost.
pub async fn assessment(signed: Signed, Query(q): Query<AsOfQuery>) -> Result<Response, WebError> {
    let as_of = as_of_or_today(&q);
    let (status, errors, scorecard, counties) = match load_assessment(&signed, &as_of).await? {
        Ok((_, a)) => (
            StatusCode::OK,
            Vec::new(),
            Some(HtmlTable::of(&a.table, english(signed.lang))),
            county_views(&a, signed.lang),
        ),
        Err(errors) => (StatusCode::BAD_REQUEST, errors, None, Vec::new()),
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("as_of", &as_of)
        .finish();
    let page = AssessmentPage {
        c: Chrome::new(
            &signed,
            "assessment",
            &format!("/reports/assessment?{query}"),
        ),
        as_of,
        errors,
        scorecard,
        counties,
        query,
    };
    Ok((status, render(&page)?).into_response())
}

async fn assessment_download(
    signed: Signed,
    q: AsOfQuery,
    kind: FileKind,
) -> Result<Response, WebError> {
    let as_of = as_of_or_today(&q);
    let (as_of, a) = match load_assessment(&signed, &as_of).await? {
        Ok(loaded) => loaded,
        Err(errors) => return Err(WebError::BadRequest(errors_line(&errors))),
    };
    let name = format!(
        "{}-{}-{as_of}",
        signed.lang.pick("考核评分", "assessment"),
        area_name(&signed.user.area_code)
    );
    let bytes = kind.write(&[&a.table, &a.lost], english(signed.lang))?;
    signed
        .state()
        .gate()
        .audit(
            &signed.user.actor(),
            "report.download",
            signed.user.area_prefix(),
            &name,
        )
        .await?;
    Ok(kind.response(&name, bytes))
}

/// `GET /reports/assessment/download.xlsx`: the scorecard and the lost points.
pub async fn assessment_xlsx(
    signed: Signed,
    Query(q): Query<AsOfQuery>,
) -> Result<Response, WebError> {
    assessment_download(signed, q, FileKind::Xlsx).await
}

/// `GET /reports/assessment/download.csv`: the scorecard and the lost points.
pub async fn assessment_csv(
    signed: Signed,
    Query(q): Query<AsOfQuery>,
) -> Result<Response, WebError> {
    assessment_download(signed, q, FileKind::Csv).await
}

/// `?from=&to=` of the public summary.
#[derive(Deserialize, Default, Clone)]
pub struct PublicQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl PublicQuery {
    fn filled(mut self, today: Date) -> PublicQuery {
        if self.to.trim().is_empty() {
            self.to = Month::of(today).to_string();
        }
        if self.from.trim().is_empty() {
            let year = Month::parse(self.to.trim()).map_or(today.year(), Month::year);
            self.from = Month::new(year, 1)
                .unwrap_or_else(|| Month::of(today))
                .to_string();
        }
        self
    }

    fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("from", self.from.trim())
            .append_pair("to", self.to.trim())
            .finish()
    }
}

/// The public summary of a period (cached; see [`crate::stats::Stats::public_summary`]), or
/// the fields refused.
async fn load_public(
    state: &AppState,
    lang: Lang,
    q: &PublicQuery,
) -> Result<Result<std::sync::Arc<Vec<Table>>, FieldErrors>, WebError> {
    let mut errors = Vec::new();
    let from = month_field(lang, "from", &q.from, &mut errors);
    let to = month_field(lang, "to", &q.to, &mut errors);
    let (Some(from), Some(to)) = (from, to) else {
        return Ok(Err(errors));
    };
    if to > Month::of(today()) {
        return Ok(Err(vec![(
            "to".to_owned(),
            lang.pick("不能晚于本月", "not after this month").to_owned(),
        )]));
    }
    match state
        .stats()
        .public_summary(state.gate(), state.policy(), from, to)
        .await
    {
        Ok(tables) => Ok(Ok(tables)),
        Err(StoreError::Invalid { field, problem }) => Ok(Err(vec![(field, problem)])),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "public.html")]
struct PublicPage {
    lang: Lang,
    t: &'static Texts,
    q: PublicQuery,
    errors: FieldErrors,
    tables: Vec<HtmlTable>,
    suppression: String,
    query: String,
}

impl PublicPage {
    fn err(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

/// `GET /public`: the public summary (公示, 三(四)) without signing in: special-difficulty
/// families and the money paid per county for a period (default this year to date), counts
/// below the pack's threshold withheld. Nothing else: no names, no ID numbers, no villages.
pub async fn public(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Result<Response, WebError> {
    let lang = lang_of(&headers);
    let q = q.filled(today());
    let (status, errors, tables) = match load_public(&state, lang, &q).await? {
        Ok(tables) => (
            StatusCode::OK,
            Vec::new(),
            tables
                .iter()
                .map(|t| HtmlTable::of(t, english(lang)))
                .collect(),
        ),
        Err(errors) => (StatusCode::BAD_REQUEST, errors, Vec::new()),
    };
    let page = PublicPage {
        lang,
        t: lang.texts(),
        suppression: guanai_report::publicity::suppression_note(
            state.policy().assessment.min_public_cell,
        )
        .pick(english(lang))
        .to_owned(),
        query: q.query_string(),
        q,
        errors,
        tables,
    };
    Ok((status, render(&page)?).into_response())
}

async fn public_download(
    state: AppState,
    headers: HeaderMap,
    q: PublicQuery,
    kind: FileKind,
) -> Result<Response, WebError> {
    let lang = lang_of(&headers);
    let q = q.filled(today());
    let tables = match load_public(&state, lang, &q).await? {
        Ok(tables) => tables,
        Err(errors) => return Err(WebError::BadRequest(errors_line(&errors))),
    };
    let name = format!(
        "{}-{}-{}",
        lang.pick("扶助情况公示", "public-summary"),
        q.from.trim(),
        q.to.trim()
    );
    let refs: Vec<&Table> = tables.iter().collect();
    let bytes = kind.write(&refs, english(lang))?;
    Ok(kind.response(&name, bytes))
}

/// `GET /public/download.csv`: the public summary as CSV (no sign-in).
pub async fn public_csv(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Result<Response, WebError> {
    public_download(state, headers, q, FileKind::Csv).await
}

/// `GET /public/download.xlsx`: the public summary as a workbook (no sign-in).
pub async fn public_xlsx(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Result<Response, WebError> {
    public_download(state, headers, q, FileKind::Xlsx).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn figures_are_grouped_by_thousands() {
        assert_eq!(super::grouped("1287970.00"), "1,287,970.00");
        assert_eq!(super::grouped("-1180.00"), "-1,180.00");
        assert_eq!(super::grouped("920.00"), "920.00");
        assert_eq!(super::grouped("1000000"), "1,000,000");
        assert_eq!(super::grouped("*"), "*");
        assert_eq!(super::grouped(""), "");
    }

    use super::*;

    fn date(s: &str) -> Date {
        guanai_rules::parse_date(s).expect("date")
    }

    #[test]
    fn an_empty_query_is_this_year_to_date_and_a_past_period_is_as_of_its_end() {
        let q = ReportQuery::default().filled(date("2026-11-18"));
        assert_eq!((q.from.as_str(), q.to.as_str()), ("2026-01", "2026-11"));
        assert_eq!(q.as_of, "2026-11-18");
        let q = ReportQuery {
            to: "2025-06".into(),
            ..ReportQuery::default()
        }
        .filled(date("2026-11-18"));
        assert_eq!(
            (q.from.as_str(), q.as_of.as_str()),
            ("2025-01", "2025-06-30")
        );
        let errors = ReportQuery {
            from: "2026-13".into(),
            to: "x".into(),
            as_of: "2026-02-30".into(),
            area: String::new(),
        }
        .period(Lang::En)
        .err()
        .expect("refused");
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["from", "to", "as_of"]);
    }

    #[test]
    fn the_areas_offered_are_the_users_those_below_and_the_way_to_the_one_chosen() {
        let city = area_options("371300", "3713", "");
        assert!(city[0].selected && city[0].code.is_empty());
        assert!(city[1..].iter().all(|o| o.code.len() == 6), "counties");
        assert!(city.iter().any(|o| o.code == "371321"));
        let county = area_options("371321", "371321", "371321001003");
        let codes: Vec<&str> = county.iter().map(|o| o.code.as_str()).collect();
        assert!(codes.contains(&"371321001"), "the township on the way");
        assert!(codes.contains(&"371321001003"), "the village chosen");
        assert!(
            county
                .iter()
                .any(|o| o.selected && o.code == "371321001003")
        );
        assert!(
            !codes.iter().any(|c| c.starts_with("371302")),
            "nothing of another county"
        );
        // A code outside the user's area is not offered (the store refuses it).
        let other = area_options("371321", "371321", "371302");
        assert!(other[0].selected);
        assert!(!other.iter().any(|o| o.code == "371302"));
    }
}
