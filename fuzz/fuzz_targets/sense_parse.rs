//! Sense data and the other SCSI response parsers on arbitrary bytes.
#![no_main]

#[path = "../entries/sense_parse.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
