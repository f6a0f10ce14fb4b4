//! `cargo xtask fuzz [--seconds N] [--target NAME] [--cmin]`: runs every cargo-fuzz target in
//! `fuzz/` for N seconds each (nightly; installs cargo-fuzz if missing), keeps new interesting
//! inputs in `fuzz/corpus/<target>/`, optionally minimises the corpora, and reports executions
//! per target. A crash fails the run and leaves its input in `fuzz/artifacts/<target>/`.

use crate::{run_with, show, workspace_root};
use std::path::Path;
use std::process::Command;

/// Options parsed from the command line.
struct Options {
    seconds: u64,
    only: Option<String>,
    cmin: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        seconds: 60,
        only: None,
        cmin: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                o.seconds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--seconds needs a number")?;
            }
            "--target" => o.only = Some(it.next().ok_or("--target needs a name")?.clone()),
            "--cmin" => o.cmin = true,
            other => return Err(format!("unknown fuzz option {other}")),
        }
    }
    Ok(o)
}

/// The fuzz targets: one file per target in `fuzz/fuzz_targets/`.
pub(crate) fn targets() -> Result<Vec<String>, String> {
    let dir = workspace_root().join("fuzz/fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            if p.extension()? != "rs" {
                return None;
            }
            Some(p.file_stem()?.to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    Ok(names)
}

fn cargo_fuzz(args: &[&str]) -> Command {
    let mut c = Command::new("cargo");
    c.arg("+nightly").arg("fuzz").args(args);
    c.current_dir(workspace_root());
    c
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = cargo_fuzz(&["--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    run_with(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}

/// One target's figures from libFuzzer's final statistics.
#[derive(Debug, Default)]
struct Figures {
    executions: u64,
    per_second: u64,
    corpus_files: usize,
}

/// Reads `stat::NAME: VALUE` lines that `-print_final_stats=1` writes.
fn stat(log: &str, name: &str) -> u64 {
    log.lines()
        .filter_map(|l| l.strip_prefix(&format!("stat::{name}:")))
        .filter_map(|v| v.trim().parse().ok())
        .next_back()
        .unwrap_or(0)
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.filter_map(|e| e.ok()).count())
}

fn fuzz_one(name: &str, seconds: u64, cmin: bool) -> Result<Figures, String> {
    let corpus = workspace_root().join("fuzz/corpus").join(name);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let max_time = format!("-max_total_time={seconds}");
    let mut cmd = cargo_fuzz(&[
        "run",
        name,
        "--",
        &max_time,
        "-print_final_stats=1",
        "-max_len=65536",
        "-rss_limit_mb=1024",
        "-timeout=5",
    ]);
    eprintln!("+ {}", show(&cmd));
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start cargo fuzz: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        for l in tail.iter().rev() {
            eprintln!("{l}");
        }
        return Err(format!(
            "fuzz target {name} failed (crash input in fuzz/artifacts/{name}/)"
        ));
    }
    if cmin {
        run_with(&mut cargo_fuzz(&["cmin", name]))?;
    }
    Ok(Figures {
        executions: stat(&log, "number_of_executed_units"),
        per_second: stat(&log, "average_exec_per_sec"),
        corpus_files: files_in(&corpus),
    })
}

/// Runs the fuzzers and prints a table of executions per target.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    ensure_cargo_fuzz()?;
    let mut table = Vec::new();
    for name in targets()? {
        if options.only.as_ref().is_some_and(|o| *o != name) {
            continue;
        }
        let f = fuzz_one(&name, options.seconds, options.cmin)?;
        eprintln!(
            "{name}: {} executions ({} /s), corpus {} files",
            f.executions, f.per_second, f.corpus_files
        );
        table.push((name, f));
    }
    println!("| target | seconds | executions | exec/s | corpus files |");
    println!("|---|---:|---:|---:|---:|");
    for (name, f) in &table {
        println!(
            "| {name} | {} | {} | {} | {} |",
            options.seconds, f.executions, f.per_second, f.corpus_files
        );
    }
    Ok(())
}
