//! The law of record time: for any history of records, corrections and withdrawals, the file
//! "as known at t" is exactly the state after the operations made up to t (a model check).

use std::collections::BTreeMap;

use guanai_rules::CountyCode;
use guanai_store::file::FamilyFile;
use guanai_store::{FactId, FactRecord, FactValue, FamilyId};
use jiff::Timestamp;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Record a new note with this text.
    Record(u8),
    /// Replace the n-th live record (modulo the number live) with a new text.
    Correct(usize, u8),
    /// Withdraw the n-th live record.
    Withdraw(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u8>().prop_map(Op::Record),
        (any::<usize>(), any::<u8>()).prop_map(|(n, t)| Op::Correct(n, t)),
        any::<usize>().prop_map(Op::Withdraw),
    ]
}

fn note(t: u8) -> Option<FactValue> {
    Some(FactValue::Note {
        text: format!("note {t}"),
    })
}

proptest! {
    #[test]
    fn known_at_t_is_the_state_after_the_operations_up_to_t(ops in proptest::collection::vec(op(), 1..40)) {
        let start = Timestamp::from_second(1_700_000_000).expect("time");
        let mut records: Vec<FactRecord> = Vec::new();
        // The model: live fact id -> its text, after each operation.
        let mut live: BTreeMap<String, u8> = BTreeMap::new();
        let mut states: Vec<(Timestamp, BTreeMap<String, u8>)> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let at = start.checked_add(jiff::SignedDuration::from_secs(i as i64 * 60)).expect("time");
            let id = FactId::generate();
            let mut record = FactRecord {
                fact_id: id.clone(),
                person_id: None,
                value: None,
                kind: "note".into(),
                valid_from: None,
                recorded_at: at,
                recorded_by: "model".into(),
                reason: "test".into(),
                replaces: None,
            };
            let keys: Vec<String> = live.keys().cloned().collect();
            match *op {
                Op::Record(t) => {
                    record.value = note(t);
                    live.insert(id.to_string(), t);
                }
                Op::Correct(n, t) if !keys.is_empty() => {
                    let old = &keys[n % keys.len()];
                    record.value = note(t);
                    record.replaces = FactId::parse(old);
                    live.remove(old);
                    live.insert(id.to_string(), t);
                }
                Op::Withdraw(n) if !keys.is_empty() => {
                    let old = &keys[n % keys.len()];
                    record.replaces = FactId::parse(old);
                    live.remove(old);
                }
                _ => continue,
            }
            records.push(record);
            states.push((at, live.clone()));
        }
        let file = FamilyFile {
            family_id: FamilyId::generate(),
            family_no: "M-1".into(),
            county_code: CountyCode::parse("371302").expect("county"),
            version: 1,
            created_at: start,
            created_by: "model".into(),
            persons: Vec::new(),
            facts: records,
        };
        for (at, expected) in &states {
            let known: BTreeMap<String, u8> = file
                .current(Some(*at))
                .into_iter()
                .filter_map(|f| match &f.value {
                    Some(FactValue::Note { text }) => text.strip_prefix("note ").and_then(|t| t.parse().ok()).map(|t| (f.fact_id.to_string(), t)),
                    _ => None,
                })
                .collect();
            prop_assert_eq!(&known, expected);
        }
        // Nothing is ever lost: every record stays in the file.
        prop_assert_eq!(file.facts.len(), states.len());
    }
}
