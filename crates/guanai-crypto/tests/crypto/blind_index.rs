//! Blind indexes: HMAC of `domain ‖ 0x00 ‖ value` with the key's index key.

use guanai_crypto::{Algorithm, CryptoError, Keyring};

const DOMAIN: &str = "person.id_number";
const ID_NUMBER: &str = "11010519491231002X";

#[test]
fn is_deterministic_for_one_key() {
    for algorithm in [Algorithm::Aes256Gcm, Algorithm::Sm4Gcm] {
        let keyring = Keyring::generate(algorithm);
        assert_eq!(
            keyring.blind_index(DOMAIN, ID_NUMBER),
            keyring.blind_index(DOMAIN, ID_NUMBER)
        );
        let reloaded = Keyring::from_text(&keyring.to_text()).expect("round trip");
        assert_eq!(
            keyring.blind_index(DOMAIN, ID_NUMBER),
            reloaded.blind_index(DOMAIN, ID_NUMBER)
        );
        assert_ne!(
            keyring.blind_index(DOMAIN, ID_NUMBER),
            keyring.blind_index(DOMAIN, "110105194912310029")
        );
    }
}

#[test]
fn differs_between_domains() {
    let keyring = Keyring::generate(Algorithm::Aes256Gcm);
    assert_ne!(
        keyring.blind_index("person.id_number", "13812345678"),
        keyring.blind_index("person.phone", "13812345678")
    );
    // The 0x00 separator keeps the split between domain and value.
    assert_ne!(
        keyring.blind_index("person.a", "bc"),
        keyring.blind_index("person.ab", "c")
    );
}

#[test]
fn differs_between_keys() {
    let mut keyring = Keyring::generate(Algorithm::Aes256Gcm);
    let other = Keyring::generate(Algorithm::Aes256Gcm);
    assert_ne!(
        keyring.blind_index(DOMAIN, ID_NUMBER),
        other.blind_index(DOMAIN, ID_NUMBER)
    );

    let old = keyring.blind_index(DOMAIN, ID_NUMBER);
    keyring.rotate(Algorithm::Aes256Gcm);
    assert_ne!(keyring.blind_index(DOMAIN, ID_NUMBER), old);
    assert_eq!(
        keyring.blind_index_with(1, DOMAIN, ID_NUMBER).ok(),
        Some(old)
    );
    assert_eq!(
        keyring.blind_index_with(2, DOMAIN, ID_NUMBER).ok(),
        Some(keyring.blind_index(DOMAIN, ID_NUMBER))
    );
}

#[test]
fn with_an_unknown_key_id_names_it() {
    let keyring = Keyring::generate(Algorithm::Sm4Gcm);
    let err = keyring
        .blind_index_with(7, DOMAIN, ID_NUMBER)
        .expect_err("no key 7");
    assert!(matches!(err, CryptoError::UnknownKeyId(7)));
}

/// HMAC from its definition (RFC 2104) over any hash with a 64-byte block,
/// written here without the `hmac` crate the library uses.
fn hmac_by_definition<D: sm3::Digest>(key: &[u8; 32], message: &[u8]) -> Vec<u8> {
    let mut padded = [0u8; 64];
    padded[..32].copy_from_slice(key);
    let inner_pad: Vec<u8> = padded.iter().map(|b| b ^ 0x36).collect();
    let outer_pad: Vec<u8> = padded.iter().map(|b| b ^ 0x5c).collect();
    let inner = D::new()
        .chain_update(&inner_pad)
        .chain_update(message)
        .finalize();
    D::new()
        .chain_update(&outer_pad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn message(domain: &str, value: &str) -> Vec<u8> {
    [domain.as_bytes(), &[0], value.as_bytes()].concat()
}

#[test]
fn uses_hmac_sm3_for_an_sm4_key() {
    // Key 1's index key is 32 bytes of 0x41 (see `fixed_keyring`).
    let keyring = super::fixed_keyring(&[(1, "sm4-gcm")], 1);
    let expected = hmac_by_definition::<sm3::Sm3>(&[0x41; 32], &message(DOMAIN, ID_NUMBER));
    assert_eq!(keyring.blind_index(DOMAIN, ID_NUMBER).to_vec(), expected);
}

#[test]
fn uses_hmac_sha256_for_an_aes_key() {
    let keyring = super::fixed_keyring(&[(1, "aes-256-gcm")], 1);
    let expected = hmac_by_definition::<sha2::Sha256>(&[0x41; 32], &message(DOMAIN, ID_NUMBER));
    assert_eq!(keyring.blind_index(DOMAIN, ID_NUMBER).to_vec(), expected);
}

#[test]
fn follows_the_key_not_the_active_algorithm_while_rotating() {
    // Key 1 is SM4, so HMAC-SM3; key 2 (active) is AES, so HMAC-SHA256.
    let keyring = super::fixed_keyring(&[(1, "sm4-gcm"), (2, "aes-256-gcm")], 2);
    let old = keyring
        .blind_index_with(1, DOMAIN, ID_NUMBER)
        .expect("key 1");
    assert_eq!(
        old.to_vec(),
        hmac_by_definition::<sm3::Sm3>(&[0x41; 32], &message(DOMAIN, ID_NUMBER))
    );
    assert_eq!(
        keyring.blind_index(DOMAIN, ID_NUMBER).to_vec(),
        hmac_by_definition::<sha2::Sha256>(&[0x42; 32], &message(DOMAIN, ID_NUMBER))
    );
}
