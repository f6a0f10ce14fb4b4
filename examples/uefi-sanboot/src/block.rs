//! The block-device backend behind the installed `EFI_BLOCK_IO_PROTOCOL`, and a RAM-disk backend.
//!
//! The UEFI shim only translates firmware calls into this trait, so the backend can be an iSCSI
//! LUN (the initiator's blocking driver) or a disk image held in memory (tests and demos).
//!
//! ```
//! use sanboot::block::{BlockDevice, RamDisk};
//! let mut image = vec![0u8; 4 * 512];
//! let mut disk = RamDisk::new(&mut image, 512).unwrap();
//! disk.write_blocks(1, &[0xAA; 512]).unwrap();
//! let mut buf = [0u8; 512];
//! disk.read_blocks(1, &mut buf).unwrap();
//! assert_eq!(buf, [0xAA; 512]);
//! assert_eq!(disk.last_lba(), 3);
//! ```

/// Why a block transfer failed; the Block I/O shim maps each to an `EFI_STATUS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockError {
    /// The buffer is not a whole number of blocks.
    BadBufferSize,
    /// The range runs past the last block.
    OutOfRange,
    /// The medium refuses writes.
    ReadOnly,
    /// The backend failed (network, target, SCSI sense).
    Device,
}

impl core::fmt::Display for BlockError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::BadBufferSize => "buffer is not a whole number of blocks",
            Self::OutOfRange => "block range past the end of the disk",
            Self::ReadOnly => "disk is read-only",
            Self::Device => "device error",
        })
    }
}

impl core::error::Error for BlockError {}

/// A disk addressed in fixed-size blocks.
pub trait BlockDevice {
    /// Bytes per block (512 or 4096).
    fn block_size(&self) -> u32;
    /// The number of the last block (capacity in blocks minus one).
    fn last_lba(&self) -> u64;
    /// Whether writes are refused.
    fn read_only(&self) -> bool {
        false
    }
    /// Reads `buf.len() / block_size` blocks starting at `lba`.
    fn read_blocks(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), BlockError>;
    /// Writes `buf.len() / block_size` blocks starting at `lba`.
    fn write_blocks(&mut self, lba: u64, buf: &[u8]) -> Result<(), BlockError>;
    /// Makes earlier writes durable.
    fn flush(&mut self) -> Result<(), BlockError>;
    /// Called periodically between requests, so a network disk can answer its target's
    /// pings (NOP-In) and keep its session. Does nothing by default.
    fn service_idle(&mut self) {}
}

/// Checks a transfer against the disk geometry; returns the byte range it covers.
///
/// ```
/// use sanboot::block::{check_range, BlockError};
/// assert_eq!(check_range(512, 7, 2, 1024), Ok(1024..2048));
/// assert_eq!(check_range(512, 7, 7, 1024), Err(BlockError::OutOfRange));
/// assert_eq!(check_range(512, 7, 0, 100), Err(BlockError::BadBufferSize));
/// ```
pub fn check_range(
    block_size: u32,
    last_lba: u64,
    lba: u64,
    len: usize,
) -> Result<core::ops::Range<usize>, BlockError> {
    let block_size = u64::from(block_size);
    let len = len as u64;
    if block_size == 0 || !len.is_multiple_of(block_size) {
        return Err(BlockError::BadBufferSize);
    }
    let blocks = len / block_size;
    let end_lba = lba.checked_add(blocks).ok_or(BlockError::OutOfRange)?;
    if lba > last_lba || end_lba > last_lba.saturating_add(1) {
        return Err(BlockError::OutOfRange);
    }
    let start = lba.checked_mul(block_size).ok_or(BlockError::OutOfRange)?;
    let end = start.checked_add(len).ok_or(BlockError::OutOfRange)?;
    let start = usize::try_from(start).map_err(|_| BlockError::OutOfRange)?;
    let end = usize::try_from(end).map_err(|_| BlockError::OutOfRange)?;
    Ok(start..end)
}

/// A disk image held in memory.
#[derive(Debug)]
pub struct RamDisk<'a> {
    image: &'a mut [u8],
    block_size: u32,
}

impl<'a> RamDisk<'a> {
    /// Wraps an image; `None` when it is empty or not a whole number of blocks.
    pub fn new(image: &'a mut [u8], block_size: u32) -> Option<Self> {
        let bs = usize::try_from(block_size).ok()?;
        (bs != 0 && !image.is_empty() && image.len().is_multiple_of(bs))
            .then_some(Self { image, block_size })
    }
}

impl BlockDevice for RamDisk<'_> {
    fn block_size(&self) -> u32 {
        self.block_size
    }

    fn last_lba(&self) -> u64 {
        (self.image.len() / self.block_size as usize) as u64 - 1
    }

    fn read_blocks(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let range = check_range(self.block_size, self.last_lba(), lba, buf.len())?;
        buf.copy_from_slice(self.image.get(range).ok_or(BlockError::OutOfRange)?);
        Ok(())
    }

    fn write_blocks(&mut self, lba: u64, buf: &[u8]) -> Result<(), BlockError> {
        let range = check_range(self.block_size, self.last_lba(), lba, buf.len())?;
        self.image
            .get_mut(range)
            .ok_or(BlockError::OutOfRange)?
            .copy_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_disk_geometry_and_bounds() {
        assert!(RamDisk::new(&mut [], 512).is_none());
        assert!(RamDisk::new(&mut [0; 700], 512).is_none());
        let mut image = [0u8; 8 * 512];
        let mut disk = RamDisk::new(&mut image, 512).unwrap();
        assert_eq!(disk.last_lba(), 7);
        let mut two = [0u8; 1024];
        assert_eq!(disk.read_blocks(6, &mut two), Ok(()));
        assert_eq!(disk.read_blocks(7, &mut two), Err(BlockError::OutOfRange));
        assert_eq!(disk.read_blocks(8, &mut []), Err(BlockError::OutOfRange));
        assert_eq!(
            disk.write_blocks(0, &[0; 100]),
            Err(BlockError::BadBufferSize)
        );
        assert_eq!(
            disk.read_blocks(u64::MAX, &mut two),
            Err(BlockError::OutOfRange)
        );
    }

    #[test]
    fn writes_land_at_the_right_offset() {
        let mut image = [0u8; 4 * 4096];
        {
            let mut disk = RamDisk::new(&mut image, 4096).unwrap();
            disk.write_blocks(2, &[7; 4096]).unwrap();
        }
        assert!(image[..2 * 4096].iter().all(|&b| b == 0));
        assert!(image[2 * 4096..3 * 4096].iter().all(|&b| b == 7));
        assert!(image[3 * 4096..].iter().all(|&b| b == 0));
    }
}
