//! The `key=value\0` text of Login and Text PDUs (RFC 7143 §6.1): a zero-copy parser, a writer
//! into caller storage, value helpers, and an accumulator for text continued over several PDUs
//! (C bit).
//!
//! Bounds (RFC 7143 §6.1): a key is 1..=63 bytes of `a-z A-Z 0-9 . - + @ _`; a value is at most
//! 255 bytes, except the `CHAP_C` and `CHAP_R` values, which are large binary values (RFC 7143
//! §6.1 "large-binary-value", and the hashes of RFC 7143 §12.1.3's successors) and may take up to
//! [`MAX_LARGE_VALUE_LEN`] = 8192 bytes — the amount of negotiation text every implementation
//! must accept. An empty value (`key=`) is accepted; empty pairs (`\0\0`, as some targets pad)
//! are skipped.
//!
//! ```
//! use initiator::text::{TextIter, TextWriter};
//! let mut storage = [0u8; 64];
//! let mut w = TextWriter::new(&mut storage);
//! w.push("HeaderDigest", "None").unwrap();
//! w.push_u32("MaxRecvDataSegmentLength", 8192).unwrap();
//! let pairs: Vec<_> = TextIter::new(w.as_bytes()).map(Result::unwrap).collect();
//! assert_eq!(pairs, [("HeaderDigest", "None"), ("MaxRecvDataSegmentLength", "8192")]);
//! ```

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{tag, take_till};

/// Longest key name (RFC 7143 §6.1).
pub const MAX_KEY_LEN: usize = 63;
/// Longest ordinary value (RFC 7143 §6.1).
pub const MAX_VALUE_LEN: usize = 255;
/// Longest value of the keys that carry large binary values ([`LARGE_VALUE_KEYS`]).
pub const MAX_LARGE_VALUE_LEN: usize = 8192;
/// Keys whose values may exceed [`MAX_VALUE_LEN`].
pub const LARGE_VALUE_KEYS: [&str; 2] = ["CHAP_C", "CHAP_R"];

/// The longest value allowed for `key`.
#[must_use]
pub fn max_value_len(key: &str) -> usize {
    if LARGE_VALUE_KEYS.contains(&key) {
        MAX_LARGE_VALUE_LEN
    } else {
        MAX_VALUE_LEN
    }
}

/// A malformed key=value pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The last pair has no terminating NUL.
    #[error("key=value pair without terminating NUL")]
    Unterminated,
    /// A pair without `=`.
    #[error("key=value pair without '='")]
    MissingEquals,
    /// Key or value is not UTF-8.
    #[error("key or value is not UTF-8")]
    NotUtf8,
    /// `=value` with no key.
    #[error("empty key")]
    EmptyKey,
    /// Key over 63 bytes.
    #[error("key of {0} bytes exceeds 63")]
    KeyTooLong(usize),
    /// A key byte outside `a-z A-Z 0-9 . - + @ _`.
    #[error("invalid byte {0:#04x} in key")]
    InvalidKeyChar(u8),
    /// Value longer than its bound.
    #[error("value of {len} bytes exceeds {max}")]
    ValueTooLong {
        /// Length of the value.
        len: usize,
        /// Bound for this key.
        max: usize,
    },
    /// A NUL inside a value to be written.
    #[error("NUL byte in value")]
    NulInValue,
}

/// Checks a key name against RFC 7143 §6.1.
pub fn check_key(key: &str) -> Result<(), TextError> {
    if key.is_empty() {
        return Err(TextError::EmptyKey);
    }
    if key.len() > MAX_KEY_LEN {
        return Err(TextError::KeyTooLong(key.len()));
    }
    match key
        .bytes()
        .find(|b| !(b.is_ascii_alphanumeric() || b".-+@_".contains(b)))
    {
        Some(bad) => Err(TextError::InvalidKeyChar(bad)),
        None => Ok(()),
    }
}

fn check_value(key: &str, value: &str) -> Result<(), TextError> {
    let max = max_value_len(key);
    if value.len() > max {
        return Err(TextError::ValueTooLong {
            len: value.len(),
            max,
        });
    }
    Ok(())
}

