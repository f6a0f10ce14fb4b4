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
    let decoded = decode_value(s, &mut out);
    // Base64 values are decoded by our own decoder: it must agree with the `base64` crate
    // (padding optional, canonical trailing bits).
    if let Some(body) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        use base64::Engine as _;
        use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
        const REFERENCE: GeneralPurpose = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        let mut want = [0u8; 1100];
        let want = REFERENCE
            .decode_slice(body, &mut want)
            .map(|n| want[..n].to_vec());
        let got = decoded.map(|n| out[..n].to_vec());
        // An empty value is refused before decoding (`ValueError::Empty`); a value too long
        // for `out` is refused by both, for different reasons.
        if !body.is_empty() && body.len() < 1400 {
            assert_eq!(got.ok(), want.ok(), "{s:?}");
        }
    }

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
