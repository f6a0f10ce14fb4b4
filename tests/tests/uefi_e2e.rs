//! End to end under firmware: `cargo xtask e2e` boots `uefi-sanboot` in QEMU + OVMF with two
//! NICs, and the chain-loaded payload must find a correct iBFT (see `xtask/src/e2e.rs`).
//!
//! Takes about a minute from cold (release build of both UEFI apps in a separate target
//! directory, so the nested cargo does not wait on this test's own build lock; then ~6 s of QEMU).
//! Skipped, with a message, where QEMU or OVMF is not installed (`cargo xtask setup` installs
//! them; CI always has them).

use std::path::Path;
use std::process::Command;

fn have_qemu_and_ovmf() -> bool {
    let qemu = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("qemu-system-x86_64").is_file()))
        .unwrap_or(false);
    qemu && Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd").exists()
}

#[test]
fn sanboot_attaches_disk_installs_ibft_and_chain_loads_payload() {
    if !have_qemu_and_ovmf() {
        eprintln!("skipped: qemu-system-x86_64 or OVMF not installed (run `cargo xtask setup`)");
        return;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives one level below the workspace root");
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("uefi-e2e");
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
            "90",
        ])
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .expect("cargo runs");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cargo xtask e2e failed:\n{log}");
    for scenario in ["boot", "missing-boot-file"] {
        assert!(
            log.contains(&format!("e2e: scenario {scenario}: OK")),
            "scenario {scenario} did not pass:\n{log}"
        );
    }
}
