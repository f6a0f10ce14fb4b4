//! The receive-side checksum checks of the UEFI SNP device on arbitrary Ethernet frames.
#![no_main]

#[path = "../entries/frame_checksums.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
