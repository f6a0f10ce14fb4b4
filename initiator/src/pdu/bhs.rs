//! Zero-copy view of the 48-byte Basic Header Segment (RFC 7143 §11.2.1).

use super::Opcode;

/// Byte ranges and offsets of BHS fields. Opcode-specific fields share offsets; the names say
/// which PDUs use them.
pub mod field {
    /// A byte range inside the BHS.
    pub type Field = core::ops::Range<usize>;

    /// Byte 0: bit 6 = immediate, bits 0..=5 = opcode.
    pub const OPCODE: usize = 0;
    /// Byte 1: bit 7 = final; the rest is opcode-specific.
    pub const FLAGS: usize = 1;
    /// Byte 2: SCSI/TMF/Logout Response code, Reject reason, Login Version-max.
    pub const BYTE2: usize = 2;
    /// Byte 3: SCSI status, Login Version-min/Version-active.
    pub const BYTE3: usize = 3;
    /// Byte 4: TotalAHSLength in 4-byte words.
    pub const TOTAL_AHS_LEN: usize = 4;
    /// Bytes 5..8: DataSegmentLength, 24 bits, excluding padding.
    pub const DATA_SEGMENT_LEN: Field = 5..8;
    /// Bytes 8..16: LUN.
    pub const LUN: Field = 8..16;
    /// Bytes 8..14: ISID (Login).
    pub const ISID: Field = 8..14;
    /// Bytes 14..16: TSIH (Login).
    pub const TSIH: Field = 14..16;
    /// Bytes 16..20: Initiator Task Tag.
    pub const ITT: Field = 16..20;
    /// Bytes 20..24: Target Transfer Tag; Expected Data Transfer Length (SCSI Command);
    /// SNACK Tag (SCSI Response, SNACK); Referenced Task Tag (TMF request).
    pub const TTT: Field = 20..24;
    /// Bytes 20..22: CID (Login request, Logout request).
    pub const CID: Field = 20..22;
    /// Bytes 24..28: CmdSN (requests) / StatSN (responses).
    pub const SN_24: Field = 24..28;
    /// Bytes 28..32: ExpStatSN (requests) / ExpCmdSN (responses).
    pub const SN_28: Field = 28..32;
    /// Bytes 32..36: MaxCmdSN (responses) / RefCmdSN (TMF request).
    pub const SN_32: Field = 32..36;
    /// Bytes 32..48: CDB (SCSI Command).
    pub const CDB: Field = 32..48;
    /// Bytes 36..40: DataSN, R2TSN, ExpDataSN.
    pub const SN_36: Field = 36..40;
    /// Byte 36: Status-Class (Login Response), AsyncEvent (Async Message).
    pub const BYTE36: usize = 36;
    /// Byte 37: Status-Detail (Login Response), AsyncVCode (Async Message).
    pub const BYTE37: usize = 37;
    /// Bytes 38..40: Parameter1 (Async Message).
    pub const PARAMETER1: Field = 38..40;
    /// Bytes 40..44: Buffer Offset, Bidirectional Read Residual Count, BegRun.
    pub const WORD_40: Field = 40..44;
    /// Bytes 40..42: Time2Wait (Logout Response), Parameter2 (Async Message).
    pub const HALF_40: Field = 40..42;
    /// Bytes 42..44: Time2Retain (Logout Response), Parameter3 (Async Message).
    pub const HALF_42: Field = 42..44;
    /// Bytes 44..48: Residual Count, Desired Data Transfer Length, RunLength.
    pub const WORD_44: Field = 44..48;
    /// Length of the BHS.
    pub const BHS_END: usize = 48;
}

/// Length of the Basic Header Segment.
pub const BHS_LEN: usize = field::BHS_END;

/// Bit 6 of byte 0: immediate delivery.
pub const IMMEDIATE_BIT: u8 = 0x40;
/// Bit 7 of byte 1: final PDU of a sequence.
pub const FINAL_BIT: u8 = 0x80;

/// The buffer is shorter than a BHS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("buffer of {len} bytes is shorter than the 48-byte BHS")]
pub struct BhsTruncated {
    /// Bytes available.
    pub len: usize,
}

/// A read/write view of a BHS over any byte buffer (smoltcp `Packet` style).
///
/// After [`Bhs::new_checked`] no accessor can panic.
///
/// ```
/// use initiator::pdu::{Bhs, Opcode};
/// let mut bytes = [0u8; 48];
/// let mut bhs = Bhs::new_unchecked(&mut bytes[..]);
/// bhs.set_opcode(Opcode::NopOut);
/// bhs.set_data_segment_len(5);
/// assert_eq!(bytes[..8], [0x00, 0, 0, 0, 0, 0, 0, 5]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bhs<T: AsRef<[u8]>> {
    buffer: T,
}

