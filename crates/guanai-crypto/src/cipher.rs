//! The cryptographic primitives behind a keyring entry: one data key
//! (AES-256-GCM or SM4-GCM) and one blind-index key (HMAC-SHA256 or HMAC-SM3).
//!
//! Cipher and MAC states are built per call from the stored key bytes; the
//! crates' `zeroize` features wipe their key schedules when they are dropped.

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{self, AeadInOut, KeyInit, KeySizeUser};
use aes_gcm::{Aes256Gcm, AesGcm};
use hmac::digest::OutputSizeUser;
use hmac::digest::block_api::EagerHash;
use hmac::digest::consts::{U32, U64};
use hmac::{Hmac, Mac};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;

/// SM4-GCM (RFC 8998): the generic GCM construction over the SM4 block cipher.
type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// Length of a GCM nonce.
pub(crate) const NONCE_LEN: usize = 12;
/// Length of a GCM authentication tag.
pub(crate) const TAG_LEN: usize = 16;
/// Length of a blind-index key and of a blind index.
pub(crate) const INDEX_KEY_LEN: usize = 32;
/// Block size of both SHA-256 and SM3, which HMAC pads its key to.
const HMAC_BLOCK_LEN: usize = 64;

/// The encryption key of one keyring entry; its variant is its algorithm.
#[derive(Clone)]
pub(crate) enum DataKey {
    /// A 256-bit AES key.
    Aes256(Zeroizing<[u8; 32]>),
    /// A 128-bit SM4 key (SM4 has no longer keys).
    Sm4(Zeroizing<[u8; 16]>),
}

impl DataKey {
    /// A fresh random key for `algorithm`.
    pub(crate) fn random(algorithm: Algorithm) -> Result<Self, getrandom::Error> {
        Ok(match algorithm {
            Algorithm::Aes256Gcm => {
                let mut key = Zeroizing::new([0; 32]);
                getrandom::fill(key.as_mut_slice())?;
                Self::Aes256(key)
            }
            Algorithm::Sm4Gcm => {
                let mut key = Zeroizing::new([0; 16]);
                getrandom::fill(key.as_mut_slice())?;
                Self::Sm4(key)
            }
        })
    }

    /// The algorithm this key is for.
    pub(crate) const fn algorithm(&self) -> Algorithm {
        match self {
            Self::Aes256(_) => Algorithm::Aes256Gcm,
            Self::Sm4(_) => Algorithm::Sm4Gcm,
        }
    }

    /// The raw key bytes (for the keyring's text form only).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Aes256(key) => key.as_slice(),
            Self::Sm4(key) => key.as_slice(),
        }
    }

    /// Encrypt `buffer` in place and return the authentication tag.
    ///
    /// Fails only for inputs beyond GCM's limits (64 GiB of plaintext).
    pub(crate) fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buffer: &mut [u8],
    ) -> Result<[u8; TAG_LEN], aead::Error> {
        match self {
            Self::Aes256(key) => seal(&Aes256Gcm::new((&**key).into()), nonce, aad, buffer),
            Self::Sm4(key) => seal(&Sm4Gcm::new((&**key).into()), nonce, aad, buffer),
        }
    }

    /// Check `tag` and decrypt `buffer` in place; on failure `buffer` is unchanged.
    pub(crate) fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), aead::Error> {
        match self {
            Self::Aes256(key) => open(&Aes256Gcm::new((&**key).into()), nonce, aad, buffer, tag),
            Self::Sm4(key) => open(&Sm4Gcm::new((&**key).into()), nonce, aad, buffer, tag),
        }
    }
}

fn seal<C>(
    cipher: &C,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buffer: &mut [u8],
) -> Result<[u8; TAG_LEN], aead::Error>
where
    C: AeadInOut<NonceSize = U12, TagSize = U16>,
{
    let tag = cipher.encrypt_inout_detached(nonce.into(), aad, buffer.into())?;
    Ok(tag.into())
}

fn open<C>(
    cipher: &C,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buffer: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), aead::Error>
where
    C: AeadInOut<NonceSize = U12, TagSize = U16>,
{
    cipher.decrypt_inout_detached(nonce.into(), aad, buffer.into(), tag.into())
}

/// The blind-index key of one keyring entry, kept apart from its data key so
/// that an index leaks nothing about the encryption key and vice versa.
#[derive(Clone)]
pub(crate) struct IndexKey(Zeroizing<[u8; INDEX_KEY_LEN]>);

impl IndexKey {
    /// A fresh random index key.
    pub(crate) fn random() -> Result<Self, getrandom::Error> {
        let mut key = Zeroizing::new([0; INDEX_KEY_LEN]);
        getrandom::fill(key.as_mut_slice())?;
        Ok(Self(key))
    }

    /// An index key from its bytes (already in a zeroizing buffer).
    pub(crate) const fn from_bytes(key: Zeroizing<[u8; INDEX_KEY_LEN]>) -> Self {
        Self(key)
    }

