//! Owned copies of the answers the driver hands back (the `scsi` parsers borrow the buffer).

use crate::scsi::{ParseError, StandardInquiry};

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
    /// Copies the fields out of standard INQUIRY data (at least 36 bytes, SPC-4 §6.6.2).
    ///
    /// ```
    /// use initiator::driver::Inquiry;
    /// let mut data = [0u8; 36];
    /// data[8..16].copy_from_slice(b"IET     ");
    /// let inquiry = Inquiry::parse(&data).unwrap();
    /// assert_eq!(inquiry.vendor_str(), "IET");
    /// ```
    pub fn parse(data: &[u8]) -> Result<Inquiry, ParseError> {
        let standard = StandardInquiry::parse(data)?;
        let raw = standard.as_bytes();
        let mut vendor = [0u8; 8];
        let mut product = [0u8; 16];
        let mut revision = [0u8; 4];
        vendor.copy_from_slice(&raw[8..16]);
        product.copy_from_slice(&raw[16..32]);
        revision.copy_from_slice(&raw[32..36]);
        Ok(Inquiry {
            device_type: standard.device_type(),
            qualifier: standard.peripheral_qualifier(),
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
