//! Login against a scripted target: keys, stages, CHAP, status codes, redirect, continuation.

mod session_target;

use initiator::error::LoginError;
use initiator::pdu::{Repr, Stage};
use initiator::session::{Chap, Event, MutualChap, SessionConfig};
use session_target::*;

fn config() -> SessionConfig<'static> {
    SessionConfig::new(INITIATOR, TARGET, ISID)
}

#[test]
fn plain_login_sends_every_key_and_takes_the_lesser_values() {
    let mut h = Harness::new(config());
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    // Byte level (RFC 7143 §11.12): opcode 0x03 with the immediate bit, T=1 CSG=0 NSG=1,
    // ISID, TSIH 0, ITT 0.
    let pdu = &sent[0];
    assert_eq!(pdu[0], 0x43);
    assert_eq!(pdu[1], 0x80 | 0x01);
    assert_eq!(&pdu[8..14], &ISID);
    assert_eq!(&pdu[14..16], &[0, 0]);
    let Repr::LoginRequest(req) = parse(pdu, Default::default()) else {
        panic!("not a login request");
    };
    assert_eq!(value(req.data, "InitiatorName").as_deref(), Some(INITIATOR));
    assert_eq!(value(req.data, "TargetName").as_deref(), Some(TARGET));
    assert_eq!(value(req.data, "SessionType").as_deref(), Some("Normal"));
    assert_eq!(value(req.data, "AuthMethod").as_deref(), Some("None"));

    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &[]));
    let sent = h.sent();
    let Repr::LoginRequest(req) = parse(&sent[0], Default::default()) else {
        panic!()
    };
    assert_eq!(
        (req.csg, req.nsg, req.transit),
        (Stage::Operational, Stage::FullFeature, true)
    );
    // ExpStatSN acknowledges StatSN 100.
    assert_eq!(req.exp_stat_sn.0, 101);
    for key in [
        "HeaderDigest",
        "DataDigest",
        "MaxRecvDataSegmentLength",
        "MaxConnections",
        "InitialR2T",
        "ImmediateData",
        "MaxBurstLength",
        "FirstBurstLength",
        "MaxOutstandingR2T",
        "DataPDUInOrder",
        "DataSequenceInOrder",
        "DefaultTime2Wait",
        "DefaultTime2Retain",
        "ErrorRecoveryLevel",
    ] {
        assert!(value(req.data, key).is_some(), "{key} not sent");
    }
    // Target: smaller bursts, InitialR2T=Yes (OR), ImmediateData=No (AND).
    let keys = target_keys(4096, 16384, 8192, "Yes", "No");
    h.feed_all(&login_response(true, false, 1, 3, 0, 7, 101, 1, 8, &keys));
    let ev = h.events();
    let [Event::LoggedIn(n)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(n.max_send_data_segment_length, 4096);
    assert_eq!(n.max_burst_length, 16384);
    assert_eq!(n.first_burst_length, 8192);
    assert!(n.initial_r2t);
    assert!(!n.immediate_data);
    assert_eq!(h.session.tsih(), 7);
}

#[test]
fn failure_statuses_map_to_distinct_errors() {
    for (status, want) in [
        (0x0201u16, LoginError::AuthenticationFailed),
        (0x0202, LoginError::Forbidden),
        (0x0203, LoginError::NotFound),
        (0x0300, LoginError::TargetError(0x0300)),
        (0x0301, LoginError::ServiceUnavailable(0x0301)),
    ] {
        let mut h = Harness::new(config());
        h.sent();
        h.feed_all(&login_response(false, false, 0, 0, status, 0, 0, 1, 1, &[]));
        assert_eq!(
            h.events(),
            vec![Event::LoginFailed(want)],
            "status {status:#06x}"
        );
        assert!(
            h.sent().is_empty(),
            "no retry storm from the session itself"
        );
    }
}

