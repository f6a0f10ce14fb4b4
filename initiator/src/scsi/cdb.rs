//! Command descriptor blocks (SPC-4 §6, SBC-3 §5).
//!
//! The `read`/`write`/`synchronize_cache` helpers pick the 10-byte form when it can express the
//! request and the 16-byte form when the LBA is ≥ 2^32 or the block count > 65535.

use core::fmt;

/// Operation codes.
pub mod opcode {
    /// TEST UNIT READY.
    pub const TEST_UNIT_READY: u8 = 0x00;
    /// REQUEST SENSE.
    pub const REQUEST_SENSE: u8 = 0x03;
    /// INQUIRY.
    pub const INQUIRY: u8 = 0x12;
    /// READ CAPACITY(10).
    pub const READ_CAPACITY_10: u8 = 0x25;
    /// READ(10).
    pub const READ_10: u8 = 0x28;
    /// WRITE(10).
    pub const WRITE_10: u8 = 0x2a;
    /// SYNCHRONIZE CACHE(10).
    pub const SYNCHRONIZE_CACHE_10: u8 = 0x35;
    /// READ(16).
    pub const READ_16: u8 = 0x88;
    /// WRITE(16).
    pub const WRITE_16: u8 = 0x8a;
    /// SYNCHRONIZE CACHE(16).
    pub const SYNCHRONIZE_CACHE_16: u8 = 0x91;
    /// SERVICE ACTION IN(16) (READ CAPACITY(16) is service action 0x10).
    pub const SERVICE_ACTION_IN_16: u8 = 0x9e;
    /// REPORT LUNS.
    pub const REPORT_LUNS: u8 = 0xa0;
}

/// VPD page codes.
pub mod vpd {
    /// Supported VPD pages.
    pub const SUPPORTED_PAGES: u8 = 0x00;
    /// Unit serial number.
    pub const UNIT_SERIAL_NUMBER: u8 = 0x80;
    /// Device identification.
    pub const DEVICE_IDENTIFICATION: u8 = 0x83;
}

/// Which way data flows for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// No data.
    None,
    /// Target to initiator (Data-In).
    Read,
    /// Initiator to target (Data-Out).
    Write,
}

/// A CDB of 6, 10, 12 or 16 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cdb {
    bytes: [u8; 16],
    len: u8,
}

impl Cdb {
    const fn new(len: u8) -> Self {
        Self {
            bytes: [0; 16],
            len,
        }
    }

    /// The CDB bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The operation code.
    #[must_use]
    pub const fn opcode(&self) -> u8 {
        self.bytes[0]
    }

    /// The data direction of this command.
    #[must_use]
    pub const fn direction(&self) -> Direction {
        match self.bytes[0] {
            opcode::WRITE_10 | opcode::WRITE_16 => Direction::Write,
            opcode::TEST_UNIT_READY
            | opcode::SYNCHRONIZE_CACHE_10
            | opcode::SYNCHRONIZE_CACHE_16 => Direction::None,
            _ => Direction::Read,
        }
    }

    fn put(mut self, at: usize, bytes: &[u8]) -> Self {
        self.bytes[at..at + bytes.len()].copy_from_slice(bytes);
        self
    }
}

