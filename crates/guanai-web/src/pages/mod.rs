//! The server-rendered pages: one module per part of the work, each with its handlers and
//! templates. Every page is built from a [`Chrome`] (the signed-in user, language, CSRF token).

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod census;
pub mod changes;
pub mod complaints;
pub mod confirm;
pub mod contacts;
pub mod dashboard;
pub mod documents;
pub mod families;
pub mod network;
pub mod payments;
pub mod reports;
pub mod services;
pub mod spot_checks;
pub mod visits;

use std::collections::HashMap;
use std::sync::OnceLock;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use guanai_rules::engine::{Category, GrantKind, ServiceKind};
use guanai_store::access::User;

use crate::i18n::{Lang, Texts};
use crate::state::{Signed, WebError};

/// What every page shows around its content.
pub struct Chrome {
    pub t: &'static Texts,
    pub lang: Lang,
    pub user: User,
    pub role_label: &'static str,
    pub area_name: String,
    pub csrf: String,
    /// The nav item to highlight.
    pub section: &'static str,
    /// The path and query of this page (for the language switch).
    pub path: String,
    pub flash: Option<String>,
}

impl Chrome {
    pub fn new(signed: &Signed, section: &'static str, path: &str) -> Chrome {
        Chrome {
            t: signed.t(),
            lang: signed.lang,
            role_label: signed
                .lang
                .pick(signed.user.role.label_zh(), signed.user.role.label_en()),
            area_name: area_name(&signed.user.area_code),
            user: signed.user.clone(),
            csrf: signed.csrf.clone(),
            section,
            path: path.to_owned(),
            flash: None,
        }
    }

    pub fn with_flash(mut self, flash: Option<String>) -> Chrome {
        self.flash = flash.filter(|f| !f.is_empty());
        self
    }
}

/// Renders a template into a response.
pub fn render<T: Template>(page: &T) -> Result<Response, WebError> {
    // The size hint counts a template's text once; loops (rows, options) make pages several
    // times larger, and each time the buffer outgrows itself the page so far is copied.
    let mut html = String::with_capacity(T::SIZE_HINT.saturating_mul(4).max(16 * 1024));
    page.render_into(&mut html)
        .map_err(|e| WebError::Internal(format!("template: {e}")))?;
    Ok(Html(html).into_response())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

/// A page for a refused or failed request (no user chrome: it may be before sign-in).
pub fn error_page(status: StatusCode, message: &str) -> String {
    ErrorPage {
        status: status.as_u16(),
        message,
    }
    .render()
    .unwrap_or_else(|_| format!("{status}"))
}

/// A form or query value that says something: trimmed, and `None` when empty.
pub fn filled(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The name of an area code (city, county, township or village), or the code itself.
pub fn area_name(code: &str) -> String {
    static NAMES: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        guanai_rules::area::all_areas()
            .into_iter()
            .map(|a| (a.code, a.name))
            .collect()
    });
    names
        .get(code)
        .map_or_else(|| code.to_owned(), |n| (*n).to_owned())
}

/// A village's full name: county, township, village.
pub fn village_path(code: &str) -> String {
    if code.len() != 12 {
        return area_name(code);
    }
    format!(
        "{} {} {}",
        area_name(&code[..6]),
        area_name(&code[..9]),
        area_name(code)
    )
}

pub fn category_label(lang: Lang, c: Category) -> &'static str {
    match c {
        Category::Bereaved => lang.pick("失独家庭", "bereaved"),
        Category::Orphan => lang.pick("计划生育孤儿", "orphan"),
        Category::Disabled => lang.pick("伤残家庭", "disabled child"),
        Category::None => lang.pick("非特殊困难家庭", "none"),
    }
}

pub fn grant_label(lang: Lang, g: GrantKind) -> &'static str {
    match g {
        GrantKind::BereavedGrant => lang.pick(
            "失独家庭一次性救助金 (二(二))",
            "bereaved one-time grant (二(二))",
        ),
        GrantKind::OrphanGrant => lang.pick(
            "孤儿一次性救助金 (二(二))",
            "orphan one-time grant (二(二))",
        ),
        GrantKind::DisabledGrant => lang.pick(
            "伤残家庭一次性救助金 (二(二))",
            "disabled-child one-time grant (二(二))",
        ),
    }
}

pub fn service_label(lang: Lang, s: ServiceKind) -> &'static str {
    match s {
        ServiceKind::MedicalRelief => lang.pick("医疗救助 (二(三))", "medical relief (二(三))"),
        ServiceKind::InsuranceContributionPaid => lang.pick(
            "代缴城乡居民养老保险 (二(三))",
            "pension insurance contribution paid (二(三))",
        ),
        ServiceKind::DibaoUplift => lang.pick("低保提标 (二(四))", "dibao uplift (二(四))"),
        ServiceKind::NursingHomePriority => lang.pick(
            "优先入住养老机构 (二(四))",
            "nursing-home priority (二(四))",
        ),
        ServiceKind::NursingHomeFeeHalf => lang.pick(
            "养老机构费用减半 (二(四))",
            "nursing-home fee halved (二(四))",
        ),
        ServiceKind::WubaoInclusion => lang.pick("纳入五保 (二(四))", "wubao inclusion (二(四))"),
        ServiceKind::HousingPriority => {
            lang.pick("保障性住房优先 (二(五))", "housing priority (二(五))")
        }
        ServiceKind::FuneralReimbursement => {
            lang.pick("丧葬费报销 (二(五))", "funeral reimbursement (二(五))")
        }
        ServiceKind::HolidayVisits => lang.pick("节日走访慰问 (二(一))", "holiday visits (二(一))"),
        ServiceKind::RegularVisits => lang.pick("定期走访 (二(一))", "regular visits (二(一))"),
        ServiceKind::DedicatedVisitor => {
            lang.pick("专人联系 (二(一))", "a dedicated visitor (二(一))")
        }
    }
}

/// A time in Beijing (UTC+8), as caseworkers read it.
pub fn beijing(t: &jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// A time given in microseconds since the epoch, in Beijing.
pub fn beijing_micros(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).map_or_else(|_| micros.to_string(), |t| beijing(&t))
}

/// Today in Beijing.
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}

/// This month in Beijing.
pub fn this_month() -> guanai_rules::Month {
    guanai_rules::Month::of(today())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_label_cites_the_clause_the_rules_give() {
        for kind in ServiceKind::ALL {
            for lang in [Lang::Zh, Lang::En] {
                let label = service_label(lang, kind);
                assert!(
                    label.ends_with(&format!("({})", kind.clause())),
                    "{label} should cite {}",
                    kind.clause()
                );
            }
        }
    }
}