#[test]
fn redirect_reports_the_new_portal() {
    let mut h = Harness::new(config());
    h.sent();
    let data = text(&[("TargetAddress", "[::1]:3261,1")]);
    h.feed_all(&login_response(
        false, false, 0, 0, 0x0101, 0, 0, 1, 1, &data,
    ));
    assert_eq!(
        h.events(),
        vec![Event::Redirected {
            portal: "[::1]:3261".parse().unwrap(),
            permanent: false
        }]
    );
    // Permanent, IPv4 without port.
    let mut h = Harness::new(config());
    h.sent();
    let data = text(&[("TargetAddress", "127.0.0.2")]);
    h.feed_all(&login_response(
        false, false, 0, 0, 0x0102, 0, 0, 1, 1, &data,
    ));
    assert_eq!(
        h.events(),
        vec![Event::Redirected {
            portal: "127.0.0.2:3260".parse().unwrap(),
            permanent: true
        }]
    );
}

#[test]
fn continued_login_response_is_joined() {
    let mut h = Harness::new(config());
    h.sent();
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &[]));
    h.sent();
    let keys = target_keys(2048, 65536, 65536, "No", "Yes");
    let (a, b) = keys.split_at(40);
    // First half with C=1 and T=0: we must answer with an empty request, T=0.
    h.feed_all(&login_response(false, true, 1, 3, 0, 7, 101, 1, 8, a));
    let sent = h.sent();
    let Repr::LoginRequest(req) = parse(&sent[0], Default::default()) else {
        panic!()
    };
    assert!(req.data.is_empty());
    assert!(!req.transit);
    h.feed_all(&login_response(true, false, 1, 3, 0, 7, 101, 1, 8, b));
    let ev = h.events();
    let [Event::LoggedIn(n)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(n.max_send_data_segment_length, 2048);
}

fn chap_config(mutual: bool) -> SessionConfig<'static> {
    let mut c = config();
    c.chap = Some(Chap {
        user: "alice",
        secret: b"alice-secret",
        mutual: mutual.then_some(MutualChap {
            user: "disk",
            secret: b"target-secret",
            challenge: [0x11; 16],
            id: 9,
        }),
        required: true,
        algorithms: &[8, 7, 6, 5],
        digest: &FakeHash,
    });
    c
}

/// Runs the CHAP exchange up to our CHAP_R; returns the last request's text.
fn chap_until_response(h: &mut Harness<'_>) -> Vec<u8> {
    let sent = h.sent();
    let Repr::LoginRequest(req) = parse(&sent[0], Default::default()) else {
        panic!()
    };
    assert_eq!(value(req.data, "AuthMethod").as_deref(), Some("CHAP"));
    assert!(!req.transit);
    h.feed_all(&login_response(
        false,
        false,
        0,
        1,
        0,
        0,
        100,
        1,
        1,
        &text(&[("AuthMethod", "CHAP")]),
    ));
    let sent = h.sent();
    let Repr::LoginRequest(req) = parse(&sent[0], Default::default()) else {
        panic!()
    };
    assert_eq!(value(req.data, "CHAP_A").as_deref(), Some("8,7,6,5"));
    let challenge = text(&[("CHAP_A", "5"), ("CHAP_I", "42"), ("CHAP_C", "0xa1b2c3d4")]);
    h.feed_all(&login_response(
        false, false, 0, 1, 0, 0, 100, 1, 1, &challenge,
    ));
    let sent = h.sent();
    let Repr::LoginRequest(req) = parse(&sent[0], Default::default()) else {
        panic!()
    };
    assert!(req.transit);
    assert_eq!(value(req.data, "CHAP_N").as_deref(), Some("alice"));
    assert_eq!(
        value(req.data, "CHAP_R"),
        Some(fake_hash_hex(
            5,
            42,
            b"alice-secret",
            &[0xa1, 0xb2, 0xc3, 0xd4]
        ))
    );
    req.data.to_vec()
}

