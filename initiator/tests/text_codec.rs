//! key=value text (RFC 7143 §6.1): hand-written segments, bounds, writer, accumulator, and
//! proptest round trips.

use initiator::text::{
    AccumulateError, MAX_LARGE_VALUE_LEN, TextAccumulator, TextError, TextIter, TextWriter,
    ValueError, WriteError, parse_bool, parse_number, parse_u32,
};
use proptest::prelude::*;

fn pairs(data: &[u8]) -> Result<Vec<(&str, &str)>, TextError> {
    TextIter::new(data).collect()
}

#[test]
fn login_response_text() {
    let data = b"TargetPortalGroupTag=1\0HeaderDigest=None\0MaxRecvDataSegmentLength=262144\0";
    assert_eq!(
        pairs(data),
        Ok(vec![
            ("TargetPortalGroupTag", "1"),
            ("HeaderDigest", "None"),
            ("MaxRecvDataSegmentLength", "262144"),
        ])
    );
}

#[test]
fn empty_value_and_empty_pairs() {
    assert_eq!(pairs(b"TargetAlias=\0\0\0"), Ok(vec![("TargetAlias", "")]));
    assert_eq!(pairs(b""), Ok(vec![]));
}

#[test]
fn value_may_contain_equals_and_colons() {
    assert_eq!(
        pairs(b"TargetAddress=[::1]:3260,1\0X-a=b=c\0"),
        Ok(vec![("TargetAddress", "[::1]:3260,1"), ("X-a", "b=c")])
    );
}

#[test]
fn malformed_pairs() {
    assert_eq!(pairs(b"HeaderDigest=None"), Err(TextError::Unterminated));
    assert_eq!(pairs(b"HeaderDigest\0"), Err(TextError::MissingEquals));
    assert_eq!(pairs(b"=None\0"), Err(TextError::EmptyKey));
    assert_eq!(pairs(b"Key=\xff\xfe\0"), Err(TextError::NotUtf8));
    assert_eq!(pairs(b"Bad Key=1\0"), Err(TextError::InvalidKeyChar(b' ')));
    let long_key = [b"K".repeat(64), b"=1\0".to_vec()].concat();
    assert_eq!(pairs(&long_key), Err(TextError::KeyTooLong(64)));
    let ok_key = [b"K".repeat(63), b"=1\0".to_vec()].concat();
    assert!(pairs(&ok_key).is_ok());
}

#[test]
fn value_bounds() {
    let at_limit = [b"TargetAlias=".to_vec(), b"v".repeat(255), b"\0".to_vec()].concat();
    assert!(pairs(&at_limit).is_ok());
    let over = [b"TargetAlias=".to_vec(), b"v".repeat(256), b"\0".to_vec()].concat();
    assert_eq!(
        pairs(&over),
        Err(TextError::ValueTooLong { len: 256, max: 255 })
    );
    // CHAP_C carries a large binary value: a 1024-byte challenge in hex is 2050 characters.
    let challenge = [b"CHAP_C=0x".to_vec(), b"ab".repeat(1024), b"\0".to_vec()].concat();
    assert!(pairs(&challenge).is_ok());
    let too_large = [
        b"CHAP_R=".to_vec(),
        b"0".repeat(MAX_LARGE_VALUE_LEN + 1),
        b"\0".to_vec(),
    ]
    .concat();
    assert!(matches!(
        pairs(&too_large),
        Err(TextError::ValueTooLong { .. })
    ));
}

#[test]
fn iteration_stops_after_an_error() {
    let mut it = TextIter::new(b"A=1\0broken\0B=2\0");
    assert_eq!(it.next(), Some(Ok(("A", "1"))));
    assert_eq!(it.next(), Some(Err(TextError::MissingEquals)));
    assert_eq!(it.next(), None);
}

#[test]
fn writer_bytes() {
    let mut storage = [0u8; 96];
    let mut w = TextWriter::new(&mut storage);
    w.push("InitiatorName", "iqn.2026-11.test:host").unwrap();
    w.push_bool("ImmediateData", true).unwrap();
    w.push_u32("FirstBurstLength", 65536).unwrap();
    assert_eq!(
        w.as_bytes(),
        b"InitiatorName=iqn.2026-11.test:host\0ImmediateData=Yes\0FirstBurstLength=65536\0"
    );
}

