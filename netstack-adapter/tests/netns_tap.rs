//! netstack-adapter over a real Linux TAP device in a network namespace the test creates:
//! TCP against Linux's own TCP stack, DHCP against dnsmasq.
//!
//! Needs root and /dev/net/tun; elsewhere each test says loudly that it skipped.

mod support;

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use initiator::time::Instant;
use initiator::transport::{Connector, Transport};
use netstack_adapter::buffers::{RECOMMENDED_RX_BUFFER, RECOMMENDED_TX_BUFFER};
use netstack_adapter::{
    IpCidr, Origin, Port, PortSettings, PortStorage, StaticConfig, TcpBuffers, TcpError,
};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{Peer, TapClock, TapSpec, inner_taps, open_tap, run_in_netns};

const HOST: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const MAC_A: [u8; 6] = [0x02, 0x00, 0x00, 0x77, 0x00, 0x02];
const MAC_B: [u8; 6] = [0x02, 0x00, 0x00, 0x78, 0x00, 0x02];

fn v4(a: u8, b: u8, c: u8, d: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
}

fn static_settings(mac: [u8; 6], ip: Ipv4Addr, prefix: u8) -> PortSettings {
    let cfg = StaticConfig::new(IpCidr {
        addr: IpAddr::V4(ip),
        prefix,
    });
    PortSettings::fixed(mac, cfg, std::process::id().into())
}

fn later(port: &Port<'_, impl smoltcp::phy::Device, TapClock>, secs: u64) -> Instant {
    let mut connector = port;
    connector.now() + Duration::from_secs(secs)
}

/// Streams 8 MiB through a Linux echo server and checks every byte; then the server closes
/// and the transport reports the orderly close as an error.
#[test]
fn tcp_echo_over_tap() {
    let taps = [TapSpec {
        host_cidr: "10.77.0.1/24",
        host_cidr6: None,
    }];
    run_in_netns("tcp_echo_over_tap", &taps, || {
        const TOTAL: usize = 8 << 20;
        let listener = TcpListener::bind((HOST, 7777)).unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = vec![0u8; 64 << 10];
            let mut echoed = 0;
            while echoed < TOTAL {
                let n = stream.read(&mut buf).unwrap();
                assert!(n > 0, "client closed early");
                stream.write_all(&buf[..n]).unwrap();
                echoed += n;
            }
            // Dropping the stream sends FIN.
        });

        let tap = open_tap(&inner_taps()[0]);
        let clock = TapClock::new(&tap);
        let mut storage = PortStorage::new();
        let (mut rx, mut tx) = (
            vec![0; RECOMMENDED_RX_BUFFER],
            vec![0; RECOMMENDED_TX_BUFFER],
        );
        let settings = static_settings(MAC_A, Ipv4Addr::new(10, 77, 0, 2), 24);
        let buffers = TcpBuffers {
            rx: &mut rx,
            tx: &mut tx,
        };
        let port = Port::new(tap, clock, &settings, &mut storage, buffers).unwrap();
        let cfg = port.configure(later(&port, 1)).unwrap();
        assert_eq!(cfg.origin, Origin::Manual);

        let mut connector = &port;
        let deadline = later(&port, 5);
        let mut conn = connector
            .connect(SocketAddr::new(HOST.into(), 7777), deadline)
            .expect("connect to the Linux listener");

        let pattern: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
        let mut received = Vec::with_capacity(TOTAL);
        let mut sent = 0;
        let mut buf = vec![0u8; 64 << 10];
        let end = later(&port, 30);
        while received.len() < TOTAL {
            if sent < TOTAL {
                sent += conn.send(&pattern[sent..]).unwrap();
            }
            let n = conn.recv(&mut buf).unwrap();
            received.extend_from_slice(&buf[..n]);
            if n == 0 {
                let step = later(&port, 1).min(end);
                conn.wait(sent < TOTAL, step).unwrap();
            }
            assert!(connector.now() < end, "echo stalled at {}", received.len());
        }
        assert!(received == pattern, "echoed bytes differ");
        server.join().unwrap();

        // The server has closed: recv must end in an error, not Ok(0) forever.
        let close_deadline = later(&port, 5);
        let outcome = loop {
            match conn.recv(&mut buf) {
                Ok(0) => conn.wait(false, close_deadline).unwrap(),
                Ok(n) => panic!("{n} unexpected bytes"),
                Err(e) => break e,
            }
            assert!(connector.now() < close_deadline, "close not reported");
        };
        assert_eq!(outcome, TcpError::PeerClosed);
    });
}

