//! What has been booked for a family: the sum of its payment lines per person, kind and month
//! (for grants: per kind, at the month it was first due). Kept as a compact run-length text in
//! the ledger's position table so a payment run reads one row per family, not one per month;
//! `guanai ledger reconcile` proves it equals the sum of the lines.
//!
//! Text form, one entry per line: `kind person from to amount standard county`, e.g.
//! `bereaved_assistance P0001 2026-01 2026-12 50000 17000 33000` — the same amounts booked for
//! every month from `from` to `to`.

use std::collections::BTreeMap;

use guanai_rules::{Fen, Month};

use crate::kinds::LineKind;

/// Amounts booked for one month (or one grant): total, higher-level part, county part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amounts {
    pub amount: Fen,
    pub standard: Fen,
    pub county: Fen,
}

impl Amounts {
    pub fn is_zero(&self) -> bool {
        self.amount == Fen::ZERO && self.standard == Fen::ZERO && self.county == Fen::ZERO
    }
}

/// One run of equal monthly amounts, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: LineKind,
    pub person: String,
    pub from: Month,
    pub to: Month,
    pub amounts: Amounts,
}

/// A stored position that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("booked position, line {line}: {problem}")]
pub struct BookedError {
    pub line: usize,
    pub problem: String,
}

/// Everything booked for one family.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Booked {
    by_month: BTreeMap<(String, LineKind, Month), Amounts>,
}

impl Booked {
    pub fn parse(text: &str) -> Result<Booked, BookedError> {
        let mut booked = Booked::default();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
            let err = |problem: String| BookedError {
                line: i + 1,
                problem,
            };
            let fields: Vec<&str> = line.split(' ').collect();
            let [kind, person, from, to, amount, standard, county] = fields[..] else {
                return Err(err(format!("expected 7 fields, found {}", fields.len())));
            };
            let kind =
                LineKind::parse(kind).ok_or_else(|| err(format!("unknown kind {kind:?}")))?;
            let month = |t: &str| Month::parse(t).map_err(|e| err(e.to_string()));
            let fen = |t: &str| {
                t.parse::<i64>()
                    .map(Fen)
                    .map_err(|_| err(format!("not an amount in fen: {t:?}")))
            };
            let (from, to) = (month(from)?, month(to)?);
            if to < from {
                return Err(err(format!("{to} is before {from}")));
            }
            let amounts = Amounts {
                amount: fen(amount)?,
                standard: fen(standard)?,
                county: fen(county)?,
            };
            let mut m = from;
            while m <= to {
                booked.add(person, kind, m, amounts);
                m = m.next();
            }
        }
        Ok(booked)
    }

    /// The text form, consecutive months with equal amounts merged.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for e in self.entries() {
            out.push_str(&format!(
                "{} {} {} {} {} {} {}\n",
                e.kind.as_str(),
                e.person,
                e.from,
                e.to,
                e.amounts.amount.get(),
                e.amounts.standard.get(),
                e.amounts.county.get()
            ));
        }
        out
    }

    /// The stored runs of equal amounts.
    pub fn entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        for ((person, kind, month), amounts) in &self.by_month {
            if let Some(last) = entries.last_mut()
                && last.person == *person
                && last.kind == *kind
                && last.to.next() == *month
                && last.amounts == *amounts
            {
                last.to = *month;
                continue;
            }
            entries.push(Entry {
                kind: *kind,
                person: person.clone(),
                from: *month,
                to: *month,
                amounts: *amounts,
            });
        }
        entries
    }

    /// Books a line: adds its amounts to the month's (a recovery is negative).
    pub fn add(&mut self, person: &str, kind: LineKind, month: Month, line: Amounts) {
        let key = (person.to_owned(), kind, month);
        let slot = self.by_month.entry(key.clone()).or_default();
        slot.amount = slot.amount + line.amount;
        slot.standard = slot.standard + line.standard;
        slot.county = slot.county + line.county;
        if slot.is_zero() {
            self.by_month.remove(&key);
        }
    }

    /// What is booked for a person, monthly kind and month.
    pub fn monthly(&self, person: &str, kind: LineKind, month: Month) -> Amounts {
        self.by_month
            .get(&(person.to_owned(), kind, month))
            .copied()
            .unwrap_or_default()
    }

    /// Every (person, kind, month) booked within `[from, to]` for monthly kinds.
    pub fn monthly_keys(
        &self,
        from: Month,
        to: Month,
    ) -> impl Iterator<Item = (&str, LineKind, Month)> {
        self.by_month
            .keys()
            .filter(move |(_, k, m)| k.is_monthly() && *m >= from && *m <= to)
            .map(|(p, k, m)| (p.as_str(), *k, *m))
    }

    /// What is booked for a grant kind: the person it went to, its month, and the amounts
    /// (summed over persons if corrections moved it).
    pub fn grant(&self, kind: LineKind) -> Option<(&str, Month, Amounts)> {
        let mut found: Option<(&str, Month, Amounts)> = None;
        for ((person, k, month), a) in &self.by_month {
            if *k != kind {
                continue;
            }
            match &mut found {
                None => found = Some((person.as_str(), *month, *a)),
                Some((_, _, sum)) => {
                    sum.amount = sum.amount + a.amount;
                    sum.standard = sum.standard + a.standard;
                    sum.county = sum.county + a.county;
                }
            }
        }
        found
    }

    /// The total booked.
    pub fn total(&self) -> Fen {
        self.by_month
            .values()
            .fold(Fen::ZERO, |sum, a| sum + a.amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::MonthlyKindKey;

    fn m(text: &str) -> Month {
        Month::parse(text).expect("test value")
    }

    const BEREAVED: LineKind = LineKind::Monthly(MonthlyKindKey::Bereaved);

    #[test]
    fn equal_months_are_stored_as_one_run() {
        let mut b = Booked::default();
        let a = Amounts {
            amount: Fen(50000),
            standard: Fen(17000),
            county: Fen(33000),
        };
        for month in ["2026-01", "2026-02", "2026-03"] {
            b.add("P1", BEREAVED, m(month), a);
        }
        let text = b.to_text();
        assert_eq!(
            text,
            "bereaved_assistance P1 2026-01 2026-03 50000 17000 33000\n"
        );
        assert_eq!(Booked::parse(&text).expect("test value"), b);
        // A recovery of February splits the run; booking it back merges it again.
        let minus = Amounts {
            amount: Fen(-50000),
            standard: Fen(-17000),
            county: Fen(-33000),
        };
        b.add("P1", BEREAVED, m("2026-02"), minus);
        assert_eq!(b.entries().len(), 2);
        assert_eq!(b.monthly("P1", BEREAVED, m("2026-02")), Amounts::default());
        b.add("P1", BEREAVED, m("2026-02"), a);
        assert_eq!(b.entries().len(), 1);
        assert_eq!(b.total(), Fen(150000));
    }

    #[test]
    fn damaged_positions_are_refused_with_the_line() {
        let e = Booked::parse("bereaved_assistance P1 2026-01 2026-03 5 1\n").expect_err("refused");
        assert_eq!(
            e.to_string(),
            "booked position, line 1: expected 7 fields, found 6"
        );
        let e = Booked::parse("pension P1 2026-01 2026-03 5 1 4").expect_err("refused");
        assert!(e.to_string().contains("unknown kind \"pension\""));
        let e = Booked::parse("bereaved_assistance P1 2026-03 2026-01 5 1 4").expect_err("refused");
        assert!(e.to_string().contains("2026-01 is before 2026-03"));
    }
}
