//! Declarative policy tests (`guanai policy test`): TOML files of cases — a family as in the eval
//! contract, and checks per month — run through exactly the same path as `guanai eval`, the way
//! rules-as-code projects test their law. Format: `policies/tests/README.md`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use guanai_rules::{Month, Policy};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::contract::{EvalSettings, Scratch, eval_line};

/// A file that cannot be run at all.
#[derive(Debug, Error)]
pub enum SuiteError {
    #[error("{file}: not a valid test file: {message}")]
    Format { file: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// The embedded pack the file is written for.
    policy: Option<String>,
    #[serde(default, rename = "case")]
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    cites: String,
    family: toml::Value,
    #[serde(rename = "check")]
    checks: Vec<Check>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Check {
    month: String,
    category: Option<String>,
    monthly: Option<Vec<Monthly>>,
    one_time: Option<Vec<OneTime>>,
    services: Option<Vec<Service>>,
    services_include: Option<Vec<Service>>,
    services_exclude: Option<Vec<Service>>,
    error: Option<String>,
}

#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Monthly {
    person_id: String,
    kind: String,
    amount_fen: i64,
    standard_fen: i64,
    county_fen: i64,
}

#[derive(Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
struct OneTime {
    kind: String,
    amount_fen: i64,
}

#[derive(Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
struct Service {
    person_id: String,
    kind: String,
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub case: String,
    pub month: String,
    pub problems: Vec<String>,
}

/// The outcome of one file.
#[derive(Debug, Default)]
pub struct FileReport {
    pub passed: u64,
    pub failures: Vec<Failure>,
}

/// The policy pack a test file names (`policy = "…"`), if any.
pub fn declared_policy(file: &str, text: &str) -> Result<Option<String>, SuiteError> {
    let parsed: File = toml::from_str(text).map_err(|e| SuiteError::Format {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    Ok(parsed.policy)
}

/// Runs every check of one test file against `policy`.
pub fn run_file(
    file: &str,
    text: &str,
    policy: &Policy,
    settings: &EvalSettings,
) -> Result<FileReport, SuiteError> {
    let format_error = |message: String| SuiteError::Format {
        file: file.to_owned(),
        message,
    };
    let parsed: File = toml::from_str(text).map_err(|e| format_error(e.to_string()))?;
    let mut report = FileReport::default();
    let mut scratch = Scratch::default();
    for case in parsed.cases {
        let line = serde_json::to_vec(&case.family)
            .map_err(|e| format_error(format!("case {:?}: {e}", case.name)))?;
        for check in &case.checks {
            let month = Month::parse(&check.month)
                .map_err(|e| format_error(format!("case {:?}: {e}", case.name)))?;
            let mut out = Vec::new();
            let settings = EvalSettings { month, ..*settings };
            eval_line(1, &line, policy, &settings, &mut scratch, &mut out);
            let actual: Value = serde_json::from_slice(&out)
                .map_err(|e| format_error(format!("eval output: {e}")))?;
            let problems = compare(check, &actual);
            if problems.is_empty() {
                report.passed += 1;
            } else {
                let mut name = case.name.clone();
                if !case.cites.is_empty() {
                    let _ = write!(name, " ({})", case.cites);
                }
                report.failures.push(Failure {
                    case: name,
                    month: check.month.clone(),
                    problems,
                });
            }
        }
    }
    Ok(report)
}

fn compare(check: &Check, actual: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let error = actual.get("error").and_then(Value::as_str);
    match (&check.error, error) {
        (Some(expected), Some(got)) => {
            if !got.contains(expected.as_str()) {
                problems.push(format!(
                    "error: expected a message containing {expected:?}, got {got:?}"
                ));
            }
            return problems;
        }
        (Some(expected), None) => {
            problems.push(format!(
                "error: expected the line to be rejected ({expected:?}), but it was evaluated"
            ));
            return problems;
        }
        (None, Some(got)) => {
            problems.push(format!("the line was rejected: {got}"));
            return problems;
        }
        (None, None) => {}
    }
    if let Some(expected) = &check.category {
        let got = actual.get("category").and_then(Value::as_str).unwrap_or("");
        if got != expected {
            problems.push(format!("category: expected {expected}, got {got}"));
        }
    }
    if let Some(expected) = &check.monthly {
        let got: Vec<Monthly> = list(actual, "monthly", |v| {
            Some(Monthly {
                person_id: v.get("person_id")?.as_str()?.to_owned(),
                kind: v.get("kind")?.as_str()?.to_owned(),
                amount_fen: v.get("amount_fen")?.as_i64()?,
                standard_fen: v.get("standard_fen")?.as_i64()?,
                county_fen: v.get("county_fen")?.as_i64()?,
            })
        });
        if &got != expected {
            problems.push(format!(
                "monthly: expected {}, got {}",
                show_monthly(expected),
                show_monthly(&got)
            ));
        }
    }
    if let Some(expected) = &check.one_time {
        let got: BTreeSet<OneTime> = list(actual, "one_time", |v| {
            Some(OneTime {
                kind: v.get("kind")?.as_str()?.to_owned(),
                amount_fen: v.get("amount_fen")?.as_i64()?,
            })
        })
        .into_iter()
        .collect();
        let expected: BTreeSet<OneTime> = expected.iter().cloned().collect();
        if got != expected {
            let show = |s: &BTreeSet<OneTime>| {
                let items: Vec<String> = s
                    .iter()
                    .map(|g| format!("{} {}", g.kind, g.amount_fen))
                    .collect();
                format!("[{}]", items.join(", "))
            };
            problems.push(format!(
                "one_time: expected {}, got {}",
                show(&expected),
                show(&got)
            ));
        }
    }
    let services: BTreeSet<Service> = list(actual, "services", |v| {
        Some(Service {
            person_id: v.get("person_id")?.as_str()?.to_owned(),
            kind: v.get("kind")?.as_str()?.to_owned(),
        })
    })
    .into_iter()
    .collect();
    let show = |s: &Service| format!("{}:{}", s.person_id, s.kind);
    if let Some(expected) = &check.services {
        let expected: BTreeSet<Service> = expected.iter().cloned().collect();
        let missing: Vec<String> = expected.difference(&services).map(show).collect();
        let extra: Vec<String> = services.difference(&expected).map(show).collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "services: missing [{}], unexpected [{}]",
                missing.join(", "),
                extra.join(", ")
            ));
        }
    }
    for s in check.services_include.iter().flatten() {
        if !services.contains(s) {
            problems.push(format!("services: expected {} to be present", show(s)));
        }
    }
    for s in check.services_exclude.iter().flatten() {
        if services.contains(s) {
            problems.push(format!("services: expected {} to be absent", show(s)));
        }
    }
    problems
}

fn list<T>(actual: &Value, key: &str, item: impl Fn(&Value) -> Option<T>) -> Vec<T> {
    actual
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(&item).collect())
        .unwrap_or_default()
}

fn show_monthly(list: &[Monthly]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|m| {
            format!(
                "{} {} {} = {} + {}",
                m.person_id, m.kind, m.amount_fen, m.standard_fen, m.county_fen
            )
        })
        .collect();
    format!("[{}]", items.join("; "))
}