/// Connecting to a closed port on Linux is refused (RST); a second connection supersedes the
/// first; an address nobody answers ARP for times out at the deadline.
#[test]
fn tcp_refused_superseded_and_timeout() {
    let taps = [TapSpec {
        host_cidr: "10.77.0.1/24",
        host_cidr6: None,
    }];
    run_in_netns("tcp_refused_superseded_and_timeout", &taps, || {
        let listener = TcpListener::bind((HOST, 7777)).unwrap();
        let tap = open_tap(&inner_taps()[0]);
        let clock = TapClock::new(&tap);
        let mut storage = PortStorage::new();
        let (mut rx, mut tx) = (vec![0; 64 << 10], vec![0; 64 << 10]);
        let settings = static_settings(MAC_A, Ipv4Addr::new(10, 77, 0, 2), 24);
        let buffers = TcpBuffers {
            rx: &mut rx,
            tx: &mut tx,
        };
        let port = Port::new(tap, clock, &settings, &mut storage, buffers).unwrap();
        port.configure(later(&port, 1)).unwrap();
        let mut connector = &port;

        let refused = connector.connect(SocketAddr::new(HOST.into(), 7778), later(&port, 5));
        assert_eq!(refused.err(), Some(TcpError::Reset));

        let mut first = connector
            .connect(SocketAddr::new(HOST.into(), 7777), later(&port, 5))
            .unwrap();
        let (mut accepted, _) = listener.accept().unwrap();
        let mut second = connector
            .connect(SocketAddr::new(HOST.into(), 7777), later(&port, 5))
            .unwrap();
        assert_eq!(first.send(b"x"), Err(TcpError::Superseded));
        assert_eq!(second.send(b"hello").unwrap(), 5);
        let (mut accepted2, _) = listener.accept().unwrap();
        let mut got = [0u8; 5];
        accepted2.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");
        // The superseded connection was reset, so Linux sees it end.
        let mut rest = Vec::new();
        assert!(accepted.read_to_end(&mut rest).is_err() || rest.is_empty());

        let start = connector.now();
        let silent = connector.connect(
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 77, 0, 9)), 3260),
            start + Duration::from_millis(1500),
        );
        assert_eq!(silent.err(), Some(TcpError::Timeout));
        let waited = connector.now().saturating_duration_since(start);
        assert!(waited >= Duration::from_millis(1500) && waited < Duration::from_secs(4));
    });
}

/// Waits until something in this namespace listens on UDP port 67 (dnsmasq is up).
fn wait_for_dhcp_server() {
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < end {
        let udp = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
        // local_address column is HEXIP:HEXPORT; 67 = 0x0043.
        if udp.lines().any(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(":0043"))
        }) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("dnsmasq did not start");
}