    /// The raw key bytes (for the keyring's text form only).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// HMAC over the concatenation of `parts`: HMAC-SHA256 for AES keyring
    /// entries, HMAC-SM3 for SM4 ones.
    pub(crate) fn mac(&self, algorithm: Algorithm, parts: &[&[u8]]) -> [u8; INDEX_KEY_LEN] {
        match algorithm {
            Algorithm::Aes256Gcm => hmac::<sha2::Sha256>(&self.0, parts),
            Algorithm::Sm4Gcm => hmac::<sm3::Sm3>(&self.0, parts),
        }
    }
}

/// HMAC with a 32-byte key over the concatenation of `parts`.
fn hmac<D>(key: &[u8; INDEX_KEY_LEN], parts: &[&[u8]]) -> [u8; 32]
where
    D: EagerHash + OutputSizeUser<OutputSize = U32>,
    Hmac<D>: KeyInit + KeySizeUser<KeySize = U64> + Mac + OutputSizeUser<OutputSize = U32>,
{
    // RFC 2104 pads a key shorter than the hash's block with zeros; doing it
    // here lets us use the infallible fixed-size constructor, and the result
    // is HMAC with the 32-byte key itself (the tests check known vectors).
    let mut block = Zeroizing::new([0u8; HMAC_BLOCK_LEN]);
    block[..INDEX_KEY_LEN].copy_from_slice(key);
    let mut mac = <Hmac<D> as KeyInit>::new((&*block).into());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex<const N: usize>(text: &str) -> [u8; N] {
        let bytes = hex::decode(text).expect("test vector is hex");
        bytes.try_into().expect("test vector has the stated length")
    }

    /// RFC 8998 Appendix A.1, SM4-GCM.
    #[test]
    fn sm4_gcm_reproduces_rfc_8998_test_vector() {
        let key = DataKey::Sm4(Zeroizing::new(unhex("0123456789ABCDEFFEDCBA9876543210")));
        let nonce: [u8; 12] = unhex("00001234567800000000ABCD");
        let aad = hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").expect("hex");
        let plaintext = hex::decode(concat!(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB",
            "CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
            "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFF",
            "EEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        ))
        .expect("hex");
        let ciphertext = hex::decode(concat!(
            "17F399F08C67D5EE19D0DC9969C4BB7D",
            "5FD46FD3756489069157B282BB200735",
            "D82710CA5C22F0CCFA7CBF93D496AC15",
            "A56834CBCF98C397B4024A2691233B8D",
        ))
        .expect("hex");
        let tag: [u8; 16] = unhex("83DE3541E4C2B58177E065A9BF7B62EC");

        let mut buffer = plaintext.clone();
        let computed_tag = key.seal_in_place(&nonce, &aad, &mut buffer).expect("seal");
        assert_eq!(buffer, ciphertext);
        assert_eq!(computed_tag, tag);

        key.open_in_place(&nonce, &aad, &mut buffer, &tag)
            .expect("open");
        assert_eq!(buffer, plaintext);
    }

    /// NIST GCM test case 16 (gcm-revised-spec), AES-256 with 60-byte plaintext and AAD.
    #[test]
    fn aes_256_gcm_reproduces_nist_test_case_16() {
        let key = DataKey::Aes256(Zeroizing::new(unhex(
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        )));
        let nonce: [u8; 12] = unhex("cafebabefacedbaddecaf888");
        let aad = hex::decode("feedfacedeadbeeffeedfacedeadbeefabaddad2").expect("hex");
        let plaintext = hex::decode(concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        ))
        .expect("hex");
        let ciphertext = hex::decode(concat!(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa",
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        ))
        .expect("hex");
        let tag: [u8; 16] = unhex("76fc6ece0f4e1768cddf8853bb2d551b");

        let mut buffer = plaintext;
        assert_eq!(
            key.seal_in_place(&nonce, &aad, &mut buffer).expect("seal"),
            tag
        );
        assert_eq!(buffer, ciphertext);
    }

    /// GM/T 0042-2015 Appendix D.3, cases 1 and 3 (the ones with 32-byte keys).
    #[test]
    fn hmac_sm3_reproduces_gmt_0042_vectors() {
        let key: [u8; 32] =
            unhex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
        let index_key = IndexKey::from_bytes(Zeroizing::new(key));
        let message = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(
            index_key.mac(Algorithm::Sm4Gcm, &[message, message]),
            unhex::<32>("ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a")
        );

        let index_key = IndexKey::from_bytes(Zeroizing::new([0x0b; 32]));
        assert_eq!(
            index_key.mac(Algorithm::Sm4Gcm, &[b"Hi There"]),
            unhex::<32>("c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e")
        );
    }

    /// RFC 4231 test case 2 uses a 4-byte key; this checks the zero-padding
    /// shortcut against the same key padded by hand to 32 bytes.
    #[test]
    fn hmac_sha256_with_padded_key_matches_rfc_4231_case_2() {
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let index_key = IndexKey::from_bytes(Zeroizing::new(key));
        assert_eq!(
            index_key.mac(
                Algorithm::Aes256Gcm,
                &[b"what do ya want ", b"for nothing?"]
            ),
            unhex::<32>("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }
}
