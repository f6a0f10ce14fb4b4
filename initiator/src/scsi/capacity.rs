//! READ CAPACITY(10) and (16) parameter data (SBC-3 §5.15, §5.16).

use super::{ParseError, be32, be64, need};

/// READ CAPACITY(10) data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadCapacity10 {
    /// RETURNED LOGICAL BLOCK ADDRESS: the last LBA (0xFFFFFFFF = too large, use (16)).
    pub last_lba: u32,
    /// LOGICAL BLOCK LENGTH IN BYTES.
    pub block_len: u32,
}

impl ReadCapacity10 {
    /// Length of the parameter data.
    pub const LEN: usize = 8;

    /// Parses the 8 bytes.
    ///
    /// ```
    /// use initiator::scsi::ReadCapacity10;
    /// let rc = ReadCapacity10::parse(&[0, 0, 0x07, 0xff, 0, 0, 2, 0]).unwrap();
    /// assert_eq!(rc.block_count(), Some(2048));
    /// assert_eq!(rc.block_len, 512);
    /// ```
    pub fn parse(data: &[u8]) -> Result<Self, ParseError> {
        need(data, Self::LEN)?;
        Ok(Self {
            last_lba: be32(data, 0),
            block_len: be32(data, 4),
        })
    }

    /// True when the capacity does not fit: READ CAPACITY(16) must be used.
    #[must_use]
    pub fn needs_16(&self) -> bool {
        self.last_lba == u32::MAX
    }

    /// Number of blocks, `None` when [`needs_16`](Self::needs_16).
    #[must_use]
    pub fn block_count(&self) -> Option<u64> {
        if self.needs_16() {
            None
        } else {
            Some(u64::from(self.last_lba) + 1)
        }
    }
}

/// READ CAPACITY(16) data (the first 16 of 32 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadCapacity16 {
    /// The last LBA.
    pub last_lba: u64,
    /// LOGICAL BLOCK LENGTH IN BYTES.
    pub block_len: u32,
    /// PROT_EN.
    pub protection_enabled: bool,
    /// LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT.
    pub logical_per_physical_exponent: u8,
    /// Thin provisioning enabled (LBPME).
    pub thin_provisioned: bool,
    /// LOWEST ALIGNED LOGICAL BLOCK ADDRESS.
    pub lowest_aligned_lba: u16,
}

impl ReadCapacity16 {
    /// Bytes parsed here (the reply is 32, the rest reserved).
    pub const LEN: usize = 16;

    /// Parses the first 16 bytes (at least 12 are needed; 12..16 missing reads as 0).
    ///
    /// ```
    /// use initiator::scsi::ReadCapacity16;
    /// let mut d = [0u8; 32];
    /// d[..8].copy_from_slice(&0x1_0000_0000u64.to_be_bytes());
    /// d[8..12].copy_from_slice(&4096u32.to_be_bytes());
    /// let rc = ReadCapacity16::parse(&d).unwrap();
    /// assert_eq!(rc.block_count(), Some(0x1_0000_0001));
    /// assert_eq!(rc.capacity_bytes(), Some(0x1_0000_0001 * 4096));
    /// ```
    pub fn parse(data: &[u8]) -> Result<Self, ParseError> {
        need(data, 12)?;
        let b12 = data.get(12).copied().unwrap_or(0);
        let b13 = data.get(13).copied().unwrap_or(0);
        let b14 = data.get(14).copied().unwrap_or(0);
        let b15 = data.get(15).copied().unwrap_or(0);
        Ok(Self {
            last_lba: be64(data, 0),
            block_len: be32(data, 8),
            protection_enabled: b12 & 0x01 != 0,
            logical_per_physical_exponent: b13 & 0x0f,
            thin_provisioned: b14 & 0x80 != 0,
            lowest_aligned_lba: u16::from_be_bytes([b14 & 0x3f, b15]),
        })
    }

    /// Number of blocks (`None` only for the impossible last LBA 2^64-1).
    #[must_use]
    pub fn block_count(&self) -> Option<u64> {
        self.last_lba.checked_add(1)
    }

    /// Capacity in bytes, `None` on overflow.
    #[must_use]
    pub fn capacity_bytes(&self) -> Option<u128> {
        self.block_count()
            .map(|n| u128::from(n) * u128::from(self.block_len))
    }
}