/// Two ports, each on its own TAP and subnet, both configured by one dnsmasq: each port's NIC
/// value holds exactly its own lease (address, prefix, gateway, DNS, server, host name, root
/// path) and its own MAC. Expected values are the dnsmasq arguments below.
#[test]
fn dhcp_two_ports_from_dnsmasq() {
    let taps = [
        TapSpec {
            host_cidr: "10.77.0.1/24",
            host_cidr6: None,
        },
        TapSpec {
            host_cidr: "10.78.0.1/25",
            host_cidr6: None,
        },
    ];
    run_in_netns("dhcp_two_ports_from_dnsmasq", &taps, || {
        let dir = std::env::temp_dir().join(format!("nsa-dnsmasq-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let taps = inner_taps();
        let dnsmasq = Command::new("dnsmasq")
            .args([
                "--no-daemon",
                "--conf-file=/dev/null",
                "--port=0",
                "--user=root",
                "--bind-interfaces",
                "--no-ping",
                "--dhcp-authoritative",
                "--log-dhcp",
                "--log-facility=-",
            ])
            .arg(format!("--interface={}", taps[0]))
            .arg(format!("--interface={}", taps[1]))
            .arg(format!("--dhcp-leasefile={}", dir.join("leases").display()))
            .arg(format!("--pid-file={}", dir.join("pid").display()))
            .args([
                "--dhcp-range=set:a,10.77.0.50,10.77.0.59,255.255.255.0,1h",
                "--dhcp-range=set:b,10.78.0.50,10.78.0.59,255.255.255.128,1h",
                "--dhcp-host=02:00:00:77:00:02,10.77.0.55,node-a",
                "--dhcp-host=02:00:00:78:00:02,10.78.0.56,node-b",
                "--dhcp-option=tag:a,option:router,10.77.0.254",
                "--dhcp-option=tag:a,option:dns-server,10.77.0.53,10.77.0.54",
                "--dhcp-option=tag:a,17,iscsi:10.77.0.1::3260:1:iqn.2026-11.test:disk-a",
                "--dhcp-option=tag:b,option:router,10.78.0.126",
                "--dhcp-option=tag:b,option:dns-server,10.78.0.53",
                "--dhcp-option=tag:b,17,iscsi:10.78.0.1::3260:0:iqn.2026-11.test:disk-b",
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("starting dnsmasq (package dnsmasq-base)");
        let _dnsmasq = Peer(dnsmasq);
        wait_for_dhcp_server();

        let (tap_a, tap_b) = (open_tap(&taps[0]), open_tap(&taps[1]));
        let (clock_a, clock_b) = (TapClock::new(&tap_a), TapClock::new(&tap_b));
        let (mut storage_a, mut storage_b) = (PortStorage::new(), PortStorage::new());
        let (mut rx_a, mut tx_a) = (vec![0; 64 << 10], vec![0; 64 << 10]);
        let (mut rx_b, mut tx_b) = (vec![0; 64 << 10], vec![0; 64 << 10]);
        let mut settings_a = PortSettings::dhcp(MAC_A, 1);
        settings_a.vlan = 0;
        let settings_b = PortSettings::dhcp(MAC_B, 2);
        let port_a = Port::new(
            tap_a,
            clock_a,
            &settings_a,
            &mut storage_a,
            TcpBuffers {
                rx: &mut rx_a,
                tx: &mut tx_a,
            },
        )
        .unwrap();
        let port_b = Port::new(
            tap_b,
            clock_b,
            &settings_b,
            &mut storage_b,
            TcpBuffers {
                rx: &mut rx_b,
                tx: &mut tx_b,
            },
        )
        .unwrap();
        let a = port_a
            .configure(later(&port_a, 20))
            .expect("lease on port A");
        let b = port_b
            .configure(later(&port_b, 20))
            .expect("lease on port B");
        // dnsmasq's lease file records the client identifier (option 61) each port sent:
        // "EXPIRY MAC IP HOSTNAME CLIENT-ID". Ours is hardware type 1 followed by the MAC.
        let leases = std::fs::read_to_string(dir.join("leases")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        for (mac, client_id) in [
            ("02:00:00:77:00:02", "01:02:00:00:77:00:02"),
            ("02:00:00:78:00:02", "01:02:00:00:78:00:02"),
        ] {
            let line = leases
                .lines()
                .find(|l| l.split_whitespace().nth(1) == Some(mac))
                .unwrap_or_else(|| panic!("no lease for {mac} in {leases:?}"));
            assert_eq!(line.split_whitespace().nth(4), Some(client_id), "{line}");
        }

        let nic_a = a.nic();
        assert_eq!(nic_a.mac, MAC_A);
        assert_eq!(
            nic_a.address,
            Some(IpCidr {
                addr: v4(10, 77, 0, 55).unwrap(),
                prefix: 24
            })
        );
        assert_eq!(nic_a.gateway, v4(10, 77, 0, 254));
        assert_eq!(nic_a.dns, [v4(10, 77, 0, 53), v4(10, 77, 0, 54)]);
        assert_eq!(nic_a.dhcp_server, v4(10, 77, 0, 1));
        assert_eq!(nic_a.origin, Origin::Dhcp);
        assert_eq!(nic_a.hostname, Some("node-a"));
        assert_eq!(
            a.root_path(),
            Some("iscsi:10.77.0.1::3260:1:iqn.2026-11.test:disk-a")
        );
        assert_eq!(a.client_identifier, Some([1, 2, 0, 0, 0x77, 0, 2]));

        let nic_b = b.nic();
        assert_eq!(nic_b.mac, MAC_B);
        assert_eq!(
            nic_b.address,
            Some(IpCidr {
                addr: v4(10, 78, 0, 56).unwrap(),
                prefix: 25
            })
        );
        assert_eq!(nic_b.gateway, v4(10, 78, 0, 126));
        assert_eq!(nic_b.dns, [v4(10, 78, 0, 53), None]);
        assert_eq!(nic_b.dhcp_server, v4(10, 78, 0, 1));
        assert_eq!(nic_b.hostname, Some("node-b"));
        assert_eq!(
            b.root_path(),
            Some("iscsi:10.78.0.1::3260:0:iqn.2026-11.test:disk-b")
        );

        // Fed whole to the iBFT builder, each lease becomes the NIC record of its own port:
        // parse the emitted table back and compare with the dnsmasq configuration above.
        let mut builder: ibft::Builder = ibft::Builder::new("iqn.2026-11.test.netns:init");
        builder.gateway_policy = ibft::GatewayPolicy::Keep;
        let handle_a = builder.add_nic(a.nic()).unwrap();
        let handle_b = builder.add_nic(b.nic()).unwrap();
        builder
            .add_target(ibft::TargetConfig::new(
                handle_a,
                HOST.into(),
                "iqn.2026-11.test:disk-a",
            ))
            .unwrap();
        let mut table = vec![0u8; builder.buffer_len().unwrap()];
        let len = builder.emit(&mut table).unwrap();
        let table = ibft::Table::parse(&table[..len]).unwrap();
        let records: Vec<_> = table.nics().collect();
        assert_eq!(records.len(), 2);
        for (record, mac, ip, prefix, gw, dns, server, host) in [
            (
                &records[usize::from(handle_a.index())],
                MAC_A,
                v4(10, 77, 0, 55),
                24,
                v4(10, 77, 0, 254),
                [v4(10, 77, 0, 53), v4(10, 77, 0, 54)],
                v4(10, 77, 0, 1),
                "node-a",
            ),
            (
                &records[usize::from(handle_b.index())],
                MAC_B,
                v4(10, 78, 0, 56),
                25,
                v4(10, 78, 0, 126),
                [v4(10, 78, 0, 53), None],
                v4(10, 78, 0, 1),
                "node-b",
            ),
        ] {
            let nic = record.config;
            assert_eq!(nic.mac, mac);
            assert_eq!(
                nic.address.map(|c| (Some(c.addr), c.prefix)),
                Some((ip, prefix))
            );
            assert_eq!(nic.gateway, gw);
            assert_eq!(nic.dns, dns);
            assert_eq!(nic.dhcp_server, server);
            assert_eq!(nic.origin, Origin::Dhcp);
            assert_eq!(nic.hostname, Some(host));
            assert_eq!(nic.pci, None);
        }

        // The leased address is live: Linux on each TAP reaches the port over TCP.
        for (port, host) in [
            (&port_a, Ipv4Addr::new(10, 77, 0, 1)),
            (&port_b, Ipv4Addr::new(10, 78, 0, 1)),
        ] {
            let listener = TcpListener::bind((host, 3260)).unwrap();
            let mut connector = port;
            let conn = connector.connect(SocketAddr::new(host.into(), 3260), later(port, 5));
            assert!(conn.is_ok(), "connect through {host}: {:?}", conn.err());
            let (_, peer) = listener.accept().unwrap();
            let expected = if host.octets()[1] == 77 {
                v4(10, 77, 0, 55)
            } else {
                v4(10, 78, 0, 56)
            };
            assert_eq!(Some(peer.ip()), expected);
        }
    });
}

/// A static IPv6 port: neighbour discovery and TCP against Linux over IPv6, and the NIC value
/// holds the configured address, prefix and gateway.
#[test]
#[cfg(feature = "ipv6")]
fn static_ipv6_over_tap() {
    let taps = [TapSpec {
        host_cidr: "10.77.0.1/24",
        host_cidr6: Some("fd77::1/64"),
    }];
    run_in_netns("static_ipv6_over_tap", &taps, || {
        let host6: core::net::Ipv6Addr = "fd77::1".parse().unwrap();
        let listener = TcpListener::bind((host6, 3260)).unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, peer) = listener.accept().unwrap();
            let mut got = [0u8; 4];
            stream.read_exact(&mut got).unwrap();
            stream.write_all(b"pong").unwrap();
            (peer, got)
        });

        let tap = open_tap(&inner_taps()[0]);
        let clock = TapClock::new(&tap);
        let mut storage = PortStorage::new();
        let (mut rx, mut tx) = (vec![0; 64 << 10], vec![0; 64 << 10]);
        let mut cfg = StaticConfig::new(IpCidr {
            addr: "fd77::2".parse().unwrap(),
            prefix: 64,
        });
        cfg.gateway = Some("fd77::fe".parse().unwrap());
        let settings = PortSettings::fixed(MAC_A, cfg, 11);
        let buffers = TcpBuffers {
            rx: &mut rx,
            tx: &mut tx,
        };
        let port = Port::new(tap, clock, &settings, &mut storage, buffers).unwrap();
        let nic_cfg = port.configure(later(&port, 1)).unwrap();
        let nic = nic_cfg.nic();
        assert_eq!(
            nic.address.unwrap().addr,
            "fd77::2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(nic.address.unwrap().prefix, 64);
        assert_eq!(nic.gateway, Some("fd77::fe".parse().unwrap()));
        assert_eq!(nic.origin, Origin::Manual);

        let mut connector = &port;
        let deadline = later(&port, 5);
        let mut conn = connector
            .connect(SocketAddr::new(host6.into(), 3260), deadline)
            .expect("connect over IPv6");
        assert_eq!(conn.send(b"ping").unwrap(), 4);
        let mut reply = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            let n = conn.recv(&mut reply[got..]).unwrap();
            got += n;
            if n == 0 {
                assert!(connector.now() < deadline, "no reply over IPv6");
                conn.wait(false, deadline).unwrap();
            }
        }
        assert_eq!(&reply, b"pong");
        let (peer, ping) = server.join().unwrap();
        assert_eq!(peer.ip(), "fd77::2".parse::<IpAddr>().unwrap());
        assert_eq!(&ping, b"ping");
    });
}
