//! The sanboot configuration parsers (file, command line, root path, MAC) and the SMBIOS walk
//! must return typed errors, never panic, on any input.
#![no_main]

#[path = "../entries/sanboot_config.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