#[test]
fn one_way_chap_exchange() {
    let mut h = Harness::new(chap_config(false));
    chap_until_response(&mut h);
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &[]));
    let sent = h.sent();
    let Repr::LoginRequest(req) = parse(&sent[0], Default::default()) else {
        panic!()
    };
    assert_eq!(req.csg, Stage::Operational);
}

#[test]
fn mutual_chap_verifies_the_target() {
    let mut h = Harness::new(chap_config(true));
    let last = chap_until_response(&mut h);
    assert_eq!(value(&last, "CHAP_I").as_deref(), Some("9"));
    assert_eq!(
        value(&last, "CHAP_C").as_deref(),
        Some("0x11111111111111111111111111111111")
    );
    let good = fake_hash_hex(5, 9, b"target-secret", &[0x11; 16]);
    let ok = text(&[("CHAP_N", "disk"), ("CHAP_R", &good)]);
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &ok));
    assert!(h.events().is_empty());
    assert_eq!(h.sent().len(), 1);

    // Same exchange, wrong target secret: refused by us.
    let mut h = Harness::new(chap_config(true));
    chap_until_response(&mut h);
    let bad = fake_hash_hex(5, 9, b"wrong", &[0x11; 16]);
    let resp = text(&[("CHAP_N", "disk"), ("CHAP_R", &bad)]);
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &resp));
    assert_eq!(
        h.events(),
        vec![Event::LoginFailed(LoginError::TargetAuthenticationFailed)]
    );
}

#[test]
fn target_skipping_required_authentication_is_refused() {
    let mut h = Harness::new(chap_config(true));
    h.sent();
    // Target answers AuthMethod=None and transits straight to operational.
    h.feed_all(&login_response(
        true,
        false,
        0,
        1,
        0,
        0,
        100,
        1,
        1,
        &text(&[("AuthMethod", "None")]),
    ));
    assert_eq!(
        h.events(),
        vec![Event::LoginFailed(LoginError::AuthenticationSkipped)]
    );
    // Or it picks CHAP but then transits without ever challenging us.
    let mut h = Harness::new(chap_config(false));
    h.sent();
    h.feed_all(&login_response(
        false,
        false,
        0,
        1,
        0,
        0,
        100,
        1,
        1,
        &text(&[("AuthMethod", "CHAP")]),
    ));
    h.sent();
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &[]));
    assert_eq!(
        h.events(),
        vec![Event::LoginFailed(LoginError::AuthenticationSkipped)]
    );
}

#[test]
fn reflected_challenge_is_refused() {
    let mut h = Harness::new(chap_config(true));
    h.sent();
    h.feed_all(&login_response(
        false,
        false,
        0,
        1,
        0,
        0,
        100,
        1,
        1,
        &text(&[("AuthMethod", "CHAP")]),
    ));
    h.sent();
    let ours = "0x11111111111111111111111111111111";
    let challenge = text(&[("CHAP_A", "5"), ("CHAP_I", "1"), ("CHAP_C", ours)]);
    h.feed_all(&login_response(
        false, false, 0, 1, 0, 0, 100, 1, 1, &challenge,
    ));
    assert_eq!(h.events(), vec![Event::LoginFailed(LoginError::BadChap)]);
}

#[test]
fn login_timeout_fails_the_connection() {
    let mut h = Harness::new(config());
    h.sent();
    h.advance(std::time::Duration::from_secs(11));
    assert_eq!(
        h.events(),
        vec![Event::ConnectionFailed(
            initiator::error::ConnectionFailure::LoginTimeout
        )]
    );
}

