//! Data-In taken as it arrives and placed directly: partial headers, payloads split across
//! receive calls, direct placement into the reader's buffer, digests over placed bytes, and a
//! target that sends the wrong offset, length or DataSN. Target PDUs are written by hand from
//! RFC 7143 §11.7 (see `session_target`).

mod session_target;

use initiator::digest::{Digests, crc32c};
use initiator::error::{ConnectionFailure, ProtocolError};
use initiator::session::{
    Command, DataDirection, DataInPlacement, Event, Params, SessionConfig, TaskTag,
};
use proptest::prelude::*;
use session_target::*;
use std::collections::HashMap;

const READ10: [u8; 10] = [0x28, 0, 0, 0, 0, 0, 0, 0, 2, 0];

fn read(len: u32) -> Command<'static> {
    Command {
        lun: 0,
        cdb: &READ10,
        data: DataDirection::Read(len),
    }
}

fn logged_in() -> Harness<'static> {
    let mut h = Harness::new(SessionConfig::new(INITIATOR, TARGET, ISID));
    login_plain(
        &mut h,
        &target_keys(8192, 262_144, 65536, "Yes", "No"),
        1,
        16,
    );
    h
}

/// A session that negotiated CRC32C header and data digests.
fn logged_in_with_digests() -> Harness<'static> {
    let mut cfg = SessionConfig::new(INITIATOR, TARGET, ISID);
    cfg.params = Params {
        header_digest: true,
        data_digest: true,
        ..Params::default()
    };
    let mut h = Harness::new(cfg);
    h.sent();
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &[]));
    h.sent();
    let mut keys = text(&[("HeaderDigest", "CRC32C"), ("DataDigest", "CRC32C")]);
    keys.extend(
        target_keys(8192, 262_144, 65536, "Yes", "No")
            .into_iter()
            .skip("HeaderDigest=None\0DataDigest=None\0".len()),
    );
    h.feed_all(&login_response(true, false, 1, 3, 0, 7, 101, 1, 16, &keys));
    assert!(matches!(h.events().as_slice(), [Event::LoggedIn(n)] if n.digests == Digests::BOTH));
    h
}

fn completed(h: &mut Harness<'_>) -> Vec<TaskTag> {
    h.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::TaskComplete(c) if c.is_good() => Some(c.tag),
            _ => None,
        })
        .collect()
}

#[test]
fn a_partial_header_is_kept_and_the_payload_is_offered_for_placement() {
    let mut h = logged_in();
    let tag = h.session.submit(read(16)).unwrap();
    h.sent();
    assert!(h.session.expects_data_in());
    let payload: Vec<u8> = (0..16).map(|i| 0xa0 + i).collect();
    let pdu = data_in(tag.0, 0, 0, &payload, Some((0, 102, 2, 17)), Digests::NONE);
    // 30 of the 48 header bytes: nothing is taken yet.
    assert_eq!(h.feed(&pdu[..30]), Ok(0));
    assert_eq!(h.session.pending_data_in(), None);
    // The whole header: taken, and the 16 payload bytes are pending.
    assert_eq!(h.feed(&pdu[..48]), Ok(48));
    assert_eq!(
        h.session.pending_data_in(),
        Some(DataInPlacement {
            tag,
            offset: 0,
            len: 16
        })
    );
    // The driver receives them straight into the reader's buffer in two pieces.
    let mut buf = [0u8; 16];
    buf[..5].copy_from_slice(&pdu[48..53]);
    h.session.data_placed(h.now, &buf[..5]).unwrap();
    assert_eq!(
        h.session.pending_data_in(),
        Some(DataInPlacement {
            tag,
            offset: 5,
            len: 11
        })
    );
    assert!(completed(&mut h).is_empty());
    buf[5..].copy_from_slice(&pdu[53..64]);
    h.session.data_placed(h.now, &buf[5..]).unwrap();
    // No padding, no digest: the status applies at once.
    assert_eq!(completed(&mut h), vec![tag]);
    assert_eq!(buf.as_slice(), payload.as_slice());
    assert!(
        h.store.writes.is_empty(),
        "placed bytes are not copied again"
    );
    assert!(!h.session.expects_data_in());
}

#[test]
fn a_payload_fed_in_pieces_reaches_the_sink_in_order_and_padding_is_skipped() {
    let mut h = logged_in();
    let tag = h.session.submit(read(10)).unwrap();
    h.sent();
    let payload = *b"0123456789";
    // 10 bytes of data, 2 of padding.
    let pdu = data_in(tag.0, 0, 0, &payload, Some((0, 102, 2, 17)), Digests::NONE);
    assert_eq!(pdu.len(), 48 + 12);
    assert_eq!(h.feed(&pdu[..52]), Ok(52));
    assert_eq!(h.feed(&pdu[52..59]), Ok(6), "padding waits until whole");
    assert!(completed(&mut h).is_empty());
    assert_eq!(h.feed(&pdu[58..]), Ok(2));
    assert_eq!(completed(&mut h), vec![tag]);
    assert_eq!(h.store.data_in[&tag.0], payload);
    assert_eq!(h.store.writes, vec![(tag.0, 0, 4), (tag.0, 4, 6)]);
}

