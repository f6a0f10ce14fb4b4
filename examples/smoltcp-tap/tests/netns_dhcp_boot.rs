//! `smoltcp-tap --dhcp` the way a sanboot uses it: dnsmasq in a fresh network namespace leases
//! an address and hands out the root path (option 17) naming a tgtd LUN; the program logs in
//! through that root path, reads the LUN into a file, and the file must equal tgtd's backing
//! file. Needs root, /dev/net/tun, dnsmasq and tgtd; elsewhere it says loudly that it skipped.

#[path = "../../../netstack-adapter/tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use support::{Peer, TapSpec, inner_taps, run_in_netns, wait_for_tcp_listener};

const TARGET: &str = "iqn.2026-11.test.netns:root";
const LUN_BYTES: usize = 4 << 20;

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

#[test]
fn dhcp_root_path_read() {
    let taps = [TapSpec {
        host_cidr: "10.77.0.1/24",
        host_cidr6: None,
    }];
    run_in_netns("dhcp_root_path_read", &taps, || {
        let dir = std::env::temp_dir().join(format!("smoltcp-tap-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let backing = dir.join("lun.img");
        let data: Vec<u8> = (0..LUN_BYTES).map(|i| (i * 31 / 7) as u8).collect();
        std::fs::write(&backing, &data).unwrap();

        let control = (std::process::id() % 30000 + 1000).to_string();
        let tgtd = Command::new("tgtd")
            .args(["-f", "-C", &control, "--iscsi", "portal=10.77.0.1:3260"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting tgtd (package tgt)");
        let _tgtd = Peer(tgtd);
        wait_for_tcp_listener(3260);
        let backing_path = backing.to_str().unwrap();
        tgtadm(
            &control,
            &[
                "--op", "new", "--mode", "target", "--tid", "1", "-T", TARGET,
            ],
        );
        tgtadm(
            &control,
            &[
                "--op",
                "new",
                "--mode",
                "logicalunit",
                "--tid",
                "1",
                "--lun",
                "1",
                "-b",
                backing_path,
            ],
        );
        tgtadm(
            &control,
            &[
                "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL",
            ],
        );

        let tap = &inner_taps()[0];
        let dnsmasq = Command::new("dnsmasq")
            .args([
                "--no-daemon",
                "--conf-file=/dev/null",
                "--port=0",
                "--user=root",
                "--bind-interfaces",
                "--no-ping",
                "--dhcp-authoritative",
            ])
            .arg(format!("--interface={tap}"))
            .arg(format!("--dhcp-leasefile={}", dir.join("leases").display()))
            .arg(format!("--pid-file={}", dir.join("pid").display()))
            .args([
                "--dhcp-range=10.77.0.50,10.77.0.59,255.255.255.0,1h",
                "--dhcp-option=option:router,10.77.0.1",
                &format!("--dhcp-option=17,iscsi:10.77.0.1::3260:1:{TARGET}"),
            ])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting dnsmasq (package dnsmasq-base)");
        let _dnsmasq = Peer(dnsmasq);
        // dnsmasq is up once it listens on UDP port 67 (0x0043).
        let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !std::fs::read_to_string("/proc/net/udp")
            .unwrap_or_default()
            .lines()
            .any(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|a| a.ends_with(":0043"))
            })
        {
            assert!(std::time::Instant::now() < end, "dnsmasq did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }

        let output = dir.join("out.img");
        let blocks = (LUN_BYTES / 512).to_string();
        let run = Command::new(env!("CARGO_BIN_EXE_smoltcp-tap"))
            .args(["--tap", tap, "--dhcp", "--blocks", &blocks, "--output"])
            .arg(&output)
            .output()
            .expect("running smoltcp-tap");
        let stdout = String::from_utf8_lossy(&run.stdout);
        eprintln!("{stdout}{}", String::from_utf8_lossy(&run.stderr));
        assert!(run.status.success(), "smoltcp-tap failed");
        assert!(stdout.contains("nic.origin: Dhcp"));
        assert!(stdout.contains("nic.dhcp_server: 10.77.0.1"));
        assert!(stdout.contains(&format!("root_path: iscsi:10.77.0.1::3260:1:{TARGET}")));
        let read = std::fs::read(&output).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            read == data,
            "the file read differs from the LUN's backing file"
        );
    });
}
