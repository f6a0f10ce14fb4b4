//! Builder output against byte vectors written out by hand from the iBFT specification
//! (v1.03 layout; IPv4 stored as `::ffff:a.b.c.d`; strings NUL-terminated, NUL not counted).
//! Only the checksum byte is derived in the test, by the spec's rule (bytes sum to 0).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use ibft::{
    Alignment, Builder, Chap, GatewayPolicy, IpCidr, Lun, NicConfig, Origin, PciAddress, Table,
    TargetConfig,
};

/// Hex digits with `#` comments and whitespace ignored.
fn hex(s: &str) -> Vec<u8> {
    let digits: String = s
        .lines()
        .map(|l| l.split('#').next().unwrap())
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

/// Zero padding up to the next structure (alignment from the spec / builder option).
fn pad_to(v: &mut Vec<u8>, at: usize) {
    assert!(v.len() <= at, "expected vector overran offset {at:#x}");
    v.resize(at, 0);
}

fn fix_checksum(v: &mut [u8]) {
    v[9] = 0;
    let sum = v.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    v[9] = 0u8.wrapping_sub(sum);
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse::<Ipv6Addr>().unwrap())
}

fn build(b: &Builder<'_>) -> Vec<u8> {
    let mut buf = vec![0xAAu8; b.buffer_len().unwrap() + 7];
    let n = b.emit(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn one_nic_one_target() {
    let mut b: Builder = Builder::new("iqn.2026-11.org.example:n1");
    let nic = b
        .add_nic(NicConfig {
            mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
            pci: Some(PciAddress {
                bus: 0,
                device: 3,
                function: 0,
            }),
            address: Some(IpCidr::new(v4(10, 0, 2, 15), 24)),
            gateway: Some(v4(10, 0, 2, 2)),
            dns: [Some(v4(10, 0, 2, 3)), None],
            dhcp_server: Some(v4(10, 0, 2, 2)),
            origin: Origin::Dhcp,
            vlan: 0,
            hostname: Some("n1"),
        })
        .unwrap();
    b.add_target(TargetConfig::new(
        nic,
        v4(10, 0, 2, 2),
        "iqn.2026-11.org.example:d1",
    ))
    .unwrap();

    let mut e = hex(
        "69424654 71010000 01 00           # iBFT, length 0x171, revision 1, checksum (below)
         49 53 42 4f 4f 54                 # OEM id ISBOOT
         49 53 43 53 49 42 54 00           # OEM table id ISCSIBT
         000000000000000000000000 000000000000000000000000  # reserved
         # control @0x30: id 1, version 1, length 18, index 0, flags 0
         01 01 1200 00 00  0000  4800  9800 0001  0000 0000",
    );
    pad_to(&mut e, 0x48);
    e.extend(hex(
        "02 01 4a00 00 03                  # initiator: valid + boot-selected
         00000000000000000000000000000000  # iSNS
         00000000000000000000000000000000  # SLP
         00000000000000000000000000000000  # RADIUS 1
         00000000000000000000000000000000  # RADIUS 2
         1a00 3801                         # name: 26 bytes at 0x138",
    ));
    pad_to(&mut e, 0x98);
    e.extend(hex(
        "03 01 6600 00 07                  # NIC 0: valid + boot-selected + global
         00000000000000000000ffff 0a00020f # 10.0.2.15
         18 03                             # /24, origin DHCP
         00000000000000000000000000000000  # gateway blanked: target 10.0.2.2 is on-link
         00000000000000000000ffff 0a000203 # DNS 10.0.2.3
         00000000000000000000000000000000  # no second DNS
         00000000000000000000ffff 0a000202 # DHCP server 10.0.2.2
         0000                              # VLAN 0
         525400123456                      # MAC
         1800                              # PCI 00:03.0 = 0<<8 | 3<<3 | 0
         0200 5301                         # host name: 2 bytes at 0x153",
    ));
    pad_to(&mut e, 0x100);
    e.extend(hex(
        "04 01 3600 00 03                  # target 0: valid + boot-selected
         00000000000000000000ffff 0a000202 # 10.0.2.2
         bc0c                              # port 3260
         0000000000000000                  # LUN 0
         00 00                             # no CHAP, NIC 0
         1a00 5601                         # name: 26 bytes at 0x156
         00000000 00000000 00000000 00000000  # no CHAP strings",
    ));
    pad_to(&mut e, 0x138);
    e.extend(b"iqn.2026-11.org.example:n1\0n1\0iqn.2026-11.org.example:d1\0");
    assert_eq!(e.len(), 0x171);
    fix_checksum(&mut e);

    assert_eq!(build(&b), e);
    assert!(Table::parse(&e).is_ok());
}

#[test]
fn two_nics_two_targets_ipv6_vlan_mutual_chap_16_byte_alignment() {
    let mut b: Builder = Builder::new("iqn.i:2");
    b.gateway_policy = GatewayPolicy::Keep;
    b.alignment = Alignment::Sixteen;
    let n0 = b
        .add_nic(NicConfig {
            mac: [2, 0, 0, 0, 0, 1],
            pci: Some(PciAddress {
                bus: 0,
                device: 3,
                function: 0,
            }),
            address: Some(IpCidr::new(v4(192, 168, 1, 10), 24)),
            gateway: Some(v4(192, 168, 1, 1)),
            origin: Origin::Manual,
            ..Default::default()
        })
        .unwrap();
    let n1 = b
        .add_nic(NicConfig {
            mac: [2, 0, 0, 0, 0, 2],
            pci: Some(PciAddress {
                bus: 1,
                device: 0,
                function: 1,
            }),
            address: Some(IpCidr::new(v6("fd00::10"), 64)),
            gateway: Some(v6("fd00::1")),
            dns: [Some(v6("fd00::53")), None],
            origin: Origin::Manual,
            vlan: 100,
            hostname: Some("h"),
            ..Default::default()
        })
        .unwrap();
    let mut t0 = TargetConfig::new(n0, v4(192, 168, 1, 2), "iqn.t:a");
    t0.chap = Some(Chap {
        user: "u",
        secret: "0123456789ab",
    });
    b.add_target(t0).unwrap();
    let mut t1 = TargetConfig::new(n1, v6("fd00::2"), "iqn.t:b");
    t1.port = 3261;
    t1.lun = Lun::new(256);
    t1.boot = false;
    t1.chap = Some(Chap {
        user: "u2",
        secret: "secretsecret",
    });
    t1.mutual_chap = Some(Chap {
        user: "t2",
        secret: "mutualsecret",
    });
    b.add_target(t1).unwrap();

    let mut e = hex("69424654 49020000 01 00           # length 0x249
         49534f4f4f54 0000000000000000      # OEM ids (replaced below)
         000000000000000000000000 000000000000000000000000
         01 01 1200 00 00  0000  5000  a000 8001  1001 c001   # control, 16-byte aligned offsets");
    e[10..16].copy_from_slice(b"ISBOOT");
    e[16..24].copy_from_slice(b"ISCSIBT\0");
    pad_to(&mut e, 0x50);
    e.extend(hex("02 01 4a00 00 03
         00000000000000000000000000000000 00000000000000000000000000000000
         00000000000000000000000000000000 00000000000000000000000000000000
         0700 0002                         # name: 7 bytes at 0x200"));
    pad_to(&mut e, 0xa0);
    e.extend(hex(
        "03 01 6600 00 07                  # NIC 0
         00000000000000000000ffff c0a8010a # 192.168.1.10
         18 01                             # /24, manual
         00000000000000000000ffff c0a80101 # gateway kept
         00000000000000000000000000000000 00000000000000000000000000000000
         00000000000000000000000000000000  # no DNS, no DHCP server
         0000 020000000001 1800 0000 0000  # VLAN 0, MAC, PCI 00:03.0, no host name",
    ));
    pad_to(&mut e, 0x110);
    e.extend(hex(
        "03 01 6600 01 05                  # NIC 1: valid + global, not boot-selected
         fd000000000000000000000000000010  # fd00::10
         40 01                             # /64, manual
         fd000000000000000000000000000001  # gateway fd00::1
         fd000000000000000000000000000053  # DNS fd00::53
         00000000000000000000000000000000 00000000000000000000000000000000
         6400 020000000002 0101            # VLAN 100, MAC, PCI 01:00.1 = 1<<8 | 0<<3 | 1
         0100 0802                         # host name: 1 byte at 0x208",
    ));
    pad_to(&mut e, 0x180);
    e.extend(hex("04 01 3600 00 03                  # target 0
         00000000000000000000ffff c0a80102 # 192.168.1.2
         bc0c 0000000000000000 01 00       # port 3260, LUN 0, CHAP, NIC 0
         0700 0a02  0100 1202  0c00 1402  0000 0000  0000 0000"));
    pad_to(&mut e, 0x1c0);
    e.extend(hex(
        "04 01 3600 01 01                  # target 1: valid only
         fd000000000000000000000000000002  # fd00::2
         bd0c                              # port 3261
         4100000000000000                  # LUN 256, SAM flat addressing (01b << 6 | 256 >> 8, 256 & 0xff)
         02 01                             # mutual CHAP, NIC 1
         0700 2102  0200 2902  0c00 2c02  0200 3902  0c00 3c02",
    ));
    pad_to(&mut e, 0x200);
    e.extend(
        b"iqn.i:2\0h\0iqn.t:a\0u\x000123456789ab\0iqn.t:b\0u2\0secretsecret\0t2\0mutualsecret\0",
    );
    assert_eq!(e.len(), 0x249);
    fix_checksum(&mut e);

    assert_eq!(build(&b), e);
    assert!(Table::parse(&e).is_ok());
}
