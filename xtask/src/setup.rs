//! Installs what the tests and demos need, so that nothing is assumed present on a fresh machine.

use std::process::Command;

/// Debian packages the test suite, the demos and the benchmarks use.
const PACKAGES: &[&str] = &[
    "tgt",
    "libiscsi-bin",
    "qemu-system-x86",
    "qemu-utils",
    "qemu-block-extra",
    "ovmf",
    "linux-image-amd64",
    "busybox-static",
    "mtools",
    "gdisk",
    "dnsmasq-base",
    "iproute2",
    "cpio",
    "ipxe",
];

/// Rustup targets the firmware builds use.
const TARGETS: &[&str] = &["x86_64-unknown-uefi"];

/// Installs missing Debian packages and rustup targets.
pub fn run() -> Result<(), String> {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if !missing.is_empty() {
        let sudo = !is_root();
        let apt = |args: &[&str]| {
            let mut all: Vec<&str> = Vec::new();
            if sudo {
                all.push("apt-get");
            }
            all.extend_from_slice(args);
            let (program, rest) = if sudo {
                ("sudo", &all[..])
            } else {
                ("apt-get", args)
            };
            crate::run(program, rest)
        };
        apt(&["update", "-q"])?;
        let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
        install.extend(missing.iter().copied());
        apt(&install)?;
    }
    let have = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    let have = String::from_utf8_lossy(&have.stdout);
    for target in TARGETS {
        if !have.lines().any(|l| l.trim() == *target) {
            crate::run("rustup", &["target", "add", target])?;
        }
    }
    Ok(())
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
