//! Builder rules: what it rejects, the gateway policies, compat mode, many NICs/targets.

use core::net::{IpAddr, Ipv4Addr};
use ibft::{
    BuildError, Builder, Chap, GatewayPolicy, IpCidr, NicConfig, PciAddress, StringField, Table,
    TargetConfig,
};

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
        ..Default::default()
    }
}

const NAME: &str = "iqn.2026-11.org.example:n";

#[test]
fn rejects_duplicate_mac_and_pci() {
    let mut b: Builder = Builder::new(NAME);
    b.add_nic(nic(0)).unwrap();
    let mut same_mac = nic(1);
    same_mac.mac = nic(0).mac;
    assert_eq!(
        b.add_nic(same_mac),
        Err(BuildError::DuplicateMac(nic(0).mac))
    );
    assert_eq!(
        BuildError::DuplicateMac(nic(0).mac).to_string(),
        "two NICs share the MAC address 52:54:00:12:34:00"
    );
    let mut same_pci = nic(1);
    same_pci.pci = nic(0).pci;
    assert_eq!(b.add_nic(same_pci), Err(BuildError::DuplicatePci));
    // Two NICs without a PCI address are fine.
    let mut a = nic(2);
    a.pci = None;
    let mut c = nic(3);
    c.pci = None;
    b.add_nic(a).unwrap();
    b.add_nic(c).unwrap();
}

#[test]
fn rejects_malformed_nics() {
    let mut b: Builder = Builder::new(NAME);
    let mut n = nic(0);
    n.mac = [0; 6];
    assert_eq!(b.add_nic(n), Err(BuildError::InvalidMac));
    let mut n = nic(0);
    n.pci = Some(PciAddress {
        bus: 0,
        device: 32,
        function: 0,
    });
    assert_eq!(b.add_nic(n), Err(BuildError::InvalidPci));
    let mut n = nic(0);
    n.address = Some(IpCidr::new(v4(10, 0, 0, 1), 0));
    assert_eq!(b.add_nic(n), Err(BuildError::InvalidPrefix));
    let mut n = nic(0);
    n.vlan = 4096;
    assert_eq!(b.add_nic(n), Err(BuildError::InvalidVlan(4096)));
    let mut n = nic(0);
    n.hostname = Some("a\0b");
    assert_eq!(
        b.add_nic(n),
        Err(BuildError::StringHasNul(StringField::Hostname))
    );
}

#[test]
fn rejects_dangling_nic_and_bad_targets() {
    let mut other: Builder = Builder::new(NAME);
    other.add_nic(nic(0)).unwrap();
    let foreign = other.add_nic(nic(1)).unwrap();
    let mut b: Builder = Builder::new(NAME);
    let h = b.add_nic(nic(0)).unwrap();
    let t = |h| TargetConfig::new(h, v4(10, 0, 0, 2), "iqn.2026-11.org.example:d");
    assert_eq!(b.add_target(t(foreign)), Err(BuildError::DanglingNic));
    let mut bad = t(h);
    bad.name = "";
    assert_eq!(
        b.add_target(bad),
        Err(BuildError::EmptyString(StringField::TargetName))
    );
    let mut bad = t(h);
    bad.mutual_chap = Some(Chap {
        user: "t",
        secret: "123456789012",
    });
    assert_eq!(b.add_target(bad), Err(BuildError::MutualChapWithoutChap));
    let mut bad = t(h);
    bad.chap = Some(Chap {
        user: "u",
        secret: "12345678901\0",
    });
    assert_eq!(
        b.add_target(bad),
        Err(BuildError::StringHasNul(StringField::ChapSecret))
    );
    let mut not_boot = t(h);
    not_boot.boot = false;
    b.add_target(not_boot).unwrap();
    assert_eq!(b.buffer_len(), Err(BuildError::NoBootTarget));
    b.add_target(t(h)).unwrap();
    let mut small = [0u8; 100];
    let needed = b.buffer_len().unwrap();
    assert_eq!(
        b.emit(&mut small),
        Err(BuildError::BufferTooSmall { needed })
    );
}

#[test]
fn rejects_oversize_strings_and_tables_over_64k() {
    let name = "x".repeat(ibft::MAX_ISCSI_NAME + 1);
    let mut b: Builder = Builder::new(&name);
    let h = b.add_nic(nic(0)).unwrap();
    let mut t = TargetConfig::new(h, v4(10, 0, 0, 2), "iqn.2026-11.org.example:d");
    b.add_target(t).unwrap();
    assert_eq!(
        b.buffer_len(),
        Err(BuildError::StringTooLong(StringField::InitiatorName))
    );
    t.name = &name;
    assert_eq!(
        b.add_target(t),
        Err(BuildError::StringTooLong(StringField::TargetName))
    );

    let long = "x".repeat(9000);
    let mut b: Builder = Builder::new(NAME);
    let h = b.add_nic(nic(0)).unwrap();
    let mut t = TargetConfig::new(h, v4(10, 0, 0, 2), "iqn.2026-11.org.example:d");
    t.chap = Some(Chap {
        user: &long,
        secret: "0123456789ab",
    });
    for _ in 0..8 {
        b.add_target(t).unwrap();
    }
    assert!(matches!(b.buffer_len(), Err(BuildError::TableTooLarge(n)) if n > 65535));
}

