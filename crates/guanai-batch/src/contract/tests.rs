//! The contract's input rules, one test each, and a fuzz of the line parser.

use super::*;
use proptest::prelude::*;
use serde_json::Value;

const GOOD: &str = r#"{"family_id":"F0001","county_code":"371321","hukou":"rural","parents":[{"id":"F0001-M","sex":"female","birth_date":"1960-04-12","death_date":null,"later_child_date":null},{"id":"F0001-F","sex":"male","birth_date":"1958-01-30"}],"child":{"id":"F0001-C","birth_date":"1984-06-01","death_date":"2009-08-17","disability_grade":null,"disability_date":null}}"#;

fn today() -> Date {
    Date::new(2026, 11, 30).expect("date")
}

fn policy() -> Policy {
    Policy::embedded("linyi-2014").expect("pack")
}

fn settings(month: &str) -> EvalSettings {
    EvalSettings {
        month: Month::parse(month).expect("month"),
        lang: Lang::Zh,
        today: today(),
    }
}

/// Runs one line through the contract and parses the output line.
fn eval(line: &str, month: &str) -> Value {
    let mut out = Vec::new();
    eval_line(
        7,
        line.as_bytes(),
        &policy(),
        &settings(month),
        &mut Scratch::default(),
        &mut out,
    );
    assert_eq!(
        out.iter().filter(|&&b| b == b'\n').count(),
        1,
        "exactly one output line"
    );
    serde_json::from_slice(&out).expect("output is JSON")
}

fn error_of(line: &str) -> String {
    let v = eval(line, "2014-12");
    assert_eq!(v["line"], 7, "{v}");
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("expected a rejection, got {v}"))
        .to_owned()
}

fn replaced(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from} not in the example line");
    GOOD.replacen(from, to, 1)
}

#[test]
fn the_contract_example_evaluates_as_documented() {
    let v = eval(GOOD, "2014-12");
    assert_eq!(v["family_id"], "F0001");
    assert_eq!(v["month"], "2014-12");
    assert_eq!(v["category"], "bereaved");
    let monthly = v["monthly"].as_array().expect("monthly");
    assert_eq!(monthly.len(), 2);
    assert_eq!(monthly[0]["person_id"], "F0001-M");
    assert_eq!(monthly[0]["kind"], "bereaved_assistance");
    assert_eq!(
        (
            monthly[0]["amount_fen"].as_i64(),
            monthly[0]["standard_fen"].as_i64(),
            monthly[0]["county_fen"].as_i64()
        ),
        (Some(50000), Some(17000), Some(33000))
    );
    assert_eq!(monthly[1]["person_id"], "F0001-F");
    assert_eq!(v["one_time"][0]["kind"], "bereaved_grant");
    assert_eq!(v["one_time"][0]["amount_fen"], 1000000);
    assert_eq!(v["one_time"][0]["payer"], "county");
    let services = v["services"].as_array().expect("services");
    for (who, kind) in [
        ("F0001-M", "medical_relief"),
        ("F0001-F", "medical_relief"),
        ("F0001-M", "nursing_home_priority"),
    ] {
        assert!(
            services
                .iter()
                .any(|s| s["person_id"] == who && s["kind"] == kind),
            "{who} {kind}"
        );
    }
    let explanation = v["explanation"].as_array().expect("explanation");
    assert!(
        explanation
            .iter()
            .any(|e| e.as_str().is_some_and(|s| s.contains("二(二)")))
    );
}

#[test]
fn optional_fields_may_be_absent_or_null_and_unknown_fields_are_ignored() {
    let line = replaced(
        r#""hukou":"rural""#,
        r#""hukou":"rural","note":{"a":[1,2,{"b":null}]},"extra":7"#,
    );
    assert_eq!(eval(&line, "2014-12")["category"], "bereaved");
}

#[test]
fn broken_json_is_rejected_with_the_position() {
    let e = error_of(&GOOD[..60]);
    assert!(e.starts_with("line: not valid JSON"), "{e}");
}

