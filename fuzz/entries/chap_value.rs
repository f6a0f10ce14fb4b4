//! CHAP binary values and the CHAP state machine fed arbitrary key=value text.
//!
//! Shared by the cargo-fuzz target and the stable corpus replay (`tests/tests/fuzz_replay.rs`).

use initiator::chap::{ChapConfig, ChapInitiator, MutualChap, Secret, decode_value};

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    let Ok(s) = core::str::from_utf8(data) else {
        return;
    };
    let mut out = [0u8; 1100];
    let _ = decode_value(s, &mut out);

    let (Ok(i), Ok(t)) = (
        Secret::new(b"initiatorsecret"),
        Secret::new(b"targetsecret1"),
    ) else {
        return;
    };
    let challenge = [0xa5u8; 16];
    let config = ChapConfig {
        name: "iqn.2026-01.test:host",
        secret: &i,
        mutual: Some(MutualChap {
            secret: &t,
            target_name: None,
            identifier: 1,
            challenge: &challenge,
        }),
        ..ChapConfig::one_way("iqn.2026-01.test:host", &i)
    };
    let Ok(mut chap) = ChapInitiator::new(config) else {
        return;
    };
    for pair in s.split('\n') {
        if let Some((k, v)) = pair.split_once('=') {
            let _ = chap.receive(k, v);
            if k == "CHAP_C" {
                let _ = chap.respond(&mut |_: &str, _: &str| {});
            }
        }
    }
    let _ = chap.finish();
}
