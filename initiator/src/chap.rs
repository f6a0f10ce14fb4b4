//! CHAP authentication for the login's security stage (RFC 7143 §12.1.3, RFC 1994).
//!
//! The initiator offers `CHAP_A=8,7,6,5` (SHA3-256, SHA-256, SHA-1, MD5, strongest first), the
//! target picks one and sends `CHAP_I` and `CHAP_C`; we answer `CHAP_N` and
//! `CHAP_R = H(CHAP_I ‖ secret ‖ CHAP_C)`. For mutual CHAP we also send our own `CHAP_I`/`CHAP_C`,
//! built from random bytes the caller supplies (sans-IO: no RNG in here), and verify the
//! target's `CHAP_N`/`CHAP_R` in constant time.
//!
//! Bounds: a decoded challenge is 1..=[`MAX_CHALLENGE_LEN`] bytes (longer ones are refused with
//! [`ChapError::ChallengeTooLong`]); a secret is 1..=[`MAX_SECRET_LEN`] bytes; a CHAP name is at
//! most [`MAX_NAME_LEN`] bytes (the text value bound); a response is one digest
//! (at most [`MAX_RESPONSE_LEN`] bytes).
//!
//! ```
//! use initiator::chap::{ChapConfig, ChapInitiator, Secret};
//! let secret = Secret::new(b"secretsecret").unwrap();
//! let mut chap = ChapInitiator::new(ChapConfig::one_way("iqn.2026-01.test:host", &secret)).unwrap();
//! let mut out = Vec::new();
//! chap.offer(&mut |k: &str, v: &str| out.push((k.to_owned(), v.to_owned())));
//! assert_eq!(out, [("CHAP_A".to_owned(), "8,7,6,5".to_owned())]);
//! chap.receive("CHAP_A", "5").unwrap();
//! chap.receive("CHAP_I", "1").unwrap();
//! chap.receive("CHAP_C", "0x00112233").unwrap();
//! out.clear();
//! chap.respond(&mut |k: &str, v: &str| out.push((k.to_owned(), v.to_owned()))).unwrap();
//! assert_eq!(out[0], ("CHAP_N".to_owned(), "iqn.2026-01.test:host".to_owned()));
//! assert!(out[1].1.starts_with("0x"));
//! chap.finish().unwrap();
//! ```

use core::fmt;

use sha2::Digest;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Longest challenge we accept or send, in bytes after decoding.
pub const MAX_CHALLENGE_LEN: usize = 1024;
/// Longest secret, in bytes.
pub const MAX_SECRET_LEN: usize = 256;
/// Longest CHAP name (`CHAP_N`), in bytes (RFC 7143 §6.1 value bound).
pub const MAX_NAME_LEN: usize = 255;
/// Longest response: the SHA-256 / SHA3-256 digest size.
pub const MAX_RESPONSE_LEN: usize = 32;
/// Secrets shorter than this are weak; Microsoft's initiator refuses them (12..=16 bytes).
pub const MIN_RECOMMENDED_SECRET_LEN: usize = 12;
/// The `CHAP_A` value we offer: strongest first.
pub const CHAP_A_OFFER: &str = "8,7,6,5";
/// The algorithms of [`CHAP_A_OFFER`] ([`DEFAULT_ALGORITHMS`]), in offer order.
pub const OFFERED_ALGORITHMS: [ChapAlgorithm; 4] = [
    ChapAlgorithm::Sha3_256,
    ChapAlgorithm::Sha256,
    ChapAlgorithm::Sha1,
    ChapAlgorithm::Md5,
];

/// A CHAP digest algorithm (`CHAP_A`, IANA "PPP Authentication Algorithms").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChapAlgorithm {
    /// 5: MD5 (RFC 1994).
    Md5,
    /// 6: SHA-1.
    Sha1,
    /// 7: SHA-256.
    Sha256,
    /// 8: SHA3-256.
    Sha3_256,
    /// Any other code.
    Unknown(u8),
}

impl ChapAlgorithm {
    /// The algorithm for a `CHAP_A` code.
    #[must_use]
    pub const fn from_code(code: u8) -> Self {
        match code {
            5 => Self::Md5,
            6 => Self::Sha1,
            7 => Self::Sha256,
            8 => Self::Sha3_256,
            other => Self::Unknown(other),
        }
    }

