//! The few CDBs the driver issues (SPC-4 / SBC-3 layouts), and decoding of their answers.

/// A CDB of up to 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CdbBuf {
    pub bytes: [u8; 16],
    pub len: u8,
}

impl CdbBuf {
    fn new(bytes: &[u8]) -> CdbBuf {
        let mut b = [0u8; 16];
        b[..bytes.len()].copy_from_slice(bytes);
        CdbBuf {
            bytes: b,
            len: bytes.len() as u8,
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

pub(crate) fn test_unit_ready() -> CdbBuf {
    CdbBuf::new(&[0x00, 0, 0, 0, 0, 0])
}

pub(crate) fn inquiry(alloc: u16) -> CdbBuf {
    let a = alloc.to_be_bytes();
    CdbBuf::new(&[0x12, 0, 0, a[0], a[1], 0])
}

pub(crate) fn read_capacity_10() -> CdbBuf {
    CdbBuf::new(&[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])
}

pub(crate) fn read_capacity_16(alloc: u32) -> CdbBuf {
    let a = alloc.to_be_bytes();
    // SERVICE ACTION IN(16), service action 0x10.
    CdbBuf::new(&[
        0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, a[0], a[1], a[2], a[3], 0, 0,
    ])
}

pub(crate) fn report_luns(alloc: u32) -> CdbBuf {
    let a = alloc.to_be_bytes();
    CdbBuf::new(&[0xa0, 0, 0, 0, 0, 0, a[0], a[1], a[2], a[3], 0, 0])
}

pub(crate) fn sync_cache() -> CdbBuf {
    CdbBuf::new(&[0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0])
}

/// READ/WRITE (10) when LBA and length fit, else (16).
pub(crate) fn read_write(write: bool, lba: u64, blocks: u32) -> CdbBuf {
    if let (Ok(lba32), Ok(n16)) = (u32::try_from(lba), u16::try_from(blocks)) {
        let l = lba32.to_be_bytes();
        let n = n16.to_be_bytes();
        let op = if write { 0x2a } else { 0x28 };
        CdbBuf::new(&[op, 0, l[0], l[1], l[2], l[3], 0, n[0], n[1], 0])
    } else {
        let l = lba.to_be_bytes();
        let n = blocks.to_be_bytes();
        let op = if write { 0x8a } else { 0x88 };
        CdbBuf::new(&[
            op, 0, l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7], n[0], n[1], n[2], n[3], 0, 0,
        ])
    }
}

/// Standard INQUIRY data (the fields a user wants to see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inquiry {
    /// Peripheral device type (0 = direct-access block device).
    pub device_type: u8,
    /// Peripheral qualifier (0 = a device is connected to this LUN).
    pub qualifier: u8,
    /// T10 vendor identification (8 ASCII bytes, space-padded).
    pub vendor: [u8; 8],
    /// Product identification (16 ASCII bytes).
    pub product: [u8; 16],
    /// Product revision level (4 ASCII bytes).
    pub revision: [u8; 4],
}

impl Inquiry {
    /// Parses standard INQUIRY data (at least 36 bytes, SPC-4 §6.6.2).
    #[must_use]
    pub fn parse(data: &[u8]) -> Option<Inquiry> {
        let d = data.get(..36)?;
        let mut vendor = [0u8; 8];
        let mut product = [0u8; 16];
        let mut revision = [0u8; 4];
        vendor.copy_from_slice(&d[8..16]);
        product.copy_from_slice(&d[16..32]);
        revision.copy_from_slice(&d[32..36]);
        Some(Inquiry {
            device_type: d[0] & 0x1f,
            qualifier: d[0] >> 5,
            vendor,
            product,
            revision,
        })
    }

    /// Vendor as text, trailing spaces removed.
    #[must_use]
    pub fn vendor_str(&self) -> &str {
        trimmed(&self.vendor)
    }

    /// Product as text, trailing spaces removed.
    #[must_use]
    pub fn product_str(&self) -> &str {
        trimmed(&self.product)
    }

    /// Revision as text, trailing spaces removed.
    #[must_use]
    pub fn revision_str(&self) -> &str {
        trimmed(&self.revision)
    }
}

fn trimmed(b: &[u8]) -> &str {
    core::str::from_utf8(b)
        .unwrap_or("?")
        .trim_end_matches([' ', '\0'])
}

/// The size of a logical unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Address of the last logical block.
    pub last_lba: u64,
    /// Bytes per logical block.
    pub block_size: u32,
}

impl Capacity {
    /// Number of logical blocks.
    #[must_use]
    pub fn blocks(&self) -> u64 {
        self.last_lba.saturating_add(1)
    }

    /// Size in bytes.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.blocks().saturating_mul(u64::from(self.block_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_write_switches_to_16_past_32_bits() {
        assert_eq!(
            read_write(false, 5, 8).as_slice(),
            &[0x28, 0, 0, 0, 0, 5, 0, 0, 8, 0]
        );
        let big = read_write(true, 0x1_0000_0000, 1);
        assert_eq!(big.len, 16);
        assert_eq!(&big.bytes[..10], &[0x8a, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(&big.bytes[10..14], &[0, 0, 0, 1]);
    }
}