#[test]
fn oem_ids_are_bounded() {
    let mut b: Builder = Builder::new(NAME);
    assert_eq!(b.set_oem("TOOLONG", "X"), Err(BuildError::OemIdTooLong));
    assert_eq!(b.set_oem("X", "TOOLONGID"), Err(BuildError::OemIdTooLong));
    b.set_oem("ABC", "DEFGHIJK").unwrap();
}

#[test]
fn gateway_policies() {
    let on_link = v4(10, 0, 0, 2);
    let on_link2 = v4(10, 0, 0, 3);
    let routed = v4(10, 9, 9, 9);
    let configured = Some(v4(10, 0, 0, 1));
    let g = |p, t: &[IpAddr]| {
        let mut b: Builder = Builder::new(NAME);
        b.gateway_policy = p;
        let h = b.add_nic(nic(0)).unwrap();
        for t in t {
            b.add_target(TargetConfig::new(h, *t, "iqn.2026-11.org.example:d"))
                .unwrap();
        }
        let mut buf = [0u8; 2048];
        let n = b.emit(&mut buf).unwrap();
        let written = Table::parse(&buf[..n])
            .unwrap()
            .nics()
            .next()
            .unwrap()
            .config
            .gateway;
        assert_eq!(written, b.gateway_for(h));
        written
    };
    assert_eq!(g(GatewayPolicy::Keep, &[on_link]), configured);
    assert_eq!(g(GatewayPolicy::OmitWhenOnLink, &[on_link]), None);
    assert_eq!(g(GatewayPolicy::OmitWhenOnLink, &[routed]), configured);
    assert_eq!(g(GatewayPolicy::TargetAsGateway, &[on_link]), Some(on_link));
    assert_eq!(
        g(GatewayPolicy::TargetAsGateway, &[on_link, on_link2]),
        None
    );
    assert_eq!(g(GatewayPolicy::TargetAsGateway, &[routed]), configured);
    assert_eq!(GatewayPolicy::default(), GatewayPolicy::OmitWhenOnLink);
}

#[test]
fn compat_mode_caps_at_two_pairs() {
    let mut b: Builder = Builder::new(NAME);
    b.compat_two_pairs = true;
    let hs: Vec<_> = (0..3).map(|k| b.add_nic(nic(k)).unwrap()).collect();
    b.add_target(TargetConfig::new(
        hs[0],
        v4(10, 0, 0, 2),
        "iqn.2026-11.org.example:d",
    ))
    .unwrap();
    assert_eq!(b.buffer_len(), Err(BuildError::CompatLimit));
    b.compat_two_pairs = false;
    assert!(b.buffer_len().is_ok());
}

#[test]
fn eight_nics_eight_targets_extend_the_control_structure() {
    let mut b: Builder = Builder::new(NAME);
    let hs: Vec<_> = (0..8).map(|k| b.add_nic(nic(k)).unwrap()).collect();
    for (k, h) in hs.iter().enumerate() {
        b.add_target(TargetConfig::new(
            *h,
            v4(10, 0, k as u8, 2),
            "iqn.2026-11.org.example:d",
        ))
        .unwrap();
    }
    let mut buf = vec![0u8; b.buffer_len().unwrap()];
    b.emit(&mut buf).unwrap();
    // Control length 18 + 4 * 6 extra pairs = 42 (0x2a), at table offset 0x30 + 2.
    assert_eq!(&buf[0x32..0x34], &[0x2a, 0x00]);
    let t = Table::parse(&buf).unwrap();
    assert_eq!(t.slot_pairs(), 8);
    assert_eq!(t.nics().count(), 8);
    for (k, tg) in t.targets().enumerate() {
        assert_eq!(usize::from(tg.nic), k);
    }
    // NIC k+1 follows NIC k at the 8-aligned stride 104; target k+1 follows target k at 56.
    for k in 0..7u16 {
        assert_eq!(t.nic_offset(k + 1) - t.nic_offset(k), 104);
        assert_eq!(t.target_offset(k + 1) - t.target_offset(k), 56);
    }
    #[cfg(feature = "lint")]
    {
        let mut codes = Vec::new();
        ibft::lint(&buf, &mut |f: ibft::Finding| codes.push(f.code));
        // Only the old-kernel warning: every gateway was blanked for on-link targets.
        assert_eq!(codes, [ibft::Code::MoreThanTwoPairs]);
    }
}

#[test]
fn capacity_is_a_const_generic() {
    let mut b: Builder<'_, 2> = Builder::new(NAME);
    b.add_nic(nic(0)).unwrap();
    b.add_nic(nic(1)).unwrap();
    assert_eq!(b.add_nic(nic(2)), Err(BuildError::TooManyNics));
}

#[test]
fn legacy_placement_window() {
    assert!(ibft::legacy_placement_ok(0x8_0000, 0x400));
    assert!(ibft::legacy_placement_ok(0x9_fc00, 0x400));
    assert!(!ibft::legacy_placement_ok(0x9_fc10, 0x400));
    assert!(!ibft::legacy_placement_ok(0x7_fff0, 0x10));
    assert!(!ibft::legacy_placement_ok(u64::MAX - 4, 16));
}
