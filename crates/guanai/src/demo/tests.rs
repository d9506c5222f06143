//! The demo on a temporary SQLite archive: what it must show, that the money reconciles, and
//! that a seed always tells the same story.

use std::collections::BTreeSet;

use guanai_crypto::{Algorithm, Keyring};
use guanai_rules::{Category, CountyCode, Policy, VillageCode, parse_date};
use guanai_store::Archive;
use guanai_store::pay::RunStatus;

use super::{DemoOptions, DemoReport, census_families, populate};

fn policy() -> (Policy, &'static str) {
    let text = guanai_rules::policy::embedded_text("linyi-2014").expect("pack text");
    (Policy::from_toml(text).expect("pack"), text)
}

fn options(families: usize, seed: u64) -> DemoOptions {
    DemoOptions {
        families,
        seed,
        ..DemoOptions::new(parse_date("2026-11-30").expect("date"))
    }
}

async fn archive(dir: &tempfile::TempDir) -> Archive {
    let url = format!("sqlite://{}", dir.path().join("guanai.db").display());
    Archive::open(&url, Keyring::generate(Algorithm::Aes256Gcm))
        .await
        .expect("open sqlite")
}

async fn demo(families: usize, seed: u64) -> (tempfile::TempDir, Archive, DemoReport) {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = archive(&dir).await;
    let (policy, text) = policy();
    let report = populate(&archive, &policy, text, &options(families, seed), |_| {})
        .await
        .expect("populate");
    (dir, archive, report)
}

fn count(list: &[(String, i64, guanai_rules::Fen)], key: &str) -> i64 {
    list.iter()
        .find(|(k, _, _)| k == key)
        .map_or(0, |(_, n, _)| *n)
}

#[tokio::test]
async fn three_hundred_families_cover_linyi_and_three_months_of_payments_reconcile() {
    let (_dir, archive, report) = demo(300, 7).await;

    assert_eq!(report.families, 300);
    assert_eq!(report.census_rejected, 0);
    for county in CountyCode::all() {
        if !VillageCode::in_county(county).is_empty() {
            assert!(
                report.counties.iter().any(|(c, n)| *c == county && *n > 0),
                "no family in {county} {}",
                county.name()
            );
        }
    }
    for category in [Category::Bereaved, Category::Disabled, Category::Orphan] {
        assert!(
            report
                .categories
                .iter()
                .any(|(c, n)| *c == category && *n > 0),
            "no {} family",
            category.as_str()
        );
    }
    assert!(report.facts_recorded >= 10, "{report}");
    assert_eq!(report.corrections, 1, "{report}");
    assert!(
        report
            .claims
            .iter()
            .filter(|(kind, status, _)| kind == "funeral_reimbursement" && status == "approved")
            .count()
            >= 2,
        "{report}"
    );
    assert_eq!(report.death_flags, 1);

    // Visits: a plan, most of it visited, some of it overdue, dedicated visitors named; every
    // period due so far is either visited or overdue.
    assert!(report.visit_periods > 300, "{report}");
    assert!(
        report.visits > 0 && (report.visits as i64) < report.visit_periods,
        "{report}"
    );
    assert!(report.dedicated_visitors > 0, "{report}");
    let city = guanai_store::access::User {
        user_id: "t".into(),
        login: "t".into(),
        display_name: "t".into(),
        role: guanai_store::access::Role::City,
        area_code: "371300".into(),
        active: true,
    };
    let today = jiff::civil::date(2026, 11, 30);
    let counts = archive
        .scoped(&city)
        .visit_counts(today)
        .await
        .expect("counts");
    let (due, done, overdue) = counts.iter().fold((0, 0, 0), |(u, d, o), c| {
        (u + c.due, d + c.done, o + c.overdue)
    });
    assert!(done > 0 && overdue > 0, "visited {done}, overdue {overdue}");
    assert!(
        done + overdue >= due,
        "due {due}, visited {done}, overdue {overdue}"
    );

    // Two months paid, settled and closed; the current month checked, awaiting approval.
    let months: Vec<String> = report.runs.iter().map(|r| r.month.to_string()).collect();
    assert_eq!(months, ["2026-09", "2026-10", "2026-11"]);
    let statuses: Vec<RunStatus> = report.runs.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [RunStatus::Closed, RunStatus::Closed, RunStatus::Checked]
    );
    for run in &report.runs[..2] {
        assert!(count(&run.transfers, "paid") > 100, "{run}");
        assert!((2..=6).contains(&count(&run.transfers, "failed")), "{run}");
    }
    // Deaths reported late are recovered and the re-assessed child's months paid in arrears.
    let second = &report.runs[1];
    assert!(count(&second.by_nature, "recovery") >= 2, "{second}");
    assert!(count(&second.by_nature, "arrears") >= 1, "{second}");
    assert!(count(&second.by_nature, "claim") >= 1, "{second}");
    let second_run = guanai_store::pay::RunId::parse(&second.run_id).expect("run id");
    let second_problems = archive
        .problems(&second_run, false)
        .await
        .expect("problems");
    // The parent who died alone leaves nobody to set the recovery off against: a debt.
    assert!(
        second_problems.iter().any(|p| p.code == "debt"),
        "{second_problems:#?}"
    );
    // The newest run shows a finance officer what is held: the death the cross-check reported
    // and the account the bank returned that nobody corrected.
    let newest = &report.runs[2];
    assert!(count(&newest.transfers, "held") > 0, "{newest}");
    let run = guanai_store::pay::RunId::parse(&newest.run_id).expect("run id");
    let codes: BTreeSet<String> = archive
        .problems(&run, true)
        .await
        .expect("problems")
        .into_iter()
        .map(|p| p.code)
        .collect();
    assert!(codes.contains("death_reported"), "{codes:?}");
    assert!(codes.contains("account_failed"), "{codes:?}");

    let reconciliation = archive.reconcile().await.expect("reconcile");
    assert!(
        reconciliation.differences.is_empty(),
        "{:#?}",
        reconciliation.differences
    );
    assert!(reconciliation.lines > 0);
}