    /// The `CHAP_A` code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Md5 => 5,
            Self::Sha1 => 6,
            Self::Sha256 => 7,
            Self::Sha3_256 => 8,
            Self::Unknown(code) => code,
        }
    }

    /// Digest size in bytes, `None` for an unknown algorithm.
    #[must_use]
    pub const fn digest_len(self) -> Option<usize> {
        match self {
            Self::Md5 => Some(16),
            Self::Sha1 => Some(20),
            Self::Sha256 | Self::Sha3_256 => Some(32),
            Self::Unknown(_) => None,
        }
    }
}

/// A CHAP response `H(id ‖ secret ‖ challenge)`: up to [`MAX_RESPONSE_LEN`] bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Response {
    bytes: [u8; MAX_RESPONSE_LEN],
    len: usize,
}

impl Response {
    /// The digest bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    /// Constant-time comparison with received bytes (length mismatch is not secret).
    #[must_use]
    pub fn ct_matches(&self, other: &[u8]) -> bool {
        self.as_bytes().ct_eq(other).into()
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Response(0x")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// Computes `H(id ‖ secret ‖ challenge)` with the given algorithm.
///
/// ```
/// use initiator::chap::{ChapAlgorithm, response};
/// // printf '\x01secretsecret\x00\x11\x22\x33' | md5sum
/// let r = response(ChapAlgorithm::Md5, 1, b"secretsecret", &[0x00, 0x11, 0x22, 0x33]).unwrap();
/// assert_eq!(r.as_bytes().len(), 16);
/// ```
pub fn response(
    algorithm: ChapAlgorithm,
    id: u8,
    secret: &[u8],
    challenge: &[u8],
) -> Result<Response, ChapError> {
    fn run<D: Digest>(id: u8, secret: &[u8], challenge: &[u8]) -> Response {
        let mut d = D::new();
        d.update([id]);
        d.update(secret);
        d.update(challenge);
        let out = d.finalize();
        let mut bytes = [0u8; MAX_RESPONSE_LEN];
        let len = out.len().min(MAX_RESPONSE_LEN);
        bytes[..len].copy_from_slice(&out[..len]);
        Response { bytes, len }
    }
    Ok(match algorithm {
        ChapAlgorithm::Md5 => run::<md5::Md5>(id, secret, challenge),
        ChapAlgorithm::Sha1 => run::<sha1::Sha1>(id, secret, challenge),
        ChapAlgorithm::Sha256 => run::<sha2::Sha256>(id, secret, challenge),
        ChapAlgorithm::Sha3_256 => run::<sha3::Sha3_256>(id, secret, challenge),
        ChapAlgorithm::Unknown(code) => return Err(ChapError::UnsupportedAlgorithm(code)),
    })
}

/// Computes CHAP responses (RFC 1994: `H(id ‖ secret ‖ challenge)`) for the algorithms it
/// knows; [`StandardChap`] is the real one, tests may plug in another.
///
/// CHAP_A numbers: 5 = MD5, 6 = SHA-1, 7 = SHA-256, 8 = SHA3-256.
pub trait ChapDigest {
    /// Writes the digest into `out` and returns its length, or `None` for an unknown algorithm.
    fn digest(
        &self,
        algorithm: u8,
        id: u8,
        secret: &[u8],
        challenge: &[u8],
        out: &mut [u8; 64],
    ) -> Option<usize>;
}

/// The hashes of [`response`]: MD5 (5), SHA-1 (6), SHA-256 (7), SHA3-256 (8).
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardChap;

impl ChapDigest for StandardChap {
    fn digest(
        &self,
        algorithm: u8,
        id: u8,
        secret: &[u8],
        challenge: &[u8],
        out: &mut [u8; 64],
    ) -> Option<usize> {
        let r = response(ChapAlgorithm::from_code(algorithm), id, secret, challenge).ok()?;
        let bytes = r.as_bytes();
        out.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(bytes.len())
    }
}

/// `digest` of `algorithm` as a [`Response`]; longer digests than [`MAX_RESPONSE_LEN`] are
/// refused.
fn response_with(
    digest: &dyn ChapDigest,
    algorithm: ChapAlgorithm,
    id: u8,
    secret: &[u8],
    challenge: &[u8],
) -> Result<Response, ChapError> {
    let mut out = [0u8; 64];
    let len = digest
        .digest(algorithm.code(), id, secret, challenge, &mut out)
        .ok_or(ChapError::UnsupportedAlgorithm(algorithm.code()))?;
    let mut bytes = [0u8; MAX_RESPONSE_LEN];
    bytes
        .get_mut(..len)
        .ok_or(ChapError::BadConfig)?
        .copy_from_slice(&out[..len]);
    out.zeroize();
    Ok(Response { bytes, len })
}

/// The CHAP_A codes offered by default: SHA3-256, SHA-256, SHA-1, MD5.
pub const DEFAULT_ALGORITHMS: [u8; 4] = [8, 7, 6, 5];

/// A CHAP secret: zeroized on drop, never printed.
///
/// ```
/// use initiator::chap::Secret;
/// let s = Secret::new(b"short").unwrap();
/// assert!(s.is_weak());
/// assert_eq!(format!("{s:?}"), "<redacted>");
/// ```
#[derive(Clone)]
pub struct Secret {
    bytes: [u8; MAX_SECRET_LEN],
    len: usize,
}

impl Secret {
    /// Copies a secret of 1..=[`MAX_SECRET_LEN`] bytes.
    pub fn new(secret: &[u8]) -> Result<Self, SecretError> {
        if secret.is_empty() {
            return Err(SecretError::Empty);
        }
        if secret.len() > MAX_SECRET_LEN {
            return Err(SecretError::TooLong(secret.len()));
        }
        let mut bytes = [0u8; MAX_SECRET_LEN];
        bytes[..secret.len()].copy_from_slice(secret);
        Ok(Self {
            bytes,
            len: secret.len(),
        })
    }

    /// The secret bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a secret has at least one byte.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when shorter than [`MIN_RECOMMENDED_SECRET_LEN`] (Windows refuses such secrets).
    #[must_use]
    pub fn is_weak(&self) -> bool {
        self.len < MIN_RECOMMENDED_SECRET_LEN
    }

    /// Constant-time equality of two secrets.
    #[must_use]
    pub fn ct_eq(&self, other: &Secret) -> bool {
        self.as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.zeroize();
        self.len.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A secret that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Empty secret.
    #[error("empty CHAP secret")]
    Empty,
    /// Longer than [`MAX_SECRET_LEN`].
    #[error("CHAP secret of {0} bytes exceeds 256")]
    TooLong(usize),
}

/// A malformed CHAP binary value (`0x…` hex or `0b…` base64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Neither `0x`/`0X` nor `0b`/`0B` prefix.
    #[error("binary value without 0x or 0b prefix")]
    MissingPrefix,
    /// Nothing after the prefix.
    #[error("empty binary value")]
    Empty,
    /// A character that is not a digit of the encoding.
    #[error("invalid digit in binary value")]
    InvalidDigit,
    /// The decoded value does not fit the output buffer.
    #[error("binary value too long")]
    TooLong,
}

/// Decodes a CHAP binary value (`0x` hex, odd digit count allowed, or `0b` base64) into `out`,
/// returning the number of bytes written.
///
/// ```
/// use initiator::chap::decode_value;
/// let mut out = [0u8; 8];
/// assert_eq!(decode_value("0x0a0B", &mut out), Ok(2));
/// assert_eq!(&out[..2], &[0x0a, 0x0b]);
/// assert_eq!(decode_value("0bAAEC", &mut out), Ok(3));
/// assert_eq!(&out[..3], &[0, 1, 2]);
/// ```
pub fn decode_value(value: &str, out: &mut [u8]) -> Result<usize, ValueError> {
    let (prefix, body) = value.split_at_checked(2).ok_or(ValueError::MissingPrefix)?;
    if body.is_empty() {
        return Err(if matches!(prefix, "0x" | "0X" | "0b" | "0B") {
            ValueError::Empty
        } else {
            ValueError::MissingPrefix
        });
    }
    match prefix {
        "0x" | "0X" => decode_hex(body.as_bytes(), out),
        "0b" | "0B" => decode_base64(body.as_bytes(), out),
        _ => Err(ValueError::MissingPrefix),
    }
}

fn hex_digit(c: u8) -> Result<u8, ValueError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(ValueError::InvalidDigit),
    }
}

fn decode_hex(digits: &[u8], out: &mut [u8]) -> Result<usize, ValueError> {
    // An odd digit count means an implied leading zero nibble (RFC 7143 §6.1 hex-constant).
    let len = digits.len().div_ceil(2);
    let dst = out.get_mut(..len).ok_or(ValueError::TooLong)?;
    let (first, rest) = if digits.len() % 2 == 1 {
        digits.split_at(1)
    } else {
        digits.split_at(0)
    };
    let mut i = 0;
    if let Some(&d) = first.first() {
        dst[0] = hex_digit(d)?;
        i = 1;
    }
    for pair in rest.chunks_exact(2) {
        dst[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        i += 1;
    }
    Ok(len)
}

/// The value of one base64 digit (RFC 4648 §4, standard alphabet).
fn base64_digit(c: u8) -> Result<u32, ValueError> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return Err(ValueError::InvalidDigit),
    };
    Ok(u32::from(v))
}

