//! Locating a table in a memory image, and where legacy-BIOS firmware may place one.

use core::ops::Range;

use crate::parse::SIGNATURES;
use crate::wire::HeaderPacket;

/// The only range both Linux (0x80000–0xFFFFF without 0xA0000–0xBFFFF) and Windows
/// sanbootconf (0x00000–0x9FFFF) scan for a legacy-BIOS table.
pub const LEGACY_WINDOW: Range<u64> = 0x8_0000..0xA_0000;

/// Offsets (multiples of 16) in `mem` where a table starts: a known signature, a length
/// that fits, and bytes summing to 0.
///
/// ```
/// # let mut b: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:n");
/// # let nic = b.add_nic(ibft::NicConfig { mac: [2, 0, 0, 0, 0, 1], ..Default::default() }).unwrap();
/// # b.add_target(ibft::TargetConfig::new(nic, "10.0.2.2".parse().unwrap(), "iqn.2026-11.org.example:d")).unwrap();
/// let mut mem = [0u8; 4096];
/// b.emit(&mut mem[0x400..]).unwrap();
/// assert_eq!(ibft::find_all(&mem).collect::<Vec<_>>(), [0x400]);
/// assert_eq!(ibft::find(&mem), Some(0x400));
/// ```
pub fn find_all(mem: &[u8]) -> impl Iterator<Item = usize> + '_ {
    (0..mem.len())
        .step_by(16)
        .filter(move |&at| is_table_at(mem, at))
}

/// The first table in `mem` (see [`find_all`]).
pub fn find(mem: &[u8]) -> Option<usize> {
    find_all(mem).next()
}

fn is_table_at(mem: &[u8], at: usize) -> bool {
    let Some(rest) = mem.get(at..) else {
        return false;
    };
    let Ok(h) = HeaderPacket::new_checked(rest) else {
        return false;
    };
    if !SIGNATURES.contains(&h.signature()) {
        return false;
    }
    let Ok(len) = usize::try_from(h.length()) else {
        return false;
    };
    match rest.get(..len) {
        Some(t) if len >= 48 => t.iter().fold(0u8, |a, b| a.wrapping_add(*b)) == 0,
        _ => false,
    }
}

/// Whether a table of `len` bytes at physical address `addr` is found by both Linux and
/// Windows on a legacy-BIOS boot: inside [`LEGACY_WINDOW`], on a 16-byte boundary.
///
/// ```
/// assert!(ibft::legacy_placement_ok(0x9_f000, 0x800));
/// assert!(!ibft::legacy_placement_ok(0x9_fff0, 0x100)); // runs into 0xA0000
/// assert!(!ibft::legacy_placement_ok(0x7_2400, 0x100)); // ~457 KiB: Linux does not scan there
/// assert!(!ibft::legacy_placement_ok(0x8_0008, 0x100)); // not 16-byte aligned
/// ```
pub fn legacy_placement_ok(addr: u64, len: usize) -> bool {
    let Some(end) = u64::try_from(len).ok().and_then(|l| addr.checked_add(l)) else {
        return false;
    };
    addr.is_multiple_of(16) && addr >= LEGACY_WINDOW.start && end <= LEGACY_WINDOW.end
}
