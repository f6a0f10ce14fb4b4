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
    // Decompressing kernel modules for the Linux guest (Debian 13 ships them as .ko.xz).
    "xz-utils",
    "zstd",
    "gzip",
    // libfuzzer-sys compiles libFuzzer (C++) when the fuzz targets are built.
    "g++",
];

/// Rustup targets the firmware builds use.
const TARGETS: &[&str] = &["x86_64-unknown-uefi"];

/// Rustup components CI uses (a `minimal` rustup profile lacks them).
const COMPONENTS: &[&str] = &["rustfmt", "clippy"];

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
            let mut cmd = Command::new(program);
            cmd.args(rest).env("DEBIAN_FRONTEND", "noninteractive");
            crate::run_with(&mut cmd)
        };
        apt(&["update", "-q"])?;
        let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
        install.extend(missing.iter().copied());
        apt(&install)?;
    }
    rustup_add("target", TARGETS)?;
    rustup_add("component", COMPONENTS)
}

/// Adds the rustup targets or components (`kind`) that are not installed yet.
fn rustup_add(kind: &str, wanted: &[&str]) -> Result<(), String> {
    let have = Command::new("rustup")
        .args([kind, "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup (needed for {}): {e}", wanted.join(", ")))?;
    let have = String::from_utf8_lossy(&have.stdout);
    // Components are listed with their host triple (`clippy-x86_64-unknown-linux-gnu`).
    let installed = |w: &str| {
        have.lines()
            .map(str::trim)
            .any(|l| l == w || l.strip_prefix(w).is_some_and(|rest| rest.starts_with('-')))
    };
    let missing: Vec<&str> = wanted.iter().copied().filter(|w| !installed(w)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut args = vec![kind, "add"];
    args.extend(missing);
    crate::run("rustup", &args)
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
