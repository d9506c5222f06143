//! The keyring: numbered keys, the active one, and the sealed-value format.
//!
//! A sealed value is
//!
//! ```text
//! [format version = 1][algorithm code][key id, u32 big-endian][12-byte nonce][ciphertext][16-byte tag]
//! ```
//!
//! with algorithm code 1 = AES-256-GCM, 2 = SM4-GCM. The first six bytes
//! (version, algorithm, key id) are authenticated together with the caller's
//! context (`aad`), so none of them can be changed without detection.

use std::fmt;

use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::cipher::{DataKey, INDEX_KEY_LEN, IndexKey, NONCE_LEN, TAG_LEN};
use crate::error::CryptoError;

/// The format version written into every sealed value.
const FORMAT_VERSION: u8 = 1;
/// Version, algorithm code and key id.
const HEADER_LEN: usize = 1 + 1 + 4;
/// The shortest possible sealed value: header, nonce and tag around an empty plaintext.
const MIN_SEALED_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

/// One numbered key: an encryption key and a separate blind-index key.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) id: u32,
    pub(crate) data: DataKey,
    pub(crate) index: IndexKey,
}

impl Entry {
    fn random(id: u32, algorithm: Algorithm) -> Result<Self, getrandom::Error> {
        Ok(Self {
            id,
            data: DataKey::random(algorithm)?,
            index: IndexKey::random()?,
        })
    }
}

/// The set of keys that protect personal data: one active key that encrypts
/// new values and computes blind indexes, and older keys kept so that values
/// sealed before a rotation still decrypt.
///
/// Each key has an id (1, 2, ...) and is for one [`Algorithm`]. It holds an
/// encryption key — 32 bytes for AES-256-GCM, 16 bytes for SM4-GCM, the
/// cipher's own key size — and a separate 32-byte blind-index key. All key
/// material is wiped from memory when the keyring is dropped; `Debug` shows
/// only ids and algorithms.
#[derive(Clone)]
pub struct Keyring {
    /// Sorted by id, ids unique, never empty.
    pub(crate) entries: Vec<Entry>,
    /// Position of the active key in `entries`.
    pub(crate) active: usize,
}

/// The parts of a sealed value, borrowed from it.
struct Sealed<'a> {
    header: &'a [u8; HEADER_LEN],
    algorithm: Algorithm,
    key_id: u32,
    nonce: &'a [u8; NONCE_LEN],
    ciphertext: &'a [u8],
    tag: &'a [u8; TAG_LEN],
}

impl<'a> Sealed<'a> {
    fn parse(sealed: &'a [u8]) -> Result<Self, CryptoError> {
        let truncated = CryptoError::Truncated {
            len: sealed.len(),
            min: MIN_SEALED_LEN,
        };
        let Some(&version) = sealed.first() else {
            return Err(truncated);
        };
        if version != FORMAT_VERSION {
            return Err(CryptoError::UnsupportedVersion(version));
        }
        let Some((header, rest)) = sealed.split_first_chunk::<HEADER_LEN>() else {
            return Err(truncated);
        };
        let Some((nonce, rest)) = rest.split_first_chunk::<NONCE_LEN>() else {
            return Err(truncated);
        };
        let Some((ciphertext, tag)) = rest.split_last_chunk::<TAG_LEN>() else {
            return Err(truncated);
        };
        let [_, code, id @ ..] = *header;
        let algorithm =
            Algorithm::from_code(code).ok_or(CryptoError::UnknownAlgorithmCode(code))?;
        Ok(Self {
            header,
            algorithm,
            key_id: u32::from_be_bytes(id),
            nonce,
            ciphertext,
            tag,
        })
    }
}

/// The authenticated data of a sealed value: its header, then the caller's context.
fn full_aad(header: [u8; HEADER_LEN], aad: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(HEADER_LEN + aad.len());
    full.extend_from_slice(&header);
    full.extend_from_slice(aad);
    full
}

/// Fill `buffer` from the operating system's random number generator.
///
/// # Panics
/// If the generator fails, which on supported systems does not happen once
/// the kernel's pool is initialised at boot.
fn fill_random(buffer: &mut [u8]) {
    if let Err(err) = getrandom::fill(buffer) {
        panic!("the operating system's random number generator failed: {err}");
    }
}

