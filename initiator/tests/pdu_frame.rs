//! Stream framing: partial input, limits enforced before waiting, byte-at-a-time delivery.

use initiator::digest::Digests;
use initiator::pdu::{
    Frame, FrameError, FrameStatus, MAX_TOTAL_AHS_LEN, NopIn, Repr, frame_status,
};
use initiator::serial::SeqNum;

fn nop_in_bytes(data: &[u8], digests: Digests) -> Vec<u8> {
    let repr = Repr::NopIn(NopIn {
        lun: 0,
        itt: 1,
        ttt: 0xffff_ffff,
        stat_sn: SeqNum(1),
        exp_cmd_sn: SeqNum(2),
        max_cmd_sn: SeqNum(3),
        data,
    });
    let mut buf = vec![0; repr.buffer_len(digests)];
    repr.emit(&mut buf, digests).unwrap();
    buf
}

#[test]
fn needs_a_bhs_first() {
    for len in 0..48 {
        assert_eq!(
            frame_status(&[0u8; 48][..len], Digests::NONE, 0),
            Ok(FrameStatus::Partial { needed: 48 })
        );
    }
}

#[test]
fn exact_length_with_and_without_digests() {
    // 13 data bytes → 3 padding.
    for (digests, len) in [
        (Digests::NONE, 48 + 16),
        (
            Digests {
                header: true,
                data: false,
            },
            48 + 4 + 16,
        ),
        (
            Digests {
                header: false,
                data: true,
            },
            48 + 16 + 4,
        ),
        (Digests::BOTH, 48 + 4 + 16 + 4),
    ] {
        let pdu = nop_in_bytes(&[7; 13], digests);
        assert_eq!(pdu.len(), len);
        assert_eq!(
            frame_status(&pdu[..48 + digests.header_len()], digests, 8192),
            Ok(FrameStatus::Partial { needed: len })
        );
        assert_eq!(
            frame_status(&pdu[..len - 1], digests, 8192),
            Ok(FrameStatus::Partial { needed: len })
        );
        let mut longer = pdu.clone();
        longer.extend_from_slice(&[0xee; 10]);
        assert_eq!(
            frame_status(&longer, digests, 8192),
            Ok(FrameStatus::Complete { len })
        );
        let frame = Frame::split(&pdu, digests).unwrap();
        assert_eq!(frame.data, &[7; 13]);
    }
}

#[test]
fn oversized_data_segment_refused_from_the_bhs_alone() {
    let mut bhs = [0u8; 48];
    bhs[0] = 0x25;
    bhs[5..8].copy_from_slice(&[0x00, 0x20, 0x01]); // 8193
    assert_eq!(
        frame_status(&bhs, Digests::NONE, 8192),
        Err(FrameError::DataSegmentTooLong {
            len: 8193,
            max: 8192
        })
    );
    bhs[5..8].copy_from_slice(&[0x00, 0x20, 0x00]); // 8192 is fine
    assert_eq!(
        frame_status(&bhs, Digests::NONE, 8192),
        Ok(FrameStatus::Partial { needed: 48 + 8192 })
    );
}

#[test]
fn absurd_ahs_refused_from_the_bhs_alone() {
    let mut bhs = [0u8; 48];
    bhs[0] = 0x21;
    bhs[4] = 0xff; // 1020 bytes of AHS
    assert_eq!(
        frame_status(&bhs, Digests::NONE, 8192),
        Err(FrameError::AhsTooLong(1020))
    );
    bhs[4] = u8::try_from(MAX_TOTAL_AHS_LEN / 4).unwrap();
    assert!(frame_status(&bhs, Digests::NONE, 8192).is_ok());
}

#[test]
fn split_requires_exactly_one_pdu() {
    let pdu = nop_in_bytes(b"abcd", Digests::NONE);
    assert!(matches!(
        Frame::split(&pdu[..pdu.len() - 1], Digests::NONE),
        Err(FrameError::LengthMismatch { .. })
    ));
    let mut longer = pdu.clone();
    longer.push(0);
    assert!(matches!(
        Frame::split(&longer, Digests::NONE),
        Err(FrameError::LengthMismatch { .. })
    ));
}

#[test]
fn byte_at_a_time_stream_of_several_pdus() {
    let digests = Digests::BOTH;
    let mut stream = Vec::new();
    let payloads: [&[u8]; 3] = [b"", b"x", b"twelve bytes"];
    for p in payloads {
        stream.extend_from_slice(&nop_in_bytes(p, digests));
    }
    let mut rx = Vec::new();
    let mut got = Vec::new();
    for &byte in &stream {
        rx.push(byte);
        if let FrameStatus::Complete { len } = frame_status(&rx, digests, 8192).unwrap() {
            let frame = Frame::split(&rx[..len], digests).unwrap();
            let Repr::NopIn(nop) = Repr::parse_frame(&frame).unwrap() else {
                panic!("not NOP-In");
            };
            got.push(nop.data.to_vec());
            rx.drain(..len);
        }
    }
    assert!(rx.is_empty());
    assert_eq!(got, payloads.map(<[u8]>::to_vec));
}

#[test]
fn header_digest_checked_before_lengths_are_trusted() {
    let digests = Digests::BOTH;
    let mut pdu = nop_in_bytes(b"abc", digests);
    // With header digests, the header digest bytes are awaited before anything else is decided.
    assert_eq!(
        frame_status(&pdu[..48], digests, 8192),
        Ok(FrameStatus::Partial { needed: 52 })
    );
    // A corrupted DataSegmentLength is a header digest error, not a length error.
    pdu[5] = 0xff;
    assert_eq!(
        frame_status(&pdu[..52], digests, 8192),
        Err(FrameError::HeaderDigest)
    );
}
