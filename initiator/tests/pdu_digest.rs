//! CRC32C digests: the published vectors, and digests on emitted/received PDUs checked against
//! a bit-by-bit reference written here from the definition (polynomial 0x1EDC6F41, reflected
//! 0x82F63B78, initial value and final XOR 0xFFFFFFFF), not against the table-driven code.

use initiator::digest::{Digests, crc32c, crc32c_parts, digest_bytes};
use initiator::pdu::{DataOut, Frame, FrameError, NopOut, Repr, data_trailer};
use initiator::serial::SeqNum;

fn reference_crc32c(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn thirty_two_zero_bytes() {
    assert_eq!(digest_bytes(crc32c(&[0; 32])), [0xaa, 0x36, 0x91, 0x8a]);
}

#[test]
fn thirty_two_ff_bytes() {
    assert_eq!(digest_bytes(crc32c(&[0xff; 32])), [0x43, 0xab, 0xa8, 0x62]);
}

#[test]
fn ascending_bytes() {
    let ascending: Vec<u8> = (0..32).collect();
    assert_eq!(digest_bytes(crc32c(&ascending)), [0x4e, 0x79, 0xdd, 0x46]);
}

#[test]
fn check_value_of_the_catalogue() {
    // The CRC catalogue's check value for CRC-32/ISCSI over "123456789".
    assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    assert_eq!(reference_crc32c(b"123456789"), 0xe306_9283);
}

#[test]
fn parts_equal_whole() {
    let data: Vec<u8> = (0..=255).collect();
    assert_eq!(crc32c_parts(&[&data[..100], &data[100..]]), crc32c(&data));
    assert_eq!(crc32c(&data), reference_crc32c(&data));
}

fn nop_out(data: &[u8]) -> Repr<'_> {
    Repr::NopOut(NopOut {
        immediate: true,
        lun: 0,
        itt: 9,
        ttt: 0xffff_ffff,
        cmd_sn: SeqNum(1),
        exp_stat_sn: SeqNum(1),
        data,
    })
}

#[test]
fn emitted_digests_match_reference() {
    let data = *b"hello"; // 5 bytes, 3 padding
    let repr = nop_out(&data);
    let mut buf = [0u8; 128];
    let len = repr.emit(&mut buf, Digests::BOTH).unwrap();
    assert_eq!(len, 48 + 4 + 5 + 3 + 4);
    let header_digest = reference_crc32c(&buf[..48]).to_le_bytes();
    assert_eq!(buf[48..52], header_digest);
    assert_eq!(buf[52..57], data);
    assert_eq!(buf[57..60], [0, 0, 0]);
    let mut padded = data.to_vec();
    padded.extend_from_slice(&[0, 0, 0]);
    assert_eq!(buf[60..64], reference_crc32c(&padded).to_le_bytes());
}

#[test]
fn header_then_trailer_equals_whole_pdu() {
    let payload: Vec<u8> = (0..1001u32).map(|i| i as u8).collect();
    let repr = Repr::DataOut(DataOut {
        final_bit: true,
        lun: 0,
        itt: 1,
        ttt: 2,
        exp_stat_sn: SeqNum(3),
        data_sn: 0,
        buffer_offset: 0,
        data: &payload,
    });
    for digests in [
        Digests::NONE,
        Digests::BOTH,
        Digests {
            header: true,
            data: false,
        },
    ] {
        let mut whole = vec![0u8; repr.buffer_len(digests)];
        repr.emit(&mut whole, digests).unwrap();
        let mut pieces = vec![0u8; 64];
        let n = repr.emit_header(&mut pieces, digests).unwrap();
        assert_eq!(n, repr.header_len(digests));
        pieces.truncate(n);
        pieces.extend_from_slice(&payload);
        pieces.extend_from_slice(data_trailer(&payload, digests).as_bytes());
        assert_eq!(pieces, whole);
    }
}

#[test]
fn corrupted_header_and_data_are_detected() {
    let data = *b"ping data";
    let mut buf = [0u8; 128];
    let len = nop_out(&data).emit(&mut buf, Digests::BOTH).unwrap();
    assert!(Frame::split(&buf[..len], Digests::BOTH).is_ok());

    let mut bad_header = buf;
    bad_header[20] ^= 1;
    assert_eq!(
        Frame::split(&bad_header[..len], Digests::BOTH),
        Err(FrameError::HeaderDigest)
    );

    let mut bad_data = buf;
    bad_data[48 + 4 + 2] ^= 0x80;
    assert_eq!(
        Frame::split(&bad_data[..len], Digests::BOTH),
        Err(FrameError::DataDigest)
    );

    let mut bad_digest = buf;
    bad_digest[len - 1] ^= 0xff;
    assert_eq!(
        Frame::split(&bad_digest[..len], Digests::BOTH),
        Err(FrameError::DataDigest)
    );
}

#[test]
fn empty_data_segment_has_no_data_digest() {
    let repr = nop_out(b"");
    assert_eq!(repr.buffer_len(Digests::BOTH), 52);
}