macro_rules! be_field {
    ($(#[$doc:meta])* $get:ident, $set:ident, $field:expr, u32) => {
        $(#[$doc])*
        #[must_use]
        pub fn $get(&self) -> u32 {
            let b = &self.buffer.as_ref()[$field];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        }
        #[doc = concat!("Sets the field read by [`Bhs::", stringify!($get), "`].")]
        pub fn $set(&mut self, value: u32)
        where
            T: AsMut<[u8]>,
        {
            self.buffer.as_mut()[$field].copy_from_slice(&value.to_be_bytes());
        }
    };
    ($(#[$doc:meta])* $get:ident, $set:ident, $field:expr, u16) => {
        $(#[$doc])*
        #[must_use]
        pub fn $get(&self) -> u16 {
            let b = &self.buffer.as_ref()[$field];
            u16::from_be_bytes([b[0], b[1]])
        }
        #[doc = concat!("Sets the field read by [`Bhs::", stringify!($get), "`].")]
        pub fn $set(&mut self, value: u16)
        where
            T: AsMut<[u8]>,
        {
            self.buffer.as_mut()[$field].copy_from_slice(&value.to_be_bytes());
        }
    };
    ($(#[$doc:meta])* $get:ident, $set:ident, $field:expr, u8) => {
        $(#[$doc])*
        #[must_use]
        pub fn $get(&self) -> u8 {
            self.buffer.as_ref()[$field]
        }
        #[doc = concat!("Sets the field read by [`Bhs::", stringify!($get), "`].")]
        pub fn $set(&mut self, value: u8)
        where
            T: AsMut<[u8]>,
        {
            self.buffer.as_mut()[$field] = value;
        }
    };
}

impl<T: AsRef<[u8]>> Bhs<T> {
    /// Wraps a buffer without checking its length (for emitting into a buffer known to be long
    /// enough; accessors panic on a shorter one).
    pub const fn new_unchecked(buffer: T) -> Bhs<T> {
        Bhs { buffer }
    }

    /// Wraps a buffer after checking it holds at least a BHS.
    pub fn new_checked(buffer: T) -> Result<Bhs<T>, BhsTruncated> {
        let bhs = Bhs::new_unchecked(buffer);
        bhs.check_len()?;
        Ok(bhs)
    }

    /// Checks that the buffer holds at least [`BHS_LEN`] bytes.
    pub fn check_len(&self) -> Result<(), BhsTruncated> {
        let len = self.buffer.as_ref().len();
        if len < BHS_LEN {
            Err(BhsTruncated { len })
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The 48 header bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[..BHS_LEN]
    }

    /// The opcode (byte 0, bits 0..=5).
    #[must_use]
    pub fn opcode(&self) -> Opcode {
        Opcode::from(self.buffer.as_ref()[field::OPCODE] & Opcode::MASK)
    }

    /// The immediate-delivery bit (byte 0, bit 6).
    #[must_use]
    pub fn immediate(&self) -> bool {
        self.buffer.as_ref()[field::OPCODE] & IMMEDIATE_BIT != 0
    }

    /// The final bit (byte 1, bit 7).
    #[must_use]
    pub fn final_bit(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FINAL_BIT != 0
    }

    /// TotalAHSLength converted to bytes (the field counts 4-byte words).
    #[must_use]
    pub fn total_ahs_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::TOTAL_AHS_LEN]) * 4
    }

    /// DataSegmentLength: payload bytes, excluding padding and digest.
    #[must_use]
    pub fn data_segment_len(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::DATA_SEGMENT_LEN];
        u32::from_be_bytes([0, b[0], b[1], b[2]])
    }

    /// The LUN field as a big-endian integer (the 8 bytes as sent, SAM encoding untouched).
    #[must_use]
    pub fn lun(&self) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.buffer.as_ref()[field::LUN]);
        u64::from_be_bytes(b)
    }

    /// The ISID (Login PDUs).
    #[must_use]
    pub fn isid(&self) -> [u8; 6] {
        let mut b = [0u8; 6];
        b.copy_from_slice(&self.buffer.as_ref()[field::ISID]);
        b
    }

    /// The 16 CDB bytes held in the BHS (SCSI Command).
    #[must_use]
    pub fn cdb(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b.copy_from_slice(&self.buffer.as_ref()[field::CDB]);
        b
    }

    be_field!(
        /// Byte 1 whole: the final bit and the opcode-specific flags.
        flags, set_flags, field::FLAGS, u8
    );
    be_field!(
        /// Byte 2: response code, reject reason or Login Version-max.
        byte2, set_byte2, field::BYTE2, u8
    );
    be_field!(
        /// Byte 3: SCSI status or Login Version-min/Version-active.
        byte3, set_byte3, field::BYTE3, u8
    );
    be_field!(
        /// TSIH (Login PDUs).
        tsih, set_tsih, field::TSIH, u16
    );
    be_field!(
        /// Initiator Task Tag.
        itt, set_itt, field::ITT, u32
    );
    be_field!(
        /// Target Transfer Tag / Expected Data Transfer Length / SNACK Tag / Referenced Task Tag
        /// (bytes 20..24).
        ttt, set_ttt, field::TTT, u32
    );
    be_field!(
        /// CID (Login and Logout requests).
        cid, set_cid, field::CID, u16
    );
    be_field!(
        /// CmdSN (initiator PDUs) or StatSN (target PDUs), bytes 24..28.
        sn_24, set_sn_24, field::SN_24, u32
    );
    be_field!(
        /// ExpStatSN (initiator PDUs) or ExpCmdSN (target PDUs), bytes 28..32.
        sn_28, set_sn_28, field::SN_28, u32
    );
    be_field!(
        /// MaxCmdSN (target PDUs) or RefCmdSN (TMF request), bytes 32..36.
        sn_32, set_sn_32, field::SN_32, u32
    );
    be_field!(
        /// DataSN, R2TSN or ExpDataSN, bytes 36..40.
        sn_36, set_sn_36, field::SN_36, u32
    );
    be_field!(
        /// Status-Class (Login Response) or AsyncEvent (Async Message), byte 36.
        byte36, set_byte36, field::BYTE36, u8
    );
    be_field!(
        /// Status-Detail (Login Response) or AsyncVCode (Async Message), byte 37.
        byte37, set_byte37, field::BYTE37, u8
    );
    be_field!(
        /// Parameter1 (Async Message), bytes 38..40.
        parameter1, set_parameter1, field::PARAMETER1, u16
    );
    be_field!(
        /// Buffer Offset, Bidirectional Read Residual Count or BegRun, bytes 40..44.
        word_40, set_word_40, field::WORD_40, u32
    );
    be_field!(
        /// Time2Wait (Logout Response) or Parameter2 (Async Message), bytes 40..42.
        half_40, set_half_40, field::HALF_40, u16
    );
    be_field!(
        /// Time2Retain (Logout Response) or Parameter3 (Async Message), bytes 42..44.
        half_42, set_half_42, field::HALF_42, u16
    );
    be_field!(
        /// Residual Count, Desired Data Transfer Length or RunLength, bytes 44..48.
        word_44, set_word_44, field::WORD_44, u32
    );
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Bhs<T> {
    /// Sets the opcode, keeping the immediate bit.
    pub fn set_opcode(&mut self, opcode: Opcode) {
        let b = &mut self.buffer.as_mut()[field::OPCODE];
        *b = (*b & IMMEDIATE_BIT) | (u8::from(opcode) & Opcode::MASK);
    }

    /// Sets or clears the immediate bit.
    pub fn set_immediate(&mut self, immediate: bool) {
        let b = &mut self.buffer.as_mut()[field::OPCODE];
        *b = (*b & !IMMEDIATE_BIT) | if immediate { IMMEDIATE_BIT } else { 0 };
    }

    /// Sets TotalAHSLength from a byte count (must be a multiple of 4, at most 1020).
    pub fn set_total_ahs_len(&mut self, bytes: usize) {
        debug_assert!(bytes.is_multiple_of(4) && bytes <= 1020);
        self.buffer.as_mut()[field::TOTAL_AHS_LEN] = u8::try_from(bytes / 4).unwrap_or(u8::MAX);
    }

    /// Sets DataSegmentLength (low 24 bits of `len`).
    pub fn set_data_segment_len(&mut self, len: u32) {
        let b = len.to_be_bytes();
        self.buffer.as_mut()[field::DATA_SEGMENT_LEN].copy_from_slice(&b[1..]);
    }

    /// Sets the LUN field.
    pub fn set_lun(&mut self, lun: u64) {
        self.buffer.as_mut()[field::LUN].copy_from_slice(&lun.to_be_bytes());
    }

    /// Sets the ISID.
    pub fn set_isid(&mut self, isid: [u8; 6]) {
        self.buffer.as_mut()[field::ISID].copy_from_slice(&isid);
    }

    /// Sets the 16 CDB bytes held in the BHS.
    pub fn set_cdb(&mut self, cdb: [u8; 16]) {
        self.buffer.as_mut()[field::CDB].copy_from_slice(&cdb);
    }

    /// Zeroes the whole BHS (reserved fields must be 0 on send).
    pub fn clear(&mut self) {
        self.buffer.as_mut()[..BHS_LEN].fill(0);
    }
}