/// One NUL-terminated pair: the bytes before the NUL.
fn nul_terminated(input: &[u8]) -> IResult<&[u8], &[u8]> {
    let (rest, (pair, _)) = (take_till(|b| b == 0), tag(&b"\0"[..])).parse(input)?;
    Ok((rest, pair))
}

/// Splits and checks one pair (without its NUL).
fn parse_pair(pair: &[u8]) -> Result<(&str, &str), TextError> {
    let eq = pair
        .iter()
        .position(|&b| b == b'=')
        .ok_or(TextError::MissingEquals)?;
    let (key, value) = (&pair[..eq], &pair[eq + 1..]);
    let key = core::str::from_utf8(key).map_err(|_| TextError::NotUtf8)?;
    check_key(key)?;
    let value = core::str::from_utf8(value).map_err(|_| TextError::NotUtf8)?;
    check_value(key, value)?;
    Ok((key, value))
}

/// Iterates over the `key=value` pairs of a text data segment, borrowing from it.
/// Stops after the first error.
#[derive(Debug, Clone)]
pub struct TextIter<'a> {
    rest: &'a [u8],
}

impl<'a> TextIter<'a> {
    /// Iterates over `data` (a complete text: continued segments already joined).
    #[must_use]
    pub fn new(data: &'a [u8]) -> TextIter<'a> {
        TextIter { rest: data }
    }

    /// Finds the first value of `key`, ignoring malformed pairs after it.
    ///
    /// ```
    /// use initiator::text::TextIter;
    /// assert_eq!(TextIter::new(b"A=1\0B=2\0").find_key("B"), Some(Ok("2")));
    /// ```
    pub fn find_key(self, key: &str) -> Option<Result<&'a str, TextError>> {
        for pair in self {
            match pair {
                Ok((k, v)) if k == key => return Some(Ok(v)),
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }
}

impl<'a> Iterator for TextIter<'a> {
    type Item = Result<(&'a str, &'a str), TextError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let Ok((rest, pair)) = nul_terminated(self.rest) else {
                self.rest = &[];
                return Some(Err(TextError::Unterminated));
            };
            self.rest = rest;
            if pair.is_empty() {
                continue;
            }
            let parsed = parse_pair(pair);
            if parsed.is_err() {
                self.rest = &[];
            }
            return Some(parsed);
        }
    }
}

/// The caller's buffer cannot take the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// Not enough room left.
    #[error("text buffer full: {needed} bytes needed, {available} left")]
    Full {
        /// Bytes the pair needs (with `=` and NUL).
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// The key or value breaks RFC 7143 §6.1.
    #[error(transparent)]
    Invalid(#[from] TextError),
}

/// Appends `key=value\0` pairs to a caller buffer.
#[derive(Debug)]
pub struct TextWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> TextWriter<'b> {
    /// Starts writing at the beginning of `buf`.
    pub fn new(buf: &'b mut [u8]) -> TextWriter<'b> {
        TextWriter { buf, len: 0 }
    }

    /// Appends `key=value\0`; on error nothing is written.
    pub fn push(&mut self, key: &str, value: &str) -> Result<(), WriteError> {
        check_key(key)?;
        check_value(key, value)?;
        if value.bytes().any(|b| b == 0) {
            return Err(TextError::NulInValue.into());
        }
        let needed = key.len() + 1 + value.len() + 1;
        let available = self.buf.len() - self.len;
        let Some(out) = self.buf.get_mut(self.len..self.len + needed) else {
            return Err(WriteError::Full { needed, available });
        };
        let (k, rest) = out.split_at_mut(key.len());
        k.copy_from_slice(key.as_bytes());
        rest[0] = b'=';
        rest[1..=value.len()].copy_from_slice(value.as_bytes());
        rest[value.len() + 1] = 0;
        self.len += needed;
        Ok(())
    }

    /// Appends a decimal number value.
    pub fn push_u32(&mut self, key: &str, value: u32) -> Result<(), WriteError> {
        let mut digits = [0u8; 10];
        self.push(key, format_decimal(value, &mut digits))
    }

    /// Appends a boolean as `Yes` / `No`.
    pub fn push_bool(&mut self, key: &str, value: bool) -> Result<(), WriteError> {
        self.push(key, format_bool(value))
    }

    /// The text written so far.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Bytes written so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Formats `value` in decimal into `digits`, returning the used part.
///
/// ```
/// let mut d = [0u8; 10];
/// assert_eq!(initiator::text::format_decimal(4_294_967_295, &mut d), "4294967295");
/// ```
pub fn format_decimal(mut value: u32, digits: &mut [u8; 10]) -> &str {
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    core::str::from_utf8(&digits[start..]).unwrap_or("0")
}

/// `Yes` or `No` (RFC 7143 §6.2 boolean values).
#[must_use]
pub const fn format_bool(value: bool) -> &'static str {
    if value { "Yes" } else { "No" }
}

/// A value that is not the number or boolean expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not a decimal or `0x` hexadecimal number.
    #[error("not a number")]
    NotANumber,
    /// The number does not fit the type.
    #[error("number out of range")]
    OutOfRange,
    /// Neither `Yes` nor `No`.
    #[error("not Yes or No")]
    NotABoolean,
}

