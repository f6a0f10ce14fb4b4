//! Property tests: build -> parse gives back the input; no byte sequence makes the parser,
//! the lenient decoder, the dump or the linter panic.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use ibft::{
    Builder, Chap, GatewayPolicy, IpCidr, Lun, NicConfig, Origin, PciAddress, Table, TargetConfig,
};
use proptest::prelude::*;

fn ipv4() -> impl Strategy<Value = IpAddr> {
    (1u32..).prop_map(|v| IpAddr::V4(Ipv4Addr::from(v)))
}

fn ipv6() -> impl Strategy<Value = IpAddr> {
    any::<u128>().prop_map(|v| {
        let mut a = Ipv6Addr::from(v);
        // Zero and IPv4-mapped addresses are how the table spells "empty" and IPv4.
        if a.is_unspecified() || a.to_ipv4_mapped().is_some() {
            a = Ipv6Addr::from(v | 0xfd00 << 112);
        }
        IpAddr::V6(a)
    })
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![ipv4(), ipv6()]
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{1,24}"
}

#[derive(Debug, Clone)]
struct NicIn {
    mac_tail: [u8; 5],
    pci: Option<(u8, u8)>,
    address: Option<(IpAddr, u8)>,
    gateway: Option<IpAddr>,
    dns: [Option<IpAddr>; 2],
    dhcp: Option<IpAddr>,
    origin: u8,
    vlan: u16,
    hostname: Option<String>,
}

fn nic_in() -> impl Strategy<Value = NicIn> {
    (
        any::<[u8; 5]>(),
        proptest::option::of((0u8..32, 0u8..8)),
        proptest::option::of(ip().prop_flat_map(|a| {
            let max: u8 = if a.is_ipv4() { 32 } else { 128 };
            (Just(a), 1u8..=max)
        })),
        proptest::option::of(ip()),
        [proptest::option::of(ip()), proptest::option::of(ip())],
        proptest::option::of(ip()),
        any::<u8>(),
        0u16..4096,
        proptest::option::of(text()),
    )
        .prop_map(
            |(mac_tail, pci, address, gateway, dns, dhcp, origin, vlan, hostname)| NicIn {
                mac_tail,
                pci,
                address,
                gateway,
                dns,
                dhcp,
                origin,
                vlan,
                hostname,
            },
        )
}

#[derive(Debug, Clone)]
struct TargetIn {
    nic: usize,
    address: IpAddr,
    port: u16,
    lun: [u8; 8],
    name: String,
    chap: Option<(String, String)>,
    mutual: Option<(String, String)>,
    boot: bool,
}

fn target_in() -> impl Strategy<Value = TargetIn> {
    (
        any::<usize>(),
        ip(),
        any::<u16>(),
        any::<[u8; 8]>(),
        text(),
        proptest::option::of((text(), text())),
        proptest::option::of((text(), text())),
        any::<bool>(),
    )
        .prop_map(
            |(nic, address, port, lun, name, chap, mutual, boot)| TargetIn {
                nic,
                address,
                port,
                lun,
                name,
                // Mutual CHAP needs one-way CHAP.
                mutual: if chap.is_some() { mutual } else { None },
                chap,
                boot,
            },
        )
}

fn nic_config(k: usize, n: &NicIn) -> NicConfig<'_> {
    let mut mac = [k as u8 + 2; 6];
    mac[1..].copy_from_slice(&n.mac_tail);
    NicConfig {
        mac,
        // Bus = position keeps PCI addresses distinct; bus 0 device 0 function 0 spells "none".
        pci: n.pci.map(|(d, f)| PciAddress {
            bus: k as u8 + 1,
            device: d,
            function: f,
        }),
        address: n.address.map(|(a, p)| IpCidr::new(a, p)),
        gateway: n.gateway,
        dns: n.dns,
        dhcp_server: n.dhcp,
        origin: Origin::from(n.origin),
        vlan: n.vlan,
        hostname: n.hostname.as_deref(),
    }
}

