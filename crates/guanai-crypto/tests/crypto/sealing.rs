//! Encrypting and decrypting single values.

use guanai_crypto::{Algorithm, CryptoError, Keyring};

const ID_NUMBER: &[u8] = b"11010519491231002X";
const AAD: &[u8] = b"person.id_number";

#[test]
fn aes_256_gcm_round_trip() {
    let keyring = Keyring::generate(Algorithm::Aes256Gcm);
    for plaintext in [
        &b""[..],
        ID_NUMBER,
        "张三 13812345678".as_bytes(),
        &[0u8; 1000],
    ] {
        let sealed = keyring.encrypt(plaintext, AAD);
        assert_eq!(
            keyring.decrypt(&sealed, AAD).expect("decrypts").as_slice(),
            plaintext
        );
    }
}

#[test]
fn sm4_gcm_round_trip() {
    let keyring = Keyring::generate(Algorithm::Sm4Gcm);
    assert_eq!(keyring.active_algorithm(), Algorithm::Sm4Gcm);
    for plaintext in [
        &b""[..],
        ID_NUMBER,
        "张三 13812345678".as_bytes(),
        &[0u8; 1000],
    ] {
        let sealed = keyring.encrypt(plaintext, AAD);
        assert_eq!(
            keyring.decrypt(&sealed, AAD).expect("decrypts").as_slice(),
            plaintext
        );
    }
}

#[test]
fn sealed_value_is_version_algorithm_key_id_nonce_ciphertext_tag() {
    for (algorithm, code) in [(Algorithm::Aes256Gcm, 1u8), (Algorithm::Sm4Gcm, 2)] {
        let mut keyring = Keyring::generate(algorithm);
        keyring.rotate(algorithm);
        keyring.rotate(algorithm);
        let sealed = keyring.encrypt(ID_NUMBER, AAD);
        assert_eq!(sealed[0], 1, "format version");
        assert_eq!(sealed[1], code, "algorithm code");
        assert_eq!(sealed[2..6], 3u32.to_be_bytes(), "key id, big-endian");
        assert_eq!(sealed.len(), 6 + 12 + ID_NUMBER.len() + 16);
    }
}

#[test]
fn each_encryption_draws_a_fresh_nonce() {
    let keyring = Keyring::generate(Algorithm::Aes256Gcm);
    let first = keyring.encrypt(ID_NUMBER, AAD);
    let second = keyring.encrypt(ID_NUMBER, AAD);
    assert_ne!(first[6..18], second[6..18]);
    assert_ne!(first, second);
}

#[test]
fn ciphertext_does_not_contain_the_plaintext() {
    for algorithm in [Algorithm::Aes256Gcm, Algorithm::Sm4Gcm] {
        let keyring = Keyring::generate(algorithm);
        let sealed = keyring.encrypt(ID_NUMBER, AAD);
        // Not even a 4-byte run of it survives.
        for window in ID_NUMBER.windows(4) {
            assert!(
                !sealed.windows(4).any(|w| w == window),
                "{algorithm}: sealed value contains plaintext bytes {window:?}"
            );
        }
    }
}

#[test]
fn tampering_with_any_byte_fails() {
    for algorithm in [Algorithm::Aes256Gcm, Algorithm::Sm4Gcm] {
        let keyring = Keyring::generate(algorithm);
        let sealed = keyring.encrypt(ID_NUMBER, AAD);
        for position in 0..sealed.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut tampered = sealed.clone();
                tampered[position] ^= flip;
                assert!(
                    keyring.decrypt(&tampered, AAD).is_err(),
                    "{algorithm}: flipping {flip:#04x} at byte {position} went unnoticed"
                );
            }
        }
    }
}

#[test]
fn changing_the_payload_is_reported_as_tampering() {
    let keyring = Keyring::generate(Algorithm::Aes256Gcm);
    let mut sealed = keyring.encrypt(ID_NUMBER, AAD);
    sealed[20] ^= 1;
    let err = keyring.decrypt(&sealed, AAD).expect_err("tampered");
    assert!(matches!(err, CryptoError::Tampered));
    assert!(
        err.to_string().starts_with("corrupted or tampered value"),
        "{err}"
    );
}

#[test]
fn a_value_copied_to_another_field_fails_to_decrypt() {
    for algorithm in [Algorithm::Aes256Gcm, Algorithm::Sm4Gcm] {
        let keyring = Keyring::generate(algorithm);
        let sealed = keyring.encrypt(b"13812345678", b"person.phone");
        let err = keyring
            .decrypt(&sealed, b"person.bank_account")
            .expect_err("wrong aad");
        assert!(matches!(err, CryptoError::Tampered), "{err}");
        assert!(keyring.decrypt(&sealed, b"").is_err());
    }
}

#[test]
fn a_value_sealed_with_another_keyring_fails() {
    let ours = Keyring::generate(Algorithm::Aes256Gcm);
    let theirs = Keyring::generate(Algorithm::Aes256Gcm);
    let sealed = theirs.encrypt(ID_NUMBER, AAD);
    assert!(matches!(
        ours.decrypt(&sealed, AAD),
        Err(CryptoError::Tampered)
    ));
}

