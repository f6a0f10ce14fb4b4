//! The initiator's blocking driver over smoltcp on a TAP device, against a real `tgtd` in the
//! test's own network namespace: reads compared with the backing file, writes (R2T) read back
//! from the file, CHAP, header/data digests, and reconnect after tgtd drops the connection.
//!
//! Needs root, /dev/net/tun and tgtd (package `tgt`); elsewhere each test says it skipped.

mod support;

use core::net::{Ipv4Addr, SocketAddr};
use initiator::driver::{Buffers, Client, ClientConfig};
use initiator::error::{Error, LoginError};
use initiator::session::config::StandardChap;
use initiator::session::{Chap, SessionConfig};
use netstack_adapter::{IpCidr, Port, PortSettings, PortStorage, StaticConfig, TcpBuffers};
use smoltcp::phy::TunTapInterface;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{Peer, TapClock, TapSpec, inner_taps, open_tap, run_in_netns};

const HOST: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const TARGET: &str = "iqn.2026-11.test.netns:lun";
const INITIATOR: &str = "iqn.2026-11.test.netns:smoltcp";
const ISID: [u8; 6] = [0x40, 0x00, 0x12, 0x34, 0x00, 0x01];
const LUN_BYTES: usize = 8 << 20;
const CHAP_USER: &str = "boot-user";
const CHAP_SECRET: &str = "secret-of-16-chr";

fn taps() -> [TapSpec; 1] {
    [TapSpec {
        host_cidr: "10.77.0.1/24",
        host_cidr6: None,
    }]
}

/// A tgtd target with one 8 MiB LUN (LUN 1) backed by a file of known bytes.
struct Target {
    control: String,
    backing: PathBuf,
    data: Vec<u8>,
    _tgtd: Peer,
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.backing);
    }
}

