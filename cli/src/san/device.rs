//! What the commands need from a logged-in LUN, kept behind a trait so the transfer logic is
//! tested without a target.

use super::failure::Failure;

/// What INQUIRY, READ CAPACITY and REPORT LUNS said about the LUN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LunInfo {
    /// T10 vendor identification.
    pub vendor: String,
    /// Product identification.
    pub product: String,
    /// Product revision level.
    pub revision: String,
    /// Unit serial number (VPD page 0x80), when the target reports one.
    pub serial: Option<String>,
    /// Device identifiers (VPD page 0x83) as text: `naa.…`, `eui.…`, `t10.…`, ….
    pub identifiers: Vec<String>,
    /// Logical block size in bytes.
    pub block_size: u32,
    /// Number of logical blocks.
    pub blocks: u64,
    /// Every LUN the target reports.
    pub luns: Vec<u64>,
}

impl LunInfo {
    /// Capacity in bytes.
    pub fn capacity(&self) -> u64 {
        self.blocks.saturating_mul(u64::from(self.block_size))
    }
}

/// A LUN reachable through a logged-in session.
pub trait BlockDevice {
    /// What the LUN reported at login.
    fn info(&self) -> &LunInfo;

    /// Reads `buf.len() / block_size` blocks starting at `lba` (`buf` is a whole number of blocks).
    fn read(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), Failure>;

    /// Writes `data` (a whole number of blocks) starting at `lba`.
    fn write(&mut self, lba: u64, data: &[u8]) -> Result<(), Failure>;

    /// Logs out cleanly.
    fn close(self: Box<Self>) -> Result<(), Failure>;

    /// Reads `blocks` blocks from `lba` on through `scratch` (a whole number of commands long,
    /// reused round robin), keeping the queue full over the whole range; the data is dropped.
    fn read_streaming(&mut self, lba: u64, blocks: u64, scratch: &mut [u8]) -> Result<(), Failure> {
        stream_in_pieces(
            self.info().block_size,
            lba,
            blocks,
            scratch.len(),
            |at, n| self.read(at, &mut scratch[..n]),
        )
    }

    /// Writes `blocks` blocks from `lba` on, repeating `pattern` (a whole number of commands
    /// long), keeping the queue full over the whole range.
    fn write_streaming(&mut self, lba: u64, blocks: u64, pattern: &[u8]) -> Result<(), Failure> {
        stream_in_pieces(
            self.info().block_size,
            lba,
            blocks,
            pattern.len(),
            |at, n| self.write(at, &pattern[..n]),
        )
    }

    /// Largest READ/WRITE command from now on (reads and writes are split into commands of at
    /// most this many bytes); devices without commands ignore it.
    fn set_request_bytes(&mut self, _bytes: u32) {}
}

/// Calls `io(lba, bytes)` for consecutive pieces of at most `piece` bytes covering `blocks`
/// blocks from `lba` on.
fn stream_in_pieces(
    block_size: u32,
    lba: u64,
    blocks: u64,
    piece: usize,
    mut io: impl FnMut(u64, usize) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let bs = u64::from(block_size.max(1));
    let per = (piece as u64 / bs).max(1);
    let mut done = 0;
    while done < blocks {
        let n = per.min(blocks - done);
        io(lba + done, (n * bs) as usize)?;
        done += n;
    }
    Ok(())
}

/// One target a SendTargets discovery returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredTarget {
    /// The target's iSCSI name.
    pub name: String,
    /// Its portals as `address:port,tag`.
    pub portals: Vec<String>,
}

/// An in-memory LUN for tests of the command logic.
#[cfg(test)]
#[derive(Debug)]
pub struct MemDevice {
    /// What `info` returns.
    pub info: LunInfo,
    /// The LUN's bytes.
    pub bytes: Vec<u8>,
    /// Fail writes at or past this LBA.
    pub fail_writes_from: Option<u64>,
    /// Fail reads at or past this LBA.
    pub fail_reads_from: Option<u64>,
}

#[cfg(test)]
impl MemDevice {
    /// A zeroed LUN of `blocks` blocks of `block_size` bytes.
    pub fn new(block_size: u32, blocks: u64) -> MemDevice {
        MemDevice {
            info: LunInfo {
                vendor: "TEST".into(),
                product: "MEM".into(),
                revision: "1".into(),
                serial: None,
                identifiers: Vec::new(),
                block_size,
                blocks,
                luns: vec![0],
            },
            bytes: vec![0; (blocks * u64::from(block_size)) as usize],
            fail_writes_from: None,
            fail_reads_from: None,
        }
    }

    fn range(&self, lba: u64, len: usize) -> Result<std::ops::Range<usize>, Failure> {
        let start = (lba * u64::from(self.info.block_size)) as usize;
        let end = start + len;
        if end > self.bytes.len() || !len.is_multiple_of(self.info.block_size as usize) {
            return Err(Failure::new(
                super::failure::Cause::Scsi,
                "LBA out of range",
            ));
        }
        Ok(start..end)
    }
}

#[cfg(test)]
impl BlockDevice for MemDevice {
    fn info(&self) -> &LunInfo {
        &self.info
    }

    fn read(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), Failure> {
        if self.fail_reads_from.is_some_and(|from| lba >= from) {
            return Err(Failure::new(
                super::failure::Cause::Timeout,
                "target stopped answering",
            ));
        }
        let r = self.range(lba, buf.len())?;
        buf.copy_from_slice(&self.bytes[r]);
        Ok(())
    }

    fn write(&mut self, lba: u64, data: &[u8]) -> Result<(), Failure> {
        if self.fail_writes_from.is_some_and(|from| lba >= from) {
            return Err(Failure::new(
                super::failure::Cause::Timeout,
                "target stopped answering",
            ));
        }
        let r = self.range(lba, data.len())?;
        self.bytes[r].copy_from_slice(data);
        Ok(())
    }

    fn close(self: Box<Self>) -> Result<(), Failure> {
        Ok(())
    }
}
