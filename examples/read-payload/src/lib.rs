//! The platform-independent half of the read benchmark payload: the lines it prints and the
//! checksum that proves the file was really read. The host side (`cargo xtask bench`) uses the
//! same definitions to write the file and to recognise the lines.
//!
//! ```
//! let data = read_payload::pattern(64);
//! assert_eq!(data.len(), 64);
//! assert_ne!(read_payload::checksum(&data), 0);
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

/// The file the payload reads, on the volume it was loaded from.
pub const FILE: &str = "\\BIG.BIN";
/// The file's size: 64 MiB.
pub const FILE_BYTES: usize = 64 << 20;
/// The first line, printed as soon as the payload runs.
pub const START_LINE: &str = "read-payload: start";
/// The line printed once the 64 MiB buffer is allocated (and zeroed), right before the file
/// is opened: the read is timed from here, so both boot programs' figures hold the same work.
pub const OPEN_LINE: &str = "read-payload: reading \\BIG.BIN";
/// The prefix of the line printed right after the whole file is in memory.
pub const READ_PREFIX: &str = "read-payload: read ";
/// The prefix of the checksum line, printed after the read line.
pub const SUM_PREFIX: &str = "read-payload: checksum ";
/// The last line, printed before the machine powers off.
pub const DONE_LINE: &str = "read-payload: done";
/// The prefix of a failure line.
pub const FAIL_PREFIX: &str = "read-payload: FAILED ";

/// An order-sensitive checksum of `bytes`: each little-endian 64-bit word (the tail padded
/// with zeros) is mixed in as `acc = rotl(acc, 5) ^ word`, starting from 0. Cheap enough for
/// 64 MiB under emulation, and a swapped, missing or zeroed block changes it.
///
/// ```
/// // One word 1, then one word 2: rotl(1, 5) ^ 2 = 0x22.
/// let bytes = [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0];
/// assert_eq!(read_payload::checksum(&bytes), 0x22);
/// ```
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut acc = 0u64;
    for word in words.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        acc = acc.rotate_left(5) ^ u64::from_le_bytes(w);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        let mut w = [0u8; 8];
        w[..tail.len()].copy_from_slice(tail);
        acc = acc.rotate_left(5) ^ u64::from_le_bytes(w);
    }
    acc
}

/// The file's contents: `len` bytes of a 32-bit xorshift (13, 17, 5) from `0x9e3779b9`, the
/// low byte of each step. No block repeats another, so a misplaced block is caught.
pub fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checksum_by_hand() {
        assert_eq!(checksum(&[]), 0);
        // A tail shorter than a word is zero-padded: 0x0201.
        assert_eq!(checksum(&[1, 2]), 0x0201);
        // rotl(0x8000_0000_0000_0000, 5) = 0x10; ^ 1 = 0x11.
        let mut bytes = 0x8000_0000_0000_0000u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(&1u64.to_le_bytes());
        assert_eq!(checksum(&bytes), 0x11);
    }

    #[test]
    fn pattern_by_hand() {
        // 0x9e3779b9 ^ (x << 13 = 0xef372000) = 0x710059b9; ^ (x >> 17 = 0x3880) = 0x71006139;
        // ^ (x << 5 = 0x200c2720) = 0x510c4619: the first byte is 0x19.
        assert_eq!(pattern(1), [0x19]);
    }

    proptest! {
        #[test]
        fn any_changed_byte_changes_the_checksum(
            data in proptest::collection::vec(any::<u8>(), 1..256),
            at in any::<prop::sample::Index>(),
            flip in 1u8..,
        ) {
            let mut changed = data.clone();
            let i = at.index(data.len());
            changed[i] ^= flip;
            prop_assert_ne!(checksum(&data), checksum(&changed));
        }
    }
}
