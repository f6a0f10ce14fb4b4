//! The public test vectors in `tests/data/` (provenance in its README). Every expected value
//! below was read off a hexdump of the file by hand.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
#[cfg(feature = "lint")]
use ibft::Code;
use ibft::{ChapType, Lun, Origin, PciAddress, Problem, Slot, StringField, Table};

const LKML: &[u8] = include_bytes!("data/lkml-3nic-3target.bin");
const FWTS1: &[u8] = include_bytes!("data/fwts-0001.bin");
const FWTS2: &[u8] = include_bytes!("data/fwts-0002.bin");

fn v4(a: u8, b: u8, c: u8, d: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
}

fn v6(s: &str) -> Option<IpAddr> {
    Some(IpAddr::V6(s.parse::<Ipv6Addr>().unwrap()))
}

fn problems(bytes: &[u8]) -> Vec<Problem> {
    let mut v = Vec::new();
    let _ = Table::decode(bytes, &mut |p| v.push(p));
    v
}

#[cfg(feature = "lint")]
fn lint_codes(bytes: &[u8]) -> Vec<(Code, Slot, Option<Slot>)> {
    let mut v = Vec::new();
    ibft::lint(bytes, &mut |f: ibft::Finding| {
        v.push((f.code, f.slot, f.related))
    });
    v
}

#[test]
fn lkml_parses_strictly_with_hand_read_values() {
    let t = Table::parse(LKML).expect("lkml table is valid");
    let h = t.header();
    assert_eq!(&h.signature, b"iBFT");
    assert_eq!(h.length, 763);
    assert_eq!(h.revision, 1);
    assert_eq!(h.checksum, 0xd2);
    assert_eq!(&h.oem_id, b"TESTIN");
    assert_eq!(&h.oem_table_id, b"TEST\0\0\0\0");
    assert_eq!(t.slot_pairs(), 3);

    let i = t.initiator().unwrap();
    assert_eq!(i.flags, 0x03);
    assert_eq!(i.name, "iqn.1994-05.com.redhat:633114aacf2");
    assert_eq!((i.isns, i.slp, i.radius), (None, None, [None, None]));

    // (offset, index, ip, gateway/dns/dhcp, mac last byte, pci device)
    let expected = [
        (0x98, 0, 50, 0x00, 3),
        (0x100, 1, 51, 0x01, 4),
        (0x168, 2, 52, 0x01, 5),
    ];
    let nics: Vec<_> = t.nics().collect();
    assert_eq!(nics.len(), 3);
    for (n, (off, index, net, mac_last, dev)) in nics.iter().zip(expected) {
        assert_eq!(n.offset, off);
        assert_eq!(n.index, index);
        assert_eq!(n.flags, 0x03);
        let c = &n.config;
        assert_eq!(
            c.address,
            Some(ibft::IpCidr::new(v4(192, 168, net, 101).unwrap(), 24))
        );
        assert_eq!(c.origin, Origin::Dhcp);
        assert_eq!(c.gateway, v4(192, 168, net, 1));
        assert_eq!(c.dns, [v4(192, 168, net, 1), None]);
        assert_eq!(c.dhcp_server, v4(192, 168, net, 1));
        assert_eq!(c.vlan, 0);
        assert_eq!(c.mac, [0x52, 0x54, 0x00, 0x12, 0x34, mac_last]);
        assert_eq!(
            c.pci,
            Some(PciAddress {
                bus: 0,
                device: dev,
                function: 0
            })
        );
        assert_eq!(c.hostname, Some("client"));
    }

    let expected = [
        (0x1d0, 50, "iqn.2009-06.test:target0"),
        (0x208, 51, "iqn.2009-06.test:target1"),
        (0x240, 52, "iqn.2009-06.test:target2"),
    ];
    let targets: Vec<_> = t.targets().collect();
    assert_eq!(targets.len(), 3);
    for (k, (tg, (off, net, name))) in targets.iter().zip(expected).enumerate() {
        assert_eq!(tg.offset, off);
        assert_eq!(usize::from(tg.index), k);
        assert_eq!(tg.flags, 0x03);
        assert_eq!(tg.address, v4(192, 168, net, 1));
        assert_eq!(tg.port, 3260);
        assert_eq!(tg.lun, Lun([0, k as u8 + 1, 0, 0, 0, 0, 0, 0]));
        assert_eq!(tg.chap_type, ChapType::None);
        assert_eq!(tg.nic, 0);
        assert_eq!(tg.name, name);
        assert_eq!((tg.chap_name, tg.chap_secret), ("", ""));
    }
    assert!(problems(LKML).is_empty());
}

