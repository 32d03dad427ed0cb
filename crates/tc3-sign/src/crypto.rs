//! Small infallible wrappers over the RustCrypto primitives, and hex on the stack.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

pub(crate) type HmacSha256 = Hmac<Sha256>;
pub(crate) type HmacSha1 = Hmac<Sha1>;

/// HMAC block size of SHA-1 and SHA-256.
const BLOCK: usize = 64;

/// An HMAC-SHA256 keyed with `key` (any length).
///
/// Implements RFC 2104 key preparation directly (hash keys longer than the block, pad
/// with zeros), so it needs no fallible constructor.
pub(crate) fn hmac_sha256(key: &[u8]) -> HmacSha256 {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    HmacSha256::new(&block.into())
}

/// An HMAC-SHA1 keyed with `key` (any length); see [`hmac_sha256`].
pub(crate) fn hmac_sha1(key: &[u8]) -> HmacSha1 {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    HmacSha1::new(&block.into())
}

/// The 32-byte tag of a finished HMAC-SHA256: `tag(hmac_sha256(key).chain_update(msg))`.
pub(crate) fn tag(mac: HmacSha256) -> [u8; 32] {
    mac.finalize().into_bytes().into()
}

/// `SHA-256(data)` as raw bytes.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Two lower-case hex digits for every byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0x0f]];
        i += 1;
    }
    table
};

/// Lower-case hex of 32 bytes into a stack buffer.
pub(crate) fn hex32(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
    out
}

/// View of a hex buffer as `&str` (the buffer only ever holds ASCII hex digits).
pub(crate) fn hex_str(hex: &[u8; 64]) -> &str {
    std::str::from_utf8(hex).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2_and_long_keys() {
        // RFC 4231 test case 2.
        let got = tag(hmac_sha256(b"Jefe").chain_update(b"what do ya want for nothing?"));
        assert_eq!(
            hex_str(&hex32(&got)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231 test case 6 (131-byte key, hashed first).
        let got = tag(hmac_sha256(&[0xaa; 131])
            .chain_update(b"Test Using Larger Than Block-Size Key - Hash Key First"));
        assert_eq!(
            hex_str(&hex32(&got)),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        // Same as the library's own slice constructor for every key length around the block.
        for len in 0..200 {
            let key: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut a = hmac_sha256(&key);
            let mut b = <HmacSha256 as KeyInit>::new_from_slice(&key).unwrap();
            a.update(b"m");
            b.update(b"m");
            assert_eq!(a.finalize().into_bytes(), b.finalize().into_bytes());
            let mut a = hmac_sha1(&key);
            let mut b = <HmacSha1 as KeyInit>::new_from_slice(&key).unwrap();
            a.update(b"m");
            b.update(b"m");
            assert_eq!(a.finalize().into_bytes(), b.finalize().into_bytes());
        }
    }
}
