//! The dashboard (工作台): families by county and category in the user's area, this year's
//! visits (二(一): overdue, due soon, families without a dedicated visitor, coverage), this
//! month's payments by funding source (二(二)), runs waiting for approval, late complaints
//! (issue 6), who broke the glass on the area's families, and this year's charts of the area
//! (issue 7: payments, families by area, visit coverage) for the roles that see reports.

use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_rules::Fen;
use guanai_store::access::AccessGrant;
use guanai_store::pay::{RunStatus, RunSummary};

use super::{Chrome, area_name, beijing_micros, render, this_month, today};
use crate::state::{Signed, WebError};
use crate::stats::{CategoryCounts, Charts, VisitFigures};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    month: String,
    by_county: Vec<(String, String, i64)>,
    total_families: i64,
    categories: Option<CategoryCounts>,
    month_runs: usize,
    higher: Fen,
    county_finance: Fen,
    month_total: Fen,
    pending: Vec<RunSummary>,
    grants: Vec<AccessGrant>,
    visits: Option<VisitFigures>,
    /// Late complaints in scope (issue 6), for the roles that handle complaints.
    complaints: Option<super::complaints::LateCard>,
    /// This year's charts of the scope (issue 7), drawn in the background; `None` while they
    /// are drawn (and for the roles without reports, who get no card).
    charts: Option<std::sync::Arc<Charts>>,
}

pub async fn dashboard(signed: Signed) -> Result<Response, WebError> {
    if !signed.user.role.sees_families() {
        return Ok(Redirect::to("/admin/users").into_response());
    }
    let scoped = signed.scoped();
    let month = this_month();
    let by_county: Vec<(String, String, i64)> = scoped
        .families_by_county()
        .await?
        .into_iter()
        .map(|(code, n)| (area_name(&code), code, n))
        .collect();
    let total_families = by_county.iter().map(|r| r.2).sum();
    let state = signed.state();
    let categories = state
        .stats()
        .categories(state.gate(), &signed.user, state.policy(), month);
    // Counted in the background: a grouped count over every visit period in scope grows
    // with the archive (0.4 s for the city at 20,000 families).
    let visits = state.stats().visits(state.gate(), &signed.user, today());
    let complaints = super::complaints::late_card(&signed).await?;
    // A statistical report of the scope takes seconds for the city: drawn in the background.
    let charts = if signed.user.role.sees_reports() {
        state
            .stats()
            .charts(state.gate(), &signed.user, state.policy(), today())
    } else {
        None
    };
    let (mut higher, mut county_finance, mut month_runs, mut pending) =
        (Fen(0), Fen(0), 0, Vec::new());
    if signed.user.role.sees_payments() {
        let month_text = month.to_string();
        for run in scoped.runs().await? {
            if run.status == RunStatus::Checked || run.status == RunStatus::Draft {
                pending.push(run.clone());
            }
            if run.month == month_text && run.status != RunStatus::Discarded {
                month_runs += 1;
                higher = higher + run.standard;
                for (_, fen) in &run.by_county {
                    county_finance = county_finance + *fen;
                }
            }
        }
    }
    let grants = if signed.user.role.can_record() && signed.user.area_prefix().len() <= 6 {
        state
            .gate()
            .grants_in(signed.user.area_prefix(), 20)
            .await?
    } else {
        Vec::new()
    };
    render(&DashboardPage {
        c: Chrome::new(&signed, "dashboard", "/"),
        month: month.to_string(),
        by_county,
        total_families,
        categories,
        month_runs,
        month_total: higher + county_finance,
        higher,
        county_finance,
        pending,
        grants,
        visits,
        complaints,
        charts,
    })
}

/// Shown in the template.
pub fn when(micros: &i64) -> String {
    beijing_micros(*micros)
}
