//! Every lint code, triggered by a table built and then damaged at offsets taken from the
//! specification's layout (1+1 table: initiator 0x48, NIC 0x98, target 0x100).
#![cfg(feature = "lint")]

use core::net::{IpAddr, Ipv4Addr};
use std::collections::BTreeSet;

use ibft::{
    Builder, Chap, Code, GatewayPolicy, IpCidr, NicConfig, Origin, PciAddress, Severity, Table,
    TargetConfig,
};

const CONTROL: usize = 0x30;
const INIT: usize = 0x48;
const NIC0: usize = 0x98;
const NIC1: usize = 0x100;
const TARGET0: usize = 0x100;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn nic(k: u8) -> NicConfig<'static> {
    NicConfig {
        mac: [0x52, 0x54, 0, 0x12, 0x34, k],
        pci: Some(PciAddress {
            bus: 0,
            device: 3 + k,
            function: 0,
        }),
        address: Some(IpCidr::new(v4(10, 0, k, 15), 24)),
        gateway: Some(v4(10, 0, k, 1)),
        origin: Origin::Manual,
        hostname: Some("node"),
        ..Default::default()
    }
}

/// A clean table with `nics` NICs and `targets` targets (target k on NIC k % nics).
fn table(
    nics: u8,
    targets: u8,
    edit: impl FnOnce(&mut Builder<'static>, &[ibft::NicHandle]),
) -> Vec<u8> {
    let mut b: Builder = Builder::new("iqn.2026-11.org.example:node");
    let hs: Vec<_> = (0..nics).map(|k| b.add_nic(nic(k)).unwrap()).collect();
    for k in 0..targets {
        let h = hs[usize::from(k % nics)];
        let nk = k % nics;
        b.add_target(TargetConfig::new(
            h,
            v4(10, 0, nk, 2 + k),
            "iqn.2026-11.org.example:disk",
        ))
        .unwrap();
    }
    edit(&mut b, &hs);
    let mut buf = vec![0u8; b.buffer_len().unwrap()];
    b.emit(&mut buf).unwrap();
    buf
}

fn base() -> Vec<u8> {
    table(1, 1, |_, _| {})
}

fn fix(mut v: Vec<u8>) -> Vec<u8> {
    v[9] = 0;
    let sum = v.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    v[9] = 0u8.wrapping_sub(sum);
    v
}

fn damaged(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = base();
    f(&mut v);
    fix(v)
}

fn codes(bytes: &[u8]) -> Vec<Code> {
    let mut v = Vec::new();
    ibft::lint(bytes, &mut |f: ibft::Finding| v.push(f.code));
    v
}

fn put16(v: &mut [u8], at: usize, x: u16) {
    v[at..at + 2].copy_from_slice(&x.to_le_bytes());
}

#[test]
fn clean_tables_have_no_findings() {
    assert_eq!(codes(&base()), []);
    assert_eq!(codes(&table(2, 2, |_, _| {})), []);
}

#[test]
fn every_code_is_triggered_and_strictness_matches_severity() {
    let short_secret = {
        let mut b: Builder = Builder::new("iqn.2026-11.org.example:node");
        let h = b.add_nic(nic(0)).unwrap();
        let mut t = TargetConfig::new(h, v4(10, 0, 0, 2), "iqn.2026-11.org.example:disk");
        t.chap = Some(Chap {
            user: "u",
            secret: "short",
        });
        b.add_target(t).unwrap();
        let mut buf = vec![0u8; b.buffer_len().unwrap()];
        b.emit(&mut buf).unwrap();
        buf
    };
    let cases: Vec<(Code, Vec<u8>)> = vec![
        (Code::Truncated, base()[..40].to_vec()),
        (Code::Truncated, {
            let mut v = base();
            v.truncate(v.len() - 1);
            v
        }),
        (Code::Signature, damaged(|v| v[0] = b'X')),
        (Code::Revision, damaged(|v| v[8] = 2)),
        (Code::Checksum, {
            let mut v = base();
            v[10] ^= 1;
            v
        }),
        (Code::HeaderReserved, damaged(|v| v[30] = 1)),
        (Code::Control, damaged(|v| v[CONTROL + 4] = 1)),
        (Code::Control, damaged(|v| put16(v, CONTROL + 2, 16))),
        (
            Code::OffsetOutOfRange,
            damaged(|v| put16(v, CONTROL + 10, 0xfff0)),
        ),
        (
            Code::Overflow,
            damaged(|v| {
                let n = v.len() - 20;
                let hdr: Vec<u8> = v[NIC0..NIC0 + 6].to_vec();
                v[n..n + 6].copy_from_slice(&hdr);
                put16(v, CONTROL + 10, n as u16)
            }),
        ),
        (Code::WrongId, damaged(|v| v[NIC0] = 4)),
        (Code::WrongLength, damaged(|v| put16(v, NIC0 + 2, 100))),
        (Code::Version, damaged(|v| v[NIC0 + 1] = 2)),
        (Code::DuplicateIndex, {
            let mut v = table(2, 2, |_, _| {});
            v[0x1a0 + 4] = 0;
            fix(v)
        }),
        (Code::ReservedFlags, damaged(|v| v[NIC0 + 5] |= 0x80)),
        (
            Code::StringOutOfRange,
            damaged(|v| put16(v, NIC0 + 100, 0xfff0)),
        ),
        (
            Code::StringNotTerminated,
            damaged(|v| {
                let len = u16::from_le_bytes([v[INIT + 70], v[INIT + 71]]);
                let off = u16::from_le_bytes([v[INIT + 72], v[INIT + 73]]);
                v[usize::from(off + len)] = b'x'
            }),
        ),
        (
            Code::StringNotText,
            damaged(|v| {
                let off = u16::from_le_bytes([v[INIT + 72], v[INIT + 73]]);
                v[usize::from(off)] = 0xff
            }),
        ),
        (Code::DanglingNic, damaged(|v| v[TARGET0 + 33] = 5)),
        (
            Code::MissingInitiator,
            damaged(|v| put16(v, CONTROL + 8, 0)),
        ),
        (Code::Extensions, damaged(|v| put16(v, CONTROL + 6, 0x10))),
        (Code::DuplicateMac, {
            let mut v = table(2, 1, |_, _| {});
            let src: Vec<u8> = v[NIC0 + 90..NIC0 + 98].to_vec();
            v[NIC1 + 90..NIC1 + 98].copy_from_slice(&src);
            fix(v)
        }),
        (Code::MacOnTwoPciFunctions, {
            let mut v = table(2, 1, |_, _| {});
            let src: Vec<u8> = v[NIC0 + 90..NIC0 + 96].to_vec();
            v[NIC1 + 90..NIC1 + 96].copy_from_slice(&src);
            fix(v)
        }),
        (Code::WrongNicAssociation, {
            let mut v = table(2, 2, |_, _| {});
            v[0x1a0 + 33] = 0;
            fix(v)
        }),
        (
            Code::GatewayOnLink,
            table(1, 1, |b, _| b.gateway_policy = GatewayPolicy::Keep),
        ),
        (Code::MoreThanTwoPairs, table(3, 1, |_, _| {})),
        (Code::ShortChapSecret, short_secret),
        (Code::NotValid, damaged(|v| v[NIC0 + 5] = 0x04)),
        (Code::DhcpWithoutServer, damaged(|v| v[NIC0 + 23] = 3)),
        (Code::BadPrefix, damaged(|v| v[NIC0 + 22] = 0)),
        (Code::BadPrefix, damaged(|v| v[NIC0 + 22] = 33)),
        (Code::NoBootNic, damaged(|v| v[NIC0 + 5] &= !2)),
        (Code::NoBootTarget, damaged(|v| v[TARGET0 + 5] &= !2)),
        (Code::VlanRange, damaged(|v| put16(v, NIC0 + 88, 5000))),
        (Code::DuplicatePci, {
            let mut v = table(2, 1, |_, _| {});
            v[NIC1 + 96] = v[NIC0 + 96];
            fix(v)
        }),
        (Code::ChapMismatch, damaged(|v| v[TARGET0 + 32] = 1)),
        (
            Code::EmptyInitiatorName,
            damaged(|v| put16(v, INIT + 70, 0)),
        ),
        (
            Code::TargetWithoutAddress,
            damaged(|v| v[TARGET0 + 6..TARGET0 + 22].fill(0)),
        ),
        (
            Code::EmptyTargetName,
            damaged(|v| put16(v, TARGET0 + 34, 0)),
        ),
    ];
    let mut seen = BTreeSet::new();
    for (code, bytes) in &cases {
        let found = codes(bytes);
        assert!(found.contains(code), "{code:?} not reported; got {found:?}");
        seen.insert(*code);
        // Structural problems: the strict parser rejects exactly the error-severity ones.
        let mut structural = Vec::new();
        let _ = Table::decode(bytes, &mut |p: ibft::Problem| structural.push(p));
        if structural.iter().any(|p| Code::of_problem(p) == *code) {
            let rejected = Table::parse(bytes).is_err();
            assert_eq!(
                rejected,
                structural.iter().any(|p| p.is_error()),
                "{code:?}"
            );
            if code.severity() == Severity::Error {
                assert!(rejected, "{code:?} must fail the strict parser");
            }
        }
    }
    let all: BTreeSet<Code> = Code::ALL.iter().copied().collect();
    assert_eq!(
        seen,
        all,
        "codes never triggered: {:?}",
        all.difference(&seen).collect::<Vec<_>>()
    );
}

#[test]
fn codes_are_stable_and_explained() {
    for (k, code) in Code::ALL.iter().enumerate() {
        assert_eq!(code.as_str(), format!("IBFT{:03}", k + 1));
        assert!(!code.explanation().is_empty() && !code.explanation().contains('\n'));
    }
    assert_eq!(Code::Checksum.as_str(), "IBFT004");
    assert_eq!(Code::DuplicateIndex.as_str(), "IBFT012");
    assert_eq!(Code::ShortChapSecret.as_str(), "IBFT025");
}
