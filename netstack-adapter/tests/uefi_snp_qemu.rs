//! The `uefi` feature in real firmware: builds `uefi-probe/` for x86_64-unknown-uefi, boots it
//! in QEMU with OVMF and two virtio-net ports, and checks what it reports on the serial port.
//!
//! Expected values come from the QEMU command line (MACs, PCI slots) and QEMU's user-mode
//! network (DHCP hands out .15, router and DHCP server .2, DNS .3). The probe's TCP peer is a
//! listener and a tgtd on the host's 127.0.0.1, reached through the network's host alias
//! 10.0.2.2; the probe logs in to tgtd with the initiator and reads the first MiB of a LUN.
//! Skips loudly when QEMU or OVMF is missing.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

fn skip(reason: &str) {
    // CI sets this: there a missing peer is a failure, not a skip.
    assert!(
        std::env::var_os("ISCSI_BOOT_REQUIRE_PEERS").is_none(),
        "uefi_snp_in_ovmf: {reason}, and ISCSI_BOOT_REQUIRE_PEERS is set"
    );
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !!! SKIPPING uefi_snp_in_ovmf: {reason}\n\
         !!! Needs qemu-system-x86, ovmf and the x86_64-unknown-uefi target (CI has them).\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
}

/// Builds the probe application and returns the path of its .efi file.
///
/// The probe is a workspace of its own (it only builds for UEFI). It is built from a copy in
/// `work` whose path dependencies point back into this workspace and which starts from this
/// workspace's `Cargo.lock`, so it uses the same dependency versions and nothing is written
/// into the source tree.
fn build_probe(work: &Path) -> PathBuf {
    let adapter = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = adapter
        .parent()
        .expect("netstack-adapter lives in the workspace root");
    let source = adapter.join("tests/uefi-probe");
    let copy = work.join("src-copy");
    std::fs::create_dir_all(copy.join("src")).unwrap();
    let manifest = std::fs::read_to_string(source.join("Cargo.toml"))
        .unwrap()
        .replace(
            "path = \"../../../",
            &format!("path = \"{}/", root.display()),
        )
        .replace(
            "path = \"../..\"",
            &format!("path = \"{}\"", adapter.display()),
        );
    std::fs::write(copy.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(source.join("src/main.rs"), copy.join("src/main.rs")).unwrap();
    std::fs::copy(root.join("Cargo.lock"), copy.join("Cargo.lock")).unwrap();

    let target_dir = work.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--target", "x86_64-unknown-uefi"])
        .arg("--manifest-path")
        .arg(copy.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .status()
        .expect("running cargo");
    assert!(status.success(), "building the UEFI probe failed");
    target_dir.join("x86_64-unknown-uefi/debug/uefi-snp-probe.efi")
}

/// A tgtd on 127.0.0.1 (the guest reaches it through the host alias 10.0.2.2) with a 2 MiB
/// LUN 1 of known bytes; killed on drop.
struct Tgtd {
    child: std::process::Child,
    port: u16,
    data: Vec<u8>,
    backing: PathBuf,
}

const PROBE_TARGET: &str = "iqn.2026-11.test.probe:lun";

impl Tgtd {
    fn start(dir: &Path, control_offset: u32) -> Tgtd {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let control = (std::process::id() % 20000 + 10000 + control_offset).to_string();
        let backing = dir.join("lun.img");
        let data: Vec<u8> = (0..2 << 20).map(|i: usize| (i * 13 / 5) as u8).collect();
        std::fs::write(&backing, &data).unwrap();
        let child = Command::new("tgtd")
            .args(["-f", "-C", &control, "--iscsi"])
            .arg(format!("portal=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting tgtd (package tgt)");
        let tgtd = Tgtd {
            child,
            port,
            data,
            backing,
        };
        let end = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "tgtd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let backing = tgtd.backing.to_str().unwrap().to_owned();
        for args in [
            vec![
                "--op",
                "new",
                "--mode",
                "target",
                "--tid",
                "1",
                "-T",
                PROBE_TARGET,
            ],
            vec![
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
            ],
            vec![
                "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL",
            ],
        ] {
            let out = Command::new("tgtadm")
                .args(["-C", &control, "--lld", "iscsi"])
                .args(&args)
                .output()
                .expect("running tgtadm");
            assert!(out.status.success(), "tgtadm {args:?}: {out:?}");
        }
        tgtd
    }
}

impl Drop for Tgtd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// FNV-1a (64-bit), as the probe computes it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn field<'a>(log: &'a str, key: &str) -> Option<&'a str> {
    let prefix = format!("probe.{key}: ");
    log.lines()
        .find_map(|l| l.trim_end_matches('\r').strip_prefix(prefix.as_str()))
}

/// The MAC of the probe's first port (the one on the host-reachable network).
const PROBE_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x77];

/// One TCP segment of a capture, as far as the window check needs it.
#[derive(Debug)]
struct Segment {
    from_guest: bool,
    syn: bool,
    /// The SYN carries the window-scale option.
    window_scale: bool,
    window: u16,
}

/// The TCP segments between `guest` and port `server_port` in a pcap file (as QEMU's
/// `filter-dump` writes it: classic pcap, Ethernet frames), read by offset from RFC 791/9293.
fn tcp_segments(pcap: &[u8], guest: [u8; 6], server_port: u16) -> Vec<Segment> {
    let be16 = |b: &[u8], at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    let mut out = Vec::new();
    let mut at = 24; // global header
    while at + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &pcap[at + 16..(at + 16 + caplen).min(pcap.len())];
        at += 16 + caplen;
        // IPv4 (EtherType 0x0800) carrying TCP (protocol 6).
        if frame.len() < 34 || be16(frame, 12) != 0x0800 || frame[23] != 6 {
            continue;
        }
        let Some(tcp) = frame.get(14 + usize::from(frame[14] & 0x0f) * 4..) else {
            continue;
        };
        if tcp.len() < 20 {
            continue;
        }
        let from_guest = frame[6..12] == guest;
        let (src, dst) = (be16(tcp, 0), be16(tcp, 2));
        if (from_guest && dst != server_port) || (!from_guest && src != server_port) {
            continue;
        }
        let options = tcp
            .get(20..(usize::from(tcp[12] >> 4) * 4).min(tcp.len()))
            .unwrap_or_default();
        out.push(Segment {
            from_guest,
            syn: tcp[13] & 0x02 != 0,
            window_scale: has_window_scale(options),
            window: be16(tcp, 14),
        });
    }
    out
}

