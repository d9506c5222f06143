//! Drives the real `guanai` binary: the eval contract end to end, exit codes, ordering under
//! parallelism, the declarative policy suite, the generator and the adjustment proposal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn guanai() -> Command {
    Command::new(env!("CARGO_BIN_EXE_guanai"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = guanai()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start guanai");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("guanai runs");
    writer.join().expect("stdin writer");
    out
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("output line is not JSON ({e}): {l}"))
        })
        .collect()
}

fn generated(count: u64, seed: u64, invalid_share: &str) -> Vec<u8> {
    let out = guanai()
        .args([
            "gen",
            "--count",
            &count.to_string(),
            "--seed",
            &seed.to_string(),
            "--invalid-share",
            invalid_share,
        ])
        .output()
        .expect("gen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn the_example_file_evaluates_and_rejects_its_two_bad_lines() {
    let out = guanai()
        .args(["eval", "--month", "2015-01", "--input"])
        .arg(repo().join("examples/families.jsonl"))
        .output()
        .expect("eval runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "rejected lines give exit status 1"
    );
    let v = lines(&out);
    assert_eq!(v.len(), 7, "one output line per non-blank input line");
    assert_eq!(v[0]["family_id"], "F0001");
    assert_eq!(v[0]["category"], "bereaved");
    assert_eq!(v[1]["category"], "disabled");
    assert_eq!(v[2]["category"], "orphan");
    assert_eq!(
        v[3]["category"], "bereaved",
        "child died 2014-12-01: bereaved from 2015-01"
    );
    assert_eq!(v[4]["category"], "none", "grade 4 does not count");
    assert_eq!(v[5]["line"], 7, "the blank line 6 is skipped but counted");
    assert_eq!(
        v[5]["error"],
        "county_code: 371399 is not a Linyi county-level code"
    );
    assert_eq!(v[6]["line"], 8);
    assert_eq!(v[6]["family_id"], "F0007");
    assert_eq!(
        v[6]["error"],
        "parents[0].birth_date: not a date: 1960-02-30"
    );
}

#[test]
fn all_good_lines_give_exit_status_zero_and_crlf_is_accepted() {
    let line = std::fs::read_to_string(repo().join("examples/families.jsonl")).expect("example");
    let first = line.lines().next().expect("a line");
    let input = format!("{first}\r\n\r\n   \n{first}\r\n");
    let out = run_with_stdin(&["eval", "--month", "2014-12"], input.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&out).len(), 2);
}

