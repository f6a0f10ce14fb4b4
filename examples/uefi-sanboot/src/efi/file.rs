//! Reads a whole file through the Simple File System protocol: open, seek to the end for the
//! size, read. `uefi::fs::FileSystem` does the same with path validation and richer errors
//! the application does not print, at about 2 KB more code.

use alloc::vec;
use alloc::vec::Vec;
use uefi::boot::ScopedProtocol;
use uefi::proto::media::file::{File, FileAttribute, FileMode, RegularFile};
use uefi::proto::media::fs::SimpleFileSystem;
use uefi::{CStr16, Status};

/// The contents of `path` (absolute, `\`-separated) on the volume `sfs`.
pub fn read(mut sfs: ScopedProtocol<SimpleFileSystem>, path: &CStr16) -> uefi::Result<Vec<u8>> {
    let mut file = sfs
        .open_volume()?
        .open(path, FileMode::Read, FileAttribute::empty())?
        .into_regular_file()
        .ok_or(Status::INVALID_PARAMETER)?;
    file.set_position(RegularFile::END_OF_FILE)?;
    let size = usize::try_from(file.get_position()?).map_err(|_| Status::BAD_BUFFER_SIZE)?;
    file.set_position(0)?;
    let mut bytes = vec![0u8; size];
    let mut filled = 0;
    while filled < size {
        match file.read(&mut bytes[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}
