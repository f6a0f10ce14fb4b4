//! CRC32C (Castagnoli) header and data digests, RFC 7143 §13.1.
//!
//! The digest is the standard CRC-32C (reflected, initial value and final XOR `0xffffffff`), the
//! `crc` crate's [`crc::CRC_32_ISCSI`]. On the wire the 32-bit result is sent least significant
//! byte first, which is what every target (and the RFC's own examples, once the bit reflection is
//! accounted for) expects:
//!
//! ```
//! use initiator::digest::{crc32c, digest_bytes};
//! assert_eq!(digest_bytes(crc32c(&[0u8; 32])), [0xaa, 0x36, 0x91, 0x8a]);
//! ```

use crc::{CRC_32_ISCSI, Crc};

/// Length of a header or data digest on the wire.
pub const DIGEST_LEN: usize = 4;

/// The table-driven CRC32C engine: slice-by-16 (16 KiB of tables built at compile time), several
/// times faster than the byte-at-a-time table on 8 KiB data segments (see `benches/codec.rs`).
#[cfg(not(feature = "small-crc"))]
type Engine = crc::Table<16>;

/// With `small-crc`: bit at a time, no table (16 KiB less), for size-bound firmware.
#[cfg(feature = "small-crc")]
type Engine = crc::NoTable;

static CRC32C: Crc<u32, Engine> = Crc::<u32, Engine>::new(&CRC_32_ISCSI);

/// CRC32C of `bytes`.
#[must_use]
pub fn crc32c(bytes: &[u8]) -> u32 {
    CRC32C.checksum(bytes)
}

/// CRC32C over several slices, as if they were one contiguous buffer.
///
/// Used for the header digest (BHS + AHS) and the data digest (data + padding) without first
/// copying the pieces together.
///
/// ```
/// use initiator::digest::{crc32c, crc32c_parts};
/// assert_eq!(crc32c_parts(&[b"abc", b"def"]), crc32c(b"abcdef"));
/// ```
#[must_use]
pub fn crc32c_parts(parts: &[&[u8]]) -> u32 {
    let mut digest = CRC32C.digest();
    for part in parts {
        digest.update(part);
    }
    digest.finalize()
}

/// A CRC32C computed piece by piece, for a data segment that arrives in several parts (the
/// session checks the DataDigest of a Data-In payload placed straight into the caller's buffer).
///
/// ```
/// use initiator::digest::{Crc32cStream, crc32c};
/// let mut d = Crc32cStream::new();
/// d.update(b"abc");
/// d.update(b"def");
/// assert_eq!(d.value(), crc32c(b"abcdef"));
/// ```
#[derive(Clone)]
pub struct Crc32cStream(crc::Digest<'static, u32, Engine>);

impl Crc32cStream {
    /// An empty stream.
    #[must_use]
    pub fn new() -> Crc32cStream {
        Crc32cStream(CRC32C.digest())
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The CRC32C of everything added so far.
    #[must_use]
    pub fn value(&self) -> u32 {
        self.0.clone().finalize()
    }
}

impl Default for Crc32cStream {
    fn default() -> Self {
        Crc32cStream::new()
    }
}

impl core::fmt::Debug for Crc32cStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Crc32cStream").field(&self.value()).finish()
    }
}

/// The on-the-wire bytes of a digest value (little-endian).
#[must_use]
pub fn digest_bytes(value: u32) -> [u8; DIGEST_LEN] {
    value.to_le_bytes()
}

/// Reads a digest value from its on-the-wire bytes (little-endian).
#[must_use]
pub fn digest_from_bytes(bytes: [u8; DIGEST_LEN]) -> u32 {
    u32::from_le_bytes(bytes)
}

/// Which digests a connection negotiated (`HeaderDigest` / `DataDigest` = `CRC32C`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Digests {
    /// A CRC32C follows BHS + AHS.
    pub header: bool,
    /// A CRC32C follows every non-empty data segment (after its padding).
    pub data: bool,
}

impl Digests {
    /// No digests (the default of every connection until negotiated otherwise).
    pub const NONE: Digests = Digests {
        header: false,
        data: false,
    };
    /// Both header and data digests.
    pub const BOTH: Digests = Digests {
        header: true,
        data: true,
    };

    /// Bytes the header digest takes on the wire (0 or 4).
    #[must_use]
    pub const fn header_len(self) -> usize {
        if self.header { DIGEST_LEN } else { 0 }
    }

    /// Bytes the data digest takes after a data segment of `data_len` bytes (0 or 4).
    ///
    /// An empty data segment carries no data digest (RFC 7143 §11.1 "DataSegmentLength").
    #[must_use]
    pub const fn data_len(self, data_len: usize) -> usize {
        if self.data && data_len > 0 {
            DIGEST_LEN
        } else {
            0
        }
    }
}