/// Whether TCP options hold window scale (kind 3).
fn has_window_scale(mut options: &[u8]) -> bool {
    while let [kind, rest @ ..] = options {
        match kind {
            0 => return false,
            1 => options = rest,
            3 => return true,
            _ => match rest.first() {
                Some(&len) if len >= 2 && usize::from(len) <= options.len() => {
                    options = &options[usize::from(len)..]
                }
                _ => return false,
            },
        }
    }
    false
}

/// The first port on OVMF's own virtio-net driver (no option ROM).
#[test]
fn uefi_snp_in_ovmf() {
    run_probe("virtio", "virtio-net-pci,romfile=", 0);
}

/// The first port on an e1000 whose SNP comes from iPXE's EFI option ROM, as on many machines
/// with add-in NICs.
#[test]
fn uefi_snp_in_ovmf_ipxe_rom() {
    run_probe("e1000", "e1000", 1);
}

/// Boots the probe with `first_nic` (a `-device` model and options) on the host-reachable
/// network and a virtio-net port on an isolated one, and checks its report.
fn run_probe(name: &str, first_nic: &str, control_offset: u32) {
    if Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_err()
    {
        return skip("qemu-system-x86_64 is not installed");
    }
    if !Path::new(OVMF_CODE).exists() || !Path::new(OVMF_VARS).exists() {
        return skip("OVMF firmware is not installed");
    }
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("uefi-probe");
    let run = work.join(format!("run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&run);
    let boot_dir = run.join("esp/EFI/BOOT");
    std::fs::create_dir_all(&boot_dir).unwrap();
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    let probe = PROBE.get_or_init(|| build_probe(&work));
    std::fs::copy(probe, boot_dir.join("BOOTX64.EFI")).unwrap();
    std::fs::copy(OVMF_VARS, run.join("vars.fd")).unwrap();

    // Echo one line back to the probe.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::fs::write(run.join("esp/port.txt"), port.to_string()).unwrap();
    let tgtd = Tgtd::start(&run, control_offset);
    std::fs::write(
        run.join("esp/iscsi.txt"),
        format!("{} {PROBE_TARGET}", tgtd.port),
    )
    .unwrap();
    let echo = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let (stream, peer) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line).unwrap();
        (&stream).write_all(line.as_bytes()).unwrap();
        (peer, line)
    });

    let serial = run.join("serial.log");
    let mut qemu = Command::new("qemu-system-x86_64")
        .args([
            "-machine", "q35", "-accel", "tcg", "-m", "512", "-display", "none",
        ])
        .args(["-no-reboot", "-monitor", "none"])
        .arg("-serial")
        .arg(format!("file:{}", serial.display()))
        .arg("-drive")
        .arg(format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"))
        .arg("-drive")
        .arg(format!(
            "if=pflash,format=raw,file={}",
            run.join("vars.fd").display()
        ))
        .arg("-drive")
        .arg(format!(
            "if=none,id=esp,format=raw,file=fat:rw:{}",
            run.join("esp").display()
        ))
        .args(["-device", "virtio-blk-pci,drive=esp,bootindex=0"])
        .args(["-netdev", "user,id=n0,net=10.0.2.0/24"])
        // Port 0's frames, headers only, for the TCP window check below.
        .args([
            "-object",
            &format!(
                "filter-dump,id=cap0,netdev=n0,maxlen=128,file={}",
                run.join("port0.pcap").display()
            ),
        ])
        .args([
            "-device",
            &format!("{first_nic},netdev=n0,mac=52:54:00:12:34:77,addr=0x5"),
        ])
        .args(["-netdev", "user,id=n1,net=10.0.3.0/24,restrict=on"])
        .args([
            "-device",
            "virtio-net-pci,netdev=n1,mac=52:54:00:12:34:78,addr=0x6,romfile=",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("starting qemu");
    let end = Instant::now() + Duration::from_secs(120);
    let exited = loop {
        if let Ok(Some(_)) = qemu.try_wait() {
            break true;
        }
        if Instant::now() >= end {
            let _ = qemu.kill();
            let _ = qemu.wait();
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = String::from_utf8_lossy(&std::fs::read(&serial).unwrap_or_default()).into_owned();
    let probe_lines: Vec<&str> = log.lines().filter(|l| l.contains("probe.")).collect();
    eprintln!("{}", probe_lines.join("\n"));
    assert!(exited, "QEMU did not power off within 120 s");
    assert_eq!(field(&log, "result"), Some("ok"));

    // Two ports, one handle each (OVMF installs SNP on child handles too).
    assert_eq!(field(&log, "ports"), Some("2"));
    let ports: Vec<&str> = ["port0", "port1"]
        .iter()
        .filter_map(|k| field(&log, k))
        .collect();
    assert!(
        ports.contains(&"52:54:00:12:34:77 0000:00:05.0"),
        "{ports:?}"
    );
    assert!(
        ports.contains(&"52:54:00:12:34:78 0000:00:06.0"),
        "{ports:?}"
    );

    // The port used carries its own MAC and PCI location in its NIC value.
    assert_eq!(field(&log, "mac"), Some("52:54:00:12:34:77"));
    assert_eq!(field(&log, "pci"), Some("0000:00:05.0"));
    assert_eq!(field(&log, "nic_mac_matches"), Some("true"));
    assert_eq!(field(&log, "nic_pci_matches"), Some("true"));
    assert_eq!(field(&log, "address"), Some("10.0.2.15/24"));
    assert_eq!(field(&log, "gateway"), Some("Some(10.0.2.2)"));
    assert_eq!(field(&log, "dns0"), Some("Some(10.0.2.3)"));
    assert_eq!(field(&log, "dhcp_server"), Some("Some(10.0.2.2)"));
    assert_eq!(field(&log, "origin"), Some("Dhcp"));
    // The iBFT NIC record built from that value: same port, same lease.
    assert_eq!(
        field(&log, "ibft_nic"),
        Some("52:54:00:12:34:77 00:05.0 10.0.2.15/24 gw Some(10.0.2.2) dhcp Some(10.0.2.2)")
    );

    let (_peer, line) = echo.join().unwrap();
    assert_eq!(line, "hello from smoltcp on SNP\n");
    assert_eq!(field(&log, "reply"), Some("hello from smoltcp on SNP"));

    // The initiator over smoltcp over SNP read the LUN's first MiB exactly.
    assert_eq!(field(&log, "iscsi_capacity"), Some("4096 x 512"));
    let expected = format!("{:016x}", fnv1a(&tgtd.data[..1 << 20]));
    assert_eq!(field(&log, "iscsi_fnv"), Some(expected.as_str()));

    // The iSCSI connection advertised the probe's whole 256 KiB receive buffer, as far as the
    // 16-bit window field allows: QEMU's user network declines window scaling in its SYN-ACK
    // (RFC 7323: then neither side scales), so an empty buffer reads 65,535. With window
    // scaling it would be 256 KiB >> 3 = 32,768. Clamped to 8 segments, as smoltcp does when a
    // device reports a burst limit, it read 11,792.
    let pcap = std::fs::read(run.join("port0.pcap")).expect("port 0 capture");
    let segments = tcp_segments(&pcap, PROBE_MAC, tgtd.port);
    let syn_ack = segments
        .iter()
        .find(|s| !s.from_guest && s.syn)
        .expect("the target's SYN-ACK in the capture");
    let empty_buffer_window = if syn_ack.window_scale { 32_768 } else { 65_535 };
    let first_ack = segments
        .iter()
        .find(|s| s.from_guest && !s.syn)
        .expect("the probe's first ACK in the capture");
    assert_eq!(first_ack.window, empty_buffer_window, "{first_ack:?}");
    drop(tgtd);
    let _ = std::fs::remove_dir_all(&run);
}
