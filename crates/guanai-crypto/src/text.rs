//! The keyring's text form, as kept in a key file or the `GUANAI_KEY`
//! environment variable.
//!
//! ```text
//! # Guanai keyring: SECRET. ...
//! guanai-keyring v1
//! active 2
//! key 1 aes-256-gcm <encryption key, base64> <index key, base64>
//! key 2 sm4-gcm <encryption key, base64> <index key, base64>
//! ```
//!
//! - The first line that is not blank or a comment must be `guanai-keyring v1`.
//! - `active <id>` names the key that encrypts new values; exactly once.
//! - `key <id> <algorithm> <key> <index-key>`, once per key: id a whole
//!   number from 1 to 4294967295, unique; algorithm `aes-256-gcm` or
//!   `sm4-gcm`; the encryption key is standard padded base64 of 32 bytes for
//!   AES-256-GCM and of 16 bytes for SM4-GCM; the index key is base64 of 32
//!   bytes. At least one key.
//! - Fields are separated by spaces or tabs; `#` starts a comment that runs
//!   to the end of the line; blank lines are ignored.
//! - `;` may stand for a line break, so the whole keyring fits on one line of
//!   an environment file; in error messages each `;`-separated part counts
//!   as a line.

use std::fmt::Write as _;

use base64ct::{Base64, Encoding as _};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::cipher::{DataKey, INDEX_KEY_LEN, IndexKey};
use crate::error::CryptoError;
use crate::keyring::{Entry, Keyring};

/// The first significant line of the text form.
const HEADER: &str = "guanai-keyring v1";

/// Comment written at the top of the text form.
const PREAMBLE: &str = "\
# Guanai keyring: SECRET. Anyone with this text can read the personal data it protects,
# and without it that data is lost for good. Keep the file mode 0600 and keep a backup
# (offline, as safe as the database backup). Format: `active <id>`, then one line
# `key <id> <algorithm> <encryption key, base64> <blind-index key, base64>` per key.
";

impl Keyring {
    /// The text form: versioned, line-based, base64 key material, one line
    /// per key with id and algorithm, and which key is active. Round-trips
    /// through [`Keyring::from_text`].
    ///
    /// The string holds key material: wrap it in [`zeroize::Zeroizing`] if it
    /// is not handed straight on.
    #[must_use]
    pub fn to_text(&self) -> String {
        // Sized up front so that the string never reallocates and leaves
        // copies of key material behind in freed memory.
        let capacity = PREAMBLE.len() + HEADER.len() + 32 + self.entries.len() * 160;
        let mut text = String::with_capacity(capacity);
        text.push_str(PREAMBLE);
        text.push_str(HEADER);
        text.push('\n');
        // Writing into a String cannot fail.
        let _ = writeln!(text, "active {}", self.active_id());
        for entry in &self.entries {
            let _ = writeln!(
                text,
                "key {} {} {} {}",
                entry.id,
                entry.data.algorithm(),
                Base64Display(entry.data.as_bytes()),
                Base64Display(entry.index.as_bytes()),
            );
        }
        text
    }

    /// Parse the text form (what a key file or the `GUANAI_KEY` environment
    /// variable holds), as written by [`Keyring::to_text`].
    ///
    /// # Errors
    /// [`CryptoError::MalformedLine`] naming the first wrong line and what is
    /// wrong with it; [`CryptoError::MalformedKeyFile`] if there is no header,
    /// no `active` line or no key.
    pub fn from_text(text: &str) -> Result<Keyring, CryptoError> {
        let mut seen_header = false;
        // (line number, id) of the `active` line.
        let mut active: Option<(usize, u32)> = None;
        // (line number, entry), in file order.
        let mut entries: Vec<(usize, Entry)> = Vec::new();

        for (index, raw) in text.split(['\n', ';']).enumerate() {
            let line = index + 1;
            let content = raw.split_once('#').map_or(raw, |(before, _)| before);
            let mut fields = content.split_ascii_whitespace();
            let Some(kind) = fields.next() else {
                continue;
            };
            if !seen_header {
                parse_header(line, kind, fields)?;
                seen_header = true;
                continue;
            }
            match kind {
                "active" => {
                    let id = parse_active(line, fields)?;
                    if let Some((first, _)) = active {
                        return Err(malformed(
                            line,
                            format!("a second `active` line (the first is line {first})"),
                        ));
                    }
                    active = Some((line, id));
                }
                "key" => {
                    let entry = parse_key(line, fields)?;
                    if let Some((first, _)) = entries.iter().find(|(_, e)| e.id == entry.id) {
                        return Err(malformed(
                            line,
                            format!("key id {} appears twice (first on line {first})", entry.id),
                        ));
                    }
                    entries.push((line, entry));
                }
                // The unknown word is not echoed: on a garbled line it may be key material.
                _ => {
                    return Err(malformed(
                        line,
                        "expected `active <id>` or `key <id> <algorithm> <key> <index-key>`",
                    ));
                }
            }
        }

        if !seen_header {
            return Err(CryptoError::MalformedKeyFile(
                "it is empty (expected the header `guanai-keyring v1`)",
            ));
        }
        let Some((active_line, active_id)) = active else {
            return Err(CryptoError::MalformedKeyFile(
                "no `active <id>` line says which key encrypts new values",
            ));
        };
        if entries.is_empty() {
            return Err(CryptoError::MalformedKeyFile("it holds no `key` line"));
        }
        let mut entries: Vec<Entry> = entries.into_iter().map(|(_, entry)| entry).collect();
        entries.sort_by_key(|entry| entry.id);
        let Some(active) = entries.iter().position(|entry| entry.id == active_id) else {
            return Err(malformed(
                active_line,
                format!("active key {active_id} has no `key {active_id} ...` line"),
            ));
        };
        Ok(Keyring { entries, active })
    }
}

