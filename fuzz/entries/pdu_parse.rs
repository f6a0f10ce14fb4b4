//! Frames, splits and parses arbitrary bytes as a stream of iSCSI PDUs, with every digest
//! setting; whatever parses must re-emit and parse to the same value, and the initiator's own
//! parser (`Repr::parse_target_frame`) must agree with it.
//!
//! Shared by the cargo-fuzz target and the stable corpus replay (`tests/tests/fuzz_replay.rs`).

use initiator::digest::Digests;
use initiator::pdu::{Frame, FrameStatus, Repr, frame_status};

/// Runs one fuzz input.
pub fn run(input: &[u8]) {
    let Some((&selector, mut rx)) = input.split_first() else {
        return;
    };
    let digests = Digests {
        header: selector & 1 != 0,
        data: selector & 2 != 0,
    };
    let max_data_len = if selector & 4 != 0 { 8192 } else { 1 << 24 };
    while let Ok(FrameStatus::Complete { len }) = frame_status(rx, digests, max_data_len) {
        if let Ok(frame) = Frame::split(&rx[..len], digests)
            && let Ok(repr) = Repr::parse_frame(&frame)
        {
            // The initiator's parser agrees on a target's PDUs and refuses the initiator's own.
            let own = Repr::parse_target_frame(&frame);
            if u8::from(repr.opcode()) < 0x20 {
                assert!(own.is_err());
            } else {
                assert_eq!(own, Ok(repr));
            }
            let mut out = vec![0u8; repr.buffer_len(digests)];
            let n = repr
                .emit(&mut out, digests)
                .expect("emit into exact buffer");
            let again = Frame::split(&out[..n], digests).expect("own output splits");
            assert_eq!(Repr::parse_frame(&again), Ok(repr));
        }
        rx = &rx[len..];
    }
}
