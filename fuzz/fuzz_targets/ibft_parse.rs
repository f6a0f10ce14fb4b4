//! Any bytes through the strict parser, the lenient decoder (and its dump) and the linter:
//! none may panic, loop without bound or allocate.
#![no_main]

#[path = "../entries/ibft_parse.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
