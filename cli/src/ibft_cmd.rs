//! `iscsi-boot ibft ...`: build, dump and lint iBFT tables.
//!
//! Exit codes: `build` and `dump` 0 on success; `lint` 0 when clean, 1 when any finding is
//! an error, 3 when there are only warnings; every command 2 when its input cannot be read
//! or understood (one-line message on stderr).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand};
use ibft::{Finding, Severity, Table};

mod config;
mod json;
mod root_path;
mod system;

/// Where a table comes from.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["file", "system"])))]
pub struct Source {
    /// The table file.
    file: Option<PathBuf>,
    /// Read the running machine's table from /sys/firmware/acpi/tables.
    #[arg(long)]
    system: bool,
    /// Where sysfs is mounted.
    #[arg(long, env = "ISCSI_BOOT_SYSFS", default_value = "/sys", hide = true)]
    sysfs: PathBuf,
}

/// The `ibft` subcommands.
#[derive(Debug, Subcommand)]
pub enum IbftCommand {
    /// Build a table from a TOML description.
    Build {
        /// The TOML description.
        #[arg(long)]
        config: PathBuf,
        /// Where to write the table.
        #[arg(long)]
        output: PathBuf,
    },
    /// Print a table; broken tables are decoded leniently and shown with their problems.
    Dump {
        #[command(flatten)]
        source: Source,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Report defects, one per line: exit 0 clean, 1 errors, 3 only warnings.
    Lint {
        #[command(flatten)]
        source: Source,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Input that cannot be read or understood.
const EXIT_INPUT: u8 = 2;
/// Lint found only warnings.
const EXIT_WARNINGS: u8 = 3;

/// Runs an `ibft` subcommand.
pub fn run(cmd: IbftCommand) -> ExitCode {
    let result = match cmd {
        IbftCommand::Build { config, output } => build(&config, &output),
        IbftCommand::Dump { source, json } => dump(&source, json),
        IbftCommand::Lint { source, json } => lint(&source, json),
    };
    result.unwrap_or_else(|e| {
        eprintln!("iscsi-boot: {e}");
        ExitCode::from(EXIT_INPUT)
    })
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn build(config: &Path, output: &Path) -> Result<ExitCode, String> {
    let text = String::from_utf8(read(config)?)
        .map_err(|_| format!("{}: not UTF-8 text", config.display()))?;
    let cfg = config::parse(&text).map_err(|e| format!("{}: {e}", config.display()))?;
    let bytes = cfg
        .build()
        .map_err(|e| format!("{}: {e}", config.display()))?;
    fs::write(output, &bytes).map_err(|e| format!("{}: {e}", output.display()))?;
    // The builder guarantees structure; report what consumers may still trip over.
    ibft::lint(&bytes, &mut |f: Finding| eprintln!("iscsi-boot: note: {f}"));
    eprintln!(
        "iscsi-boot: wrote {} bytes to {}",
        bytes.len(),
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn load(source: &Source) -> Result<(String, Vec<u8>), String> {
    match &source.file {
        Some(f) => Ok((f.display().to_string(), read(f)?)),
        None => system::read_table(&source.sysfs),
    }
}

fn dump(source: &Source, as_json: bool) -> Result<ExitCode, String> {
    let (name, bytes) = load(source)?;
    let mut problems = Vec::new();
    let decoded = Table::decode(&bytes, &mut |p| problems.push(Finding::from(p)));
    let table = decoded.map_err(|p| format!("{name}: cannot decode: {p}"))?;
    if as_json {
        println!("{:#}", json::table(&table, &problems));
    } else {
        print!("{table}");
        if !problems.is_empty() {
            println!("problems:");
            for p in &problems {
                println!("  {p}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn lint(source: &Source, as_json: bool) -> Result<ExitCode, String> {
    let (_name, bytes) = load(source)?;
    let mut findings = Vec::new();
    let summary = ibft::lint(&bytes, &mut |f: Finding| findings.push(f));
    let mut sys = Vec::new();
    if source.system
        && let Ok(t) = Table::decode(&bytes, &mut |_| {})
    {
        sys = system::cross_check(&t, &source.sysfs);
    }
    if as_json {
        let mut all = json::findings(&findings);
        if let Some(arr) = all.as_array_mut() {
            for s in &sys {
                arr.push(serde_json::json!({
                    "code": s.code, "severity": s.severity, "message": s.message,
                    "explanation": s.explanation,
                }));
            }
        }
        println!("{all:#}");
    } else {
        for f in &findings {
            println!("{f}");
        }
        for s in &sys {
            println!("{s}");
        }
    }
    let sys_errors = sys.iter().filter(|s| s.severity == "error").count();
    let errors = summary.errors + sys_errors;
    let warnings = summary.warnings + sys.len() - sys_errors;
    debug_assert_eq!(
        findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
            .count(),
        summary.errors
    );
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else if warnings > 0 {
        ExitCode::from(EXIT_WARNINGS)
    } else {
        ExitCode::SUCCESS
    })
}
