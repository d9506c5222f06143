//! The encryption algorithms a key can be for, their names and their codes
//! in sealed values.

use std::fmt;
use std::str::FromStr;

use crate::error::CryptoError;

/// An authenticated encryption algorithm for values at rest.
///
/// Each key in a [`Keyring`](crate::Keyring) is for one algorithm, and every
/// sealed value records the algorithm it was made with, so a deployment can
/// switch (for example to 国密 for a government customer) by rotating to a key
/// of the other algorithm without re-encrypting old values first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// AES-256-GCM (256-bit key, 96-bit nonce, 128-bit tag); blind indexes use
    /// HMAC-SHA256. The default.
    #[default]
    Aes256Gcm,
    /// SM4-GCM as in RFC 8998 (国密 SM4 block cipher, 128-bit key, 96-bit
    /// nonce, 128-bit tag); blind indexes use HMAC-SM3.
    Sm4Gcm,
}

impl Algorithm {
    /// The name used in key files and configuration: `"aes-256-gcm"` or `"sm4-gcm"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "aes-256-gcm",
            Self::Sm4Gcm => "sm4-gcm",
        }
    }

    /// Parse a name as written by [`Algorithm::as_str`], ignoring ASCII case
    /// and surrounding whitespace.
    ///
    /// # Errors
    /// [`CryptoError::UnknownAlgorithm`] for any other name.
    pub fn parse(name: &str) -> Result<Self, CryptoError> {
        let trimmed = name.trim();
        [Self::Aes256Gcm, Self::Sm4Gcm]
            .into_iter()
            .find(|algorithm| algorithm.as_str().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| CryptoError::UnknownAlgorithm(trimmed.to_owned()))
    }

    /// The byte that names the algorithm inside a sealed value.
    pub(crate) const fn code(self) -> u8 {
        match self {
            Self::Aes256Gcm => 1,
            Self::Sm4Gcm => 2,
        }
    }

    /// The algorithm named by a sealed value's algorithm byte.
    pub(crate) const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Aes256Gcm),
            2 => Some(Self::Sm4Gcm),
            _ => None,
        }
    }

    /// Length in bytes of this algorithm's encryption key.
    pub(crate) const fn key_len(self) -> usize {
        match self {
            Self::Aes256Gcm => 32,
            Self::Sm4Gcm => 16,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = CryptoError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::parse(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ignore_case() {
        for algorithm in [Algorithm::Aes256Gcm, Algorithm::Sm4Gcm] {
            assert_eq!(Algorithm::parse(algorithm.as_str()).ok(), Some(algorithm));
            assert_eq!(Algorithm::from_code(algorithm.code()), Some(algorithm));
        }
        assert_eq!(Algorithm::parse(" SM4-GCM ").ok(), Some(Algorithm::Sm4Gcm));
        assert_eq!(Algorithm::default(), Algorithm::Aes256Gcm);
    }

    #[test]
    fn unknown_name_is_named_in_the_error() {
        let err = Algorithm::parse("des").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown encryption algorithm \"des\" (expected \"aes-256-gcm\" or \"sm4-gcm\")")
        );
    }
}