/// Base64 (RFC 4648 §4) with its `=` padding or without: RFC 7143 §6.1 writes the padding, and
/// some targets leave it out or shorten it. Padding may not run past the last 4-digit group, and
/// the unused bits of the last digit must be zero (RFC 4648 §3.5): what the `base64` crate
/// accepts with `DecodePaddingMode::Indifferent` (a property test holds the two together).
/// Written out rather than taken from that crate: its decoder is 2 KB of a firmware image, for
/// values decoded once or twice per login.
fn decode_base64(digits: &[u8], out: &mut [u8]) -> Result<usize, ValueError> {
    let data = digits
        .strip_suffix(b"==")
        .or_else(|| digits.strip_suffix(b"="))
        .unwrap_or(digits);
    if data.is_empty() || data.len() % 4 == 1 || digits.len() > data.len().next_multiple_of(4) {
        return Err(ValueError::InvalidDigit);
    }
    let len = data.len() / 4 * 3 + (data.len() % 4).saturating_sub(1);
    let dst = out.get_mut(..len).ok_or(ValueError::TooLong)?;
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut bytes = dst.iter_mut();
    for &c in data {
        acc = (acc << 6) | base64_digit(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if let Some(b) = bytes.next() {
                *b = (acc >> bits) as u8;
            }
        }
    }
    if acc & ((1 << bits) - 1) != 0 {
        return Err(ValueError::InvalidDigit);
    }
    Ok(len)
}

