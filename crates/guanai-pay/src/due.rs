//! Due against booked, for one family: for every month of the window the engine says what is
//! due per parent and kind; what the ledger has booked for that month and kind is subtracted;
//! the difference is a line — the run month's regular payment, arrears (补发) for earlier months,
//! or a recovery (追回) where more was booked than is due. One-time grants (二(二)) are compared
//! as a whole: due once, booked once.
//!
//! Arrears go back no further than the pack's `payments.arrears_limit_months`; what lies beyond
//! is reported, not paid. Grants first due before the ledger's first month were settled before
//! Guanai took over and are not paid again. Recoveries are not limited: money paid that was not
//! due is always shown.

use std::collections::BTreeMap;

use guanai_rules::{Family, Fen, Month, Policy, evaluate};

use crate::booked::{Amounts, Booked};
use crate::kinds::{LineKind, Nature};

/// The months a run looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The ledger's first month: earlier months were paid before Guanai.
    pub first: Month,
    /// The run's month.
    pub month: Month,
    /// Arrears are paid for months from here (the policy's limit).
    pub arrears_from: Month,
}

/// A line to pay (or recover) for one person, kind and month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueLine {
    pub person: String,
    pub kind: LineKind,
    pub for_month: Month,
    pub nature: Nature,
    pub amounts: Amounts,
    /// What was booked before, and what is due now (for the explanation).
    pub booked: Fen,
    pub due: Fen,
}

/// The outcome for one family.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FamilyDue {
    pub lines: Vec<DueLine>,
    /// Arrears older than the limit: not paid, reported.
    pub beyond_limit: Fen,
    /// A grant is due but the family has nobody to receive it.
    pub grant_without_payee: Option<LineKind>,
}

/// Compares what is due with what is booked for one family.
///
/// `facts(m)` gives the family's facts for month `m` as the run knows them; `parents[i]` is the
/// person id of the engine's parent `i`; `grant_payee` receives a new one-time grant.
pub fn family_lines<'f>(
    facts: &dyn Fn(Month) -> &'f Family,
    parents: &[&str],
    grant_payee: Option<&str>,
    booked: &Booked,
    window: &Window,
    policy: &Policy,
) -> FamilyDue {
    family_lines_until(facts, parents, grant_payee, booked, window, policy, None)
}

/// [`family_lines`] for a family that left the programme (moved out of Linyi, approved): no
/// monthly assistance is due from `ended` on, so what was paid for those months is recovered.
/// One-time grants earned before stay earned.
pub fn family_lines_until<'f>(
    facts: &dyn Fn(Month) -> &'f Family,
    parents: &[&str],
    grant_payee: Option<&str>,
    booked: &Booked,
    window: &Window,
    policy: &Policy,
    ended: Option<Month>,
) -> FamilyDue {
    let mut out = FamilyDue::default();
    let mut due: BTreeMap<(&str, LineKind, Month), Amounts> = BTreeMap::new();
    let mut month = window.first;
    let mut last = None;
    while month <= window.month {
        let family = facts(month);
        let eval = evaluate(family, month, policy);
        let left = ended.is_some_and(|e| month >= e);
        for (i, m) in eval.monthly().filter(|_| !left) {
            if let Some(person) = parents.get(i) {
                due.insert(
                    (person, m.kind.into(), month),
                    Amounts {
                        amount: m.amount,
                        standard: m.standard,
                        county: m.county,
                    },
                );
            }
        }
        if month == window.month {
            last = Some(eval);
        }
        month = month.next();
    }

    // Monthly kinds: every key that is due or booked.
    let mut keys: Vec<(&str, LineKind, Month)> = due.keys().copied().collect();
    keys.extend(booked.monthly_keys(window.first, window.month));
    keys.sort();
    keys.dedup();
    for (person, kind, m) in keys {
        let d = due.get(&(person, kind, m)).copied().unwrap_or_default();
        let b = booked.monthly(person, kind, m);
        let diff = minus(d, b);
        if diff.is_zero() {
            continue;
        }
        let nature = if diff.amount < Fen::ZERO {
            Nature::Recovery
        } else if m == window.month {
            Nature::Regular
        } else if m < window.arrears_from {
            out.beyond_limit = out.beyond_limit + diff.amount;
            continue;
        } else {
            Nature::Arrears
        };
        out.lines.push(DueLine {
            person: person.to_owned(),
            kind,
            for_month: m,
            nature,
            amounts: diff,
            booked: b.amount,
            due: d.amount,
        });
    }

    // One-time grants, as listed for the run month.
    let Some(eval) = last else {
        return out;
    };
    let listed: Vec<(LineKind, Month, Fen)> = eval
        .grants()
        .map(|g| (LineKind::from(g.kind), g.due_from, g.amount))
        .collect();
    for kind in LineKind::ALL
        .into_iter()
        .filter(|k| matches!(k, LineKind::Grant(_)))
    {
        let due_now = listed.iter().find(|g| g.0 == kind);
        let before = booked.grant(kind);
        match (due_now, before) {
            (Some(&(_, due_from, _)), None) if due_from < window.first => {}
            (Some(&(_, due_from, amount)), None) => match grant_payee {
                Some(payee) => out.lines.push(DueLine {
                    person: payee.to_owned(),
                    kind,
                    for_month: due_from,
                    nature: Nature::Grant,
                    amounts: county_only(amount),
                    booked: Fen::ZERO,
                    due: amount,
                }),
                None => out.grant_without_payee = Some(kind),
            },
            (due_now, Some((person, for_month, b))) => {
                let d = due_now.map(|g| county_only(g.2)).unwrap_or_default();
                let diff = minus(d, b);
                if !diff.is_zero() {
                    out.lines.push(DueLine {
                        person: person.to_owned(),
                        kind,
                        for_month,
                        nature: if diff.amount < Fen::ZERO {
                            Nature::Recovery
                        } else {
                            Nature::Arrears
                        },
                        amounts: diff,
                        booked: b.amount,
                        due: d.amount,
                    });
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// One-time grants are paid wholly by county finance (二(二)).
fn county_only(amount: Fen) -> Amounts {
    Amounts {
        amount,
        standard: Fen::ZERO,
        county: amount,
    }
}

fn minus(a: Amounts, b: Amounts) -> Amounts {
    Amounts {
        amount: a.amount - b.amount,
        standard: a.standard - b.standard,
        county: a.county - b.county,
    }
}

#[cfg(test)]
mod tests;