proptest! {
    #[test]
    fn build_then_parse_gives_back_the_input(
        initiator in text(),
        nics in proptest::collection::vec(nic_in(), 1..=8),
        mut targets in proptest::collection::vec(target_in(), 1..=8),
        sixteen in any::<bool>(),
    ) {
        targets[0].boot = true;
        let mut b: Builder = Builder::new(&initiator);
        b.gateway_policy = GatewayPolicy::Keep;
        if sixteen {
            b.alignment = ibft::Alignment::Sixteen;
        }
        let configs: Vec<_> = nics.iter().enumerate().map(|(k, n)| nic_config(k, n)).collect();
        let handles: Vec<_> = configs.iter().map(|c| b.add_nic(*c).unwrap()).collect();
        for t in &targets {
            let mut cfg = TargetConfig::new(handles[t.nic % handles.len()], t.address, &t.name);
            cfg.port = t.port;
            cfg.lun = Lun(t.lun);
            cfg.chap = t.chap.as_ref().map(|(u, s)| Chap { user: u, secret: s });
            cfg.mutual_chap = t.mutual.as_ref().map(|(u, s)| Chap { user: u, secret: s });
            cfg.boot = t.boot;
            b.add_target(cfg).unwrap();
        }
        let mut buf = vec![0u8; b.buffer_len().unwrap()];
        b.emit(&mut buf).unwrap();

        let table = Table::parse(&buf).unwrap();
        prop_assert_eq!(table.initiator().unwrap().name, initiator.as_str());
        let parsed: Vec<_> = table.nics().collect();
        prop_assert_eq!(parsed.len(), configs.len());
        for (k, (p, c)) in parsed.iter().zip(&configs).enumerate() {
            prop_assert_eq!(usize::from(p.index), k);
            prop_assert_eq!(&p.config, c);
        }
        let parsed: Vec<_> = table.targets().collect();
        prop_assert_eq!(parsed.len(), targets.len());
        for (k, (p, t)) in parsed.iter().zip(&targets).enumerate() {
            prop_assert_eq!(usize::from(p.index), k);
            prop_assert_eq!(usize::from(p.nic), t.nic % handles.len());
            prop_assert_eq!(p.address, Some(t.address));
            prop_assert_eq!(p.port, t.port);
            prop_assert_eq!(p.lun, Lun(t.lun));
            prop_assert_eq!(p.name, t.name.as_str());
            let chap = t.chap.as_ref().map(|(u, s)| (u.as_str(), s.as_str())).unwrap_or(("", ""));
            prop_assert_eq!((p.chap_name, p.chap_secret), chap);
            let mutual = t.mutual.as_ref().map(|(u, s)| (u.as_str(), s.as_str())).unwrap_or(("", ""));
            prop_assert_eq!((p.reverse_chap_name, p.reverse_chap_secret), mutual);
            prop_assert_eq!(p.flags & ibft::flags::BOOT_SELECTED != 0, t.boot);
        }
        // The strict parser and the linter agree that nothing structural is wrong.
        #[cfg(feature = "lint")]
        {
            let mut structural = 0;
            ibft::lint(&buf, &mut |f: ibft::Finding| structural += usize::from(f.problem.is_some()));
            prop_assert_eq!(structural, 0);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_tables_never_panic(
        edits in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..16),
        fix in any::<bool>(),
    ) {
        let mut bytes = include_bytes!("data/lkml-3nic-3target.bin").to_vec();
        for (at, v) in edits {
            let at = usize::from(at) % bytes.len();
            bytes[at] = v;
        }
        if fix {
            bytes[9] = 0;
            let sum = bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b));
            bytes[9] = 0u8.wrapping_sub(sum);
        }
        exercise(&bytes);
    }
}

fn exercise(bytes: &[u8]) {
    let _ = Table::parse(bytes);
    if let Ok(t) = Table::decode(bytes, &mut |_| {}) {
        let _ = t.to_string();
        let _ = t.initiator();
        let _ = t.nics().count() + t.targets().count();
    }
    #[cfg(feature = "lint")]
    {
        let mut n = 0usize;
        ibft::lint(bytes, &mut |f: ibft::Finding| n += f.to_string().len());
    }
    let _ = ibft::find(bytes);
}