fn malformed(line: usize, problem: impl Into<String>) -> CryptoError {
    CryptoError::MalformedLine {
        line,
        problem: problem.into(),
    }
}

fn parse_header<'a>(
    line: usize,
    kind: &str,
    mut fields: impl Iterator<Item = &'a str>,
) -> Result<(), CryptoError> {
    if kind != "guanai-keyring" {
        return Err(malformed(
            line,
            format!("expected the header `{HEADER}` first"),
        ));
    }
    match (fields.next(), fields.next()) {
        (Some("v1"), None) => Ok(()),
        (Some(version), None) if version.len() <= 8 => Err(malformed(
            line,
            format!("unsupported keyring version `{version}` (this build reads v1)"),
        )),
        _ => Err(malformed(line, format!("expected the header `{HEADER}`"))),
    }
}

fn parse_active<'a>(
    line: usize,
    mut fields: impl Iterator<Item = &'a str>,
) -> Result<u32, CryptoError> {
    let (Some(id), None) = (fields.next(), fields.next()) else {
        return Err(malformed(line, "expected `active <id>`"));
    };
    parse_id(line, id)
}

fn parse_key<'a>(
    line: usize,
    mut fields: impl Iterator<Item = &'a str>,
) -> Result<Entry, CryptoError> {
    let (Some(id), Some(algorithm), Some(data_key), Some(index_key), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(malformed(
            line,
            "expected `key <id> <algorithm> <key> <index-key>` (5 fields)",
        ));
    };
    let id = parse_id(line, id)?;
    let Ok(algorithm) = Algorithm::parse(algorithm) else {
        return Err(malformed(
            line,
            "unknown algorithm (expected aes-256-gcm or sm4-gcm)",
        ));
    };
    let data = match algorithm {
        Algorithm::Aes256Gcm => decode_key::<32>(data_key).map(DataKey::Aes256),
        Algorithm::Sm4Gcm => decode_key::<16>(data_key).map(DataKey::Sm4),
    }
    .ok_or_else(|| {
        malformed(
            line,
            format!(
                "the encryption key is not base64 of {} bytes, as {algorithm} needs",
                algorithm.key_len()
            ),
        )
    })?;
    let index = decode_key::<INDEX_KEY_LEN>(index_key)
        .map(IndexKey::from_bytes)
        .ok_or_else(|| {
            malformed(
                line,
                format!("the index key is not base64 of {INDEX_KEY_LEN} bytes"),
            )
        })?;
    Ok(Entry { id, data, index })
}

fn parse_id(line: usize, id: &str) -> Result<u32, CryptoError> {
    let digits_only = id.bytes().all(|b| b.is_ascii_digit());
    match id.parse::<u32>() {
        Ok(id) if digits_only && id > 0 => Ok(id),
        _ => Err(malformed(
            line,
            "a key id must be a whole number from 1 to 4294967295",
        )),
    }
}

/// Decode base64 of exactly `N` bytes straight into a zeroizing buffer.
fn decode_key<const N: usize>(text: &str) -> Option<Zeroizing<[u8; N]>> {
    let mut key = Zeroizing::new([0u8; N]);
    let decoded_len = Base64::decode(text, key.as_mut_slice()).ok()?.len();
    (decoded_len == N).then_some(key)
}

/// Writes bytes as standard padded base64 without an intermediate `String`.
struct Base64Display<'a>(&'a [u8]);

impl std::fmt::Display for Base64Display<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // 64 bytes encode to 88 characters; keys are 16 or 32 bytes.
        let mut buffer = Zeroizing::new([0u8; 88]);
        let encoded = Base64::encode(self.0, buffer.as_mut_slice()).map_err(|_| std::fmt::Error)?;
        f.write_str(encoded)
    }
}
