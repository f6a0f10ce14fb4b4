//! Frames, splits and parses arbitrary bytes as a stream of iSCSI PDUs, with every digest
//! setting; whatever parses must re-emit and parse to the same value.
#![no_main]

#[path = "../entries/pdu_parse.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
