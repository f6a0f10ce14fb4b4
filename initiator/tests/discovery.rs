//! SendTargets: request key and response parsing (RFC 7143 §11.10.2, Appendix C examples).

use initiator::addr::{AddrError, Host, Portal};
use initiator::discovery::{DiscoveryError, SendTargetsQuery, SendTargetsResponse, write_request};
use proptest::prelude::*;

/// A target's name and its `(portal, tag)` list.
type Listed = (String, Vec<(String, Option<u16>)>);

fn portals(data: &[u8]) -> Vec<Listed> {
    SendTargetsResponse::new(data)
        .targets()
        .map(|t| {
            let t = t.unwrap();
            let ps = t
                .portals()
                .map(|p| {
                    let p = p.unwrap();
                    (p.portal.to_string(), p.tpgt)
                })
                .collect();
            (t.name.to_owned(), ps)
        })
        .collect()
}

#[test]
fn request_values() {
    let mut out = Vec::new();
    let mut sink = |k: &str, v: &str| out.push(format!("{k}={v}"));
    write_request(SendTargetsQuery::All, &mut sink).unwrap();
    write_request(SendTargetsQuery::Target("iqn.2026-01.test:t1"), &mut sink).unwrap();
    write_request(SendTargetsQuery::Current, &mut sink).unwrap();
    assert_eq!(
        out,
        [
            "SendTargets=All",
            "SendTargets=iqn.2026-01.test:t1",
            "SendTargets="
        ]
    );
}

#[test]
fn appendix_c_style_response() {
    let data = b"TargetName=iqn.1993-11.com.acme:diskarray.sn.8675309\0\
TargetAddress=10.1.0.45:3000,1\0\
TargetAddress=10.1.1.45:3000,2\0\
TargetName=iqn.1993-11.com.acme:diskarray.sn.1234567\0\
TargetAlias=array two\0\
TargetAddress=[2001:db8::45]:3260,3\0";
    assert_eq!(
        portals(data),
        [
            (
                "iqn.1993-11.com.acme:diskarray.sn.8675309".to_owned(),
                vec![
                    ("10.1.0.45:3000".to_owned(), Some(1)),
                    ("10.1.1.45:3000".to_owned(), Some(2))
                ]
            ),
            (
                "iqn.1993-11.com.acme:diskarray.sn.1234567".to_owned(),
                vec![("[2001:db8::45]:3260".to_owned(), Some(3))]
            ),
        ]
    );
    let second = SendTargetsResponse::new(data)
        .targets()
        .nth(1)
        .unwrap()
        .unwrap();
    assert_eq!(second.alias(), Some("array two"));
    let first = SendTargetsResponse::new(data)
        .targets()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(first.alias(), None);
    let p = first.portals().next().unwrap().unwrap();
    assert_eq!(
        p.portal,
        Portal {
            host: Host::Ip("10.1.0.45".parse().unwrap()),
            port: 3000
        }
    );
}

#[test]
fn tolerant_framing() {
    // No final NUL, NUL padding between pairs, a target with no address, hostnames.
    let data = b"TargetName=iqn.x:a\0\0\0TargetName=iqn.x:b\0TargetAddress=san.example:3260,1";
    assert_eq!(
        portals(data),
        [
            ("iqn.x:a".to_owned(), vec![]),
            (
                "iqn.x:b".to_owned(),
                vec![("san.example:3260".to_owned(), Some(1))]
            ),
        ]
    );
    assert_eq!(SendTargetsResponse::new(b"").targets().count(), 0);
    assert_eq!(SendTargetsResponse::new(b"\0\0").targets().count(), 0);
}

#[test]
fn malformed_responses() {
    let first = |d: &'static [u8]| SendTargetsResponse::new(d).targets().next().unwrap();
    assert_eq!(
        first(b"TargetAddress=10.0.0.1:3260,1\0TargetName=iqn.x:a\0").unwrap_err(),
        DiscoveryError::AddressWithoutTarget
    );
    assert_eq!(
        first(b"TargetName=\0").unwrap_err(),
        DiscoveryError::EmptyTargetName
    );
    assert_eq!(first(b"garbage\0").unwrap_err(), DiscoveryError::BadPair);
    assert_eq!(first(b"=x\0").unwrap_err(), DiscoveryError::BadPair);
    assert_eq!(
        first(b"TargetName=\xff\0").unwrap_err(),
        DiscoveryError::BadPair
    );
    // The iterator stops after an error.
    let mut it = SendTargetsResponse::new(b"bad\0TargetName=iqn.x:a\0").targets();
    assert!(it.next().unwrap().is_err());
    assert!(it.next().is_none());
    // A bad pair after a target ends it; the target before is still reported.
    let mut it = SendTargetsResponse::new(b"TargetName=iqn.x:a\0bad\0").targets();
    assert_eq!(it.next().unwrap().unwrap().name, "iqn.x:a");
    assert_eq!(it.next().unwrap().unwrap_err(), DiscoveryError::BadPair);
    // A bad address is reported per portal.
    let t = first(b"TargetName=iqn.x:a\0TargetAddress=[::1:3260,1\0TargetAddress=h,x\0").unwrap();
    let errs: Vec<_> = t.portals().collect();
    assert_eq!(errs, [Err(AddrError::BadHost), Err(AddrError::BadTag)]);
}

fn arb_portal() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            any::<[u8; 4]>().prop_map(|b| std::net::Ipv4Addr::from(b).to_string()),
            any::<[u8; 16]>().prop_map(|b| format!("[{}]", std::net::Ipv6Addr::from(b))),
            "[a-z][a-z0-9-]{0,12}",
        ],
        1u16..,
        any::<u16>(),
    )
        .prop_map(|(h, p, t)| format!("{h}:{p},{t}"))
}

proptest! {
    #[test]
    fn response_round_trip(targets in proptest::collection::vec(
        ("iqn\\.[0-9]{4}-[0-9]{2}\\.[a-z]{1,8}:[a-z0-9.-]{1,12}", proptest::collection::vec(arb_portal(), 0..4)),
        0..6)) {
        let mut data = Vec::new();
        for (name, ps) in &targets {
            data.extend_from_slice(format!("TargetName={name}\0").as_bytes());
            for p in ps {
                data.extend_from_slice(format!("TargetAddress={p}\0").as_bytes());
            }
        }
        let got: Vec<(String, Vec<String>)> = SendTargetsResponse::new(&data)
            .targets()
            .map(|t| {
                let t = t.unwrap();
                let ps = t.portals().map(|p| {
                    let p = p.unwrap();
                    format!("{},{}", p.portal, p.tpgt.unwrap())
                }).collect();
                (t.name.to_owned(), ps)
            })
            .collect();
        prop_assert_eq!(got, targets);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        for t in SendTargetsResponse::new(&data).targets().flatten() {
            let _ = t.alias();
            for _ in t.portals() {}
        }
    }

    #[test]
    fn arbitrary_pairs_never_panic(ps in proptest::collection::vec(
        (prop_oneof![Just("TargetName"), Just("TargetAddress"), Just("TargetAlias"), Just("X")], "[\\[\\]:,0-9a-f.]{0,20}"), 0..10)) {
        let mut data = Vec::new();
        for (k, v) in &ps { data.extend_from_slice(format!("{k}={v}\0").as_bytes()); }
        for t in SendTargetsResponse::new(&data).targets().flatten() {
            for _ in t.portals() {}
        }
    }
}
