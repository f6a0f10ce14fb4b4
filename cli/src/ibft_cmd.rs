//! `iscsi-boot ibft ...`: build, dump and lint iBFT tables.

use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// The `ibft` subcommands.
#[derive(Debug, Subcommand)]
pub enum IbftCommand {
    /// Print a table in human-readable form.
    Dump {
        /// The table file.
        file: PathBuf,
    },
}

/// Runs an `ibft` subcommand.
pub fn run(cmd: IbftCommand) -> ExitCode {
    match cmd {
        IbftCommand::Dump { file } => {
            eprintln!(
                "iscsi-boot: ibft dump {}: not implemented yet",
                file.display()
            );
            ExitCode::FAILURE
        }
    }
}
