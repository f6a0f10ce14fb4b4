//! `cargo xtask test`: every check CI runs, each step timed, with a summary at the end.

use std::process::Command;
use std::time::{Duration, Instant};

/// Tells the integration tests that their peers (tgtd, QEMU, a kernel, root) must be there: a
/// missing one fails the test instead of skipping it. CI is root and `setup` installed the rest.
const REQUIRE_PEERS_ENV: &str = "ISCSI_BOOT_REQUIRE_PEERS";

/// The crates that must build without `std` for firmware.
const NO_STD_CRATES: &[&str] = &["ibft", "initiator", "netstack-adapter"];
const UEFI_TARGET: &str = "x86_64-unknown-uefi";

struct Step {
    name: &'static str,
    command: Command,
}

fn cargo(args: &[&str]) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.args(args);
    c
}

fn steps() -> Vec<Step> {
    let mut steps = vec![
        Step {
            name: "fmt",
            command: cargo(&["fmt", "--all", "--check"]),
        },
        Step {
            name: "clippy",
            command: cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        },
    ];
    let mut test = cargo(&["test", "--workspace"]);
    test.env(REQUIRE_PEERS_ENV, "1");
    steps.push(Step {
        name: "test",
        command: test,
    });
    // The workspace test unifies features; the firmware builds leave the linter out.
    steps.push(Step {
        name: "ibft tests without the linter",
        command: cargo(&["test", "-p", "ibft", "--no-default-features"]),
    });
    steps.push(Step {
        name: "initiator unit tests with the small CRC table",
        command: cargo(&[
            "test",
            "-p",
            "initiator",
            "--lib",
            "--features",
            "small-crc",
        ]),
    });
    let mut uefi = cargo(&["build", "--no-default-features", "--target", UEFI_TARGET]);
    for krate in NO_STD_CRATES {
        uefi.args(["-p", krate]);
    }
    steps.push(Step {
        name: "no_std build (UEFI)",
        command: uefi,
    });
    if fuzz_has_targets() {
        // Plain `cargo build` on stable proves the targets compile; fuzzing needs nightly.
        steps.push(Step {
            name: "fuzz targets build",
            command: cargo(&["build", "--manifest-path", "fuzz/Cargo.toml", "--bins"]),
        });
    }
    steps
}

/// Whether `fuzz/Cargo.toml` declares at least one target.
fn fuzz_has_targets() -> bool {
    std::fs::read_to_string(crate::workspace_root().join("fuzz/Cargo.toml"))
        .map(|manifest| manifest.lines().any(|l| l.trim() == "[[bin]]"))
        .unwrap_or(false)
}

/// `git status --porcelain` of the workspace, or `None` outside a git checkout.
fn tree_status() -> Option<String> {
    let out = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(crate::workspace_root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Fails when the checks changed tracked files (a test rewriting a fixture or a lock file).
fn tree_unchanged(before: Option<&str>) -> Result<(), String> {
    match (before, tree_status()) {
        (Some(before), Some(after)) if before != after => Err(format!(
            "the checks changed tracked files:\n{}",
            after
                .lines()
                .filter(|l| !before.lines().any(|b| b == *l))
                .collect::<Vec<_>>()
                .join("\n")
        )),
        _ => Ok(()),
    }
}

/// Runs every step (a failure does not hide the results of later ones), prints the summary, and
/// fails if any step failed.
pub fn run() -> Result<(), String> {
    let started = Instant::now();
    let before = tree_status();
    let mut results: Vec<(&str, Duration, Result<(), String>)> = Vec::new();
    for mut step in steps() {
        eprintln!("\n==> {}", step.name);
        let t = Instant::now();
        let outcome = crate::run_with(&mut step.command);
        results.push((step.name, t.elapsed(), outcome));
    }
    let t = Instant::now();
    let outcome = tree_unchanged(before.as_deref());
    results.push(("tracked files unchanged", t.elapsed(), outcome));
    eprintln!("\n==> summary");
    for (name, took, outcome) in &results {
        let verdict = if outcome.is_ok() { "ok" } else { "FAILED" };
        eprintln!("  {verdict:>6}  {:>7.1} s  {name}", took.as_secs_f64());
    }
    eprintln!("  total   {:>7.1} s", started.elapsed().as_secs_f64());
    let failed: Vec<String> = results
        .into_iter()
        .filter_map(|(_, _, outcome)| outcome.err())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("\n"))
    }
}
