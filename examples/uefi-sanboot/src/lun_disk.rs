//! A [`BlockDevice`] over a SCSI logical unit reached through any initiator: splits firmware
//! requests (which can be megabytes) into transfers the session accepts, and maps failures to
//! [`BlockError::Device`].
//!
//! The iSCSI backend implements [`LunIo`] on the initiator's blocking driver; tests implement it
//! on memory.
//!
//! ```
//! use sanboot::block::BlockDevice;
//! use sanboot::lun_disk::{LunDisk, LunIo};
//!
//! struct Mem(Vec<u8>);
//! impl LunIo for Mem {
//!     type Error = ();
//!     fn read(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), ()> {
//!         let at = lba as usize * 512;
//!         buf.copy_from_slice(&self.0[at..at + buf.len()]);
//!         Ok(())
//!     }
//!     fn write(&mut self, lba: u64, buf: &[u8]) -> Result<(), ()> {
//!         let at = lba as usize * 512;
//!         self.0[at..at + buf.len()].copy_from_slice(buf);
//!         Ok(())
//!     }
//!     fn sync(&mut self) -> Result<(), ()> { Ok(()) }
//! }
//! let mut disk = LunDisk::new(Mem(vec![0; 64 * 512]), 512, 63, 8).unwrap();
//! disk.write_blocks(4, &[1; 20 * 512]).unwrap(); // three transfers: 8 + 8 + 4 blocks
//! assert_eq!(disk.last_lba(), 63);
//! ```

use crate::block::{BlockDevice, BlockError, check_range};

