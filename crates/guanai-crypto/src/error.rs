//! The one error type of this crate. Messages say what is wrong and, where it
//! helps, what to do; they never contain key material or plaintext.

use std::path::PathBuf;

use crate::algorithm::Algorithm;

/// Everything that can go wrong with keys, key files and sealed values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// An algorithm name that is neither `aes-256-gcm` nor `sm4-gcm`.
    #[error("unknown encryption algorithm {0:?} (expected \"aes-256-gcm\" or \"sm4-gcm\")")]
    UnknownAlgorithm(String),

    /// A sealed value names a key that the keyring does not hold.
    #[error(
        "unknown key id {0}: the keyring has no such key \
         (is this the key file the value was encrypted with?)"
    )]
    UnknownKeyId(u32),

    /// Authentication failed: the bytes were modified, or the value was made
    /// with another key of the same id or for another context (`aad`).
    #[error(
        "corrupted or tampered value: authentication failed \
         (modified bytes, a different key, or a value copied from another field)"
    )]
    Tampered,

    /// The value's algorithm byte disagrees with the algorithm of the key it names.
    #[error("corrupted or tampered value: it is marked {value} but key {key_id} is an {key} key")]
    AlgorithmMismatch {
        /// The key id stored in the value.
        key_id: u32,
        /// The algorithm of that key in the keyring.
        key: Algorithm,
        /// The algorithm stored in the value.
        value: Algorithm,
    },

    /// The value's algorithm byte names no known algorithm.
    #[error("corrupted or tampered value: unknown algorithm code {0:#04x}")]
    UnknownAlgorithmCode(u8),

    /// The value was written by a newer (or a foreign) format.
    #[error("unsupported format version {0} of an encrypted value (this build reads version 1)")]
    UnsupportedVersion(u8),

    /// The value is shorter than the fixed header, nonce and tag.
    #[error("corrupted or truncated value: {len} bytes, an encrypted value has at least {min}")]
    Truncated {
        /// Length of the value given.
        len: usize,
        /// Smallest possible length of a sealed value.
        min: usize,
    },

    /// The key file can be read or written by group or others.
    #[error(
        "key file permissions too open: {mode:04o} on {path} (group or others may read the keys; run `chmod 600` on it)"
    )]
    PermissionsTooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// One line of a keyring's text form is wrong.
    #[error("malformed key file line {line}: {problem}")]
    MalformedLine {
        /// 1-based line number (`;`-separated parts count as lines).
        line: usize,
        /// What is wrong with it.
        problem: String,
    },

    /// The keyring's text form as a whole is wrong (no keys, no active key, ...).
    #[error("malformed key file: {0}")]
    MalformedKeyFile(&'static str),

    /// Reading or writing a key file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "read key file".
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
}
