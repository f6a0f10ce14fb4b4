//! Port set-up and connect preconditions that need no peer (smoltcp's loopback device).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use initiator::time::Instant;
use initiator::transport::Connector;
use netstack_adapter::{
    ConfigureError, IpCidr, Origin, Port, PortError, PortSettings, PortStorage, StaticConfig,
    TcpBuffers, TcpError,
};
use smoltcp::phy::{Loopback, Medium};

/// A clock that advances 1 ms per reading, so deadlines arrive without sleeping.
fn ticking() -> impl FnMut() -> Instant {
    let mut ms = 0;
    move || {
        ms += 1;
        Instant::from_millis(ms)
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

#[test]
fn rejects_bad_settings() {
    let try_new = |settings: PortSettings| {
        let mut storage = PortStorage::new();
        let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
        let buffers = TcpBuffers {
            rx: &mut rx,
            tx: &mut tx,
        };
        Port::new(
            Loopback::new(Medium::Ethernet),
            ticking(),
            &settings,
            &mut storage,
            buffers,
        )
        .err()
    };
    let mac = [2, 0, 0, 0, 0, 1];
    // Multicast (bit 0 of the first byte) and broadcast MACs cannot be a port's address.
    assert_eq!(
        try_new(PortSettings::dhcp([1, 0, 0x5e, 0, 0, 1], 0)),
        Some(PortError::NotUnicast)
    );
    assert_eq!(
        try_new(PortSettings::dhcp([0xff; 6], 0)),
        Some(PortError::NotUnicast)
    );
    let bad_prefix = StaticConfig::new(IpCidr::new(v4(10, 0, 0, 2), 33));
    assert_eq!(
        try_new(PortSettings::fixed(mac, bad_prefix, 0)),
        Some(PortError::BadStaticAddress)
    );
    let mut mixed = StaticConfig::new(IpCidr::new(v4(10, 0, 0, 2), 24));
    mixed.gateway = Some(IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert_eq!(
        try_new(PortSettings::fixed(mac, mixed, 0)),
        Some(PortError::BadStaticAddress)
    );
    assert_eq!(try_new(PortSettings::dhcp(mac, 0)), None);
}

#[test]
fn ip_medium_is_not_ethernet() {
    let mut storage = PortStorage::new();
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
    let buffers = TcpBuffers {
        rx: &mut rx,
        tx: &mut tx,
    };
    let settings = PortSettings::dhcp([2, 0, 0, 0, 0, 1], 0);
    let port = Port::new(
        Loopback::new(Medium::Ip),
        ticking(),
        &settings,
        &mut storage,
        buffers,
    );
    assert_eq!(port.err(), Some(PortError::NotEthernet));
}

#[test]
fn dhcp_port_without_server_times_out_and_cannot_connect() {
    let mut storage = PortStorage::new();
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
    let buffers = TcpBuffers {
        rx: &mut rx,
        tx: &mut tx,
    };
    let settings = PortSettings::dhcp([2, 0, 0, 0, 0, 1], 0);
    let port = Port::new(
        Loopback::new(Medium::Ethernet),
        ticking(),
        &settings,
        &mut storage,
        buffers,
    )
    .unwrap();
    assert_eq!(
        port.configure(Instant::from_millis(50)),
        Err(ConfigureError::Timeout)
    );
    assert_eq!(port.config(), None);
    let mut connector = &port;
    let portal = SocketAddr::new(v4(10, 0, 0, 1), 3260);
    assert_eq!(
        connector.connect(portal, Instant::from_millis(100)).err(),
        Some(TcpError::NotConfigured)
    );
}

#[test]
fn static_port_is_configured_at_once() {
    let mut storage = PortStorage::new();
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
    let buffers = TcpBuffers {
        rx: &mut rx,
        tx: &mut tx,
    };
    let mut fixed = StaticConfig::new(IpCidr::new(v4(192, 168, 7, 9), 23));
    fixed.gateway = Some(v4(192, 168, 6, 1));
    fixed.dns = [Some(v4(192, 168, 6, 53)), None];
    fixed.hostname.push_str("node9").unwrap();
    let mut settings = PortSettings::fixed([2, 0, 0, 0, 0, 9], fixed, 0);
    settings.permanent_mac = Some([2, 0, 0, 0, 0, 0x99]);
    settings.vlan = 42;
    settings.pci = Some(netstack_adapter::PciAddress {
        bus: 1,
        device: 2,
        function: 3,
    });
    let port = Port::new(
        Loopback::new(Medium::Ethernet),
        ticking(),
        &settings,
        &mut storage,
        buffers,
    )
    .unwrap();
    let cfg = port.configure(Instant::ZERO).unwrap();
    let nic = cfg.nic();
    // The iBFT gets the permanent MAC; the port sends from the current one.
    assert_eq!(nic.mac, [2, 0, 0, 0, 0, 0x99]);
    assert_eq!(port.mac(), [2, 0, 0, 0, 0, 9]);
    assert_eq!(nic.address, Some(IpCidr::new(v4(192, 168, 7, 9), 23)));
    assert_eq!(nic.gateway, Some(v4(192, 168, 6, 1)));
    assert_eq!(nic.dns, [Some(v4(192, 168, 6, 53)), None]);
    assert_eq!(nic.dhcp_server, None);
    assert_eq!(nic.origin, Origin::Manual);
    assert_eq!(nic.vlan, 42);
    assert_eq!(nic.hostname, Some("node9"));
    assert_eq!(
        nic.pci,
        Some(netstack_adapter::PciAddress {
            bus: 1,
            device: 2,
            function: 3
        })
    );
    assert_eq!(cfg.root_path(), None);
    assert_eq!(cfg.client_identifier, None);
}