impl Target {
    fn start() -> Target {
        let control = (std::process::id() % 30000 + 1000).to_string();
        let backing = std::env::temp_dir().join(format!("nsa-lun-{}.img", std::process::id()));
        // Bytes that differ at every 512-byte block and within it, so misplaced data shows.
        let data: Vec<u8> = (0..LUN_BYTES)
            .map(|i| ((i / 512) as u8) ^ ((i % 251) as u8))
            .collect();
        std::fs::write(&backing, &data).unwrap();
        let tgtd = Command::new("tgtd")
            .args(["-f", "-C", &control, "--iscsi", "portal=10.77.0.1:3260"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting tgtd (package tgt)");
        let target = Target {
            control,
            backing,
            data,
            _tgtd: Peer(tgtd),
        };
        support::wait_for_tcp_listener(3260);
        target.admin(&[
            "--op", "new", "--mode", "target", "--tid", "1", "-T", TARGET,
        ]);
        let backing = target.backing.to_str().unwrap().to_owned();
        target.admin(&[
            "--op",
            "new",
            "--mode",
            "logicalunit",
            "--tid",
            "1",
            "--lun",
            "1",
            "-b",
            &backing,
        ]);
        target.admin(&[
            "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL",
        ]);
        target
    }

    fn admin(&self, args: &[&str]) -> String {
        let out = Command::new("tgtadm")
            .args(["-C", &self.control, "--lld", "iscsi"])
            .args(args)
            .output()
            .expect("running tgtadm");
        assert!(
            out.status.success(),
            "tgtadm {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Drops every connection of every session (tgtd closes the TCP connection).
    fn drop_connections(&self) {
        let show = self.admin(&["--op", "show", "--mode", "target"]);
        let sids: Vec<String> = show
            .lines()
            .filter_map(|l| l.trim().strip_prefix("I_T nexus: "))
            .map(str::to_owned)
            .collect();
        assert!(!sids.is_empty(), "no session to drop:\n{show}");
        for sid in sids {
            self.admin(&[
                "--op", "delete", "--mode", "conn", "--tid", "1", "--sid", &sid, "--cid", "0",
            ]);
        }
    }
}

/// Runs `body` with a statically addressed port (10.77.0.2/24) on the namespace's TAP.
fn with_port(body: impl FnOnce(&Port<'_, TunTapInterface, TapClock>)) {
    let tap = open_tap(&inner_taps()[0]);
    let clock = TapClock::new(&tap);
    let mut storage = PortStorage::new();
    let (mut rx, mut tx) = (vec![0; 1 << 20], vec![0; 256 << 10]);
    let cfg = StaticConfig::new(IpCidr::new(Ipv4Addr::new(10, 77, 0, 2).into(), 24));
    let settings = PortSettings::fixed([2, 0, 0, 0x77, 0, 2], cfg, u64::from(std::process::id()));
    let buffers = TcpBuffers {
        rx: &mut rx,
        tx: &mut tx,
    };
    let port = Port::new(tap, clock, &settings, &mut storage, buffers).unwrap();
    port.configure(initiator::time::Instant::ZERO).unwrap();
    body(&port);
}

fn client_config(session: SessionConfig<'_>) -> ClientConfig<'_> {
    let mut config = ClientConfig::new(SocketAddr::new(HOST.into(), 3260), session);
    config.lun = 1;
    config
}

fn pdu_buffers() -> (Vec<u8>, Vec<u8>) {
    (vec![0u8; 300 << 10], vec![0u8; 300 << 10])
}

#[test]
fn iscsi_read_write_over_tap() {
    run_in_netns("iscsi_read_write_over_tap", &taps(), || {
        let target = Target::start();
        with_port(|port| {
            let (mut rx, mut tx) = pdu_buffers();
            let config = client_config(SessionConfig::new(INITIATOR, TARGET, ISID));
            let buffers = Buffers {
                rx: &mut rx,
                tx: &mut tx,
            };
            let mut client = Client::connect(port, &config, buffers).expect("login");
            let capacity = client.read_capacity().unwrap();
            assert_eq!(capacity.block_size, 512);
            assert_eq!(capacity.blocks(), (LUN_BYTES / 512) as u64);

            // The whole LUN in one call (split into pipelined requests by the driver).
            let mut all = vec![0u8; LUN_BYTES];
            client.read(0, &mut all).unwrap();
            assert!(all == target.data, "LUN bytes differ from the backing file");

            // An odd range: 3 blocks at LBA 12345.
            let mut few = vec![0u8; 3 * 512];
            client.read(12345, &mut few).unwrap();
            assert_eq!(few, target.data[12345 * 512..12348 * 512]);

            // 1 MiB write: far beyond the first burst, so tgtd must solicit it with R2Ts.
            let pattern: Vec<u8> = (0..1 << 20).map(|i| (i % 253) as u8).collect();
            client.write(2048, &pattern).unwrap();
            client.sync_cache().unwrap();
            let mut back = vec![0u8; 1 << 20];
            client.read(2048, &mut back).unwrap();
            assert!(back == pattern, "read-back differs from what was written");
            let file = std::fs::read(&target.backing).unwrap();
            assert!(
                file[2048 * 512..2048 * 512 + (1 << 20)] == pattern[..],
                "backing file differs from what was written"
            );
            client.logout().unwrap();
        });
    });
}

#[test]
fn iscsi_chap_and_digests_over_tap() {
    run_in_netns("iscsi_chap_and_digests_over_tap", &taps(), || {
        let target = Target::start();
        target.admin(&[
            "--op",
            "new",
            "--mode",
            "account",
            "--user",
            CHAP_USER,
            "--password",
            CHAP_SECRET,
        ]);
        target.admin(&[
            "--op", "bind", "--mode", "account", "--tid", "1", "--user", CHAP_USER,
        ]);
        for key in ["HeaderDigest", "DataDigest"] {
            target.admin(&[
                "--op", "update", "--mode", "target", "--tid", "1", "-n", key, "-v", "CRC32C",
            ]);
        }
        with_port(|port| {
            let chap = |secret: &'static str| Chap {
                user: CHAP_USER,
                secret: secret.as_bytes(),
                mutual: None,
                required: true,
                algorithms: &[5],
                digest: &StandardChap,
            };
            // A wrong secret is refused by tgtd with status 0x0201.
            let (mut rx, mut tx) = pdu_buffers();
            let mut session = SessionConfig::new(INITIATOR, TARGET, ISID);
            session.chap = Some(chap("wrong-secret-16c"));
            session.params.header_digest = true;
            session.params.data_digest = true;
            let mut config = client_config(session);
            config.max_reconnects = 0;
            let buffers = Buffers {
                rx: &mut rx,
                tx: &mut tx,
            };
            let refused = Client::connect(port, &config, buffers);
            assert!(
                matches!(refused, Err(Error::Login(LoginError::AuthenticationFailed))),
                "{:?}",
                refused.err()
            );

            let (mut rx, mut tx) = pdu_buffers();
            session.chap = Some(chap(CHAP_SECRET));
            let config = client_config(session);
            let buffers = Buffers {
                rx: &mut rx,
                tx: &mut tx,
            };
            let mut client = Client::connect(port, &config, buffers).expect("CHAP login");
            let digests = client.session().negotiated().digests;
            assert!(digests.header && digests.data, "{digests:?}");
            client.read_capacity().unwrap();
            let mut first = vec![0u8; 2 << 20];
            client.read(0, &mut first).unwrap();
            assert!(
                first == target.data[..2 << 20],
                "bytes differ with digests on"
            );
            client.logout().unwrap();
        });
    });
}

#[test]
fn iscsi_reconnects_over_tap() {
    run_in_netns("iscsi_reconnects_over_tap", &taps(), || {
        let target = Target::start();
        with_port(|port| {
            let (mut rx, mut tx) = pdu_buffers();
            let config = client_config(SessionConfig::new(INITIATOR, TARGET, ISID));
            let buffers = Buffers {
                rx: &mut rx,
                tx: &mut tx,
            };
            let mut client = Client::connect(port, &config, buffers).expect("login");
            client.read_capacity().unwrap();
            let mut all = vec![0u8; LUN_BYTES];
            let mut dropped = false;
            client
                .read_with_progress(0, &mut all, &mut |done| {
                    // Halfway through, tgtd drops the connection under the driver's feet.
                    if !dropped && done >= (LUN_BYTES / 2) as u64 {
                        dropped = true;
                        target.drop_connections();
                        std::thread::sleep(Duration::from_millis(50));
                    }
                })
                .expect("read across a dropped connection");
            assert!(dropped, "the connection was never dropped");
            assert!(all == target.data, "bytes differ after reconnect");
            client.logout().unwrap();
        });
    });
}