impl Keyring {
    /// A new keyring with one fresh random key (id 1) for `algorithm`.
    ///
    /// # Panics
    /// If the operating system's random number generator fails (see
    /// [`Keyring::load_or_create`] for a variant that returns the error).
    #[must_use]
    pub fn generate(algorithm: Algorithm) -> Keyring {
        match Self::try_generate(algorithm) {
            Ok(keyring) => keyring,
            Err(err) => panic!("the operating system's random number generator failed: {err}"),
        }
    }

    /// Like [`Keyring::generate`], returning a random-number failure as an error.
    pub(crate) fn try_generate(algorithm: Algorithm) -> Result<Keyring, CryptoError> {
        let entry = Entry::random(1, algorithm).map_err(CryptoError::Random)?;
        Ok(Keyring {
            entries: vec![entry],
            active: 0,
        })
    }

    /// Add a fresh key for `algorithm` and make it active; returns its id.
    /// Old keys stay for decryption.
    ///
    /// The new id is one more than the largest id in the keyring.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    pub fn rotate(&mut self, algorithm: Algorithm) -> u32 {
        let id = self.next_id();
        let entry = match Entry::random(id, algorithm) {
            Ok(entry) => entry,
            Err(err) => panic!("the operating system's random number generator failed: {err}"),
        };
        let position = self.entries.partition_point(|e| e.id < id);
        self.entries.insert(position, entry);
        self.active = position;
        id
    }

    /// One more than the largest id; should that be `u32::MAX`, the smallest
    /// unused id instead (a reused id cannot decrypt the old key's values:
    /// GCM authentication rejects them as tampered).
    fn next_id(&self) -> u32 {
        let largest = self.entries.iter().map(|e| e.id).max().unwrap_or(0);
        largest.checked_add(1).unwrap_or_else(|| {
            (1..=u32::MAX)
                .find(|id| self.position(*id).is_none())
                .unwrap_or(1)
        })
    }

    /// The id of the key that encrypts new values.
    #[must_use]
    pub fn active_id(&self) -> u32 {
        self.active_entry().id
    }

    /// The algorithm of the key that encrypts new values.
    #[must_use]
    pub fn active_algorithm(&self) -> Algorithm {
        self.active_entry().data.algorithm()
    }

    /// The ids and algorithms of all keys, in id order.
    #[must_use = "the iterator is lazy"]
    pub fn keys(&self) -> impl ExactSizeIterator<Item = (u32, Algorithm)> + '_ {
        self.entries.iter().map(|e| (e.id, e.data.algorithm()))
    }

    fn active_entry(&self) -> &Entry {
        &self.entries[self.active]
    }

    fn position(&self, id: u32) -> Option<usize> {
        self.entries.binary_search_by_key(&id, |e| e.id).ok()
    }

    fn entry(&self, id: u32) -> Result<&Entry, CryptoError> {
        self.position(id)
            .map(|position| &self.entries[position])
            .ok_or(CryptoError::UnknownKeyId(id))
    }

    /// Encrypt with the active key: output = `[format version byte][algorithm
    /// byte][key id u32 BE][12-byte random nonce][ciphertext+tag]`. `aad`
    /// binds the ciphertext to its context (e.g. `b"person.id_number"`), so a
    /// value copied to another column fails to decrypt.
    ///
    /// # Panics
    /// If the operating system's random number generator fails, or if
    /// `plaintext` exceeds GCM's limit of 64 GiB.
    #[must_use]
    pub fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let entry = self.active_entry();
        let mut header = [0u8; HEADER_LEN];
        header[0] = FORMAT_VERSION;
        header[1] = entry.data.algorithm().code();
        header[2..].copy_from_slice(&entry.id.to_be_bytes());
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce);

        // The plaintext is copied once, into the output, and encrypted there,
        // so no unencrypted copy is left behind in freed memory.
        let mut sealed = Vec::with_capacity(MIN_SEALED_LEN + plaintext.len());
        sealed.extend_from_slice(&header);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let body = &mut sealed[HEADER_LEN + NONCE_LEN..];
        let Ok(tag) = entry
            .data
            .seal_in_place(&nonce, &full_aad(header, aad), body)
        else {
            panic!(
                "cannot encrypt {} bytes: AES-GCM and SM4-GCM take at most 64 GiB",
                plaintext.len()
            );
        };
        sealed.extend_from_slice(&tag);
        sealed
    }

    /// Decrypt a value made by [`Keyring::encrypt`] with any key of this
    /// keyring, given the same `aad`.
    ///
    /// # Errors
    /// [`CryptoError::Tampered`] if any byte was changed or `aad` differs;
    /// [`CryptoError::UnknownKeyId`] if the key is not in the keyring;
    /// [`CryptoError::UnsupportedVersion`], [`CryptoError::Truncated`],
    /// [`CryptoError::UnknownAlgorithmCode`] or
    /// [`CryptoError::AlgorithmMismatch`] for values that are not intact
    /// sealed values.
    pub fn decrypt(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let sealed = Sealed::parse(sealed)?;
        let entry = self.entry(sealed.key_id)?;
        let key_algorithm = entry.data.algorithm();
        if key_algorithm != sealed.algorithm {
            return Err(CryptoError::AlgorithmMismatch {
                key_id: sealed.key_id,
                key: key_algorithm,
                value: sealed.algorithm,
            });
        }
        let mut plaintext = Zeroizing::new(sealed.ciphertext.to_vec());
        entry
            .data
            .open_in_place(
                sealed.nonce,
                &full_aad(*sealed.header, aad),
                &mut plaintext,
                sealed.tag,
            )
            .map_err(|_| CryptoError::Tampered)?;
        Ok(plaintext)
    }

    /// The key id a sealed value was made with (to find values that need
    /// re-encryption after rotation).
    ///
    /// This reads the header only; it does not check the value's integrity.
    ///
    /// # Errors
    /// [`CryptoError::UnsupportedVersion`], [`CryptoError::Truncated`] or
    /// [`CryptoError::UnknownAlgorithmCode`] if `sealed` is not a sealed value.
    pub fn key_id_of(sealed: &[u8]) -> Result<u32, CryptoError> {
        Sealed::parse(sealed).map(|sealed| sealed.key_id)
    }

    /// Blind index for exact lookup: HMAC over `domain ‖ 0x00 ‖ value` with
    /// the active key's separate index key — HMAC-SHA256 when the active key
    /// is AES, HMAC-SM3 when SM4. 32 bytes.
    ///
    /// `domain` names what is indexed (e.g. `"person.id_number"`), so equal
    /// values in different fields get unrelated indexes; it must not contain
    /// NUL. `value` is used as given: normalise it first (e.g. an ID number's
    /// check letter to upper case) so that equal values give equal indexes.
    #[must_use]
    pub fn blind_index(&self, domain: &str, value: &str) -> [u8; 32] {
        index_with(self.active_entry(), domain, value)
    }

    /// Blind index with a specific key id (used while rotating: look up with
    /// both the old and the new key until every index has been recomputed).
    ///
    /// # Errors
    /// [`CryptoError::UnknownKeyId`] if the keyring has no key `key_id`.
    pub fn blind_index_with(
        &self,
        key_id: u32,
        domain: &str,
        value: &str,
    ) -> Result<[u8; 32], CryptoError> {
        self.entry(key_id)
            .map(|entry| index_with(entry, domain, value))
    }
}

fn index_with(entry: &Entry, domain: &str, value: &str) -> [u8; INDEX_KEY_LEN] {
    debug_assert!(
        !domain.contains('\0'),
        "a blind-index domain must not contain NUL"
    );
    entry.index.mac(
        entry.data.algorithm(),
        &[domain.as_bytes(), &[0], value.as_bytes()],
    )
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Keys<'a>(&'a Keyring);
        impl fmt::Debug for Keys<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(
                        self.0
                            .keys()
                            .map(|(id, algorithm)| (id, algorithm.as_str())),
                    )
                    .finish()
            }
        }
        f.debug_struct("Keyring")
            .field("active_id", &self.active_id())
            .field("keys", &Keys(self))
            .finish_non_exhaustive()
    }
}
