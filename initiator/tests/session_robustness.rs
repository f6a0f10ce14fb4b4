//! Property tests: whatever bytes a target sends, in whatever chunks, the session neither
//! panics nor hands out Data-In outside a task's buffer; correct streams give the same result
//! however they are split.

mod session_target;

use initiator::digest::Digests;
use initiator::session::{Command, DataDirection, Event};
use proptest::prelude::*;
use session_target::*;

const READ10: [u8; 10] = [0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0];

fn logged_in_with_read(len: u32) -> (Harness<'static>, u32) {
    let mut h = Harness::new(initiator::session::SessionConfig::new(
        INITIATOR, TARGET, ISID,
    ));
    login_plain(&mut h, &target_keys(8192, 65536, 8192, "No", "Yes"), 1, 16);
    let tag = h
        .session
        .submit(Command {
            lun: 0,
            cdb: &READ10,
            data: DataDirection::Read(len),
        })
        .unwrap();
    h.sent();
    (h, tag.0)
}

proptest! {
    #[test]
    fn garbage_never_panics_or_writes_out_of_bounds(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        chunk in 1usize..300,
    ) {
        let (mut h, tag) = logged_in_with_read(4096);
        let mut rx = Vec::new();
        for piece in bytes.chunks(chunk) {
            rx.extend_from_slice(piece);
            match h.feed(&rx) {
                Ok(used) => { rx.drain(..used); }
                Err(_) => break,
            }
            h.sent();
            h.events();
        }
        for (t, offset, len) in &h.store.writes {
            prop_assert_eq!(*t, tag);
            prop_assert!(*offset as usize + len <= 4096);
        }
    }

    #[test]
    fn plausible_headers_with_random_fields_are_handled(
        opcode in prop::sample::select(vec![0x20u8, 0x21, 0x22, 0x24, 0x25, 0x26, 0x31, 0x32, 0x3f]),
        fields in proptest::collection::vec(any::<u8>(), 44),
        data_len in 0usize..600,
    ) {
        let (mut h, tag) = logged_in_with_read(4096);
        let mut b = bhs(opcode, fields[0], data_len);
        b[8..48].copy_from_slice(&fields[4..44]);
        if fields[1] & 1 == 0 {
            put32(&mut b, 16, tag);
        }
        let pdu = with_data(b, &vec![0x5a; data_len], Digests::NONE);
        let _ = h.feed(&pdu);
        h.sent();
        h.events();
        for (_, offset, len) in &h.store.writes {
            prop_assert!(*offset as usize + len <= 4096);
        }
    }

    #[test]
    fn any_split_of_a_valid_stream_gives_the_same_completion(cuts in proptest::collection::vec(1usize..200, 1..20)) {
        let (mut h, tag) = logged_in_with_read(1000);
        let data: Vec<u8> = (0..1000).map(|i| (i * 13) as u8).collect();
        let mut stream = data_in(tag, 0, 0, &data[..600], None, Digests::NONE);
        stream.extend(data_in(tag, 1, 600, &data[600..], Some((0, 102, 2, 17)), Digests::NONE));
        let mut rx = Vec::new();
        let mut at = 0;
        for c in cuts.iter().cycle() {
            if at >= stream.len() { break; }
            let end = (at + c).min(stream.len());
            rx.extend_from_slice(&stream[at..end]);
            at = end;
            let used = h.feed(&rx).unwrap();
            rx.drain(..used);
        }
        prop_assert!(rx.is_empty());
        let ev = h.events();
        prop_assert!(matches!(ev.as_slice(), [Event::TaskComplete(c)] if c.is_good()));
        prop_assert_eq!(&h.store.data_in[&tag], &data);
    }
}
