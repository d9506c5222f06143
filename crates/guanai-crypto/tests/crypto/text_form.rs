//! The keyring's text form: round trip and errors that name the line.

use guanai_crypto::{Algorithm, CryptoError, Keyring};

const AES_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="; // 32 bytes
const SM4_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEA=="; // 16 bytes
const INDEX_KEY: &str = "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A="; // 32 bytes

fn error_of(text: &str) -> String {
    Keyring::from_text(text)
        .expect_err("malformed text is refused")
        .to_string()
}

#[test]
fn round_trips_every_key_and_the_active_one() {
    let mut keyring = Keyring::generate(Algorithm::Aes256Gcm);
    let sealed_with_1 = keyring.encrypt(b"13812345678", b"person.phone");
    keyring.rotate(Algorithm::Sm4Gcm);
    keyring.rotate(Algorithm::Aes256Gcm);
    keyring.rotate(Algorithm::Sm4Gcm);
    let sealed_with_4 = keyring.encrypt(b"13812345678", b"person.phone");

    let text = keyring.to_text();
    let parsed = Keyring::from_text(&text).expect("own text form parses");
    assert_eq!(parsed.to_text(), text);
    assert_eq!(parsed.active_id(), 4);
    assert_eq!(parsed.active_algorithm(), Algorithm::Sm4Gcm);
    for sealed in [&sealed_with_1, &sealed_with_4] {
        assert_eq!(
            parsed
                .decrypt(sealed, b"person.phone")
                .expect("decrypts")
                .as_slice(),
            b"13812345678"
        );
    }
}

#[test]
fn text_form_is_versioned_line_based_base64() {
    let text = super::fixed_keyring(&[(1, "aes-256-gcm"), (2, "sm4-gcm")], 2).to_text();
    let significant: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        significant,
        [
            "guanai-keyring v1",
            "active 2",
            "key 1 aes-256-gcm AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
            "key 2 sm4-gcm AgICAgICAgICAgICAgICAg== QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=",
        ]
    );
}

#[test]
fn accepts_comments_blank_lines_crlf_and_any_key_order() {
    let text = format!(
        "# our keys\r\n\r\nguanai-keyring v1 # header\r\n\
         key 5 sm4-gcm {SM4_KEY} {INDEX_KEY}\r\n\
         \tkey   2 aes-256-gcm {AES_KEY} {INDEX_KEY}\r\n\
         active 5\r\n"
    );
    let keyring = Keyring::from_text(&text).expect("parses");
    assert_eq!(keyring.active_id(), 5);
    assert_eq!(
        keyring.keys().collect::<Vec<_>>(),
        [(2, Algorithm::Aes256Gcm), (5, Algorithm::Sm4Gcm)]
    );
}

#[test]
fn semicolons_let_the_keyring_fit_on_one_line_of_an_environment_file() {
    let one_line = format!("guanai-keyring v1; active 1; key 1 aes-256-gcm {AES_KEY} {INDEX_KEY}");
    let keyring = Keyring::from_text(&one_line).expect("parses");
    let multi_line = Keyring::from_text(&one_line.replace("; ", "\n")).expect("parses");
    assert_eq!(keyring.to_text(), multi_line.to_text());
    assert!(
        error_of("guanai-keyring v1; active 1; key 1 aes-256-gcm")
            .starts_with("malformed key file line 3:")
    );
}

#[test]
fn a_missing_header_is_reported_on_its_line() {
    let text = format!("# comment\nactive 1\nkey 1 aes-256-gcm {AES_KEY} {INDEX_KEY}\n");
    assert_eq!(
        error_of(&text),
        "malformed key file line 2: expected the header `guanai-keyring v1` first"
    );
}

#[test]
fn a_newer_format_version_is_named() {
    assert_eq!(
        error_of("guanai-keyring v2\n"),
        "malformed key file line 1: unsupported keyring version `v2` (this build reads v1)"
    );
}

