//! Parses arbitrary bytes as Login/Text key=value data; every pair that parses must be
//! writable again and read back unchanged.
#![no_main]

#[path = "../entries/text_parse.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
