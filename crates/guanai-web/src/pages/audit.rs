//! The audit log for inspectors and administrators: every change, export and reveal, newest
//! first, filtered and paged, and a check of its hash chain.

use askama::Template;
use axum::extract::Query;
use axum::response::Response;
use guanai_store::{AuditEntry, AuditQuery};
use serde::Deserialize;

use super::{Chrome, beijing, filled, render};
use crate::state::{Signed, WebError};

const PAGE_ROWS: u64 = 50;

#[derive(Deserialize, Default)]
pub struct AuditParams {
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    page: Option<u64>,
    verify: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    actor: String,
    action: String,
    target: String,
    page: u64,
    entries: Vec<AuditEntry>,
    more: bool,
    query_base: String,
    verification: Option<String>,
}

pub async fn audit(signed: Signed, Query(p): Query<AuditParams>) -> Result<Response, WebError> {
    signed.require(signed.user.role.can_read_audit())?;
    let page = p.page.unwrap_or(1).clamp(1, 1_000_000);
    let query = AuditQuery {
        actor: filled(p.actor.as_deref()),
        action_prefix: filled(p.action.as_deref()),
        target_prefix: filled(p.target.as_deref()),
        offset: (page - 1) * PAGE_ROWS,
        limit: Some(PAGE_ROWS + 1),
        ..AuditQuery::default()
    };
    let scoped = signed.scoped();
    let mut entries = scoped.audit_entries(&query).await?;
    let more = entries.len() as u64 > PAGE_ROWS;
    entries.truncate(PAGE_ROWS as usize);
    let verification = if p.verify.is_some() {
        let v = scoped.verify_audit().await?;
        Some(match &v.first_break {
            None => format!(
                "{} ✓ {} / audit log intact: {} entries",
                signed.lang.pick("审计日志完整", "intact"),
                v.entries,
                v.entries
            ),
            Some(b) => format!(
                "{} / broken: {b}",
                signed.lang.pick("审计日志被改动", "altered")
            ),
        })
    } else {
        None
    };
    let mut base = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("actor", &p.actor),
        ("action", &p.action),
        ("target", &p.target),
    ] {
        if let Some(v) = filled(v.as_deref()) {
            base.append_pair(k, &v);
        }
    }
    let query_base = base.finish();
    render(&AuditPage {
        c: Chrome::new(&signed, "audit", &format!("/audit?{query_base}")),
        actor: filled(p.actor.as_deref()).unwrap_or_default(),
        action: filled(p.action.as_deref()).unwrap_or_default(),
        target: filled(p.target.as_deref()).unwrap_or_default(),
        page,
        entries,
        more,
        query_base,
        verification,
    })
}

/// Shown in the template.
pub fn when(t: &jiff::Timestamp) -> String {
    beijing(t)
}