#[test]
fn an_impossible_date_names_the_field_and_the_value() {
    assert_eq!(
        error_of(&replaced("1960-04-12", "1960-02-30")),
        "parents[0].birth_date: not a date: 1960-02-30"
    );
    assert_eq!(
        error_of(&replaced("2009-08-17", "2009-8-17")),
        "child.death_date: not a date: 2009-8-17"
    );
}

#[test]
fn unknown_enum_values_are_named() {
    assert_eq!(
        error_of(&replaced(r#""rural""#, r#""city""#)),
        r#"hukou: unknown value "city" (expected "urban" or "rural")"#
    );
    assert_eq!(
        error_of(&replaced(r#""sex":"male""#, r#""sex":"unknown""#)),
        r#"parents[1].sex: unknown value "unknown" (expected "female" or "male")"#
    );
}

#[test]
fn disability_grade_out_of_range_or_without_a_date_is_rejected() {
    let grade = |g: &str| {
        replaced(
            r#""disability_grade":null,"disability_date":null"#,
            &format!(r#""disability_grade":{g},"disability_date":"2000-01-01""#),
        )
    };
    assert_eq!(
        error_of(&grade("5")),
        "child.disability_grade: 5 is out of range 1–4"
    );
    assert_eq!(
        error_of(&grade("0")),
        "child.disability_grade: 0 is out of range 1–4"
    );
    assert!(error_of(&grade("2.5")).starts_with("child.disability_grade: invalid type"));
    assert!(error_of(&grade("\"2\"")).starts_with("child.disability_grade: invalid type: string"));
    assert_eq!(
        error_of(&replaced(
            r#""disability_grade":null"#,
            r#""disability_grade":2"#
        )),
        "child.disability_date: required when disability_grade is given"
    );
}

#[test]
fn missing_required_fields_are_named() {
    assert_eq!(
        error_of(&replaced(r#""county_code":"371321","#, "")),
        "county_code: required field is missing"
    );
    assert_eq!(
        error_of(&replaced(r#""id":"F0001-F","#, "")),
        "parents[1].id: required field is missing"
    );
    assert_eq!(
        error_of(&replaced(r#""birth_date":"1984-06-01","#, "")),
        "child.birth_date: required field is missing"
    );
    assert_eq!(
        error_of(&replaced(
            r#""county_code":"371321""#,
            r#""county_code":null"#
        )),
        "county_code: required field is missing"
    );
}

#[test]
fn strict_json_types_are_enforced() {
    assert!(
        error_of(&replaced(
            r#""county_code":"371321""#,
            r#""county_code":371321"#
        ))
        .starts_with("county_code: invalid type: integer")
    );
    assert!(
        error_of(&replaced(r#""parents":["#, r#""parents":{"x":["#))
            .starts_with("parents: invalid type: map")
    );
    let flag = replaced(r#""sex":"male""#, r#""sex":"male","dibao":"yes""#);
    assert!(
        error_of(&flag).starts_with("parents[1].dibao: invalid type: string"),
        "{}",
        error_of(&flag)
    );
}

#[test]
fn a_repeated_key_is_rejected_at_any_depth() {
    assert_eq!(
        error_of(&replaced(
            r#""hukou":"rural""#,
            r#""hukou":"rural","hukou":"urban""#
        )),
        "hukou: key repeated"
    );
    assert_eq!(
        error_of(&replaced(r#""sex":"male""#, r#""sex":"male","sex":"male""#)),
        "parents[1].sex: key repeated"
    );
    assert_eq!(
        error_of(&replaced(
            r#""hukou":"rural""#,
            r#""hukou":"rural","x":1,"x":2"#
        )),
        "x: key repeated"
    );
    assert_eq!(
        error_of(&replaced(
            r#""hukou":"rural""#,
            r#""hukou":"rural","x":{"y":1,"y":2}"#
        )),
        "x.y: key repeated"
    );
}

#[test]
fn dates_before_the_persons_birth_are_rejected() {
    assert_eq!(
        error_of(&replaced(
            r#""death_date":"2009-08-17""#,
            r#""death_date":"1980-01-01""#
        )),
        "child.death_date: 1980-01-01 is before the birth date 1984-06-01"
    );
    assert_eq!(
        error_of(&replaced(
            r#""later_child_date":null"#,
            r#""later_child_date":"1950-01-01""#
        )),
        "parents[0].later_child_date: 1950-01-01 is before the birth date 1960-04-12"
    );
}

#[test]
fn at_most_two_parents_and_one_of_each_sex() {
    let three = replaced(
        r#""birth_date":"1958-01-30"}"#,
        r#""birth_date":"1958-01-30"},{"id":"X","sex":"male","birth_date":"1958-01-30"}"#,
    );
    assert_eq!(error_of(&three), "parents: at most two parents, found 3");
    let two_mothers = replaced(r#""sex":"male""#, r#""sex":"female""#);
    assert_eq!(
        error_of(&two_mothers),
        "parents[1].sex: two parents are both female (at most one mother and one father)"
    );
}

#[test]
fn county_codes_must_be_linyi_county_level_codes() {
    assert_eq!(
        error_of(&replaced("371321", "110101")),
        "county_code: 110101 is not a Linyi county-level code"
    );
    assert_eq!(
        eval(&replaced("371321", "371372"), "2014-12")["category"],
        "bereaved"
    );
    assert_eq!(
        eval(&replaced("371321", "371371"), "2014-12")["category"],
        "bereaved"
    );
}

#[test]
fn empty_ids_are_rejected() {
    assert_eq!(
        error_of(&replaced(r#""id":"F0001-M""#, r#""id":"""#)),
        "parents[0].id: must not be empty"
    );
    assert_eq!(
        error_of(&replaced(r#""family_id":"F0001""#, r#""family_id":"""#)),
        "family_id: must not be empty"
    );
}

#[test]
fn a_rejected_line_carries_the_family_id_when_readable() {
    let v = eval(&replaced("1960-04-12", "1960-02-30"), "2014-12");
    assert_eq!(v["family_id"], "F0001");
    let without = replaced(r#"{"family_id":"F0001","#, "{");
    let late = format!(r#"{},"family_id":"F0001"}}"#, &without[..without.len() - 1]);
    let v = eval(&late.replacen("rural", "city", 1), "2014-12");
    assert_eq!(v["family_id"], "F0001", "{v}");
    let v = eval("{\"family_id\":", "2014-12");
    assert!(v.get("family_id").is_none());
}

#[test]
fn invalid_utf8_is_rejected_not_a_crash() {
    let mut out = Vec::new();
    let mut line = GOOD.as_bytes().to_vec();
    line[20] = 0xff;
    assert!(!eval_line(
        3,
        &line,
        &policy(),
        &settings("2014-12"),
        &mut Scratch::default(),
        &mut out
    ));
    let v: Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["line"], 3);
    assert!(v["error"].as_str().is_some_and(|e| e.contains("UTF-8")));
}

#[test]
fn an_id_number_must_be_valid_and_agree_with_birth_date_and_sex() {
    let with_id = |n: &str| {
        replaced(
            r#""birth_date":"1958-01-30""#,
            &format!(r#""birth_date":"1965-03-12","id_number":"{n}""#),
        )
    };
    assert_eq!(
        eval(&with_id("372822196503120173"), "2014-12")["category"],
        "bereaved"
    );
    let e = error_of(&with_id("372822196503120174"));
    assert!(
        e.starts_with("parents[1].id_number: ") && e.contains("check character"),
        "{e}"
    );
    let e = error_of(&with_id("371302199901010885"));
    assert!(e.starts_with("parents[1].id_number: "), "{e}");
    let lower = replaced(
        r#""birth_date":"1958-01-30""#,
        r#""birth_date":"1996-04-15","id_number":"37131119960415001x""#,
    );
    assert_eq!(eval(&lower, "2014-12")["category"], "bereaved");
}

#[test]
fn output_amounts_always_add_up_and_strings_are_escaped() {
    let line = replaced(r#""family_id":"F0001""#, r#""family_id":"F\"0\\0\u00011""#);
    let v = eval(&line, "2024-06");
    assert_eq!(v["family_id"], "F\"0\\0\u{1}1");
    for m in v["monthly"].as_array().expect("monthly") {
        assert_eq!(
            m["amount_fen"].as_i64(),
            Some(m["standard_fen"].as_i64().unwrap_or(0) + m["county_fen"].as_i64().unwrap_or(0))
        );
    }
}

#[test]
fn ids_with_quotes_backslashes_and_controls_stay_valid_json_in_explanations() {
    let line = replaced(r#""id":"F0001-M""#, r#""id":"M\"\\\n\u0007x""#);
    let v = eval(&line, "2014-12");
    assert_eq!(v["monthly"][0]["person_id"], "M\"\\\n\u{7}x");
    let text: Vec<&str> = v["explanation"]
        .as_array()
        .expect("explanation")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        text.iter().any(|t| t.contains("M\"\\\n\u{7}x（母亲）")),
        "{text:?}"
    );
}

#[test]
fn explanations_come_in_english_on_request() {
    let mut out = Vec::new();
    let en = EvalSettings {
        lang: Lang::En,
        ..settings("2014-12")
    };
    eval_line(
        1,
        GOOD.as_bytes(),
        &policy(),
        &en,
        &mut Scratch::default(),
        &mut out,
    );
    let v: Value = serde_json::from_slice(&out).expect("json");
    let text: Vec<&str> = v["explanation"]
        .as_array()
        .expect("explanation")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        text.iter()
            .any(|t| t.contains("bereaved: the only child died on 2009-08-17")),
        "{text:?}"
    );
}

fn mutate(line: &[u8], at: usize, byte: u8, cut: bool) -> Vec<u8> {
    let mut v = line.to_vec();
    if v.is_empty() {
        return v;
    }
    let at = at % v.len();
    if cut {
        v.truncate(at);
    } else {
        v[at] = byte;
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic and always give exactly one JSON line: a result or an error.
    #[test]
    fn any_bytes_give_one_json_line(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut out = Vec::new();
        eval_line(1, &bytes, &policy(), &settings("2014-12"), &mut Scratch::default(), &mut out);
        prop_assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        let v: Value = serde_json::from_slice(&out).expect("output is JSON");
        prop_assert!(v.get("error").is_some() || v.get("category").is_some());
    }

    /// Single-byte changes and truncations of a valid line never panic.
    #[test]
    fn mutated_lines_never_panic(at in 0usize..1000, byte in any::<u8>(), cut in any::<bool>()) {
        let line = mutate(GOOD.as_bytes(), at, byte, cut);
        let mut out = Vec::new();
        eval_line(1, &line, &policy(), &settings("2014-12"), &mut Scratch::default(), &mut out);
        let v: Value = serde_json::from_slice(&out).expect("output is JSON");
        prop_assert!(v.get("error").is_some() || v.get("category").is_some());
    }

    /// Structured garbage in every field position: always one JSON line, never a panic.
    #[test]
    fn any_json_value_in_a_field_never_panics(field in 0usize..9, value in prop_oneof![
        Just("null".to_owned()), Just("true".to_owned()), Just("[]".to_owned()), Just("{}".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()), any::<f64>().prop_map(|f| format!("{f:?}")),
        "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
    ]) {
        let keys = ["\"family_id\":\"F0001\"", "\"county_code\":\"371321\"", "\"hukou\":\"rural\"", "\"sex\":\"female\"",
            "\"birth_date\":\"1960-04-12\"", "\"death_date\":null", "\"later_child_date\":null", "\"disability_grade\":null", "\"id\":\"F0001-C\""];
        let key = keys[field];
        let name = &key[..key.find(':').unwrap_or(0)];
        let line = GOOD.replacen(key, &format!("{name}:{value}"), 1);
        let mut out = Vec::new();
        eval_line(1, line.as_bytes(), &policy(), &settings("2014-12"), &mut Scratch::default(), &mut out);
        let v: Value = serde_json::from_slice(&out).expect("output is JSON");
        prop_assert!(v.get("error").is_some() || v.get("category").is_some());
    }
}