/// Encodes `bytes` as `0x` + lowercase hex into `out`, returning the text.
///
/// ```
/// use initiator::chap::encode_hex;
/// let mut buf = [0u8; 16];
/// assert_eq!(encode_hex(&[0xde, 0xad], &mut buf), Ok("0xdead"));
/// ```
pub fn encode_hex<'b>(bytes: &[u8], out: &'b mut [u8]) -> Result<&'b str, ValueError> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let len = bytes
        .len()
        .checked_mul(2)
        .and_then(|n| n.checked_add(2))
        .ok_or(ValueError::TooLong)?;
    let dst = out.get_mut(..len).ok_or(ValueError::TooLong)?;
    dst[0] = b'0';
    dst[1] = b'x';
    for (pair, b) in dst[2..].chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
    core::str::from_utf8(dst).map_err(|_| ValueError::InvalidDigit)
}

/// Mutual CHAP settings: how the target must prove itself.
#[derive(Debug, Clone, Copy)]
pub struct MutualChap<'a> {
    /// The target's secret (must differ from the initiator's, RFC 7143 §12.1.3).
    pub secret: &'a Secret,
    /// The `CHAP_N` the target must answer with; `None` accepts any name.
    pub target_name: Option<&'a str>,
    /// Our `CHAP_I`.
    pub identifier: u8,
    /// Our `CHAP_C`: fresh random bytes from the caller, 1..=[`MAX_CHALLENGE_LEN`] (16 or more
    /// recommended).
    pub challenge: &'a [u8],
}