#[test]
fn a_wrong_key_line_names_the_line_and_the_problem() {
    let cases = [
        (
            format!("key 1 aes-256-gcm {AES_KEY}"),
            "expected `key <id> <algorithm> <key> <index-key>` (5 fields)",
        ),
        (
            format!("key 0 aes-256-gcm {AES_KEY} {INDEX_KEY}"),
            "a key id must be a whole number from 1 to 4294967295",
        ),
        (
            format!("key +1 aes-256-gcm {AES_KEY} {INDEX_KEY}"),
            "a key id must be a whole number from 1 to 4294967295",
        ),
        (
            format!("key 1 des {AES_KEY} {INDEX_KEY}"),
            "unknown algorithm (expected aes-256-gcm or sm4-gcm)",
        ),
        (
            format!("key 1 aes-256-gcm {SM4_KEY} {INDEX_KEY}"),
            "the encryption key is not base64 of 32 bytes, as aes-256-gcm needs",
        ),
        (
            format!("key 1 sm4-gcm {AES_KEY} {INDEX_KEY}"),
            "the encryption key is not base64 of 16 bytes, as sm4-gcm needs",
        ),
        (
            format!("key 1 aes-256-gcm {AES_KEY} not*base64"),
            "the index key is not base64 of 32 bytes",
        ),
        (
            format!("key 1 aes-256-gcm {AES_KEY} {SM4_KEY}"),
            "the index key is not base64 of 32 bytes",
        ),
    ];
    for (line, problem) in cases {
        let text = format!("guanai-keyring v1\nactive 1\n{line}\n");
        assert_eq!(
            error_of(&text),
            format!("malformed key file line 3: {problem}"),
            "for {line:?}"
        );
    }
}

#[test]
fn duplicates_name_both_lines() {
    let key = format!("key 1 aes-256-gcm {AES_KEY} {INDEX_KEY}");
    assert_eq!(
        error_of(&format!("guanai-keyring v1\nactive 1\n{key}\n{key}\n")),
        "malformed key file line 4: key id 1 appears twice (first on line 3)"
    );
    assert_eq!(
        error_of(&format!("guanai-keyring v1\nactive 1\n{key}\nactive 1\n")),
        "malformed key file line 4: a second `active` line (the first is line 2)"
    );
}

#[test]
fn an_active_id_without_its_key_points_at_the_active_line() {
    let text = format!("guanai-keyring v1\n\nactive 3\nkey 1 aes-256-gcm {AES_KEY} {INDEX_KEY}\n");
    assert_eq!(
        error_of(&text),
        "malformed key file line 3: active key 3 has no `key 3 ...` line"
    );
}

#[test]
fn missing_parts_are_named() {
    assert_eq!(
        error_of("# nothing here\n\n"),
        "malformed key file: it is empty (expected the header `guanai-keyring v1`)"
    );
    assert_eq!(
        error_of(&format!(
            "guanai-keyring v1\nkey 1 aes-256-gcm {AES_KEY} {INDEX_KEY}\n"
        )),
        "malformed key file: no `active <id>` line says which key encrypts new values"
    );
    assert_eq!(
        error_of("guanai-keyring v1\nactive 1\n"),
        "malformed key file: it holds no `key` line"
    );
}

#[test]
fn errors_never_repeat_key_material() {
    // Fields in the wrong order, so key material sits where a word is expected.
    let texts = [
        format!("guanai-keyring v1\n{AES_KEY} key 1 aes-256-gcm {INDEX_KEY}\n"),
        format!("guanai-keyring v1\nactive {AES_KEY}\n"),
        format!("guanai-keyring v1\nkey 1 {AES_KEY} aes-256-gcm {INDEX_KEY}\n"),
        format!("guanai-keyring v1\nkey {AES_KEY} 1 aes-256-gcm {INDEX_KEY}\n"),
        format!("guanai-keyring {AES_KEY}\n"),
        format!("{AES_KEY}\n"),
    ];
    for text in texts {
        let message = error_of(&text);
        assert!(message.starts_with("malformed key file"), "{message}");
        for secret in [AES_KEY, INDEX_KEY, &AES_KEY[..12], &INDEX_KEY[..12]] {
            assert!(!message.contains(secret), "{message}");
        }
    }
    assert!(matches!(
        Keyring::from_text("guanai-keyring v1\nactive x\n"),
        Err(CryptoError::MalformedLine { line: 2, .. })
    ));
}
