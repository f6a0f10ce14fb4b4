//! Root paths, libiscsi URLs, portals and SendTargets addresses from arbitrary text.
#![no_main]

#[path = "../entries/addr_parse.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
