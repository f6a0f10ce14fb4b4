//! Target addresses: RFC 4173 root paths (and iPXE's use of them), libiscsi URLs, portals,
//! SendTargets `TargetAddress` values and SAM LUN encoding (SAM-5 §4.7).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use initiator::addr::{
    AddrError, Host, Lun, Portal, TargetAddress, UrlCredentials, percent_decode,
};
use proptest::prelude::*;

fn v4(a: u8, b: u8, c: u8, d: u8) -> Host<'static> {
    Host::Ip(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
}

#[test]
fn root_path_with_all_defaults() {
    // The form iPXE documents: iscsi:<server>::::<targetname>
    let a =
        TargetAddress::parse("iscsi:192.168.0.1::::iqn.2010-04.org.ipxe.dolphin:storage").unwrap();
    assert_eq!(a.host, v4(192, 168, 0, 1));
    assert_eq!(a.port, 3260);
    assert_eq!(a.lun, Lun::ZERO);
    assert_eq!(a.target_name, "iqn.2010-04.org.ipxe.dolphin:storage");
    assert_eq!(a.credentials, None);
}

#[test]
fn root_path_with_every_field() {
    let a =
        TargetAddress::parse("iscsi:10.0.0.7:6:3261:1f:iqn.1991-05.com.microsoft:srv-disk1-target")
            .unwrap();
    assert_eq!(a.host, v4(10, 0, 0, 7));
    assert_eq!(a.port, 3261);
    assert_eq!(a.lun.as_bytes(), &[0x00, 0x1f, 0, 0, 0, 0, 0, 0]);
    assert_eq!(a.target_name, "iqn.1991-05.com.microsoft:srv-disk1-target");
    assert_eq!(
        a.to_string(),
        "iscsi:10.0.0.7::3261:1f:iqn.1991-05.com.microsoft:srv-disk1-target"
    );
}

#[test]
fn root_path_ipv6_and_hostname() {
    let a = TargetAddress::parse("iscsi:[fd00:1::2]::::iqn.2026-01.test:t").unwrap();
    assert_eq!(
        a.host,
        Host::Ip(IpAddr::V6("fd00:1::2".parse::<Ipv6Addr>().unwrap()))
    );
    assert_eq!(a.portal().to_string(), "[fd00:1::2]:3260");
    let a = TargetAddress::parse("iscsi:san-01.example.com::3260:2:iqn.2026-01.test:t").unwrap();
    assert_eq!(a.host, Host::Name("san-01.example.com"));
    assert_eq!(a.lun.number(), Some(2));
}

#[test]
fn root_path_lun_groups() {
    // Each '-'-separated group fills the next two bytes of the 8-byte LUN.
    let a = TargetAddress::parse("iscsi:10.0.0.1:::4001-2-3-ffff:iqn.x:y").unwrap();
    assert_eq!(
        a.lun.as_bytes(),
        &[0x40, 0x01, 0x00, 0x02, 0x00, 0x03, 0xff, 0xff]
    );
    assert_eq!(a.lun.to_string(), "4001-2-3-ffff");
    assert_eq!(Lun::parse_root_path("0").unwrap(), Lun::ZERO);
    for bad in ["1-2-3-4-5", "10000", "g", "1--2", "-1"] {
        assert_eq!(Lun::parse_root_path(bad), Err(AddrError::BadLun), "{bad}");
    }
}

#[test]
fn root_path_errors() {
    for (s, e) in [
        ("iscsi:", AddrError::BadHost),
        ("iscsi:::::iqn.x", AddrError::BadHost),
        ("http:10.0.0.1::::iqn.x", AddrError::BadScheme),
        ("iscsi:10.0.0.1:17:::iqn.x", AddrError::BadProtocol),
        ("iscsi:10.0.0.1::70000::iqn.x", AddrError::BadPort),
        ("iscsi:10.0.0.1::0::iqn.x", AddrError::BadPort),
        ("iscsi:10.0.0.1::x::iqn.x", AddrError::BadPort),
        ("iscsi:10.0.0.1:::iqn.x", AddrError::MissingField),
        ("iscsi:10.0.0.1::::", AddrError::BadTargetName),
        ("iscsi:10.0.0.1::::iqn with space", AddrError::BadTargetName),
        ("iscsi:[fe80::1::::iqn.x", AddrError::BadHost),
        ("iscsi:[not-v6]::::iqn.x", AddrError::BadHost),
        ("iscsi:bad_host!::::iqn.x", AddrError::BadHost),
        ("iscsi:10.0.0.1:::zz:iqn.x", AddrError::BadLun),
    ] {
        assert_eq!(TargetAddress::parse(s), Err(e), "{s}");
    }
}

