//! SCSI commands the boot path needs (SPC-4, SBC-3): CDB builders, response parsers and sense
//! data. Everything is zero-copy over caller slices; garbage yields a typed error, never a panic.
//!
//! ```
//! use initiator::scsi::cdb;
//! // READ(10) of 8 blocks at LBA 0x1234
//! assert_eq!(cdb::read(0x1234, 8).as_bytes(), &[0x28, 0, 0, 0, 0x12, 0x34, 0, 0, 8, 0]);
//! // past 2 TiB with 512-byte blocks READ(16) is chosen
//! assert_eq!(cdb::read(1 << 32, 8).as_bytes()[0], 0x88);
//! ```

pub mod capacity;
pub mod cdb;
pub mod inquiry;
pub mod report_luns;
pub mod sense;

pub use capacity::{ReadCapacity10, ReadCapacity16};
pub use cdb::Cdb;
pub use inquiry::{Designator, Designators, StandardInquiry, UnitSerialNumber};
pub use report_luns::{ReportLuns, ReportLunsIter};
pub use sense::{Retry, Sense, SenseFormat, SenseKey};

/// A SCSI response buffer that cannot be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Fewer bytes than the format's fixed part.
    #[error("SCSI data too short: {got} bytes, need {need}")]
    Truncated {
        /// Bytes available.
        got: usize,
        /// Bytes needed.
        need: usize,
    },
    /// A page code or response code that does not match what was asked for.
    #[error("unexpected page or response code {0:#04x}")]
    UnexpectedCode(u8),
}

/// `Err(Truncated)` unless `data` has at least `need` bytes.
fn need(data: &[u8], need: usize) -> Result<(), ParseError> {
    if data.len() < need {
        Err(ParseError::Truncated {
            got: data.len(),
            need,
        })
    } else {
        Ok(())
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_be_bytes)
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

fn be64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

/// Strips ASCII spaces and NULs from both ends (INQUIRY text fields are space-padded).
fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|&c| c != b' ' && c != 0)
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|&c| c != b' ' && c != 0)
        .map_or(start, |i| i + 1);
    b.get(start..end).unwrap_or(&[])
}

/// The bytes as `&str` if they are printable ASCII, else `None`.
fn ascii_str(b: &[u8]) -> Option<&str> {
    if b.iter().all(|c| (0x20..0x7f).contains(c)) {
        core::str::from_utf8(b).ok()
    } else {
        None
    }
}