#[test]
fn data_digest_covers_placed_bytes_and_padding() {
    let mut h = logged_in_with_digests();
    let tag = h.session.submit(read(6)).unwrap();
    h.sent();
    let payload = *b"abcdef";
    let pdu = data_in(tag.0, 0, 0, &payload, Some((0, 102, 2, 17)), Digests::BOTH);
    // Header + header digest, then 6 data bytes, 2 pad, 4 digest.
    assert_eq!(pdu.len(), 52 + 6 + 2 + 4);
    assert_eq!(h.feed(&pdu[..52]), Ok(52));
    h.session.data_placed(h.now, &payload[..2]).unwrap();
    h.session.data_placed(h.now, &payload[2..]).unwrap();
    assert_eq!(h.session.pending_data_in(), None);
    assert!(completed(&mut h).is_empty(), "not before the digest");
    assert_eq!(h.feed(&pdu[58..61]), Ok(0));
    assert_eq!(h.feed(&pdu[58..]), Ok(6));
    assert_eq!(completed(&mut h), vec![tag]);
    // The digest in the PDU is the spec's CRC32C over data and padding.
    assert_eq!(&pdu[60..], &crc32c(b"abcdef\0\0").to_le_bytes());
}

#[test]
fn a_bad_digest_over_placed_bytes_fails_the_connection() {
    let mut h = logged_in_with_digests();
    let tag = h.session.submit(read(8)).unwrap();
    h.sent();
    let pdu = data_in(
        tag.0,
        0,
        0,
        b"12345678",
        Some((0, 102, 2, 17)),
        Digests::BOTH,
    );
    h.feed_all(&pdu[..52]);
    // The bytes that landed differ from what the target digested.
    h.session.data_placed(h.now, b"12345679").unwrap();
    assert_eq!(h.feed(&pdu[60..]), Err(ConnectionFailure::DataDigest));
    assert_eq!(
        h.events(),
        vec![Event::ConnectionFailed(ConnectionFailure::DataDigest)]
    );
    assert_eq!(h.session.pending_data_in(), None);
}

#[test]
fn wrong_offset_length_or_data_sn_is_refused_before_any_byte_is_placed() {
    let proto = |e| Err(ConnectionFailure::Protocol(e));
    // Offset not where the previous Data-In ended.
    let mut h = logged_in();
    let tag = h.session.submit(read(64)).unwrap();
    h.sent();
    let pdu = data_in(tag.0, 0, 8, &[0; 8], None, Digests::NONE);
    assert_eq!(h.feed(&pdu[..48]), proto(ProtocolError::DataInOutOfOrder));
    assert_eq!(h.session.pending_data_in(), None);
    // A data segment that runs past the expected transfer length.
    let mut h = logged_in();
    let tag = h.session.submit(read(64)).unwrap();
    h.sent();
    let pdu = data_in(tag.0, 0, 0, &[0; 68], None, Digests::NONE);
    assert_eq!(h.feed(&pdu[..48]), proto(ProtocolError::DataInOutOfBounds));
    assert_eq!(h.session.pending_data_in(), None);
    // DataSN 1 where 0 was due (a lost PDU), and a repeated DataSN after a good one.
    let mut h = logged_in();
    let tag = h.session.submit(read(64)).unwrap();
    h.sent();
    let pdu = data_in(tag.0, 1, 0, &[0; 8], None, Digests::NONE);
    assert_eq!(h.feed(&pdu[..48]), proto(ProtocolError::DataInOutOfOrder));
    let mut h = logged_in();
    let tag = h.session.submit(read(64)).unwrap();
    h.sent();
    h.feed_all(&data_in(tag.0, 0, 0, &[0; 8], None, Digests::NONE));
    let pdu = data_in(tag.0, 0, 8, &[0; 8], None, Digests::NONE);
    assert_eq!(h.feed(&pdu[..48]), proto(ProtocolError::DataInOutOfOrder));
    // An unknown task.
    let mut h = logged_in();
    h.session.submit(read(64)).unwrap();
    h.sent();
    let pdu = data_in(0x777, 0, 0, &[0; 8], None, Digests::NONE);
    assert_eq!(h.feed(&pdu[..48]), proto(ProtocolError::UnknownTask(0x777)));
    // None of them wrote a byte.
    assert!(h.store.writes.is_empty());
}

#[test]
fn placing_more_than_is_pending_fails_the_connection() {
    let mut h = logged_in();
    let tag = h.session.submit(read(8)).unwrap();
    h.sent();
    // Nothing pending at all.
    let r = h.session.data_placed(h.now, &[0; 4]);
    assert_eq!(
        r,
        Err(ConnectionFailure::Protocol(
            ProtocolError::DataInOutOfBounds
        ))
    );
    let mut h = logged_in();
    let tag2 = h.session.submit(read(8)).unwrap();
    h.sent();
    let _ = tag;
    h.feed_all(&data_in(tag2.0, 0, 0, &[0; 4], None, Digests::NONE)[..48]);
    let r = h.session.data_placed(h.now, &[0; 5]);
    assert_eq!(
        r,
        Err(ConnectionFailure::Protocol(
            ProtocolError::DataInOutOfBounds
        ))
    );
}