#[test]
fn libiscsi_urls() {
    let a = TargetAddress::parse("iscsi://192.168.1.10/iqn.2026-01.test:t1/0").unwrap();
    assert_eq!(
        (a.host, a.port, a.lun, a.target_name),
        (v4(192, 168, 1, 10), 3260, Lun::ZERO, "iqn.2026-01.test:t1")
    );
    let a = TargetAddress::parse("iscsi://[::1]:3261/iqn.2026-01.test:t1/300").unwrap();
    assert_eq!(a.host, Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    assert_eq!(a.port, 3261);
    assert_eq!(a.lun.as_bytes(), &[0x41, 0x2c, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        a.url().to_string(),
        "iscsi://[::1]:3261/iqn.2026-01.test:t1/300"
    );
    let a =
        TargetAddress::parse("iscsi://alice%s3cr%40t%25@san.example:3260/iqn.2026-01.test:t1/2")
            .unwrap();
    let c = a.credentials.unwrap();
    assert_eq!(c.user, "alice");
    let mut buf = [0u8; 32];
    assert_eq!(percent_decode(c.password.unwrap(), &mut buf), Ok("s3cr@t%"));
    assert_eq!(
        a.url().to_string(),
        "iscsi://alice%s3cr%40t%25@san.example:3260/iqn.2026-01.test:t1/2"
    );
    assert!(!format!("{c:?}").contains("s3cr"));
    let a = TargetAddress::parse("iscsi://bob@h/iqn.x:y/1").unwrap();
    assert_eq!(
        a.credentials,
        Some(UrlCredentials {
            user: "bob",
            password: None
        })
    );
}

#[test]
fn url_errors() {
    for (s, e) in [
        ("iscsi://h", AddrError::MissingField),
        ("iscsi://h/iqn.x", AddrError::MissingField),
        ("iscsi://h/iqn.x/", AddrError::BadLun),
        ("iscsi://h/iqn.x/16384", AddrError::BadLun),
        ("iscsi://h/iqn.x/-1", AddrError::BadLun),
        ("iscsi://h//0", AddrError::BadTargetName),
        ("iscsi:///iqn.x/0", AddrError::BadHost),
        ("iscsi://@h/iqn.x/0", AddrError::BadHost),
        ("iscsi://u%bad%zz@h/iqn.x/0", AddrError::BadEscape),
        ("iscsi://h:99999/iqn.x/0", AddrError::BadPort),
        ("iscsi://[::1/iqn.x/0", AddrError::BadHost),
    ] {
        assert_eq!(TargetAddress::parse(s), Err(e), "{s}");
    }
}

#[test]
fn portals() {
    assert_eq!(
        Portal::parse("10.0.0.1").unwrap(),
        Portal {
            host: v4(10, 0, 0, 1),
            port: 3260
        }
    );
    assert_eq!(Portal::parse("10.0.0.1:3261").unwrap().port, 3261);
    assert_eq!(Portal::parse("[::1]").unwrap().port, 3260);
    assert_eq!(Portal::parse("[::1]:860").unwrap().port, 860);
    assert_eq!(
        Portal::parse("fd00::5").unwrap().host,
        Host::Ip("fd00::5".parse().unwrap())
    );
    assert_eq!(Portal::parse("host:0"), Err(AddrError::BadPort));
    assert_eq!(Portal::parse("[::1]x"), Err(AddrError::BadHost));
    assert_eq!(Portal::parse(""), Err(AddrError::BadHost));

    let (p, tag) = Portal::parse_target_address("10.0.0.1:3260,1").unwrap();
    assert_eq!((p.to_string(), tag), ("10.0.0.1:3260".to_owned(), Some(1)));
    let (p, tag) = Portal::parse_target_address("[fd00::1]:3260,65535").unwrap();
    assert_eq!(
        (p.to_string(), tag),
        ("[fd00::1]:3260".to_owned(), Some(65535))
    );
    let (p, tag) = Portal::parse_target_address("[fd00::1]").unwrap();
    assert_eq!((p.port, tag), (3260, None));
    assert_eq!(
        Portal::parse_target_address("h:3260,x"),
        Err(AddrError::BadTag)
    );
    assert_eq!(
        Portal::parse_target_address("h:3260,65536"),
        Err(AddrError::BadTag)
    );
    assert_eq!(Portal::parse_target_address(",1"), Err(AddrError::BadHost));
}

#[test]
fn lun_encoding() {
    assert_eq!(Lun::from_number(0).unwrap().0, [0; 8]);
    assert_eq!(
        Lun::from_number(255).unwrap().0,
        [0x00, 0xff, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        Lun::from_number(256).unwrap().0,
        [0x41, 0x00, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        Lun::from_number(16383).unwrap().0,
        [0x7f, 0xff, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(Lun::from_number(16384), None);
    assert_eq!(Lun([0x40, 0x05, 0, 0, 0, 0, 0, 0]).number(), Some(5));
    assert_eq!(Lun([0x01, 0x05, 0, 0, 0, 0, 0, 0]).number(), None); // bus 1
    assert_eq!(Lun([0x80, 0x05, 0, 0, 0, 0, 0, 0]).number(), None); // logical unit addressing
    assert_eq!(Lun([0x00, 0x05, 0, 1, 0, 0, 0, 0]).number(), None); // second level
    assert_eq!(Lun::ZERO.to_string(), "0");
}

#[test]
fn percent_decoding() {
    let mut buf = [0u8; 4];
    assert_eq!(percent_decode("abc", &mut buf), Ok("abc"));
    assert_eq!(percent_decode("%41%42", &mut buf), Ok("AB"));
    assert_eq!(percent_decode("%4", &mut buf), Err(AddrError::BadEscape));
    assert_eq!(percent_decode("%g1", &mut buf), Err(AddrError::BadEscape));
    assert_eq!(percent_decode("%ff", &mut buf), Err(AddrError::BadEscape));
    assert_eq!(
        percent_decode("abcde", &mut buf),
        Err(AddrError::BufferTooSmall)
    );
}

fn arb_host() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| Ipv4Addr::from(b).to_string()),
        any::<[u8; 16]>().prop_map(|b| format!("[{}]", Ipv6Addr::from(b))),
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
    ]
}

fn arb_target() -> impl Strategy<Value = String> {
    "iqn\\.[0-9]{4}-[0-9]{2}\\.[a-z]{1,8}(\\.[a-z0-9]{1,8}){0,2}(:[a-z0-9.:-]{1,20})?"
}

proptest! {
    #[test]
    fn root_path_display_round_trip(
        host in arb_host(), port in 1u16.., lun in any::<[u8; 8]>(), target in arb_target()
    ) {
        let text = format!("iscsi:{host}::{port}:{}:{target}", Lun(lun));
        let a = TargetAddress::parse(&text).unwrap();
        prop_assert_eq!(a.lun, Lun(lun));
        prop_assert_eq!(a.port, port);
        prop_assert_eq!(a.target_name, target.as_str());
        let shown = a.to_string();
        prop_assert_eq!(TargetAddress::parse(&shown).unwrap(), a);
    }

    #[test]
    fn url_display_round_trip(
        host in arb_host(), port in 1u16.., lun in 0u16..16384, target in arb_target(),
        user in proptest::option::of("[a-z][a-z0-9._-]{0,8}"),
        password in proptest::option::of("([A-Za-z0-9]|%[0-9A-F]{2}){0,8}"),
    ) {
        let creds = match (&user, &password) {
            (Some(u), Some(p)) => format!("{u}%{p}@"),
            (Some(u), None) => format!("{u}@"),
            _ => String::new(),
        };
        let text = format!("iscsi://{creds}{host}:{port}/{target}/{lun}");
        let a = TargetAddress::parse(&text).unwrap();
        prop_assert_eq!(a.lun.number(), Some(lun));
        prop_assert_eq!(&a.url().to_string(), &text);
        let shown = a.url().to_string();
        prop_assert_eq!(TargetAddress::parse(&shown).unwrap(), a);
    }

    #[test]
    fn portal_display_round_trip(host in arb_host(), port in 1u16.., tag in proptest::option::of(any::<u16>())) {
        let text = match tag { Some(t) => format!("{host}:{port},{t}"), None => format!("{host}:{port}") };
        let (p, t) = Portal::parse_target_address(&text).unwrap();
        prop_assert_eq!(t, tag);
        let shown = p.to_string();
        prop_assert_eq!(Portal::parse(&shown).unwrap(), p);
    }

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,80}", t in "iscsi:(//)?[\\[\\]:0-9a-f.%@/,-]{0,60}") {
        for x in [&s, &t] {
            let _ = TargetAddress::parse(x);
            let _ = Portal::parse(x);
            let _ = Portal::parse_target_address(x);
            let _ = Lun::parse_root_path(x);
            let _ = percent_decode(x, &mut [0u8; 16]);
        }
    }
}
