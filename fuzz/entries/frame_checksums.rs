//! The receive-side checksum checks of the UEFI SNP device on arbitrary Ethernet frames.
//!
//! Shared by the cargo-fuzz target and the stable corpus replay (`tests/tests/fuzz_replay.rs`).

use netstack_adapter::checksum::{frame_checksums_ok, ones_complement_sum};

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    let _ = frame_checksums_ok(data);
    let _ = ones_complement_sum(data);
}