/// The SCSI commands the disk needs, in units of whole blocks (READ(16)/WRITE(16)/SYNCHRONIZE
/// CACHE(16) on an iSCSI session).
pub trait LunIo {
    /// Why a command failed (transport, timeout, CHECK CONDITION…).
    type Error;
    /// Reads `buf.len() / block_size` blocks from `lba`.
    fn read(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), Self::Error>;
    /// Writes `buf.len() / block_size` blocks at `lba`.
    fn write(&mut self, lba: u64, buf: &[u8]) -> Result<(), Self::Error>;
    /// Flushes the target's write cache.
    fn sync(&mut self) -> Result<(), Self::Error>;
    /// Services the connection for a short while with no command running (answers the
    /// target's pings). Does nothing by default.
    fn idle(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A logical unit as a block device.
#[derive(Debug)]
pub struct LunDisk<L> {
    io: L,
    block_size: u32,
    last_lba: u64,
    max_blocks: u32,
    read_only: bool,
    failed: bool,
}

impl<L: LunIo> LunDisk<L> {
    /// Wraps `io` with the geometry READ CAPACITY reported and the largest transfer (in blocks)
    /// one command may carry. `None` if the block size or the transfer limit is zero.
    pub fn new(io: L, block_size: u32, last_lba: u64, max_blocks: u32) -> Option<Self> {
        (block_size != 0 && max_blocks != 0).then_some(Self {
            io,
            block_size,
            last_lba,
            max_blocks,
            read_only: false,
            failed: false,
        })
    }

    /// Marks the unit write-protected (the mode page said so, or the user asked).
    pub fn set_read_only(&mut self, read_only: bool) {
        self.read_only = read_only;
    }

    /// Whether any command has failed since the disk was created.
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// The wrapped initiator.
    pub fn io_mut(&mut self) -> &mut L {
        &mut self.io
    }

    fn chunk_bytes(&self) -> usize {
        (self.max_blocks as usize).saturating_mul(self.block_size as usize)
    }
}

impl<L: LunIo> BlockDevice for LunDisk<L> {
    fn block_size(&self) -> u32 {
        self.block_size
    }

    fn last_lba(&self) -> u64 {
        self.last_lba
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read_blocks(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(self.block_size, self.last_lba, lba, buf.len())?;
        let chunk = self.chunk_bytes();
        let per_chunk = u64::from(self.max_blocks);
        for (i, part) in buf.chunks_mut(chunk).enumerate() {
            let at = lba + i as u64 * per_chunk;
            if self.io.read(at, part).is_err() {
                self.failed = true;
                return Err(BlockError::Device);
            }
        }
        Ok(())
    }

    fn write_blocks(&mut self, lba: u64, buf: &[u8]) -> Result<(), BlockError> {
        if self.read_only {
            return Err(BlockError::ReadOnly);
        }
        check_range(self.block_size, self.last_lba, lba, buf.len())?;
        let chunk = self.chunk_bytes();
        let per_chunk = u64::from(self.max_blocks);
        for (i, part) in buf.chunks(chunk).enumerate() {
            let at = lba + i as u64 * per_chunk;
            if self.io.write(at, part).is_err() {
                self.failed = true;
                return Err(BlockError::Device);
            }
        }
        Ok(())
    }

    fn service_idle(&mut self) {
        // A broken connection is re-established (or reported) by the next request.
        let _ = self.io.idle();
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        self.io.sync().map_err(|_| {
            self.failed = true;
            BlockError::Device
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every command; fails the `fail_at`-th one.
    struct Recorder {
        disk: Vec<u8>,
        calls: Vec<(char, u64, usize)>,
        fail_at: Option<usize>,
    }

    impl Recorder {
        fn step(&mut self, kind: char, lba: u64, len: usize) -> Result<(), ()> {
            self.calls.push((kind, lba, len));
            if self.fail_at == Some(self.calls.len()) {
                Err(())
            } else {
                Ok(())
            }
        }
    }

    impl LunIo for Recorder {
        type Error = ();
        fn read(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), ()> {
            self.step('r', lba, buf.len())?;
            let at = lba as usize * 4096;
            buf.copy_from_slice(&self.disk[at..at + buf.len()]);
            Ok(())
        }
        fn write(&mut self, lba: u64, buf: &[u8]) -> Result<(), ()> {
            self.step('w', lba, buf.len())?;
            let at = lba as usize * 4096;
            self.disk[at..at + buf.len()].copy_from_slice(buf);
            Ok(())
        }
        fn sync(&mut self) -> Result<(), ()> {
            self.step('s', 0, 0)
        }
    }

    fn disk(fail_at: Option<usize>) -> LunDisk<Recorder> {
        let io = Recorder {
            disk: vec![0; 32 * 4096],
            calls: Vec::new(),
            fail_at,
        };
        LunDisk::new(io, 4096, 31, 4).unwrap()
    }

    #[test]
    fn splits_into_transfers_of_at_most_max_blocks() {
        let mut d = disk(None);
        let data: Vec<u8> = (0..10 * 4096).map(|i| (i / 4096) as u8).collect();
        d.write_blocks(3, &data).unwrap();
        let mut back = vec![0; 10 * 4096];
        d.read_blocks(3, &mut back).unwrap();
        assert_eq!(back, data);
        d.flush().unwrap();
        assert_eq!(
            d.io.calls,
            [
                ('w', 3, 4 * 4096),
                ('w', 7, 4 * 4096),
                ('w', 11, 2 * 4096),
                ('r', 3, 4 * 4096),
                ('r', 7, 4 * 4096),
                ('r', 11, 2 * 4096),
                ('s', 0, 0),
            ]
        );
        assert!(!d.has_failed());
    }

    #[test]
    fn range_checks_happen_before_any_command() {
        let mut d = disk(None);
        assert_eq!(
            d.read_blocks(30, &mut [0; 3 * 4096]),
            Err(BlockError::OutOfRange)
        );
        assert_eq!(d.write_blocks(0, &[0; 512]), Err(BlockError::BadBufferSize));
        d.set_read_only(true);
        assert_eq!(d.write_blocks(0, &[0; 4096]), Err(BlockError::ReadOnly));
        assert!(d.io.calls.is_empty());
    }

    #[test]
    fn a_failed_command_is_a_device_error() {
        let mut d = disk(Some(2));
        assert_eq!(
            d.read_blocks(0, &mut [0; 8 * 4096]),
            Err(BlockError::Device)
        );
        assert_eq!(d.io.calls.len(), 2, "stops at the failed transfer");
        assert!(d.has_failed());
        assert!(LunDisk::new(d.io, 0, 1, 1).is_none());
    }
}
