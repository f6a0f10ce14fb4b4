//! The `uefi` feature in real firmware: builds `uefi-probe/` for x86_64-unknown-uefi, boots it
//! in QEMU with OVMF and two virtio-net ports, and checks what it reports on the serial port.
//!
//! Expected values come from the QEMU command line (MACs, PCI slots) and QEMU's user-mode
//! network (DHCP hands out .15, router and DHCP server .2, DNS .3). The probe's TCP peer is a
//! listener on the host's 127.0.0.1, reached through the network's host alias 10.0.2.2.
//! Skips loudly when QEMU or OVMF is missing.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

fn skip(reason: &str) {
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !!! SKIPPING uefi_snp_in_ovmf: {reason}\n\
         !!! Needs qemu-system-x86, ovmf and the x86_64-unknown-uefi target (CI has them).\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
}

/// Builds the probe application and returns the path of its .efi file.
fn build_probe(work: &Path) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/uefi-probe/Cargo.toml");
    let target_dir = work.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--target",
            "x86_64-unknown-uefi",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target_dir)
        .status()
        .expect("running cargo");
    assert!(status.success(), "building the UEFI probe failed");
    target_dir.join("x86_64-unknown-uefi/debug/uefi-snp-probe.efi")
}

fn field<'a>(log: &'a str, key: &str) -> Option<&'a str> {
    let prefix = format!("probe.{key}: ");
    log.lines()
        .find_map(|l| l.trim_end_matches('\r').strip_prefix(prefix.as_str()))
}

#[test]
fn uefi_snp_in_ovmf() {
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
    let run = work.join(format!("run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&run);
    let boot_dir = run.join("esp/EFI/BOOT");
    std::fs::create_dir_all(&boot_dir).unwrap();
    std::fs::copy(build_probe(&work), boot_dir.join("BOOTX64.EFI")).unwrap();
    std::fs::copy(OVMF_VARS, run.join("vars.fd")).unwrap();

    // Echo one line back to the probe.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::fs::write(run.join("esp/port.txt"), port.to_string()).unwrap();
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
        .args([
            "-device",
            "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:77,addr=0x5,romfile=",
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

    let (_peer, line) = echo.join().unwrap();
    assert_eq!(line, "hello from smoltcp on SNP\n");
    assert_eq!(field(&log, "reply"), Some("hello from smoltcp on SNP"));
    let _ = std::fs::remove_dir_all(&run);
}