/// Everything of the archive that the story decides: families, their current facts with who
/// recorded them and why, the claims, and the runs' figures — not ids or record times.
async fn content(archive: &Archive) -> Vec<String> {
    let mut out = Vec::new();
    let families = archive.list_families("3713").await.expect("families");
    let ids: Vec<_> = families.iter().map(|f| f.family_id.clone()).collect();
    let mut files = Vec::new();
    for chunk in ids.chunks(500) {
        files.extend(archive.family_files(chunk).await.expect("files"));
    }
    files.sort_by(|a, b| a.family_no.cmp(&b.family_no));
    for file in &files {
        out.push(format!(
            "{} {} v{}",
            file.family_no, file.county_code, file.version
        ));
        for person in file.people(None) {
            let mut facts: Vec<String> = person
                .facts
                .iter()
                .map(|f| {
                    format!(
                        "  {} {:?} {:?} {} {}",
                        person.relation.as_str(),
                        f.value,
                        f.valid_from,
                        f.recorded_by,
                        f.reason
                    )
                })
                .collect();
            facts.sort();
            out.extend(facts);
        }
        for claim in archive.claims_of(&file.family_id).await.expect("claims") {
            out.push(format!(
                "  claim {} {} {} {}",
                claim.kind, claim.status, claim.amount, claim.decision
            ));
        }
    }
    for run in archive.list_runs().await.expect("runs") {
        out.push(format!(
            "{} {} {:?} {} {} {:?} {:?} {:?}",
            run.run_id,
            run.month,
            run.status,
            run.lines,
            run.total,
            run.by_nature,
            run.by_county,
            run.transfers
        ));
    }
    out
}

#[tokio::test]
async fn the_same_seed_tells_the_same_story() {
    let ((_a, first, report_a), (_b, second, report_b)) = tokio::join!(demo(60, 11), demo(60, 11));
    assert_eq!(report_a, report_b);
    let (a, b) = (content(&first).await, content(&second).await);
    assert!(a.len() > 300);
    assert_eq!(a, b);
}

#[test]
fn the_census_depends_on_the_seed_only() {
    let (policy, _) = policy();
    let dir = tempfile::tempdir().expect("tempdir");
    let census = |seed| census_families(&options(40, seed), &policy, dir.path()).expect("census");
    let (a, rejected) = census(3);
    assert_eq!((a.len(), rejected), (40, 0));
    assert_eq!(census(3).0, a);
    assert_ne!(census(4).0, a);
    // Even 40 families show every county, category and both hukou; names are Chinese.
    let counties: BTreeSet<_> = a.iter().map(|f| f.county()).collect();
    let expected = CountyCode::all()
        .into_iter()
        .filter(|c| !VillageCode::in_county(*c).is_empty())
        .count();
    assert_eq!(counties.len(), expected);
    assert!(a.iter().flat_map(|f| &f.members).all(|p| {
        let chars: Vec<char> = p.name.chars().collect();
        (2..=4).contains(&chars.len())
            && chars.iter().all(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
    }));
}
