//! `cargo xtask <command>`: the project's automation, so that a fresh machine needs only cargo.
//!
//! - `setup`: install the Debian packages, rustup targets and components the tests and demos need.
//! - `test`: set up, then run every check and test (this is what CI runs).
//! - `demo`: set up, then run the main job end to end.
//! - `e2e`: set up, then boot `uefi-sanboot` in QEMU/OVMF and check the chain-loaded payload.
//! - `bench`: set up, then compare `iscsi-boot bench` with libiscsi's `iscsi-perf` on one tgtd
//!   (writes `docs/BENCHMARKS.md`; not part of CI).
//! - `fuzz`: run every cargo-fuzz target for `--seconds N` each and report executions.
//! - `soak`: mixed verified reads and writes through a connection-dropping proxy for `--minutes N`.

use std::process::{Command, ExitCode};

mod bench;
mod ci;
mod e2e;
mod fuzz;
mod setup;
mod soak;
mod tgtd;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(),
        Some("test") => setup::run().and_then(|()| ci::run()),
        Some("demo") => setup::run().and_then(|()| demo()),
        Some("e2e") => setup::run().and_then(|()| e2e::run(rest)),
        Some("bench") => setup::run().and_then(|()| bench::run(rest)),
        Some("fuzz") => fuzz::run(rest),
        Some("soak") => setup::run().and_then(|()| soak::run(rest)),
        _ => {
            eprintln!("usage: cargo xtask <setup|test|demo|e2e|bench|fuzz|soak>");
            eprintln!("       cargo xtask bench [--seconds N] [--rounds N] [--lun-mib N]");
            eprintln!("                         [--only {}]", bench::part_names());
            eprintln!("       cargo xtask fuzz [--seconds N] [--target NAME] [--cmin]");
            eprintln!("       cargo xtask soak [--minutes N] [--seed N]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command from the workspace root, failing with its name when it fails.
pub(crate) fn run(program: &str, args: &[&str]) -> Result<(), String> {
    run_with(Command::new(program).args(args))
}

/// Runs a prepared command from the workspace root, failing with its name when it fails.
pub(crate) fn run_with(cmd: &mut Command) -> Result<(), String> {
    let shown = show(cmd);
    eprintln!("+ {shown}");
    let status = cmd
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed: {status}"))
    }
}

/// Runs a command with its output captured; a failure becomes one line naming the command and
/// quoting its stderr.
pub(crate) fn run_quiet(cmd: &mut Command) -> Result<(), String> {
    let shown = show(cmd);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{shown}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A command line as a user would type it.
pub(crate) fn show(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The workspace root (the parent of this crate's manifest directory).
pub(crate) fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target/` in the workspace).
pub(crate) fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Builds `packages` for x86_64-unknown-uefi with the `firmware` profile (the UEFI images as
/// shipped) and `features`, and returns the folder that holds the `.efi` files.
pub(crate) fn build_firmware(
    packages: &[&str],
    features: Option<&str>,
) -> Result<std::path::PathBuf, String> {
    let mut args = vec![
        "build",
        "--profile",
        "firmware",
        "--target",
        "x86_64-unknown-uefi",
    ];
    for package in packages {
        args.extend(["-p", package]);
    }
    if let Some(features) = features {
        args.extend(["--features", features]);
    }
    run("cargo", &args)?;
    Ok(target_dir().join("x86_64-unknown-uefi/firmware"))
}

/// The main job end to end: a two-port QEMU/OVMF machine sanboots from a tgtd LUN over its second
/// port, installs the iBFT and chain-loads a payload that checks the table.
fn demo() -> Result<(), String> {
    e2e::run(&[
        "--backend".into(),
        "iscsi".into(),
        "--scenario".into(),
        "boot".into(),
    ])
}
