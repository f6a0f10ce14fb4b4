//! Feeds arbitrary target bytes to a session, in arbitrary chunks, during login (selector bit 0
//! clear) or in the full feature phase with a read and a write in flight (bit 0 set). The session
//! must never panic, and every Data-In it hands out must lie inside its task's buffer.
#![no_main]

#[path = "../entries/session_input.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