impl fmt::Debug for Cdb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cdb(")?;
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// TEST UNIT READY.
#[must_use]
pub fn test_unit_ready() -> Cdb {
    Cdb::new(6)
}

/// REQUEST SENSE (descriptor format not requested).
#[must_use]
pub fn request_sense(allocation_length: u8) -> Cdb {
    Cdb::new(6)
        .put(0, &[opcode::REQUEST_SENSE])
        .put(4, &[allocation_length])
}

/// Standard INQUIRY (36 bytes or more recommended).
#[must_use]
pub fn inquiry(allocation_length: u16) -> Cdb {
    Cdb::new(6)
        .put(0, &[opcode::INQUIRY])
        .put(3, &allocation_length.to_be_bytes())
}

/// INQUIRY for a VPD page (EVPD = 1).
#[must_use]
pub fn inquiry_vpd(page: u8, allocation_length: u16) -> Cdb {
    Cdb::new(6)
        .put(0, &[opcode::INQUIRY, 0x01, page])
        .put(3, &allocation_length.to_be_bytes())
}

/// READ CAPACITY(10): 8 bytes of data.
#[must_use]
pub fn read_capacity10() -> Cdb {
    Cdb::new(10).put(0, &[opcode::READ_CAPACITY_10])
}

/// READ CAPACITY(16): SERVICE ACTION IN(16) / 0x10 (32 bytes of data is the full reply).
#[must_use]
pub fn read_capacity16(allocation_length: u32) -> Cdb {
    Cdb::new(16)
        .put(0, &[opcode::SERVICE_ACTION_IN_16, 0x10])
        .put(10, &allocation_length.to_be_bytes())
}

fn rw10(op: u8, lba: u32, blocks: u16) -> Cdb {
    Cdb::new(10)
        .put(0, &[op])
        .put(2, &lba.to_be_bytes())
        .put(7, &blocks.to_be_bytes())
}

fn rw16(op: u8, lba: u64, blocks: u32) -> Cdb {
    Cdb::new(16)
        .put(0, &[op])
        .put(2, &lba.to_be_bytes())
        .put(10, &blocks.to_be_bytes())
}

/// True when the 10-byte form can express `lba`/`blocks`.
#[must_use]
pub fn fits_10(lba: u64, blocks: u32) -> bool {
    lba <= u64::from(u32::MAX) && blocks <= u32::from(u16::MAX)
}

/// READ(10).
#[must_use]
pub fn read10(lba: u32, blocks: u16) -> Cdb {
    rw10(opcode::READ_10, lba, blocks)
}

/// READ(16).
#[must_use]
pub fn read16(lba: u64, blocks: u32) -> Cdb {
    rw16(opcode::READ_16, lba, blocks)
}

/// READ(10) or READ(16), whichever fits.
#[must_use]
pub fn read(lba: u64, blocks: u32) -> Cdb {
    match (u32::try_from(lba), u16::try_from(blocks)) {
        (Ok(l), Ok(b)) => read10(l, b),
        _ => read16(lba, blocks),
    }
}

/// WRITE(10).
#[must_use]
pub fn write10(lba: u32, blocks: u16) -> Cdb {
    rw10(opcode::WRITE_10, lba, blocks)
}

/// WRITE(16).
#[must_use]
pub fn write16(lba: u64, blocks: u32) -> Cdb {
    rw16(opcode::WRITE_16, lba, blocks)
}

/// WRITE(10) or WRITE(16), whichever fits.
#[must_use]
pub fn write(lba: u64, blocks: u32) -> Cdb {
    match (u32::try_from(lba), u16::try_from(blocks)) {
        (Ok(l), Ok(b)) => write10(l, b),
        _ => write16(lba, blocks),
    }
}

/// SYNCHRONIZE CACHE(10); `blocks` 0 means "to the end of the medium".
#[must_use]
pub fn synchronize_cache10(lba: u32, blocks: u16) -> Cdb {
    rw10(opcode::SYNCHRONIZE_CACHE_10, lba, blocks)
}

/// SYNCHRONIZE CACHE(16).
#[must_use]
pub fn synchronize_cache16(lba: u64, blocks: u32) -> Cdb {
    rw16(opcode::SYNCHRONIZE_CACHE_16, lba, blocks)
}

/// SYNCHRONIZE CACHE(10) or (16), whichever fits.
#[must_use]
pub fn synchronize_cache(lba: u64, blocks: u32) -> Cdb {
    match (u32::try_from(lba), u16::try_from(blocks)) {
        (Ok(l), Ok(b)) => synchronize_cache10(l, b),
        _ => synchronize_cache16(lba, blocks),
    }
}

/// REPORT LUNS, SELECT REPORT 0 (all logical units); allocation length ≥ 16.
#[must_use]
pub fn report_luns(allocation_length: u32) -> Cdb {
    Cdb::new(12)
        .put(0, &[opcode::REPORT_LUNS])
        .put(6, &allocation_length.to_be_bytes())
}
