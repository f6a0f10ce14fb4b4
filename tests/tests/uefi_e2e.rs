//! End to end under firmware: `cargo xtask e2e` boots `uefi-sanboot` in QEMU + OVMF with two
//! NICs; it logs in to a tgtd LUN over the second port, attaches it as a disk, installs the iBFT
//! and chain-loads the payload, which must find a correct iBFT (see `xtask/src/e2e.rs`).
//!
//! Runs the iSCSI backend's scenarios (boot with mutual CHAP and both ports in the iBFT; only
//! the SAN port with one-way CHAP; an idle session kept alive while tgtd pings it; a wrong
//! CHAP secret that must fail fast; missing boot file;
//! failover to the secondary target; Debian's kernel and an initramfs booted from the LUN,
//! whose `iscsi_ibft` must describe this machine): a `firmware`-profile build of both UEFI apps (cargo
//! releases its build lock before it runs tests, so the nested cargo shares the target
//! directory), then one QEMU boot of 10-35 s per scenario. Where tgtd cannot run (not installed, not root) the RAM-disk backend's
//! boot scenario runs instead.
//! Skipped, with a message, where QEMU, OVMF or tgtd is not installed (`cargo xtask setup`
//! installs them; CI always has them); the iSCSI part needs root for tgtd.

use iscsi_boot_tests::linux_vm;
use std::path::{Path, PathBuf};
use std::process::Command;

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Debian's kernel and an initramfs that loads `virtio_pci`, `virtio_net` and `iscsi_ibft` and
/// reports `/sys/firmware/ibft` (with each record's interface address), for the `linux`
/// scenario; `None` (with a message) where the kernel or busybox is missing.
fn linux_boot_files() -> Option<(PathBuf, PathBuf)> {
    if !linux_vm::available_or_skip("uefi e2e scenario linux") {
        return None;
    }
    let kernel = linux_vm::Kernel::find().expect("available_or_skip found it");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("uefi-e2e-linux");
    std::fs::create_dir_all(&dir).expect("create the initramfs directory");
    let initrd = dir.join("initrd.img");
    linux_vm::build_initramfs_with(&kernel, &["virtio_pci", "virtio_net"], &initrd)
        .expect("build the initramfs");
    Some((kernel.image, initrd))
}

fn xtask_e2e(args: &[&str]) -> String {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives one level below the workspace root");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "run",
            "--quiet",
            "--package",
            "xtask",
            "--",
            "e2e",
            "--timeout",
            "120",
        ])
        .args(args)
        .current_dir(workspace)
        .output()
        .expect("cargo runs");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "cargo xtask e2e {args:?} failed:\n{log}"
    );
    log
}

#[test]
fn sanboot_attaches_disk_installs_ibft_and_chain_loads_payload() {
    if !on_path("qemu-system-x86_64") || !Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd").exists() {
        eprintln!("skipped: qemu-system-x86_64 or OVMF not installed (run `cargo xtask setup`)");
        return;
    }
    let tgtd = Path::new("/usr/sbin/tgtd").exists() || on_path("tgtd");
    if tgtd && is_root() {
        let linux = linux_boot_files();
        let mut args = vec!["--backend", "iscsi"];
        if let Some((kernel, initrd)) = &linux {
            args.extend([
                "--linux",
                kernel.to_str().expect("UTF-8 path"),
                initrd.to_str().expect("UTF-8 path"),
            ]);
        }
        let log = xtask_e2e(&args);
        if linux.is_some() {
            assert!(
                log.contains("e2e: scenario linux: OK"),
                "iscsi scenario linux did not pass:\n{log}"
            );
        }
        for scenario in [
            "boot",
            "san-only-one-way-chap",
            "idle",
            "wrong-secret",
            "missing-boot-file",
            "failover",
        ] {
            assert!(
                log.contains(&format!("e2e: scenario {scenario}: OK")),
                "iscsi scenario {scenario} did not pass:\n{log}"
            );
        }
    } else {
        eprintln!("iSCSI backend skipped (needs tgtd and root); RAM-disk backend instead");
        let log = xtask_e2e(&["--backend", "ram", "--scenario", "boot"]);
        assert!(
            log.contains("e2e: scenario boot: OK"),
            "ram scenario boot did not pass:\n{log}"
        );
    }
}