/// What the initiator authenticates with.
#[derive(Clone, Copy)]
pub struct ChapConfig<'a> {
    /// Our `CHAP_N` (often the initiator IQN).
    pub name: &'a str,
    /// Our secret.
    pub secret: &'a Secret,
    /// Mutual CHAP, if the target must authenticate too.
    pub mutual: Option<MutualChap<'a>>,
    /// CHAP_A codes offered, in order of preference ([`DEFAULT_ALGORITHMS`]).
    pub algorithms: &'a [u8],
    /// The hash implementation ([`StandardChap`]).
    pub digest: &'a dyn ChapDigest,
}

impl fmt::Debug for ChapConfig<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChapConfig")
            .field("name", &self.name)
            .field("mutual", &self.mutual)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

impl<'a> ChapConfig<'a> {
    /// One-way CHAP: only we authenticate.
    #[must_use]
    pub fn one_way(name: &'a str, secret: &'a Secret) -> Self {
        Self {
            name,
            secret,
            mutual: None,
            algorithms: &DEFAULT_ALGORITHMS,
            digest: &StandardChap,
        }
    }

    /// True when either secret is shorter than [`MIN_RECOMMENDED_SECRET_LEN`].
    #[must_use]
    pub fn has_weak_secret(&self) -> bool {
        self.secret.is_weak() || self.mutual.is_some_and(|m| m.secret.is_weak())
    }
}

/// A CHAP key handled by [`ChapInitiator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChapKey {
    /// `CHAP_A`.
    A,
    /// `CHAP_I`.
    I,
    /// `CHAP_C`.
    C,
    /// `CHAP_N`.
    N,
    /// `CHAP_R`.
    R,
}

impl ChapKey {
    /// The key for a key name, if it is a CHAP key.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "CHAP_A" => Self::A,
            "CHAP_I" => Self::I,
            "CHAP_C" => Self::C,
            "CHAP_N" => Self::N,
            "CHAP_R" => Self::R,
            _ => return None,
        })
    }

    /// The key name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::A => "CHAP_A",
            Self::I => "CHAP_I",
            Self::C => "CHAP_C",
            Self::N => "CHAP_N",
            Self::R => "CHAP_R",
        }
    }
}

/// CHAP failed or the configuration cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChapError {
    /// The target chose an algorithm we did not offer.
    #[error("target chose CHAP algorithm {0}, which was not offered")]
    UnsupportedAlgorithm(u8),
    /// The target answered `CHAP_A` with `Reject`, `None`, `NotUnderstood` or a list.
    #[error("target refused every offered CHAP algorithm")]
    AlgorithmRejected,
    /// A CHAP key's value is malformed.
    #[error("malformed value for {}", .0.name())]
    InvalidValue(ChapKey),
    /// The target's challenge exceeds [`MAX_CHALLENGE_LEN`].
    #[error("CHAP_C exceeds 1024 bytes")]
    ChallengeTooLong,
    /// A CHAP name exceeds [`MAX_NAME_LEN`] or our challenge is empty or too long.
    #[error("CHAP name or challenge out of bounds")]
    BadConfig,
    /// The same secret is configured for both directions (RFC 7143 §12.1.3 forbids it).
    #[error("the initiator and target CHAP secrets must differ")]
    SameSecretBothWays,
    /// A required key has not been received.
    #[error("{} missing", .0.name())]
    Missing(ChapKey),
    /// A key arrived at the wrong moment.
    #[error("{} not expected now", .0.name())]
    Unexpected(ChapKey),
    /// The target's `CHAP_C` equals our challenge (reflection attack).
    #[error("target reflected our CHAP challenge")]
    ReflectedChallenge,
    /// The target's `CHAP_R` equals the response we sent (reflection attack).
    #[error("target reflected our CHAP response")]
    ReflectedResponse,
    /// The target's `CHAP_N` is not the configured one.
    #[error("target CHAP name does not match")]
    WrongTargetName,
    /// The target's `CHAP_R` is wrong: it does not know the secret.
    #[error("target failed mutual CHAP authentication")]
    TargetAuthFailed,
    /// Mutual CHAP is required but the target did not authenticate itself.
    #[error("target did not answer mutual CHAP")]
    TargetDidNotAuthenticate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    Offered,
    Responded,
    Done,
}

