//! CHAP binary values and the CHAP state machine fed arbitrary key=value text.
#![no_main]

#[path = "../entries/chap_value.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