#[test]
fn usage_errors_give_exit_status_two() {
    let code = |args: &[&str]| guanai().args(args).output().expect("runs").status.code();
    assert_eq!(code(&["eval", "--month", "2014-13"]), Some(2));
    assert_eq!(
        code(&["eval", "--month", "2014-12", "--policy", "nowhere-2099"]),
        Some(2)
    );
    assert_eq!(
        code(&[
            "eval",
            "--month",
            "2014-12",
            "--input",
            "/nonexistent/families.jsonl"
        ]),
        Some(2)
    );
    assert_eq!(
        code(&[
            "eval",
            "--month",
            "2014-12",
            "--input",
            "-",
            "--output",
            "/nonexistent/dir/out.jsonl"
        ]),
        Some(2)
    );
    assert_eq!(code(&["eval"]), Some(2));
    let out = guanai()
        .args(["eval", "--month", "2014-12", "--policy", "nowhere-2099"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown policy pack `nowhere-2099`"));
}

#[test]
fn a_broken_policy_file_is_rejected_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(repo().join("policies/linyi-2014.toml")).expect("pack");
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        text.replacen("grade_2 = 400000", "grade_2 = -400000", 1),
    )
    .expect("write");
    let out = run_with_stdin(
        &[
            "eval",
            "--month",
            "2014-12",
            "--policy-file",
            broken.to_str().expect("path"),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("one_time.disabled_grant.grade_2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_changed_rate_in_a_policy_file_changes_the_amount() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(repo().join("policies/linyi-2014.toml")).expect("pack");
    let raised = dir.path().join("raised.toml");
    let new_row = "\n[[local_rate]]\nfrom = \"2016-01\"\nsource = \"test\"\nbereaved = { urban = 60000, rural = 60000 }\ndisabled = { urban = 35000, rural = 35000 }\n";
    let text = text.replacen(
        "\n# One-time grants",
        &format!("{new_row}\n# One-time grants"),
        1,
    );
    std::fs::write(&raised, text).expect("write");
    let example = std::fs::read(repo().join("examples/families.jsonl")).expect("example");
    let first = example
        .split(|&b| b == b'\n')
        .next()
        .expect("line")
        .to_vec();
    let out = run_with_stdin(
        &[
            "eval",
            "--month",
            "2016-01",
            "--policy-file",
            raised.to_str().expect("path"),
        ],
        &first,
    );
    let v = lines(&out);
    assert_eq!(
        v[0]["monthly"][0]["amount_fen"],
        60000,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v[0]["monthly"][0]["county_fen"], 60000 - 17000);
}

#[test]
fn output_order_matches_input_order_across_threads() {
    let input = generated(20_000, 11, "0.05");
    let one = run_with_stdin(&["eval", "--month", "2020-06", "--threads", "1"], &input);
    let four = run_with_stdin(&["eval", "--month", "2020-06", "--threads", "4"], &input);
    assert_eq!(
        one.stdout, four.stdout,
        "parallel output is identical to sequential output"
    );
    let out = lines(&four);
    let ids: Vec<String> = String::from_utf8_lossy(&input)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .ok()
                .and_then(|v| v["family_id"].as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(out.len(), ids.len());
    for (i, (o, id)) in out.iter().zip(&ids).enumerate() {
        if o.get("error").is_some() {
            assert_eq!(o["line"], i as u64 + 1);
        } else {
            assert_eq!(o["family_id"].as_str(), Some(id.as_str()), "line {}", i + 1);
        }
    }
}

#[test]
fn shuffling_input_lines_only_shuffles_output_lines() {
    let input = generated(3_000, 5, "0");
    let mut shuffled: Vec<&[u8]> = input
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    // A fixed permutation: reverse, then interleave halves.
    shuffled.reverse();
    let (a, b) = shuffled.split_at(shuffled.len() / 2);
    let mixed: Vec<&[u8]> = a
        .iter()
        .zip(b)
        .flat_map(|(x, y)| [*x, *y])
        .chain(b.iter().skip(a.len()).copied())
        .collect();
    let joined: Vec<u8> = mixed.join(&b'\n');
    let sort = |out: &Output| {
        let mut l: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        l.sort();
        l
    };
    let original = run_with_stdin(&["eval", "--month", "2019-03"], &input);
    let permuted = run_with_stdin(&["eval", "--month", "2019-03"], &joined);
    assert_eq!(sort(&original), sort(&permuted));
}

#[test]
fn an_overlong_line_is_rejected_without_stopping_the_run() {
    let example = std::fs::read(repo().join("examples/families.jsonl")).expect("example");
    let first = example
        .split(|&b| b == b'\n')
        .next()
        .expect("line")
        .to_vec();
    let mut input = first.clone();
    input.push(b'\n');
    input.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    input.push(b'\n');
    input.extend(&first);
    let out = run_with_stdin(&["eval", "--month", "2015-01"], &input);
    assert_eq!(out.status.code(), Some(1));
    let v = lines(&out);
    assert_eq!(v.len(), 3);
    assert_eq!(v[1]["line"], 2);
    assert!(
        v[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("longer than"))
    );
    assert_eq!(v[2]["family_id"], "F0001");
}

#[test]
fn the_declarative_policy_suite_passes() {
    let out = guanai()
        .args(["policy", "test"])
        .arg(repo().join("policies/tests/linyi-2014"))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "policy suite failed:\n{stdout}");
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        last.starts_with("policy: ") && last.ends_with(" 0 failed"),
        "{last}"
    );
    let passed: u64 = last
        .trim_start_matches("policy: ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        passed >= 100,
        "the suite should hold at least 100 checks, ran {passed}"
    );
}

#[test]
fn a_failing_policy_test_is_reported_and_fails_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("wrong.toml");
    std::fs::write(
        &file,
        r#"
[[case]]
name = "a deliberately wrong expectation"
[case.family]
family_id = "T"
county_code = "371321"
hukou = "rural"
child = { birth_date = "1984-06-01", death_date = "2009-08-17" }
[[case.family.parents]]
id = "M"
sex = "female"
birth_date = "1960-04-12"
[[case.check]]
month = "2014-12"
category = "disabled"
monthly = [{ person_id = "M", kind = "bereaved_assistance", amount_fen = 50001, standard_fen = 17000, county_fen = 33001 }]
"#,
    )
    .expect("write");
    let out = guanai()
        .args(["policy", "test"])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL") && stdout.contains("category: expected disabled, got bereaved"),
        "{stdout}"
    );
    assert!(
        stdout.contains("monthly: expected [M bereaved_assistance 50001"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("policy: 0 passed, 1 failed"),
        "{stdout}"
    );
}

#[test]
fn gen_is_reproducible_per_seed() {
    assert_eq!(generated(500, 3, "0.1"), generated(500, 3, "0.1"));
    assert_ne!(generated(500, 3, "0.1"), generated(500, 4, "0.1"));
}

#[test]
fn generated_families_evaluate_without_rejections() {
    let input = generated(5_000, 21, "0");
    let out = run_with_stdin(&["eval", "--month", "2024-01"], &input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = lines(&out);
    assert_eq!(v.len(), 5_000);
    for category in ["bereaved", "disabled", "orphan", "none"] {
        assert!(
            v.iter().any(|o| o["category"] == category),
            "{category} present"
        );
    }
}

#[test]
fn propose_shows_the_arithmetic_and_rounds_up_to_ten_yuan() {
    let out = guanai()
        .args([
            "policy",
            "propose",
            "--urban-income-growth",
            "0.081",
            "--rural-income-growth",
            "0.112",
            "--cpi",
            "0.02",
        ])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("= 1.05825"), "{stdout}");
    assert!(
        stdout.contains("500.00 × 1.05825 = 529.125 yuan → 530.00 yuan"),
        "{stdout}"
    );
    assert!(
        stdout.contains("300.00 × 1.05825 = 317.475 yuan → 320.00 yuan"),
        "{stdout}"
    );
    assert!(
        stdout.contains("bereaved = { urban = 53000, rural = 53000 }"),
        "{stdout}"
    );
}

#[test]
fn id_check_reports_which_part_is_wrong() {
    let out = guanai()
        .args(["id", "check", "372822196503120173", "372822650312017"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("372822********0173: valid"), "{stdout}");
    assert!(
        stdout.contains("converted from 15 characters: 372822196503120173"),
        "{stdout}"
    );
    let out = guanai()
        .args(["id", "check", "372822196503120174"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("check character"));
}

#[test]
fn output_closed_early_by_a_pager_is_not_an_error() {
    use std::io::{BufRead, BufReader};
    let mut child = guanai()
        .args(["gen", "--count", "200000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gen");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a line");
    // The reader is dropped here, as `head -1` would close the pipe.
    let out = child.wait_with_output().expect("gen ends");
    assert!(first.starts_with("{\"family_id\":\"F0000001\""));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Broken pipe"));
}
