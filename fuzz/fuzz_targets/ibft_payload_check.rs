//! The payload's iBFT check and ACPI walk must return typed errors, never panic, on any bytes.
#![no_main]

#[path = "../entries/ibft_payload_check.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
