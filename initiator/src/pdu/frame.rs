//! Framing PDUs in a byte stream: how long the next PDU is, splitting it into its segments with
//! digest checks, and the padding + data digest trailer for sending a data segment in place.

use super::ahs::MAX_TOTAL_AHS_LEN;
use super::bhs::{BHS_LEN, Bhs};
use crate::digest::{DIGEST_LEN, Digests, crc32c, crc32c_parts, digest_bytes, digest_from_bytes};

/// Padding after a data segment of `data_len` bytes (to a multiple of 4).
#[must_use]
pub const fn pad_len(data_len: usize) -> usize {
    (4 - data_len % 4) % 4
}

/// What the receive buffer holds (httparse style: "not yet" is not an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameStatus {
    /// Not a whole PDU yet: the buffer must hold at least `needed` bytes in total (48 until the
    /// BHS is in, then the exact PDU length).
    Partial {
        /// Total bytes needed before asking again.
        needed: usize,
    },
    /// The first `len` bytes are one whole PDU.
    Complete {
        /// Length of the PDU including AHS, padding and digests.
        len: usize,
    },
}

/// A PDU that must not be waited for or accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// DataSegmentLength above the negotiated MaxRecvDataSegmentLength.
    #[error("DataSegmentLength {len} exceeds the limit of {max}")]
    DataSegmentTooLong {
        /// Declared DataSegmentLength.
        len: u32,
        /// The limit in force.
        max: u32,
    },
    /// TotalAHSLength above [`MAX_TOTAL_AHS_LEN`].
    #[error("TotalAHSLength of {0} bytes is implausible")]
    AhsTooLong(usize),
    /// The slice given to [`Frame::split`] is not exactly one PDU long.
    #[error("slice of {actual} bytes is not one PDU of {expected} bytes")]
    LengthMismatch {
        /// Length the header announces.
        expected: usize,
        /// Length given.
        actual: usize,
    },
    /// The header digest does not match: the header (and so the PDU length) cannot be trusted;
    /// the connection must be dropped.
    #[error("header digest mismatch")]
    HeaderDigest,
    /// The data digest does not match; the header is sound (ITT etc. may be used to recover).
    #[error("data digest mismatch")]
    DataDigest,
}

/// Reads the lengths in `bhs` and returns the total PDU length, enforcing the limits.
fn pdu_len(bhs: &Bhs<&[u8]>, digests: Digests, max_data_len: u32) -> Result<usize, FrameError> {
    let ahs = bhs.total_ahs_len();
    if ahs > MAX_TOTAL_AHS_LEN {
        return Err(FrameError::AhsTooLong(ahs));
    }
    let data_len = bhs.data_segment_len();
    if data_len > max_data_len {
        return Err(FrameError::DataSegmentTooLong {
            len: data_len,
            max: max_data_len,
        });
    }
    // DataSegmentLength is 24 bits: the sum below cannot overflow a 32-bit `usize`.
    let data = usize::try_from(data_len).map_err(|_| FrameError::DataSegmentTooLong {
        len: data_len,
        max: max_data_len,
    })?;
    Ok(BHS_LEN + ahs + digests.header_len() + data + pad_len(data) + digests.data_len(data))
}

/// Says whether `buf` starts with a whole PDU.
///
/// A DataSegmentLength above `max_data_len` (the MaxRecvDataSegmentLength we declared) or an
/// implausible TotalAHSLength is an error as soon as the header is in, before the data is
/// awaited. With header digests on, the header digest is checked first (so `needed` may first be
/// the header length, BHS + AHS + 4): a corrupted header yields [`FrameError::HeaderDigest`]
/// rather than a length error read from corrupted bytes.
///
/// ```
/// use initiator::digest::Digests;
/// use initiator::pdu::{FrameStatus, frame_status};
/// let mut pdu = [0u8; 48 + 8];
/// pdu[0] = 0x20; // NOP-In
/// pdu[7] = 5; // 5 data bytes, padded to 8
/// assert_eq!(frame_status(&pdu[..10], Digests::NONE, 8192), Ok(FrameStatus::Partial { needed: 48 }));
/// assert_eq!(frame_status(&pdu[..50], Digests::NONE, 8192), Ok(FrameStatus::Partial { needed: 56 }));
/// assert_eq!(frame_status(&pdu, Digests::NONE, 8192), Ok(FrameStatus::Complete { len: 56 }));
/// assert!(frame_status(&pdu, Digests::NONE, 4).is_err());
/// ```
pub fn frame_status(
    buf: &[u8],
    digests: Digests,
    max_data_len: u32,
) -> Result<FrameStatus, FrameError> {
    let Some(header) = buf.get(..BHS_LEN) else {
        return Ok(FrameStatus::Partial { needed: BHS_LEN });
    };
    let bhs = Bhs::new_unchecked(header);
    if digests.header {
        let ahs = bhs.total_ahs_len();
        if ahs > MAX_TOTAL_AHS_LEN {
            return Err(FrameError::AhsTooLong(ahs));
        }
        let hdr_end = BHS_LEN + ahs;
        if buf.len() < hdr_end + DIGEST_LEN {
            return Ok(FrameStatus::Partial {
                needed: hdr_end + DIGEST_LEN,
            });
        }
        if crc32c(&buf[..hdr_end]) != read_digest(buf, hdr_end) {
            return Err(FrameError::HeaderDigest);
        }
    }
    let len = pdu_len(&bhs, digests, max_data_len)?;
    Ok(if buf.len() < len {
        FrameStatus::Partial { needed: len }
    } else {
        FrameStatus::Complete { len }
    })
}