/// The initiator side of CHAP as a small state machine driven by key=value pairs.
///
/// 1. [`offer`](Self::offer) → `CHAP_A=8,7,6,5`;
/// 2. [`receive`](Self::receive) the target's `CHAP_A`, `CHAP_I`, `CHAP_C`;
/// 3. [`respond`](Self::respond) → `CHAP_N`, `CHAP_R` (+ `CHAP_I`, `CHAP_C` if mutual);
/// 4. [`receive`](Self::receive) the target's `CHAP_N`, `CHAP_R` (mutual only), then
///    [`finish`](Self::finish) verifies them.
pub struct ChapInitiator<'a> {
    config: ChapConfig<'a>,
    exchange: ChapExchange,
}

impl fmt::Debug for ChapInitiator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChapInitiator")
            .field("name", &self.config.name)
            .field("mutual", &self.config.mutual.is_some())
            .field("stage", &self.exchange.stage)
            .field("algorithm", &self.exchange.algorithm)
            .finish_non_exhaustive()
    }
}

impl<'a> ChapInitiator<'a> {
    /// Checks the configuration and starts.
    pub fn new(config: ChapConfig<'a>) -> Result<Self, ChapError> {
        Ok(Self {
            exchange: ChapExchange::new(&config)?,
            config,
        })
    }

    /// True when a configured secret is shorter than [`MIN_RECOMMENDED_SECRET_LEN`].
    #[must_use]
    pub fn has_weak_secret(&self) -> bool {
        self.config.has_weak_secret()
    }

    /// The algorithm the target chose, once known.
    #[must_use]
    pub fn algorithm(&self) -> Option<ChapAlgorithm> {
        self.exchange.algorithm
    }

    /// True once [`finish`](Self::finish) succeeded.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.exchange.stage == Stage::Done
    }

    /// Writes `CHAP_A` with the configured algorithms (`8,7,6,5` by default).
    pub fn offer<S: crate::params::KeySink>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        self.exchange.offer(&self.config, sink)
    }

    /// Takes one key=value pair from the target. Returns `Ok(false)` for a key that is not a
    /// CHAP key (the caller handles it), `Ok(true)` when consumed.
    pub fn receive(&mut self, key: &str, value: &str) -> Result<bool, ChapError> {
        self.exchange.receive(&self.config, key, value)
    }

    /// Writes our `CHAP_N` and `CHAP_R`, and for mutual CHAP our `CHAP_I` and `CHAP_C`.
    pub fn respond<S: crate::params::KeySink>(
        &mut self,
        sink: &mut S,
    ) -> Result<(), RespondError<S::Error>> {
        self.exchange.respond(&self.config, sink)
    }

    /// Completes CHAP after the target's last login response: for mutual CHAP verifies the
    /// target's `CHAP_N`/`CHAP_R` (constant-time); for one-way CHAP just checks the order.
    pub fn finish(&mut self) -> Result<(), ChapError> {
        self.exchange.finish(&self.config)
    }
}

/// The state of one CHAP exchange, without the credentials: the login keeps this across
/// round trips and lends the configuration on every call, so nothing borrows the session.
/// [`ChapInitiator`] is this plus its configuration.
#[derive(Clone)]
pub(crate) struct ChapExchange {
    stage: Stage,
    algorithm: Option<ChapAlgorithm>,
    target_id: Option<u8>,
    target_challenge: [u8; MAX_CHALLENGE_LEN],
    target_challenge_len: usize,
    our_response: Option<Response>,
    target_name_ok: Option<bool>,
    target_response: Option<Response>,
}

