//! `cargo xtask soak [--minutes N] [--seed N]`: runs the soak test (`tests/tests/hostile_soak.rs`:
//! seeded random reads and writes verified against a shadow copy, through a proxy that drops the
//! connection every few seconds, one tgtd restart) for N minutes in release mode and prints its
//! figures: operations, reconnects, mismatches, hangs. CI runs the same test for 60 seconds.

use crate::run_with;
use std::process::Command;

/// Runs the soak for the requested time.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut minutes = 10u64;
    let mut seed = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{a} needs a number"))
        };
        match a.as_str() {
            "--minutes" => minutes = value()?,
            "--seed" => seed = Some(value()?),
            other => return Err(format!("unknown soak option {other}")),
        }
    }
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args([
        "test",
        "--release",
        "-p",
        "iscsi-boot-tests",
        "--test",
        "hostile_soak",
        "--",
        "--nocapture",
    ])
    .env("ISCSI_BOOT_SOAK_SECONDS", (minutes * 60).to_string())
    .env("ISCSI_BOOT_REQUIRE_PEERS", "1");
    if let Some(seed) = seed {
        cmd.env("ISCSI_BOOT_SOAK_SEED", seed.to_string());
    }
    run_with(&mut cmd)
}