/// One complete PDU split into its segments, digests verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The BHS.
    pub bhs: Bhs<&'a [u8]>,
    /// The AHS area (TotalAHSLength bytes).
    pub ahs: &'a [u8],
    /// The header digest as received (already verified), if digests are on.
    pub header_digest: Option<u32>,
    /// The data segment without padding.
    pub data: &'a [u8],
    /// The data digest as received (already verified), if on and the segment is not empty.
    pub data_digest: Option<u32>,
}

impl<'a> Frame<'a> {
    /// Splits exactly one PDU (the `len` of [`FrameStatus::Complete`]) and verifies its digests.
    ///
    /// No DataSegmentLength limit applies here: [`frame_status`] enforced it before the bytes
    /// were awaited.
    pub fn split(pdu: &'a [u8], digests: Digests) -> Result<Frame<'a>, FrameError> {
        let Some(header) = pdu.get(..BHS_LEN) else {
            return Err(FrameError::LengthMismatch {
                expected: BHS_LEN,
                actual: pdu.len(),
            });
        };
        let bhs = Bhs::new_unchecked(header);
        let expected = pdu_len(&bhs, digests, u32::MAX)?;
        if pdu.len() != expected {
            return Err(FrameError::LengthMismatch {
                expected,
                actual: pdu.len(),
            });
        }
        let hdr_end = BHS_LEN + bhs.total_ahs_len();
        let mut at = hdr_end;
        let header_digest = if digests.header {
            let got = read_digest(pdu, at);
            at += DIGEST_LEN;
            if crc32c(&pdu[..hdr_end]) != got {
                return Err(FrameError::HeaderDigest);
            }
            Some(got)
        } else {
            None
        };
        let data_len = data_segment_len(&bhs);
        let data = &pdu[at..at + data_len];
        at += data_len;
        let padding = &pdu[at..at + pad_len(data_len)];
        at += padding.len();
        let data_digest = if digests.data_len(data_len) > 0 {
            let got = read_digest(pdu, at);
            if crc32c_parts(&[data, padding]) != got {
                return Err(FrameError::DataDigest);
            }
            Some(got)
        } else {
            None
        };
        Ok(Frame {
            bhs,
            ahs: &pdu[BHS_LEN..hdr_end],
            header_digest,
            data,
            data_digest,
        })
    }
}

fn data_segment_len(bhs: &Bhs<&[u8]>) -> usize {
    // Lossless: the field is 24 bits.
    bhs.data_segment_len() as usize
}

/// Reads a digest at `at`; the caller has checked the length.
fn read_digest(pdu: &[u8], at: usize) -> u32 {
    let mut b = [0u8; DIGEST_LEN];
    b.copy_from_slice(&pdu[at..at + DIGEST_LEN]);
    digest_from_bytes(b)
}

/// Padding plus data digest to send right after a data segment (up to 7 bytes).
///
/// ```
/// use initiator::digest::Digests;
/// use initiator::pdu::data_trailer;
/// assert_eq!(data_trailer(b"abcde", Digests::NONE).as_bytes(), &[0, 0, 0]);
/// assert_eq!(data_trailer(b"abcde", Digests::BOTH).as_bytes().len(), 7);
/// assert!(data_trailer(b"", Digests::BOTH).as_bytes().is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataTrailer {
    bytes: [u8; 3 + DIGEST_LEN],
    len: usize,
}

impl DataTrailer {
    /// The bytes to send after the data segment.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Computes the padding and (if data digests are on) the CRC32C over data + padding for a data
/// segment that is sent straight from the caller's buffer after [`Repr::emit_header`](super::Repr::emit_header).
#[must_use]
pub fn data_trailer(data: &[u8], digests: Digests) -> DataTrailer {
    let pad = pad_len(data.len());
    let mut bytes = [0u8; 3 + DIGEST_LEN];
    let mut len = pad;
    if digests.data_len(data.len()) > 0 {
        let digest = crc32c_parts(&[data, &bytes[..pad]]);
        bytes[pad..pad + DIGEST_LEN].copy_from_slice(&digest_bytes(digest));
        len += DIGEST_LEN;
    }
    DataTrailer { bytes, len }
}
