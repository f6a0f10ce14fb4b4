//! Operational parameter negotiation against RFC 7143 §6.2 / §13: the keys we write, the result
//! functions applied to answers, target-initiated offers and unusable outcomes.

use initiator::params::{
    Applied, ApplyError, AuthMethod, Config, Digest, DigestPolicy, Identity, Key, Negotiated,
    Negotiator, ParamError, SessionType, write_identity,
};
use proptest::prelude::*;

type Pairs = Vec<(String, String)>;

fn offer(n: &mut Negotiator) -> Pairs {
    let mut out = Pairs::new();
    n.write_offer(&mut |k: &str, v: &str| out.push((k.into(), v.into())))
        .unwrap();
    out
}

fn apply(n: &mut Negotiator, k: &str, v: &str) -> (Result<Applied, ParamError>, Pairs) {
    let mut out = Pairs::new();
    let r = n
        .apply(k, v, &mut |k: &str, v: &str| out.push((k.into(), v.into())))
        .map_err(|e| match e {
            ApplyError::Param(p) => p,
            ApplyError::Sink(never) => match never {},
        });
    (r, out)
}

fn pairs(list: &[(&str, &str)]) -> Pairs {
    list.iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

#[test]
fn default_offer_writes_every_key_explicitly() {
    let mut n = Negotiator::new(&Config::default(), SessionType::Normal);
    assert_eq!(
        offer(&mut n),
        pairs(&[
            ("HeaderDigest", "None,CRC32C"),
            ("DataDigest", "None,CRC32C"),
            ("MaxConnections", "1"),
            ("InitialR2T", "No"),
            ("ImmediateData", "Yes"),
            ("MaxRecvDataSegmentLength", "262144"),
            ("MaxBurstLength", "1048576"),
            ("FirstBurstLength", "262144"),
            ("DefaultTime2Wait", "2"),
            ("DefaultTime2Retain", "20"),
            ("MaxOutstandingR2T", "1"),
            ("DataPDUInOrder", "Yes"),
            ("DataSequenceInOrder", "Yes"),
            ("ErrorRecoveryLevel", "0"),
        ])
    );
}

#[test]
fn discovery_offer_leaves_out_normal_session_keys() {
    let mut n = Negotiator::new(&Config::default(), SessionType::Discovery);
    assert_eq!(
        offer(&mut n),
        pairs(&[
            ("HeaderDigest", "None,CRC32C"),
            ("DataDigest", "None,CRC32C"),
            ("MaxRecvDataSegmentLength", "262144"),
            ("DefaultTime2Wait", "2"),
            ("DefaultTime2Retain", "20"),
            ("ErrorRecoveryLevel", "0"),
        ])
    );
    // A target offering a normal-session key in discovery gets "Irrelevant".
    let (r, out) = apply(&mut n, "MaxBurstLength", "65536");
    assert_eq!(r, Ok(Applied::Answered));
    assert_eq!(out, pairs(&[("MaxBurstLength", "Irrelevant")]));
}

#[test]
fn config_is_clamped_to_spec_ranges() {
    let c = Config {
        max_burst_length: 32 << 20,
        first_burst_length: 64 << 20,
        max_recv_data_segment_length: 100,
        error_recovery_level: 7,
        max_connections: 0,
        ..Config::default()
    }
    .normalized();
    assert_eq!(c.max_burst_length, 16_777_215);
    assert_eq!(c.first_burst_length, 16_777_215);
    assert_eq!(c.max_recv_data_segment_length, 512);
    assert_eq!(c.error_recovery_level, 2);
    assert_eq!(c.max_connections, 1);
}

/// Answers of a target whose own values are the RFC defaults (InitialR2T=Yes, MaxBurstLength
/// 256 KiB, FirstBurstLength 64 KiB, MaxRecvDataSegmentLength 8 KiB) and DefaultTime2Retain 0:
/// its values win where the result function lets them.
#[test]
fn tgtd_like_answers() {
    let mut n = Negotiator::new(&Config::default(), SessionType::Normal);
    offer(&mut n);
    for (k, v) in [
        ("HeaderDigest", "None"),
        ("DataDigest", "None"),
        ("MaxConnections", "1"),
        ("InitialR2T", "Yes"),
        ("ImmediateData", "Yes"),
        ("MaxRecvDataSegmentLength", "8192"),
        ("MaxBurstLength", "262144"),
        ("FirstBurstLength", "65536"),
        ("DefaultTime2Wait", "2"),
        ("DefaultTime2Retain", "0"),
        ("MaxOutstandingR2T", "1"),
        ("DataPDUInOrder", "Yes"),
        ("DataSequenceInOrder", "Yes"),
        ("ErrorRecoveryLevel", "0"),
        ("TargetPortalGroupTag", "1"),
        ("TargetAlias", "disk0"),
    ] {
        let (r, out) = apply(&mut n, k, v);
        assert!(r.is_ok(), "{k}={v}: {r:?}");
        assert!(out.is_empty(), "{k}");
    }
    let (r, out) = apply(&mut n, "OFMarker", "No");
    assert_eq!(
        (r, out),
        (Ok(Applied::Answered), pairs(&[("OFMarker", "No")]))
    );
    let got = n.finish().unwrap();
    assert_eq!(
        got,
        Negotiated {
            header_digest: Digest::None,
            data_digest: Digest::None,
            max_connections: 1,
            initial_r2t: true,
            immediate_data: true,
            max_recv_data_segment_length: 262_144,
            max_send_data_segment_length: 8192,
            max_burst_length: 262_144,
            first_burst_length: 65_536,
            default_time2wait: 2,
            default_time2retain: 0,
            max_outstanding_r2t: 1,
            data_pdu_in_order: true,
            data_sequence_in_order: true,
            error_recovery_level: 0,
            target_portal_group_tag: Some(1),
        }
    );
}

#[test]
fn answers_violating_the_result_function_are_errors() {
    let cases = [
        (
            "MaxBurstLength",
            "2097152",
            ParamError::NotOffered(Key::MaxBurstLength),
        ),
        (
            "FirstBurstLength",
            "524288",
            ParamError::NotOffered(Key::FirstBurstLength),
        ),
        (
            "DefaultTime2Wait",
            "1",
            ParamError::NotOffered(Key::DefaultTime2Wait),
        ),
        (
            "DefaultTime2Retain",
            "21",
            ParamError::NotOffered(Key::DefaultTime2Retain),
        ),
        (
            "MaxConnections",
            "2",
            ParamError::NotOffered(Key::MaxConnections),
        ),
        (
            "ErrorRecoveryLevel",
            "1",
            ParamError::NotOffered(Key::ErrorRecoveryLevel),
        ),
        (
            "ErrorRecoveryLevel",
            "3",
            ParamError::OutOfRange(Key::ErrorRecoveryLevel),
        ),
        (
            "MaxRecvDataSegmentLength",
            "511",
            ParamError::OutOfRange(Key::MaxRecvDataSegmentLength),
        ),
        (
            "MaxRecvDataSegmentLength",
            "16777216",
            ParamError::OutOfRange(Key::MaxRecvDataSegmentLength),
        ),
        (
            "MaxBurstLength",
            "lots",
            ParamError::OutOfRange(Key::MaxBurstLength),
        ),
        (
            "MaxBurstLength",
            "",
            ParamError::OutOfRange(Key::MaxBurstLength),
        ),
        (
            "DataPDUInOrder",
            "No",
            ParamError::NotOffered(Key::DataPDUInOrder),
        ),
        (
            "DataPDUInOrder",
            "yes",
            ParamError::OutOfRange(Key::DataPDUInOrder),
        ),
        (
            "HeaderDigest",
            "MD5",
            ParamError::NotOffered(Key::HeaderDigest),
        ),
        (
            "HeaderDigest",
            "None,CRC32C",
            ParamError::NotOffered(Key::HeaderDigest),
        ),
        (
            "TargetPortalGroupTag",
            "65536",
            ParamError::OutOfRange(Key::TargetPortalGroupTag),
        ),
        (
            "InitiatorName",
            "iqn.x",
            ParamError::WrongDirection(Key::InitiatorName),
        ),
    ];
    for (k, v, e) in cases {
        let mut n = Negotiator::new(&Config::default(), SessionType::Normal);
        offer(&mut n);
        assert_eq!(apply(&mut n, k, v).0, Err(e), "{k}={v}");
    }
}

#[test]
fn boolean_result_functions() {
    // InitialR2T is OR: having offered Yes, No is illegal.
    let c = Config {
        initial_r2t: true,
        immediate_data: false,
        ..Config::default()
    };
    let mut n = Negotiator::new(&c, SessionType::Normal);
    offer(&mut n);
    assert_eq!(
        apply(&mut n, "InitialR2T", "No").0,
        Err(ParamError::NotOffered(Key::InitialR2T))
    );
    // ImmediateData is AND: having offered No, Yes is illegal.
    assert_eq!(
        apply(&mut n, "ImmediateData", "Yes").0,
        Err(ParamError::NotOffered(Key::ImmediateData))
    );
    // With our defaults (InitialR2T=No, ImmediateData=Yes) the target may pick either.
    let mut n = Negotiator::new(&Config::default(), SessionType::Normal);
    offer(&mut n);
    assert!(apply(&mut n, "InitialR2T", "Yes").0.is_ok());
    assert!(apply(&mut n, "ImmediateData", "No").0.is_ok());
    let r = n.finish().unwrap();
    assert!(r.initial_r2t && !r.immediate_data);
}

#[test]
fn digests_required_and_negotiated() {
    let c = Config {
        header_digest: DigestPolicy::Require,
        data_digest: DigestPolicy::PreferCrc32c,
        ..Config::default()
    };
    let mut n = Negotiator::new(&c, SessionType::Normal);
    let o = offer(&mut n);
    assert_eq!(o[0], ("HeaderDigest".into(), "CRC32C".into()));
    assert_eq!(o[1], ("DataDigest".into(), "CRC32C,None".into()));
    assert!(apply(&mut n, "HeaderDigest", "CRC32C").0.is_ok());
    assert!(apply(&mut n, "DataDigest", "None").0.is_ok());
    let r = n.finish().unwrap();
    assert_eq!(
        (r.header_digest, r.data_digest),
        (Digest::Crc32c, Digest::None)
    );

    // A required digest rejected or not understood is fatal; an optional one falls back to None.
    let mut n = Negotiator::new(&c, SessionType::Normal);
    offer(&mut n);
    assert_eq!(
        apply(&mut n, "HeaderDigest", "Reject").0,
        Err(ParamError::Rejected(Key::HeaderDigest))
    );
    assert_eq!(
        apply(&mut n, "HeaderDigest", "NotUnderstood").0,
        Err(ParamError::NotUnderstood(Key::HeaderDigest))
    );
    assert!(apply(&mut n, "DataDigest", "Reject").0.is_ok());
    // Unanswered required digest: the session would run without it.
    assert_eq!(n.finish(), Err(ParamError::NotOffered(Key::HeaderDigest)));
}

#[test]
fn reject_and_not_understood_fall_back_to_rfc_defaults() {
    let mut n = Negotiator::new(&Config::default(), SessionType::Normal);
    offer(&mut n);
    assert!(apply(&mut n, "MaxBurstLength", "Reject").0.is_ok());
    assert!(apply(&mut n, "FirstBurstLength", "NotUnderstood").0.is_ok());
    assert!(apply(&mut n, "InitialR2T", "Irrelevant").0.is_ok());
    let r = n.finish().unwrap();
    assert_eq!(r.max_burst_length, 262_144);
    assert_eq!(r.first_burst_length, 65_536);
    assert!(r.initial_r2t);
}

#[test]
fn first_burst_above_max_burst_is_inconsistent() {
    let mut n = Negotiator::new(&Config::default(), SessionType::Normal);
    offer(&mut n);
    assert!(apply(&mut n, "MaxBurstLength", "4096").0.is_ok());
    assert!(apply(&mut n, "FirstBurstLength", "65536").0.is_ok());
    assert_eq!(n.finish(), Err(ParamError::Inconsistent));
}

#[test]
fn target_initiated_offers_are_answered() {
    // Nothing offered yet: every operational key from the target is an offer to answer.
    let mut n = Negotiator::new(&Config::default(), SessionType::Normal);
    let cases = [
        ("MaxBurstLength", "2097152", "1048576"),
        ("FirstBurstLength", "4096", "4096"),
        ("DefaultTime2Wait", "5", "5"),
        ("DefaultTime2Retain", "60", "20"),
        ("HeaderDigest", "CRC32C,None", "None"),
        ("DataDigest", "CRC32C", "CRC32C"),
        ("InitialR2T", "Yes", "Yes"),
        ("ImmediateData", "No", "No"),
        ("MaxOutstandingR2T", "0", "Reject"),
        ("ErrorRecoveryLevel", "2", "0"),
    ];
    for (k, v, answer) in cases {
        let (r, out) = apply(&mut n, k, v);
        assert_eq!(r, Ok(Applied::Answered), "{k}");
        assert_eq!(out, pairs(&[(k, answer)]), "{k}={v}");
    }
    let r = n.finish().unwrap();
    assert_eq!(r.max_burst_length, 1_048_576);
    assert_eq!(r.first_burst_length, 4096);
    assert_eq!(r.default_time2wait, 5);
    assert_eq!(r.data_digest, Digest::Crc32c);
    assert!(r.initial_r2t && !r.immediate_data);

    let mut strict = Negotiator::new(
        &Config {
            header_digest: DigestPolicy::Off,
            ..Config::default()
        },
        SessionType::Normal,
    );
    let (_, out) = apply(&mut strict, "HeaderDigest", "CRC32C");
    assert_eq!(out, pairs(&[("HeaderDigest", "Reject")]));
}

#[test]
fn foreign_keys() {
    let mut n = Negotiator::new(&Config::default(), SessionType::Normal);
    offer(&mut n);
    for (k, v, answer) in [
        ("X-com.example.Feature", "Yes", Some("NotUnderstood")),
        ("iSCSIProtocolLevel", "1", Some("NotUnderstood")),
        ("RDMAExtensions", "Yes", Some("No")),
        ("IFMarker", "Yes", Some("No")),
        ("OFMarkInt", "2048~8192", Some("Irrelevant")),
        ("TargetRecvDataSegmentLength", "8192", None),
        ("X-com.example.Echo", "NotUnderstood", None),
    ] {
        let (r, out) = apply(&mut n, k, v);
        match answer {
            Some(a) => {
                assert_eq!(r, Ok(Applied::Answered), "{k}");
                assert_eq!(out, pairs(&[(k, a)]));
            }
            None => {
                assert_eq!(r, Ok(Applied::Ignored), "{k}");
                assert!(out.is_empty());
            }
        }
    }
    for k in ["AuthMethod", "CHAP_A", "TargetAddress", "TargetName"] {
        assert_eq!(apply(&mut n, k, "x").0, Ok(Applied::NotMine), "{k}");
    }
}

#[test]
fn identity_and_auth_method() {
    let mut out = Pairs::new();
    write_identity(
        &Identity {
            initiator_name: "iqn.2026-01.test:host",
            initiator_alias: Some("host"),
            session_type: SessionType::Normal,
            target_name: Some("iqn.2026-01.test:disk"),
        },
        &mut |k: &str, v: &str| out.push((k.into(), v.into())),
    )
    .unwrap();
    assert_eq!(
        out,
        pairs(&[
            ("InitiatorName", "iqn.2026-01.test:host"),
            ("InitiatorAlias", "host"),
            ("SessionType", "Normal"),
            ("TargetName", "iqn.2026-01.test:disk"),
        ])
    );
    out.clear();
    write_identity(
        &Identity {
            initiator_name: "iqn.2026-01.test:host",
            initiator_alias: None,
            session_type: SessionType::Discovery,
            target_name: Some("ignored"),
        },
        &mut |k: &str, v: &str| out.push((k.into(), v.into())),
    )
    .unwrap();
    assert_eq!(
        out,
        pairs(&[
            ("InitiatorName", "iqn.2026-01.test:host"),
            ("SessionType", "Discovery")
        ])
    );
    assert_eq!(AuthMethod::offer(true), "CHAP");
    assert_eq!(AuthMethod::offer(false), "None");
    assert_eq!(AuthMethod::from_answer("CHAP"), Some(AuthMethod::Chap));
    assert_eq!(AuthMethod::from_answer("Reject"), None);
}

#[test]
fn writes_into_the_text_codec() {
    let mut storage = [0u8; 512];
    let mut w = initiator::text::TextWriter::new(&mut storage);
    let mut n = Negotiator::new(&Config::default(), SessionType::Discovery);
    n.write_offer(&mut w).unwrap();
    assert!(
        w.as_bytes()
            .starts_with(b"HeaderDigest=None,CRC32C\0DataDigest=None,CRC32C\0")
    );
    let mut tiny = [0u8; 8];
    let mut w = initiator::text::TextWriter::new(&mut tiny);
    assert!(n.write_offer(&mut w).is_err());
}

fn arb_policy() -> impl Strategy<Value = DigestPolicy> {
    prop_oneof![
        Just(DigestPolicy::Off),
        Just(DigestPolicy::PreferNone),
        Just(DigestPolicy::PreferCrc32c),
        Just(DigestPolicy::Require),
    ]
}

prop_compose! {
    fn arb_config()(
        header_digest in arb_policy(), data_digest in arb_policy(),
        max_connections in 1u16.., initial_r2t in any::<bool>(), immediate_data in any::<bool>(),
        max_recv_data_segment_length in 512u32..=16_777_215,
        max_burst_length in 512u32..=16_777_215, first_burst_length in 512u32..=16_777_215,
        default_time2wait in 0u16..=3600, default_time2retain in 0u16..=3600,
        max_outstanding_r2t in 1u16.., data_pdu_in_order in any::<bool>(),
        data_sequence_in_order in any::<bool>(), error_recovery_level in 0u8..=2,
    ) -> Config {
        Config {
            header_digest, data_digest, max_connections, initial_r2t, immediate_data,
            max_recv_data_segment_length, max_burst_length,
            first_burst_length: first_burst_length.min(max_burst_length),
            default_time2wait, default_time2retain, max_outstanding_r2t, data_pdu_in_order,
            data_sequence_in_order, error_recovery_level,
        }
    }
}

proptest! {
    /// A target that accepts every offered value (first list item) yields exactly the config.
    #[test]
    fn echoed_offer_gives_the_config(c in arb_config()) {
        let mut n = Negotiator::new(&c, SessionType::Normal);
        let o = offer(&mut n);
        for (k, v) in &o {
            let v = v.split(',').next().unwrap();
            let (r, out) = apply(&mut n, k, v);
            prop_assert!(r.is_ok(), "{}={}: {:?}", k, v, r);
            prop_assert!(out.is_empty());
        }
        let r = n.finish().unwrap();
        let first = |p: DigestPolicy| if p.offer().starts_with("CRC32C") { Digest::Crc32c } else { Digest::None };
        prop_assert_eq!(r, Negotiated {
            header_digest: first(c.header_digest),
            data_digest: first(c.data_digest),
            max_connections: c.max_connections,
            initial_r2t: c.initial_r2t,
            immediate_data: c.immediate_data,
            max_recv_data_segment_length: c.max_recv_data_segment_length,
            max_send_data_segment_length: c.max_recv_data_segment_length,
            max_burst_length: c.max_burst_length,
            first_burst_length: c.first_burst_length,
            default_time2wait: c.default_time2wait,
            default_time2retain: c.default_time2retain,
            max_outstanding_r2t: c.max_outstanding_r2t,
            data_pdu_in_order: c.data_pdu_in_order,
            data_sequence_in_order: c.data_sequence_in_order,
            error_recovery_level: c.error_recovery_level,
            target_portal_group_tag: None,
        });
    }

    #[test]
    fn arbitrary_pairs_never_panic(
        c in arb_config(),
        discovery in any::<bool>(),
        do_offer in any::<bool>(),
        ps in proptest::collection::vec(("[A-Za-z_.-]{1,30}", ".{0,24}"), 0..20),
        known in proptest::collection::vec((0usize..22, "[0-9]{0,12}|Yes|No|None|CRC32C|Reject|Irrelevant|NotUnderstood|0x[0-9a-fA-F]{0,10}"), 0..20),
    ) {
        let st = if discovery { SessionType::Discovery } else { SessionType::Normal };
        let mut n = Negotiator::new(&c, st);
        if do_offer { offer(&mut n); }
        for (k, v) in &ps { let _ = apply(&mut n, k, v); }
        for (i, v) in &known { let _ = apply(&mut n, Key::ALL[*i].name(), v); }
        let _ = n.finish();
    }
}