#[test]
fn writer_full_and_invalid() {
    let mut storage = [0u8; 8];
    let mut w = TextWriter::new(&mut storage);
    w.push("A", "123").unwrap(); // 6 bytes
    assert_eq!(
        w.push("B", "1"),
        Err(WriteError::Full {
            needed: 4,
            available: 2
        })
    );
    assert_eq!(w.as_bytes(), b"A=123\0"); // nothing partial written
    assert_eq!(
        w.push("", "x"),
        Err(WriteError::Invalid(TextError::EmptyKey))
    );
    assert_eq!(
        w.push("K", "a\0b"),
        Err(WriteError::Invalid(TextError::NulInValue))
    );
}

#[test]
fn numbers_and_booleans() {
    assert_eq!(parse_number("0"), Ok(0));
    assert_eq!(parse_number("262144"), Ok(262_144));
    assert_eq!(parse_number("0x40000"), Ok(262_144));
    assert_eq!(parse_number("0X1f"), Ok(31));
    assert_eq!(parse_number("0x"), Err(ValueError::NotANumber));
    assert_eq!(parse_number("12a"), Err(ValueError::NotANumber));
    assert_eq!(parse_number("-1"), Err(ValueError::NotANumber));
    assert_eq!(parse_number("+1"), Err(ValueError::NotANumber));
    assert_eq!(
        parse_number("99999999999999999999"),
        Err(ValueError::OutOfRange)
    );
    assert_eq!(parse_u32("4294967296"), Err(ValueError::OutOfRange));
    assert_eq!(parse_u32("4294967295"), Ok(u32::MAX));
    assert_eq!(parse_bool("No"), Ok(false));
    assert_eq!(parse_bool("YES"), Err(ValueError::NotABoolean));
}

#[test]
fn accumulator_joins_continued_segments_and_bounds_them() {
    let mut storage = [0u8; 16];
    let mut acc = TextAccumulator::new(&mut storage);
    acc.push(b"SendTar").unwrap();
    acc.push(b"gets=All\0").unwrap();
    assert_eq!(
        acc.pairs().collect::<Vec<_>>(),
        vec![Ok(("SendTargets", "All"))]
    );
    assert_eq!(
        acc.push(b"0123456789"),
        Err(AccumulateError { capacity: 16 })
    );
    assert_eq!(acc.as_bytes(), b"SendTargets=All\0"); // unchanged
    acc.clear();
    assert!(acc.is_empty());
}

fn key() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.+@_-]{1,63}"
}

fn value() -> impl Strategy<Value = String> {
    // Any non-NUL text of up to 255 bytes (ASCII keeps the byte count obvious).
    "[\\x01-\\x7f]{0,255}"
}

proptest! {
    #[test]
    fn writer_then_parser_round_trip(pairs_in in prop::collection::vec((key(), value()), 0..12)) {
        let mut storage = vec![0u8; 16 * 1024];
        let mut w = TextWriter::new(&mut storage);
        for (k, v) in &pairs_in {
            w.push(k, v).unwrap();
        }
        let parsed: Vec<(&str, &str)> = TextIter::new(w.as_bytes()).map(Result::unwrap).collect();
        let expected: Vec<(&str, &str)> =
            pairs_in.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn split_anywhere_then_accumulated(pairs_in in prop::collection::vec((key(), value()), 1..6), cut in any::<prop::sample::Index>()) {
        let mut storage = vec![0u8; 4096];
        let mut w = TextWriter::new(&mut storage);
        for (k, v) in &pairs_in {
            w.push(k, v).unwrap();
        }
        let text = w.as_bytes();
        let cut = cut.index(text.len() + 1);
        let mut acc_storage = vec![0u8; text.len()];
        let mut acc = TextAccumulator::new(&mut acc_storage);
        acc.push(&text[..cut]).unwrap();
        acc.push(&text[cut..]).unwrap();
        prop_assert_eq!(acc.as_bytes(), text);
    }

    #[test]
    fn numbers_round_trip(n in any::<u32>()) {
        prop_assert_eq!(parse_u32(&n.to_string()), Ok(n));
        prop_assert_eq!(parse_u32(&format!("0x{n:x}")), Ok(n));
        let mut digits = [0u8; 10];
        prop_assert_eq!(initiator::text::format_decimal(n, &mut digits), n.to_string());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for pair in TextIter::new(&bytes) {
            let _ = pair;
        }
    }
}