#[test]
fn a_lost_connection_forgets_the_data_in_in_progress() {
    let mut h = logged_in();
    let tag = h.session.submit(read(8)).unwrap();
    h.sent();
    h.feed_all(&data_in(tag.0, 0, 0, &[0; 8], None, Digests::NONE)[..48]);
    assert!(h.session.pending_data_in().is_some());
    h.session.connection_lost();
    assert_eq!(h.session.pending_data_in(), None);
}

/// The target's byte stream for two reads: task A gets 3 Data-In PDUs (the last with status),
/// task B two Data-In PDUs and a separate SCSI Response.
fn two_reads(a: TaskTag, b: TaskTag, digests: Digests) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let da: Vec<u8> = (0..300u32).map(|i| (i * 7 + 1) as u8).collect();
    let db: Vec<u8> = (0..202u32).map(|i| (i * 13 + 5) as u8).collect();
    let mut s = Vec::new();
    s.extend(data_in(a.0, 0, 0, &da[..100], None, digests));
    s.extend(data_in(b.0, 0, 0, &db[..101], None, digests));
    s.extend(data_in(a.0, 1, 100, &da[100..250], None, digests));
    s.extend(data_in(b.0, 1, 101, &db[101..], None, digests));
    s.extend(data_in(
        a.0,
        2,
        250,
        &da[250..],
        Some((0, 102, 3, 18)),
        digests,
    ));
    let mut rsp = scsi_response(b.0, 0, 103, 3, 18, None, &[], Digests::NONE);
    if digests.header {
        let d = crc32c(&rsp[..48]);
        rsp.splice(48..48, d.to_le_bytes());
    }
    s.extend(rsp);
    (s, da, db)
}

/// Completed tasks, each task's read buffer, and the bytes the target sent for A and B.
type Outcome = (Vec<TaskTag>, HashMap<u32, Vec<u8>>, Vec<u8>, Vec<u8>);

/// Runs the stream through the session the way the driver does: cut at `cuts`, and whenever
/// nothing is buffered and a payload is pending, "receive" the next piece straight into the
/// reader's buffer when `place` says so for that piece.
fn run_split(digests: Digests, cuts: &[usize], place: &[bool]) -> Outcome {
    let mut h = if digests == Digests::BOTH {
        logged_in_with_digests()
    } else {
        logged_in()
    };
    let a = h.session.submit(read(300)).unwrap();
    let b = h.session.submit(read(202)).unwrap();
    h.sent();
    let (stream, da, db) = two_reads(a, b, digests);
    let mut buffers: HashMap<u32, Vec<u8>> = HashMap::new();
    buffers.insert(a.0, vec![0; 300]);
    buffers.insert(b.0, vec![0; 202]);
    let mut rx: Vec<u8> = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < stream.len() {
        let piece = cuts.get(i).copied().unwrap_or(7).clamp(1, 64);
        let direct = place.get(i).copied().unwrap_or(true);
        i += 1;
        if rx.is_empty()
            && direct
            && let Some(p) = h.session.pending_data_in()
        {
            let n = piece.min(p.len as usize).min(stream.len() - at);
            let dst = &mut buffers.get_mut(&p.tag.0).unwrap()[p.offset as usize..][..n];
            dst.copy_from_slice(&stream[at..at + n]);
            at += n;
            h.session.data_placed(h.now, dst).unwrap();
            continue;
        }
        let n = piece.min(stream.len() - at);
        rx.extend_from_slice(&stream[at..at + n]);
        at += n;
        let used = h.feed(&rx).unwrap();
        rx.drain(..used);
    }
    assert!(rx.is_empty(), "every byte consumed");
    // Bytes that went through the sink land in the same buffers.
    for (tag, got) in &h.store.data_in {
        let buf = buffers.get_mut(tag).unwrap();
        for (o, n) in h
            .store
            .writes
            .iter()
            .filter(|w| w.0 == *tag)
            .map(|w| (w.1, w.2))
        {
            let o = o as usize;
            buf[o..o + n].copy_from_slice(&got[o..o + n]);
        }
    }
    let mut done = completed(&mut h);
    done.sort();
    (done, buffers, da, db)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// However the stream is cut into receive calls, and whichever pieces are placed directly,
    /// both reads complete with exactly the target's bytes.
    #[test]
    fn any_split_and_placement_gives_the_same_data(
        cuts in proptest::collection::vec(1usize..64, 0..200),
        place in proptest::collection::vec(any::<bool>(), 0..200),
        digests in prop_oneof![Just(Digests::NONE), Just(Digests::BOTH)],
    ) {
        let (done, buffers, da, db) = run_split(digests, &cuts, &place);
        prop_assert_eq!(done.len(), 2);
        let mut tags: Vec<u32> = buffers.keys().copied().collect();
        tags.sort();
        prop_assert_eq!(&buffers[&tags[0]], &da);
        prop_assert_eq!(&buffers[&tags[1]], &db);
    }
}
