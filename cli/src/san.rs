//! The commands that talk to an iSCSI target: discover, inquiry, read, write, bench.

use clap::Subcommand;
use std::process::ExitCode;

/// The target-facing subcommands.
#[derive(Debug, Subcommand)]
pub enum SanCommand {
    /// List the targets and portals a portal offers (SendTargets discovery).
    Discover {
        /// HOST[:PORT] of the portal.
        portal: String,
    },
}

/// Runs a target-facing subcommand.
pub fn run(cmd: SanCommand) -> ExitCode {
    match cmd {
        SanCommand::Discover { portal } => {
            eprintln!("iscsi-boot: discover {portal}: not implemented yet");
            ExitCode::FAILURE
        }
    }
}