#[test]
#[cfg(feature = "lint")]
fn lkml_lint_reports_its_semantic_defects() {
    let found = lint_codes(LKML);
    // NIC 0's gateway 192.168.50.1 is target 0 itself, so no on-link gateway finding.
    let expected = vec![
        (Code::MoreThanTwoPairs, Slot::Control, None),
        (Code::MacOnTwoPciFunctions, Slot::Nic(2), Some(Slot::Nic(1))),
        (
            Code::WrongNicAssociation,
            Slot::Target(1),
            Some(Slot::Nic(1)),
        ),
        (
            Code::WrongNicAssociation,
            Slot::Target(2),
            Some(Slot::Nic(2)),
        ),
    ];
    assert_eq!(found, expected);
}

#[test]
fn fwts_0001_fails_strictly_on_checksum_and_decodes_leniently() {
    assert_eq!(Table::parse(FWTS1).unwrap_err().0, Problem::Checksum(9));

    let mut p = problems(FWTS1);
    assert_eq!(p.remove(0), Problem::Checksum(9));
    // Every one of the 13 strings runs straight into the next one (or the table end).
    assert_eq!(p.len(), 13);
    assert!(
        p.iter()
            .all(|p| matches!(p, Problem::StringNotTerminated { .. }))
    );

    let t = Table::decode(FWTS1, &mut |_| {}).unwrap();
    assert_eq!(&t.header().oem_id, b"INTEL ");
    assert_eq!(&t.header().oem_table_id, b"TEMPLATE");
    let i = t.initiator().unwrap();
    assert_eq!(i.flags, 0);
    assert_eq!(i.name, "AAAAAAAA");
    assert_eq!(i.isns, v6("1122:3344:5566:7788:99aa:bbcc:ddee:ff00"));
    assert_eq!(i.slp, v6("1:202:405:607:809:a0b:c0d:e0f"));
    assert_eq!(
        i.radius,
        [
            v6("11:2233:4455:6677:8899:aabb:ccdd:eeff"),
            v6("aaaa:aaaa:bbbb:bbbb:cccc:cccc:dddd:dddd")
        ]
    );

    let nics: Vec<_> = t.nics().collect();
    assert_eq!(nics.len(), 2);
    assert_eq!((nics[0].offset, nics[1].offset), (0x98, 0x138));
    assert_eq!((nics[0].index, nics[1].index), (0, 1));
    let c = &nics[0].config;
    assert_eq!(nics[0].flags, 0);
    assert_eq!(
        c.address.unwrap().addr,
        v6("ffee:ddcc:bbaa:9988:7766:5544:3322:1100").unwrap()
    );
    assert_eq!(c.address.unwrap().prefix, 0x18);
    assert_eq!(c.origin, Origin::Other);
    assert_eq!(c.gateway, v6("11:2233:4455:6677:8899:aabb:ccdd:eeff"));
    assert_eq!(c.mac, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
    assert_eq!(c.pci, None);
    assert_eq!(c.hostname, Some("BBBB"));
    assert_eq!(nics[1].config.hostname, Some("EEEEEEEEEEEEEEE"));

    let targets: Vec<_> = t.targets().collect();
    assert_eq!(targets.len(), 2);
    let t0 = &targets[0];
    assert_eq!((t0.offset, t0.index, t0.flags), (0x100, 0, 0));
    assert_eq!(t0.address, v6("11:2233:4455:6677:8899:aabb:ccdd:eeff"));
    assert_eq!(
        (t0.port, t0.lun, t0.chap_type, t0.nic),
        (0, Lun::default(), ChapType::None, 0)
    );
    assert_eq!(
        (
            t0.name,
            t0.chap_name,
            t0.chap_secret,
            t0.reverse_chap_name,
            t0.reverse_chap_secret
        ),
        ("CCCC", "DDDD", "UUUU", "ffffffff", "wwwwwwww")
    );
    let t1 = &targets[1];
    assert_eq!((t1.offset, t1.index), (0x1a0, 1));
    assert_eq!(
        (
            t1.name,
            t1.chap_name,
            t1.chap_secret,
            t1.reverse_chap_name,
            t1.reverse_chap_secret
        ),
        ("GG", "HH", "II", "JJ", "KK")
    );
}

#[test]
fn fwts_0002_fails_strictly_and_decodes_every_problem() {
    assert_eq!(Table::parse(FWTS2).unwrap_err().0, Problem::Checksum(208));
    let out = |slot, field, offset, length| Problem::StringOutOfRange {
        slot,
        field,
        offset,
        length,
    };
    let expected = vec![
        Problem::Checksum(208),
        Problem::ReservedFlags {
            slot: Slot::Control,
            flags: 0x02,
        },
        Problem::ReservedFlags {
            slot: Slot::Initiator,
            flags: 0x04,
        },
        out(Slot::Initiator, StringField::InitiatorName, 0x1d8, 8),
        Problem::ReservedFlags {
            slot: Slot::Nic(0),
            flags: 0x08,
        },
        out(Slot::Nic(0), StringField::Hostname, 0x1e0, 4),
        Problem::ReservedFlags {
            slot: Slot::Target(0),
            flags: 0x10,
        },
        out(Slot::Target(0), StringField::TargetName, 0x1e4, 4),
        out(Slot::Target(0), StringField::ChapName, 0x1e8, 4),
        out(Slot::Target(0), StringField::ChapSecret, 0x1ec, 4),
        out(Slot::Target(0), StringField::ReverseChapName, 0x1f0, 8),
        out(Slot::Target(0), StringField::ReverseChapSecret, 0x1f8, 8),
        Problem::OffsetOutOfRange {
            slot: Slot::Target(1),
            offset: 0x1a0,
        },
    ];
    assert_eq!(problems(FWTS2), expected);
}

#[test]
#[cfg(feature = "lint")]
fn fwts_0002_lint_lists_every_defect() {
    let codes: Vec<_> = lint_codes(FWTS2)
        .into_iter()
        .map(|(c, s, _)| (c, s))
        .collect();
    let expected = vec![
        (Code::Checksum, Slot::Header),
        (Code::ReservedFlags, Slot::Control),
        (Code::ReservedFlags, Slot::Initiator),
        (Code::StringOutOfRange, Slot::Initiator),
        (Code::ReservedFlags, Slot::Nic(0)),
        (Code::StringOutOfRange, Slot::Nic(0)),
        (Code::ReservedFlags, Slot::Target(0)),
        (Code::StringOutOfRange, Slot::Target(0)),
        (Code::StringOutOfRange, Slot::Target(0)),
        (Code::StringOutOfRange, Slot::Target(0)),
        (Code::StringOutOfRange, Slot::Target(0)),
        (Code::StringOutOfRange, Slot::Target(0)),
        (Code::OffsetOutOfRange, Slot::Target(1)),
        // Semantic: the name is unreadable, no record is valid or boot-selected.
        (Code::EmptyInitiatorName, Slot::Initiator),
        (Code::NotValid, Slot::Initiator),
        (Code::NotValid, Slot::Nic(0)),
        (Code::NoBootNic, Slot::Control),
        (Code::NotValid, Slot::Target(0)),
        (Code::EmptyTargetName, Slot::Target(0)),
        (Code::NoBootTarget, Slot::Control),
    ];
    assert_eq!(codes, expected);
}

#[test]
fn finder_locates_vectors_with_valid_checksums_only() {
    let mut mem = vec![0u8; 0x2000];
    mem[0x800..0x800 + LKML.len()].copy_from_slice(LKML);
    mem[0x1000..0x1000 + FWTS1.len()].copy_from_slice(FWTS1);
    assert_eq!(ibft::find_all(&mem).collect::<Vec<_>>(), [0x800]);
    // Not on a 16-byte boundary: not found.
    let mut mem = vec![0u8; 0x2000];
    mem[0x808..0x808 + LKML.len()].copy_from_slice(LKML);
    assert_eq!(ibft::find(&mem), None);
}

#[test]
fn dump_shows_the_lkml_table() {
    let t = Table::parse(LKML).unwrap();
    let text = t.to_string();
    assert!(text.starts_with("iBFT length 763 revision 1 checksum 0xd2 oem \"TESTIN\" \"TEST\""));
    assert!(text.contains("mac 52:54:00:12:34:01 pci 00:05.0 vlan 0 hostname client"));
    assert!(text.contains("address 192.168.52.1 port 3260 lun 3 nic 0"));
    let broken = Table::decode(FWTS2, &mut |_| {}).unwrap().to_string();
    assert!(broken.contains("nic0"));
}

#[test]
fn a_foreign_signature_is_named_in_hex() {
    let mut bytes = LKML.to_vec();
    bytes[..4].copy_from_slice(b"ACPI");
    assert_eq!(
        Table::parse(&bytes).unwrap_err().0,
        Problem::Signature(*b"ACPI")
    );
    // "ACPI" is 41 43 50 49.
    assert_eq!(
        Problem::Signature(*b"ACPI").to_string(),
        "signature 41:43:50:49 is not iBFT, IBFT or BIFT"
    );
}
