//! Black-box tests of guanai-crypto, one binary: sealed values, blind
//! indexes, the keyring's text form, the key file and display masking.

mod blind_index;
mod key_file;
mod mask;
mod sealing;
mod text_form;

use guanai_crypto::Keyring;

/// A keyring with fixed keys, written in the text form: key `id` has data key
/// bytes all equal to the low byte of `id`, index key bytes all that plus 0x40.
fn fixed_keyring(keys: &[(u32, &str)], active: u32) -> Keyring {
    Keyring::from_text(&fixed_keyring_text(keys, active)).expect("fixed keyring parses")
}

/// The text form behind [`fixed_keyring`].
fn fixed_keyring_text(keys: &[(u32, &str)], active: u32) -> String {
    use base64ct::{Base64, Encoding as _};
    let mut text = format!("guanai-keyring v1\nactive {active}\n");
    for &(id, algorithm) in keys {
        let len = if algorithm == "sm4-gcm" { 16 } else { 32 };
        let byte = id.to_le_bytes()[0];
        let data = Base64::encode_string(&vec![byte; len]);
        let index = Base64::encode_string(&[byte.wrapping_add(0x40); 32]);
        text.push_str(&format!("key {id} {algorithm} {data} {index}\n"));
    }
    text
}