#[test]
fn after_rotation_old_values_still_decrypt_and_new_values_use_the_new_key() {
    let mut keyring = Keyring::generate(Algorithm::Aes256Gcm);
    let old = keyring.encrypt(ID_NUMBER, AAD);
    assert_eq!(Keyring::key_id_of(&old).ok(), Some(1));

    let new_id = keyring.rotate(Algorithm::Sm4Gcm);
    assert_eq!(new_id, 2);
    assert_eq!(keyring.active_id(), 2);
    assert_eq!(keyring.active_algorithm(), Algorithm::Sm4Gcm);

    let new = keyring.encrypt(ID_NUMBER, AAD);
    assert_eq!(Keyring::key_id_of(&new).ok(), Some(2));
    assert_eq!(new[1], 2, "sealed with SM4-GCM");
    assert_eq!(
        keyring.decrypt(&old, AAD).expect("old value").as_slice(),
        ID_NUMBER
    );
    assert_eq!(
        keyring.decrypt(&new, AAD).expect("new value").as_slice(),
        ID_NUMBER
    );

    assert_eq!(keyring.rotate(Algorithm::Aes256Gcm), 3);
    assert_eq!(
        keyring.keys().collect::<Vec<_>>(),
        [
            (1, Algorithm::Aes256Gcm),
            (2, Algorithm::Sm4Gcm),
            (3, Algorithm::Aes256Gcm)
        ]
    );
}

#[test]
fn a_value_whose_key_is_missing_names_the_key_id() {
    let keyring = super::fixed_keyring(&[(7, "aes-256-gcm")], 7);
    let sealed = keyring.encrypt(ID_NUMBER, AAD);
    let other = super::fixed_keyring(&[(1, "aes-256-gcm")], 1);
    let err = other.decrypt(&sealed, AAD).expect_err("no key 7");
    assert!(matches!(err, CryptoError::UnknownKeyId(7)));
    assert!(err.to_string().starts_with("unknown key id 7"), "{err}");
}

#[test]
fn key_id_of_reads_the_header() {
    let keyring = super::fixed_keyring(&[(1, "aes-256-gcm"), (258, "sm4-gcm")], 258);
    let sealed = keyring.encrypt(b"x", AAD);
    assert_eq!(Keyring::key_id_of(&sealed).ok(), Some(258));
    assert!(matches!(
        Keyring::key_id_of(&sealed[..20]),
        Err(CryptoError::Truncated { len: 20, min: 34 })
    ));
    assert!(matches!(
        Keyring::key_id_of(b""),
        Err(CryptoError::Truncated { len: 0, .. })
    ));
}

#[test]
fn a_truncated_value_says_so() {
    let keyring = Keyring::generate(Algorithm::Aes256Gcm);
    let sealed = keyring.encrypt(b"", AAD);
    assert_eq!(sealed.len(), 34);
    let err = keyring.decrypt(&sealed[..33], AAD).expect_err("short");
    assert_eq!(
        err.to_string(),
        "corrupted or truncated value: 33 bytes, an encrypted value has at least 34"
    );
}

#[test]
fn an_unknown_format_version_says_so() {
    let keyring = Keyring::generate(Algorithm::Aes256Gcm);
    let mut sealed = keyring.encrypt(ID_NUMBER, AAD);
    sealed[0] = 9;
    let err = keyring.decrypt(&sealed, AAD).expect_err("version 9");
    assert!(matches!(err, CryptoError::UnsupportedVersion(9)));
    assert!(
        err.to_string().starts_with("unsupported format version 9"),
        "{err}"
    );
}

#[test]
fn an_algorithm_byte_that_disagrees_with_the_key_is_caught() {
    let keyring = Keyring::generate(Algorithm::Aes256Gcm);
    let mut sealed = keyring.encrypt(ID_NUMBER, AAD);
    sealed[1] = 2;
    let err = keyring.decrypt(&sealed, AAD).expect_err("mismatch");
    assert_eq!(
        err.to_string(),
        "corrupted or tampered value: it is marked sm4-gcm but key 1 is an aes-256-gcm key"
    );
    sealed[1] = 0x7f;
    assert!(matches!(
        keyring.decrypt(&sealed, AAD),
        Err(CryptoError::UnknownAlgorithmCode(0x7f))
    ));
}

#[test]
fn debug_output_shows_ids_and_algorithms_but_no_key_material() {
    let mut keyring = super::fixed_keyring(&[(1, "aes-256-gcm")], 1);
    keyring.rotate(Algorithm::Sm4Gcm);
    let debug = format!("{keyring:?}");
    assert_eq!(
        debug,
        r#"Keyring { active_id: 2, keys: {1: "aes-256-gcm", 2: "sm4-gcm"}, .. }"#
    );
    let text = keyring.to_text();
    for key_line in text.lines().filter(|line| line.starts_with("key ")) {
        for material in key_line.split(' ').skip(3) {
            assert!(!debug.contains(material));
        }
    }
}

#[test]
fn a_keyring_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<Keyring>();
}

#[test]
fn rotating_past_the_largest_key_id_takes_the_smallest_free_one() {
    let mut keyring = super::fixed_keyring(&[(1, "aes-256-gcm"), (u32::MAX, "aes-256-gcm")], 1);
    assert_eq!(keyring.rotate(Algorithm::Aes256Gcm), 2);
    assert_eq!(keyring.active_id(), 2);
    let sealed = keyring.encrypt(ID_NUMBER, AAD);
    assert_eq!(Keyring::key_id_of(&sealed).ok(), Some(2));
}
