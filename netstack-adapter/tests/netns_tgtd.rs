//! netstack-adapter over a TAP device to a real `tgtd` running in the test's own network
//! namespace: an iSCSI discovery session written byte by byte from RFC 7143 (the session layer
//! proper is the initiator crate's), to show the transport carries real iSCSI traffic.
//!
//! Needs root, /dev/net/tun and tgtd (package `tgt`); elsewhere it says loudly that it skipped.

mod support;

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use initiator::time::Instant;
use initiator::transport::{Connector, Transport};
use netstack_adapter::{IpCidr, Port, PortSettings, PortStorage, StaticConfig, TcpBuffers};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{Peer, TapClock, TapSpec, inner_taps, open_tap, run_in_netns, wait_for_tcp_listener};

const HOST: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const TARGET: &str = "iqn.2026-11.test.netns:disk1";
const BHS_LEN: usize = 48;

fn tgtadm(control: &str, args: &[&str]) {
    let out = Command::new("tgtadm")
        .args(["-C", control, "--lld", "iscsi"])
        .args(args)
        .output()
        .expect("running tgtadm");
    assert!(
        out.status.success(),
        "tgtadm {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A PDU: 48-byte basic header segment plus a data segment padded to 4 bytes (RFC 7143 §11.2).
fn pdu(mut bhs: [u8; BHS_LEN], data: &[u8]) -> Vec<u8> {
    let len = data.len() as u32;
    bhs[5..8].copy_from_slice(&len.to_be_bytes()[1..]);
    let mut out = bhs.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().next_multiple_of(4), 0);
    out
}

fn send_all<T: Transport>(conn: &mut T, mut bytes: &[u8], deadline: Instant)
where
    T::Error: std::fmt::Debug,
{
    while !bytes.is_empty() {
        let n = conn.send(bytes).unwrap();
        bytes = &bytes[n..];
        if n == 0 {
            conn.wait(true, deadline).unwrap();
        }
    }
}

fn recv_exact<T: Transport>(
    conn: &mut T,
    buf: &mut [u8],
    clock: &mut impl Connector,
    deadline: Instant,
) where
    T::Error: std::fmt::Debug,
{
    let mut got = 0;
    while got < buf.len() {
        let n = conn.recv(&mut buf[got..]).unwrap();
        got += n;
        if n == 0 {
            assert!(clock.now() < deadline, "no PDU from tgtd in time");
            conn.wait(false, deadline).unwrap();
        }
    }
}

/// Reads one PDU: (header, data without padding).
fn read_pdu<T: Transport>(
    conn: &mut T,
    clock: &mut impl Connector,
    deadline: Instant,
) -> ([u8; BHS_LEN], Vec<u8>)
where
    T::Error: std::fmt::Debug,
{
    let mut bhs = [0u8; BHS_LEN];
    recv_exact(conn, &mut bhs, clock, deadline);
    let len = u32::from_be_bytes([0, bhs[5], bhs[6], bhs[7]]) as usize;
    let mut data = vec![0u8; len.next_multiple_of(4)];
    recv_exact(conn, &mut data, clock, deadline);
    data.truncate(len);
    (bhs, data)
}

fn keys(data: &[u8]) -> Vec<String> {
    data.split(|&b| b == 0)
        .filter(|k| !k.is_empty())
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect()
}

#[test]
fn discovery_session_with_tgtd_over_tap() {
    let taps = [TapSpec {
        host_cidr: "10.77.0.1/24",
        host_cidr6: None,
    }];
    run_in_netns("discovery_session_with_tgtd_over_tap", &taps, || {
        let control = (std::process::id() % 30000 + 1000).to_string();
        let tgtd = Command::new("tgtd")
            .args(["-f", "-C", &control, "--iscsi", "portal=10.77.0.1:3260"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("starting tgtd (package tgt)");
        let _tgtd = Peer(tgtd);
        wait_for_tcp_listener(3260);
        tgtadm(
            &control,
            &[
                "--op", "new", "--mode", "target", "--tid", "1", "-T", TARGET,
            ],
        );
        tgtadm(
            &control,
            &[
                "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL",
            ],
        );

        let tap = open_tap(&inner_taps()[0]);
        let clock = TapClock::new(&tap);
        let mut storage = PortStorage::new();
        let (mut rx, mut tx) = (vec![0; 256 << 10], vec![0; 64 << 10]);
        let cfg = StaticConfig::new(IpCidr {
            addr: IpAddr::V4(Ipv4Addr::new(10, 77, 0, 2)),
            prefix: 24,
        });
        let settings = PortSettings::fixed([2, 0, 0, 0x77, 0, 2], cfg, 7);
        let buffers = TcpBuffers {
            rx: &mut rx,
            tx: &mut tx,
        };
        let port = Port::new(tap, clock, &settings, &mut storage, buffers).unwrap();
        let mut connector = &port;
        let deadline = connector.now() + Duration::from_secs(10);
        port.configure(deadline).unwrap();
        let mut conn = connector
            .connect(SocketAddr::new(HOST.into(), 3260), deadline)
            .expect("TCP connect to tgtd");

        // Login Request (§11.12): immediate, opcode 0x03; T=1, CSG=0 (security), NSG=3 (full
        // feature); ISID 40 00 01 37 00 00 (random type); ITT 1; CmdSN 1.
        let mut login = [0u8; BHS_LEN];
        login[0] = 0x43;
        login[1] = 0x80 | 3;
        login[8..14].copy_from_slice(&[0x40, 0x00, 0x01, 0x37, 0x00, 0x00]);
        login[16..20].copy_from_slice(&1u32.to_be_bytes());
        login[24..28].copy_from_slice(&1u32.to_be_bytes());
        let text =
            b"InitiatorName=iqn.2026-11.test.netns:init\0SessionType=Discovery\0AuthMethod=None\0";
        send_all(&mut conn, &pdu(login, text), deadline);

        let (bhs, data) = read_pdu(&mut conn, &mut connector, deadline);
        assert_eq!(bhs[0] & 0x3f, 0x23, "Login Response opcode");
        assert_eq!(bhs[1] & 0x80, 0x80, "transit to full feature");
        assert_eq!(bhs[1] & 0x03, 3, "NSG full feature");
        assert_eq!(&bhs[16..20], &1u32.to_be_bytes(), "ITT echoed");
        assert_eq!((bhs[36], bhs[37]), (0, 0), "login status success");
        assert!(
            keys(&data).contains(&"AuthMethod=None".to_string()),
            "{:?}",
            keys(&data)
        );
        let stat_sn = u32::from_be_bytes(bhs[24..28].try_into().unwrap());

        // Text Request (§11.10): opcode 0x04, F=1, ITT 2, TTT ffffffff, CmdSN 1,
        // ExpStatSN = StatSN + 1.
        let mut text_req = [0u8; BHS_LEN];
        text_req[0] = 0x04;
        text_req[1] = 0x80;
        text_req[16..20].copy_from_slice(&2u32.to_be_bytes());
        text_req[20..24].copy_from_slice(&u32::MAX.to_be_bytes());
        text_req[24..28].copy_from_slice(&1u32.to_be_bytes());
        text_req[28..32].copy_from_slice(&stat_sn.wrapping_add(1).to_be_bytes());
        send_all(&mut conn, &pdu(text_req, b"SendTargets=All\0"), deadline);

        let (bhs, data) = read_pdu(&mut conn, &mut connector, deadline);
        assert_eq!(bhs[0] & 0x3f, 0x24, "Text Response opcode");
        assert_eq!(&bhs[16..20], &2u32.to_be_bytes(), "ITT echoed");
        let keys = keys(&data);
        eprintln!("SendTargets: {keys:?}");
        assert!(keys.contains(&format!("TargetName={TARGET}")), "{keys:?}");
        assert!(
            keys.iter()
                .any(|k| k.starts_with("TargetAddress=10.77.0.1:3260,")),
            "{keys:?}"
        );
    });
}
