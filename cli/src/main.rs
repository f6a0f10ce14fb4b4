//! `iscsi-boot`: the host tool of the iscsi-boot toolkit.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod ibft_cmd;
mod san;

/// Boot diskless machines from iSCSI: iBFT tables, discovery, inquiry, image transfer, benchmarks.
#[derive(Debug, Parser)]
#[command(name = "iscsi-boot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build, dump and lint iSCSI Boot Firmware Tables.
    #[command(subcommand)]
    Ibft(ibft_cmd::IbftCommand),
    #[command(flatten)]
    San(san::SanCommand),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Ibft(cmd) => ibft_cmd::run(cmd),
        Command::San(cmd) => san::run(cmd),
    }
}
