//! `guanai demo` through the real binary: a fresh archive with families, runs and one account per
//! role; a second start replaces it; a folder the demo did not make is refused.

use std::process::Command;

fn guanai() -> Command {
    Command::new(env!("CARGO_BIN_EXE_guanai"))
}

#[test]
fn the_demo_fills_a_fresh_archive_with_an_account_per_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    for _ in 0..2 {
        let out = guanai()
            .args([
                "demo",
                "--no-serve",
                "--families",
                "120",
                "--months",
                "2",
                "--dir",
            ])
            .arg(&demo)
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("120 户 families"), "{text}");
        for login in [
            "village",
            "township",
            "county",
            "city",
            "finance",
            "clerk",
            "inspector",
            "volunteer",
            "counsellor",
            "admin",
        ] {
            assert!(
                text.contains(&format!("\n  {login} ")),
                "{login} missing:\n{text}"
            );
        }
    }
    let users = guanai()
        .args(["user", "list", "--data-dir"])
        .arg(&demo)
        .output()
        .expect("run");
    let list = String::from_utf8_lossy(&users.stdout);
    assert_eq!(
        list.lines().count(),
        10,
        "one account per role, not two:\n{list}"
    );
    let verify = guanai()
        .args(["audit", "verify", "--data-dir"])
        .arg(&demo)
        .output()
        .expect("run");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let other = dir.path().join("not-a-demo");
    std::fs::create_dir_all(&other).expect("dir");
    std::fs::write(other.join("keep.txt"), "precious").expect("file");
    let out = guanai()
        .args(["demo", "--no-serve", "--dir"])
        .arg(&other)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not made by `guanai demo`"));
    assert!(other.join("keep.txt").exists(), "nothing of it was removed");
}
