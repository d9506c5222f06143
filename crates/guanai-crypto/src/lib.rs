//! Encryption at rest for the personal data Guanai keeps about grieving families.
//!
//! Resident ID numbers (公民身份号码), phone numbers, bank accounts and
//! health/disability details are stored encrypted. This crate owns:
//!
//! - [`Keyring`]: the data keys, their text form and key file, key rotation;
//! - authenticated encryption of single values ([`Keyring::encrypt`],
//!   [`Keyring::decrypt`]) with AES-256-GCM by default or SM4-GCM (国密,
//!   Chinese commercial cryptography, RFC 8998), the algorithm and key id
//!   stored in every sealed value;
//! - blind indexes ([`Keyring::blind_index`]) for exact lookup by ID number
//!   without decrypting, HMAC-SHA256 or HMAC-SM3 with a key kept apart from
//!   the encryption key;
//! - [`mask`]: how a value is shown on screen when it is not shown in full.
//!
//! Key material lives in [`zeroize::Zeroizing`] buffers, is wiped when
//! dropped and never appears in `Debug` output or error messages.

#![warn(missing_docs)]

mod algorithm;
mod cipher;
mod error;
mod key_file;
mod keyring;
pub mod mask;
mod text;

pub use algorithm::Algorithm;
pub use error::CryptoError;
pub use keyring::Keyring;