impl fmt::Debug for ChapExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChapExchange")
            .field("stage", &self.stage)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl ChapExchange {
    /// Checks `config` (bounds, distinct secrets, a non-empty offer) and starts.
    pub(crate) fn new(config: &ChapConfig<'_>) -> Result<Self, ChapError> {
        if config.name.len() > MAX_NAME_LEN || config.algorithms.is_empty() {
            return Err(ChapError::BadConfig);
        }
        if let Some(m) = config.mutual {
            if m.challenge.is_empty() || m.challenge.len() > MAX_CHALLENGE_LEN {
                return Err(ChapError::BadConfig);
            }
            if m.target_name.is_some_and(|n| n.len() > MAX_NAME_LEN) {
                return Err(ChapError::BadConfig);
            }
            if m.secret.ct_eq(config.secret) {
                return Err(ChapError::SameSecretBothWays);
            }
        }
        Ok(Self {
            stage: Stage::Start,
            algorithm: None,
            target_id: None,
            target_challenge: [0; MAX_CHALLENGE_LEN],
            target_challenge_len: 0,
            our_response: None,
            target_name_ok: None,
            target_response: None,
        })
    }

    /// The algorithm the target chose, once known.
    pub(crate) fn algorithm(&self) -> Option<ChapAlgorithm> {
        self.algorithm
    }

    /// True once the target's challenge (`CHAP_C`) has arrived.
    pub(crate) fn has_challenge(&self) -> bool {
        self.target_challenge_len > 0
    }

    /// True once our response went out.
    pub(crate) fn has_responded(&self) -> bool {
        matches!(self.stage, Stage::Responded | Stage::Done)
    }

    pub(crate) fn offer<S: crate::params::KeySink>(
        &mut self,
        config: &ChapConfig<'_>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        // At most 255 codes of 3 digits and a comma each.
        let mut list = [0u8; 4 * 256];
        let mut len = 0;
        for (i, code) in config.algorithms.iter().enumerate() {
            if i > 0 {
                list[len] = b',';
                len += 1;
            }
            let mut digits = [0u8; 10];
            let d = crate::text::format_decimal(u32::from(*code), &mut digits).as_bytes();
            list[len..len + d.len()].copy_from_slice(d);
            len += d.len();
            if len + 4 > list.len() {
                break;
            }
        }
        sink.put(
            "CHAP_A",
            core::str::from_utf8(&list[..len]).unwrap_or(CHAP_A_OFFER),
        )?;
        self.stage = Stage::Offered;
        Ok(())
    }

    pub(crate) fn receive(
        &mut self,
        config: &ChapConfig<'_>,
        key: &str,
        value: &str,
    ) -> Result<bool, ChapError> {
        let Some(k) = ChapKey::from_name(key) else {
            return Ok(false);
        };
        match (k, self.stage) {
            (ChapKey::A, Stage::Start | Stage::Offered) => {
                let code: u8 = parse_small_number(value).ok_or(ChapError::AlgorithmRejected)?;
                if !config.algorithms.contains(&code) {
                    return Err(ChapError::UnsupportedAlgorithm(code));
                }
                self.algorithm = Some(ChapAlgorithm::from_code(code));
            }
            (ChapKey::I, Stage::Start | Stage::Offered) => {
                self.target_id =
                    Some(parse_small_number(value).ok_or(ChapError::InvalidValue(ChapKey::I))?);
            }
            (ChapKey::C, Stage::Start | Stage::Offered) => {
                let n = decode_value(value, &mut self.target_challenge).map_err(|e| match e {
                    ValueError::TooLong => ChapError::ChallengeTooLong,
                    _ => ChapError::InvalidValue(ChapKey::C),
                })?;
                if n == 0 {
                    return Err(ChapError::InvalidValue(ChapKey::C));
                }
                self.target_challenge_len = n;
            }
            (ChapKey::N, Stage::Responded) if config.mutual.is_some() => {
                let expected = config.mutual.and_then(|m| m.target_name);
                self.target_name_ok = Some(expected.is_none_or(|n| n == value));
            }
            (ChapKey::R, Stage::Responded) if config.mutual.is_some() => {
                let mut bytes = [0u8; MAX_RESPONSE_LEN];
                let len = decode_value(value, &mut bytes)
                    .map_err(|_| ChapError::InvalidValue(ChapKey::R))?;
                self.target_response = Some(Response { bytes, len });
            }
            (k, _) => return Err(ChapError::Unexpected(k)),
        }
        Ok(true)
    }

    pub(crate) fn respond<S: crate::params::KeySink>(
        &mut self,
        config: &ChapConfig<'_>,
        sink: &mut S,
    ) -> Result<(), RespondError<S::Error>> {
        let alg = self.algorithm.ok_or(ChapError::Missing(ChapKey::A))?;
        let id = self.target_id.ok_or(ChapError::Missing(ChapKey::I))?;
        let challenge = self
            .target_challenge
            .get(..self.target_challenge_len)
            .filter(|c| !c.is_empty())
            .ok_or(ChapError::Missing(ChapKey::C))?;
        if let Some(m) = config.mutual
            && bool::from(m.challenge.ct_eq(challenge))
        {
            return Err(ChapError::ReflectedChallenge.into());
        }
        let ours = response_with(config.digest, alg, id, config.secret.as_bytes(), challenge)?;
        let mut hex = [0u8; 2 + 2 * MAX_CHALLENGE_LEN];
        sink.put("CHAP_N", config.name)
            .map_err(RespondError::Sink)?;
        let r = encode_hex(ours.as_bytes(), &mut hex).map_err(|_| ChapError::BadConfig)?;
        sink.put("CHAP_R", r).map_err(RespondError::Sink)?;
        if let Some(m) = config.mutual {
            let mut digits = [0u8; 10];
            sink.put(
                "CHAP_I",
                crate::text::format_decimal(u32::from(m.identifier), &mut digits),
            )
            .map_err(RespondError::Sink)?;
            let c = encode_hex(m.challenge, &mut hex).map_err(|_| ChapError::BadConfig)?;
            sink.put("CHAP_C", c).map_err(RespondError::Sink)?;
        }
        self.our_response = Some(ours);
        self.stage = Stage::Responded;
        Ok(())
    }

    pub(crate) fn finish(&mut self, config: &ChapConfig<'_>) -> Result<(), ChapError> {
        if self.stage == Stage::Done {
            return Ok(());
        }
        if self.stage != Stage::Responded {
            return Err(ChapError::Missing(ChapKey::R));
        }
        if let Some(m) = config.mutual {
            let (Some(name_ok), Some(theirs)) = (self.target_name_ok, self.target_response) else {
                return Err(ChapError::TargetDidNotAuthenticate);
            };
            if !name_ok {
                return Err(ChapError::WrongTargetName);
            }
            if self
                .our_response
                .is_some_and(|ours| ours.ct_matches(theirs.as_bytes()))
            {
                return Err(ChapError::ReflectedResponse);
            }
            let alg = self.algorithm.ok_or(ChapError::Missing(ChapKey::A))?;
            let expected = response_with(
                config.digest,
                alg,
                m.identifier,
                m.secret.as_bytes(),
                m.challenge,
            )?;
            if !expected.ct_matches(theirs.as_bytes()) {
                return Err(ChapError::TargetAuthFailed);
            }
        }
        self.stage = Stage::Done;
        Ok(())
    }
}

impl Drop for ChapExchange {
    fn drop(&mut self) {
        if let Some(r) = self.our_response.as_mut() {
            r.bytes.zeroize();
        }
        self.target_challenge.zeroize();
    }
}

/// [`ChapInitiator::respond`] failed: CHAP itself, or the key sink (buffer full).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespondError<E> {
    /// CHAP failed.
    Chap(ChapError),
    /// The sink refused a pair.
    Sink(E),
}

impl<E> From<ChapError> for RespondError<E> {
    fn from(e: ChapError) -> Self {
        Self::Chap(e)
    }
}

impl<E: fmt::Display> fmt::Display for RespondError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Chap(e) => write!(f, "{e}"),
            Self::Sink(e) => write!(f, "cannot write CHAP keys: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for RespondError<E> {}

/// A decimal (or `0x` hex) number 0..=255, as `CHAP_A` and `CHAP_I` carry.
fn parse_small_number(value: &str) -> Option<u8> {
    crate::text::parse_u32(value)
        .ok()
        .and_then(|v| u8::try_from(v).ok())
}
