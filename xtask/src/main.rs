//! `cargo xtask <command>`: the project's automation, so that a fresh machine needs only cargo.
//!
//! - `setup`: install the Debian packages and rustup targets the tests and demos need.
//! - `test`: set up, then run every check and test (this is what CI runs).
//! - `demo`: set up, then run the main job end to end.
//! - `e2e`: set up, then boot `uefi-sanboot` in QEMU/OVMF and check the chain-loaded payload.

use std::process::{Command, ExitCode};

mod e2e;
mod setup;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(),
        Some("test") => setup::run().and_then(|()| test()),
        Some("demo") => setup::run().and_then(|()| demo()),
        Some("e2e") => setup::run().and_then(|()| e2e::run(&args[1..])),
        _ => {
            eprintln!("usage: cargo xtask <setup|test|demo|e2e>");
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
    eprintln!("+ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed: {status}", args.join(" ")))
    }
}

/// The workspace root (the parent of this crate's manifest directory).
pub(crate) fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn test() -> Result<(), String> {
    run("cargo", &["fmt", "--all", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run("cargo", &["test", "--workspace"])?;
    run(
        "cargo",
        &[
            "build",
            "-p",
            "ibft",
            "-p",
            "initiator",
            "--target",
            "x86_64-unknown-uefi",
        ],
    )?;
    Ok(())
}

fn demo() -> Result<(), String> {
    Err("the sanboot demo is not built yet".into())
}
