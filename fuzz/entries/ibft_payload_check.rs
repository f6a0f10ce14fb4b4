//! The payload's iBFT check and ACPI walk must return typed errors, never panic, on any bytes.
//!
//! Shared by the cargo-fuzz target and the stable corpus replay (`tests/tests/fuzz_replay.rs`).

use ibft_payload::acpi::{PhysMem, find_table};

/// The fuzz input as memory starting at physical address 0.
struct Mem<'a>(&'a [u8]);

impl PhysMem for Mem<'_> {
    fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(addr).ok()?;
        self.0.get(start..start.checked_add(len)?)
    }
}

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    let _ = ibft_payload::check(data, &mut |_| {});
    if let Ok(table) = find_table(&Mem(data), 0, b"iBFT") {
        let _ = ibft_payload::check(table, &mut |_| {});
    }
}