#[test]
fn discovery_session_sends_targets_all() {
    let mut h = Harness::new(SessionConfig::discovery(INITIATOR, ISID));
    let sent = h.sent();
    let Repr::LoginRequest(req) = parse(&sent[0], Default::default()) else {
        panic!()
    };
    assert_eq!(value(req.data, "SessionType").as_deref(), Some("Discovery"));
    assert_eq!(value(req.data, "TargetName"), None);
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &[]));
    h.sent();
    h.feed_all(&login_response(
        true,
        false,
        1,
        3,
        0,
        7,
        101,
        1,
        1,
        &text(&[("MaxRecvDataSegmentLength", "8192")]),
    ));
    assert!(matches!(h.events().as_slice(), [Event::LoggedIn(_)]));
    h.session.send_targets().unwrap();
    let sent = h.sent();
    let Repr::TextRequest(req) = parse(&sent[0], Default::default()) else {
        panic!()
    };
    assert_eq!(req.data, b"SendTargets=All\0");
    assert!(req.final_bit);
    let answer = text(&[
        ("TargetName", TARGET),
        ("TargetAddress", "127.0.0.1:3260,1"),
    ]);
    // Text Response (0x24, §11.11), F=1.
    let mut b = bhs(0x24, 0x80, answer.len());
    put32(&mut b, 16, req.itt);
    put32(&mut b, 20, 0xffff_ffff);
    put32(&mut b, 24, 102);
    put32(&mut b, 28, 2);
    put32(&mut b, 32, 2);
    h.feed_all(&with_data(b, &answer, Default::default()));
    assert_eq!(h.events(), vec![Event::TextComplete]);
    assert_eq!(h.session.text_response(), answer.as_slice());
}

#[test]
fn keys_the_target_offers_are_answered_in_the_next_request() {
    let mut h = Harness::new(config());
    h.sent();
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &[]));
    h.sent();
    // The target answers part of our offer and offers IFMarker on its own, without transit.
    let mut offer = text(&[("IFMarker", "Yes"), ("X-org.example.Foo", "1")]);
    offer.extend(target_keys(8192, 65536, 8192, "Yes", "No"));
    h.feed_all(&login_response(false, false, 1, 3, 0, 7, 101, 1, 8, &offer));
    let sent = h.sent();
    let Repr::LoginRequest(req) = parse(&sent[0], Default::default()) else {
        panic!()
    };
    // RFC 7143 §13.26: no markers; §6.2: unknown keys are answered NotUnderstood.
    assert_eq!(value(req.data, "IFMarker").as_deref(), Some("No"));
    assert_eq!(
        value(req.data, "X-org.example.Foo").as_deref(),
        Some("NotUnderstood")
    );
    assert!(req.transit);
    h.feed_all(&login_response(true, false, 1, 3, 0, 7, 101, 1, 8, &[]));
    assert!(matches!(h.events().as_slice(), [Event::LoggedIn(_)]));
}

#[test]
fn reflected_response_is_refused() {
    // A target that cannot compute the answer to our challenge may echo our own CHAP_R.
    let mut h = Harness::new(chap_config(true));
    let last = chap_until_response(&mut h);
    let ours = value(&last, "CHAP_R").unwrap();
    let resp = text(&[("CHAP_N", "disk"), ("CHAP_R", &ours)]);
    h.feed_all(&login_response(true, false, 0, 1, 0, 0, 100, 1, 1, &resp));
    assert_eq!(
        h.events(),
        vec![Event::LoginFailed(LoginError::TargetAuthenticationFailed)]
    );
}

#[test]
fn same_secret_both_ways_is_refused() {
    // RFC 7143 §12.1.3: the initiator and target secrets must differ.
    let mut c = chap_config(true);
    if let Some(chap) = c.chap.as_mut() {
        chap.mutual = chap.mutual.map(|m| MutualChap {
            secret: b"alice-secret",
            ..m
        });
    }
    let mut h = Harness::new(c);
    h.sent();
    h.feed_all(&login_response(
        false,
        false,
        0,
        1,
        0,
        0,
        100,
        1,
        1,
        &text(&[("AuthMethod", "CHAP")]),
    ));
    h.sent();
    assert_eq!(
        h.events(),
        vec![Event::LoginFailed(LoginError::BadChapConfig)]
    );
}
