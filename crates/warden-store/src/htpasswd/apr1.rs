//! Apache's MD5-crypt (`$apr1$`): the FreeBSD MD5-crypt algorithm with its own magic string.

use md5::{Digest, Md5};

/// The prefix that names the scheme and is also mixed into the first digest.
pub(super) const MAGIC: &str = "$apr1$";

/// Longest salt the algorithm uses; Apache and nginx ignore anything longer.
pub(super) const SALT_MAX: usize = 8;

/// Length of the encoded digest: 128 bits in 6-bit characters.
pub(super) const DIGEST_LEN: usize = 22;

/// crypt(3)'s base64 alphabet, which orders `./` before the digits, unlike RFC 4648.
pub(super) const ITOA64: &[u8; 64] =
    b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Returns the 22-character encoded digest of `password` under `salt`.
pub(super) fn digest(password: &[u8], salt: &[u8]) -> [u8; DIGEST_LEN] {
    let mut out = [0u8; DIGEST_LEN];
    encode(&stretch(password, salt), &mut out);
    out
}

/// The initial digest followed by the 1000 rounds that make guessing slower.
fn stretch(password: &[u8], salt: &[u8]) -> [u8; 16] {
    let alternate: [u8; 16] = Md5::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize()
        .into();

    let mut ctx = Md5::new()
        .chain_update(password)
        .chain_update(MAGIC)
        .chain_update(salt);
    for chunk in password.chunks(16) {
        ctx.update(&alternate[..chunk.len()]);
    }
    // The original code meant to add the password's bits here but adds a zero
    // byte or its first character instead; every implementation keeps the quirk.
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..1]);
        }
        bits >>= 1;
    }

    let mut current: [u8; 16] = ctx.finalize().into();
    for round in 0..1000 {
        let mut ctx = Md5::new();
        if round % 2 == 1 {
            ctx.update(password);
        } else {
            ctx.update(current);
        }
        if round % 3 != 0 {
            ctx.update(salt);
        }
        if round % 7 != 0 {
            ctx.update(password);
        }
        if round % 2 == 1 {
            ctx.update(current);
        } else {
            ctx.update(password);
        }
        current = ctx.finalize().into();
    }
    current
}

/// Writes the digest bytes in the scheme's fixed, shuffled order.
fn encode(d: &[u8; 16], out: &mut [u8; DIGEST_LEN]) {
    let groups = [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)];
    for (i, &(a, b, c)) in groups.iter().enumerate() {
        let value = (u32::from(d[a]) << 16) | (u32::from(d[b]) << 8) | u32::from(d[c]);
        to64(value, &mut out[i * 4..i * 4 + 4]);
    }
    to64(u32::from(d[11]), &mut out[20..]);
}

/// Writes `value` as characters of 6 bits each, least significant first.
fn to64(mut value: u32, out: &mut [u8]) {
    for slot in out {
        *slot = ITOA64[(value & 0x3f) as usize];
        value >>= 6;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // From `openssl passwd -apr1 -salt saltsalt openssl-apr1`.
        let out = digest(b"openssl-apr1", b"saltsalt");
        assert_eq!(&out, b"5sXPUzSpDP6RaQ07l6wfj/");
    }

    #[test]
    fn empty_password() {
        // From `openssl passwd -apr1 -salt ab ''`.
        assert_eq!(&digest(b"", b"ab"), b"S8K6Sgp3W8c9Jb6LxgywZ.");
    }

    #[test]
    fn alphabet_is_crypt_order() {
        assert_eq!(ITOA64.len(), 64);
        assert_eq!(&ITOA64[..3], b"./0");
        assert_eq!(ITOA64[63], b'z');
    }
}