/// Parses a numerical value: decimal, or hexadecimal with a `0x`/`0X` prefix (RFC 7143 §6.1).
///
/// ```
/// use initiator::text::parse_number;
/// assert_eq!(parse_number("8192"), Ok(8192));
/// assert_eq!(parse_number("0x2000"), Ok(8192));
/// assert!(parse_number("").is_err());
/// ```
pub fn parse_number(value: &str) -> Result<u64, ValueError> {
    let (digits, radix) = match value.get(..2) {
        Some("0x" | "0X") => (&value[2..], 16),
        _ => (value, 10),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ValueError::NotANumber);
    }
    u64::from_str_radix(digits, radix).map_err(|e| match e.kind() {
        core::num::IntErrorKind::PosOverflow => ValueError::OutOfRange,
        _ => ValueError::NotANumber,
    })
}

/// Parses a numerical value that must fit in 32 bits.
pub fn parse_u32(value: &str) -> Result<u32, ValueError> {
    u32::try_from(parse_number(value)?).map_err(|_| ValueError::OutOfRange)
}

/// Parses a boolean value: exactly `Yes` or `No`.
///
/// ```
/// assert_eq!(initiator::text::parse_bool("Yes"), Ok(true));
/// assert!(initiator::text::parse_bool("yes").is_err());
/// ```
pub fn parse_bool(value: &str) -> Result<bool, ValueError> {
    match value {
        "Yes" => Ok(true),
        "No" => Ok(false),
        _ => Err(ValueError::NotABoolean),
    }
}

/// Continued text does not fit the accumulator's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("continued text exceeds the {capacity}-byte buffer")]
pub struct AccumulateError {
    /// The buffer's size.
    pub capacity: usize,
}

/// Joins the data segments of Login/Text PDUs sent with the C bit into one text, in a bounded
/// caller buffer (at least 8192 bytes is what RFC 7143 §6.1 requires of a receiver).
///
/// ```
/// use initiator::text::TextAccumulator;
/// let mut storage = [0u8; 32];
/// let mut acc = TextAccumulator::new(&mut storage);
/// acc.push(b"TargetAl").unwrap();
/// acc.push(b"ias=disk\0").unwrap();
/// assert_eq!(acc.pairs().next(), Some(Ok(("TargetAlias", "disk"))));
/// ```
#[derive(Debug)]
pub struct TextAccumulator<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> TextAccumulator<'b> {
    /// An empty accumulator over `buf`.
    pub fn new(buf: &'b mut [u8]) -> TextAccumulator<'b> {
        TextAccumulator { buf, len: 0 }
    }

    /// Appends one PDU's data segment; on overflow nothing is appended.
    pub fn push(&mut self, segment: &[u8]) -> Result<(), AccumulateError> {
        let capacity = self.buf.len();
        let out = self
            .len
            .checked_add(segment.len())
            .and_then(|end| self.buf.get_mut(self.len..end))
            .ok_or(AccumulateError { capacity })?;
        out.copy_from_slice(segment);
        self.len += segment.len();
        Ok(())
    }

    /// The text gathered so far.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Iterates over the pairs gathered so far (call once the last PDU, C = 0, is in).
    #[must_use]
    pub fn pairs(&self) -> TextIter<'_> {
        TextIter::new(self.as_bytes())
    }

    /// Empties the accumulator for the next exchange.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Bytes gathered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was gathered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
