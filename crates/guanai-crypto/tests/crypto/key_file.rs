//! The key file on disk: creation with mode 0600, reloading, refusal of open
//! permissions, crash-safe saving.

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt as _;

use guanai_crypto::{Algorithm, CryptoError, Keyring};

#[cfg(unix)]
fn mode_of(path: &std::path::Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
}

#[test]
fn load_or_create_creates_the_file_and_a_second_call_loads_the_same_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("etc").join("guanai").join("keys");

    let created = Keyring::load_or_create(&path, Algorithm::Sm4Gcm).expect("created");
    assert_eq!(created.active_id(), 1);
    assert_eq!(created.active_algorithm(), Algorithm::Sm4Gcm);
    #[cfg(unix)]
    {
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(mode_of(path.parent().expect("parent")), 0o700);
    }

    // The algorithm argument only matters when the file is created.
    let loaded = Keyring::load_or_create(&path, Algorithm::Aes256Gcm).expect("loaded");
    assert_eq!(loaded.to_text(), created.to_text());
    let sealed = created.encrypt(b"13812345678", b"person.phone");
    assert_eq!(
        loaded
            .decrypt(&sealed, b"person.phone")
            .expect("decrypts")
            .as_slice(),
        b"13812345678"
    );
    assert_eq!(
        loaded.blind_index("person.phone", "13812345678"),
        created.blind_index("person.phone", "13812345678")
    );

    let names: Vec<_> = fs::read_dir(path.parent().expect("parent"))
        .expect("list")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["keys"], "no temporary file is left behind");
}

#[cfg(unix)]
#[test]
fn a_key_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("keys");
    Keyring::generate(Algorithm::Aes256Gcm)
        .save(&path)
        .expect("saved");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");

    let err = Keyring::load_or_create(&path, Algorithm::Aes256Gcm).expect_err("refused");
    assert!(matches!(
        err,
        CryptoError::PermissionsTooOpen { mode: 0o644, .. }
    ));
    assert!(
        err.to_string()
            .starts_with("key file permissions too open: 0644 on "),
        "{err}"
    );

    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
    assert!(matches!(
        Keyring::load_or_create(&path, Algorithm::Aes256Gcm),
        Err(CryptoError::PermissionsTooOpen { mode: 0o640, .. })
    ));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).expect("chmod");
    assert!(Keyring::load_or_create(&path, Algorithm::Aes256Gcm).is_ok());
}

#[test]
fn save_replaces_the_file_with_the_rotated_keyring() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("keys");
    let mut keyring = Keyring::load_or_create(&path, Algorithm::Aes256Gcm).expect("created");
    let old = keyring.encrypt(b"6222021234567890123", b"person.bank_account");
    keyring.rotate(Algorithm::Sm4Gcm);
    keyring.save(&path).expect("saved");

    let reloaded = Keyring::load_or_create(&path, Algorithm::Aes256Gcm).expect("loaded");
    assert_eq!(reloaded.active_id(), 2);
    assert_eq!(reloaded.active_algorithm(), Algorithm::Sm4Gcm);
    assert_eq!(
        reloaded
            .decrypt(&old, b"person.bank_account")
            .expect("old value")
            .as_slice(),
        b"6222021234567890123"
    );
    #[cfg(unix)]
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1);
}

#[cfg(unix)]
#[test]
fn save_over_a_too_open_file_leaves_a_private_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("keys");
    fs::write(&path, "old").expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    Keyring::generate(Algorithm::Aes256Gcm)
        .save(&path)
        .expect("saved");
    assert_eq!(mode_of(&path), 0o600);
}

#[test]
fn a_malformed_key_file_is_reported_with_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("keys");
    Keyring::generate(Algorithm::Aes256Gcm)
        .save(&path)
        .expect("saved");
    let text = fs::read_to_string(&path).expect("read");
    let broken = text.replace("active 1", "active one");
    let line = broken
        .lines()
        .position(|l| l == "active one")
        .expect("active line")
        + 1;
    fs::write(&path, broken).expect("write");

    let err = Keyring::load_or_create(&path, Algorithm::Aes256Gcm).expect_err("malformed");
    assert_eq!(
        err.to_string(),
        format!(
            "malformed key file line {line}: a key id must be a whole number from 1 to 4294967295"
        )
    );
}

#[test]
fn an_unreadable_path_names_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A directory where the key file should be.
    let err = Keyring::load_or_create(dir.path(), Algorithm::Aes256Gcm).expect_err("a directory");
    let message = err.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
}

#[test]
fn concurrent_first_starts_agree_on_one_keyring() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("keys");
    let texts: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    Keyring::load_or_create(&path, Algorithm::Aes256Gcm)
                        .expect("created or loaded")
                        .to_text()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("thread"))
            .collect()
    });
    let on_disk = fs::read_to_string(&path).expect("read");
    assert!(texts.iter().all(|text| *text == on_disk));
    assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1);
}
