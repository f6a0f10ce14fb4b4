//! Additional Header Segments (RFC 7143 §11.2.2): extended CDB and bidirectional read length.

/// AHSType of an Extended CDB AHS.
pub const AHS_TYPE_EXTENDED_CDB: u8 = 1;
/// AHSType of a Bidirectional Read Expected Data Transfer Length AHS.
pub const AHS_TYPE_BIDI_READ_LEN: u8 = 2;
/// Longest CDB this codec carries (SPC: variable-length CDBs are at most 260 bytes).
pub const MAX_CDB_LEN: usize = 260;
/// CDB bytes that fit in the BHS; the rest travel in an Extended CDB AHS.
pub const BHS_CDB_LEN: usize = 16;
/// Largest total AHS length accepted from the wire: an Extended CDB AHS for a 260-byte CDB
/// (252 bytes padded) plus a bidirectional read length AHS (8 bytes). Anything longer is refused
/// before its bytes are awaited.
pub const MAX_TOTAL_AHS_LEN: usize = 260;

/// A malformed AHS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AhsError {
    /// An AHS header or body runs past TotalAHSLength.
    #[error("AHS runs past TotalAHSLength")]
    Truncated,
    /// A known AHS type with the wrong length.
    #[error("AHS type {ahs_type} with invalid AHSLength {len}")]
    BadLength {
        /// AHSType.
        ahs_type: u8,
        /// AHSLength.
        len: u16,
    },
}

/// One AHS entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ahs<'a> {
    /// AHSType (bits 0..=5 the type; 1 and 2 are defined).
    pub ahs_type: u8,
    /// The AHS-specific bytes (AHSLength of them, padding excluded). For the two defined types
    /// the first byte is reserved.
    pub specific: &'a [u8],
}

/// Iterates over the AHS entries in the AHS area of a PDU.
///
/// ```
/// use initiator::pdu::{AhsIter, AHS_TYPE_BIDI_READ_LEN};
/// let area = [0x00, 0x05, 0x02, 0x00, 0x00, 0x00, 0x10, 0x00];
/// let ahs = AhsIter::new(&area).next().unwrap().unwrap();
/// assert_eq!(ahs.ahs_type, AHS_TYPE_BIDI_READ_LEN);
/// assert_eq!(ahs.specific, &[0, 0, 0, 0x10, 0]);
/// ```
#[derive(Debug, Clone)]
pub struct AhsIter<'a> {
    rest: &'a [u8],
}

impl<'a> AhsIter<'a> {
    /// Iterates over `area` (the TotalAHSLength bytes after the BHS).
    #[must_use]
    pub fn new(area: &'a [u8]) -> AhsIter<'a> {
        AhsIter { rest: area }
    }
}

impl<'a> Iterator for AhsIter<'a> {
    type Item = Result<Ahs<'a>, AhsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(&[len_hi, len_lo, ahs_type]) = self.rest.get(..3) else {
            self.rest = &[];
            return Some(Err(AhsError::Truncated));
        };
        let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
        let end = 3 + len;
        let padded = end.next_multiple_of(4);
        let Some(specific) = self.rest.get(3..end) else {
            self.rest = &[];
            return Some(Err(AhsError::Truncated));
        };
        self.rest = self.rest.get(padded..).unwrap_or(&[]);
        Some(Ok(Ahs {
            ahs_type: ahs_type & 0x3f,
            specific,
        }))
    }
}

/// Bytes an Extended CDB AHS takes for a CDB of `cdb_len` bytes (0 if it fits in the BHS).
#[must_use]
pub const fn extended_cdb_ahs_len(cdb_len: usize) -> usize {
    if cdb_len <= BHS_CDB_LEN {
        0
    } else {
        (3 + cdb_len - 15).next_multiple_of(4)
    }
}

/// Bytes the bidirectional read length AHS takes.
pub const BIDI_READ_LEN_AHS_LEN: usize = 8;
