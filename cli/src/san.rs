//! The commands that talk to an iSCSI target: discover, inquiry, read, write, bench.
//!
//! Every command names its target as an `iscsi://` URL or an RFC 4173 root path. Errors are one
//! line naming the cause, with an exit code per cause (see [`failure::Cause`]).

use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

mod device;
mod failure;
mod opts;
mod progress;
mod session;
mod storm;
mod transfer;

use failure::{Cause, Failure};
use opts::{SessionArgs, parse_size};

/// The target-facing subcommands.
#[derive(Debug, Subcommand)]
pub enum SanCommand {
    /// List the targets and portals a portal offers (SendTargets discovery).
    Discover {
        /// HOST[:PORT] of the portal (IPv6 as [ADDR]:PORT).
        portal: String,
        /// Session options.
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Show vendor, product, serial, device identifiers, capacity, block size and the LUN list.
    Inquiry {
        /// The target and LUN.
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Copy blocks of a LUN into a file (the whole LUN by default).
    Read {
        /// The target and LUN.
        #[command(flatten)]
        target: TargetArgs,
        /// The file to write.
        #[arg(long, short)]
        output: PathBuf,
        /// First logical block.
        #[arg(long, default_value_t = 0)]
        lba: u64,
        /// Number of blocks (default: to the end of the LUN).
        #[arg(long)]
        blocks: Option<u64>,
        /// Commands in flight (at most 32).
        #[arg(long, default_value_t = 8)]
        queue_depth: u32,
    },
    /// Copy a file onto a LUN.
    Write {
        /// The target and LUN.
        #[command(flatten)]
        target: TargetArgs,
        /// The image to write.
        #[arg(long, short)]
        input: PathBuf,
        /// First logical block to overwrite.
        #[arg(long, default_value_t = 0)]
        lba: u64,
        /// Read every chunk back and compare.
        #[arg(long)]
        verify: bool,
        /// Commands in flight (at most 32).
        #[arg(long, default_value_t = 8)]
        queue_depth: u32,
    },
    /// Measure sequential throughput (MB/s) and IOPS.
    Bench {
        /// The target and LUN.
        #[command(flatten)]
        target: TargetArgs,
        /// How long to run.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Bytes per command (k, m suffixes).
        #[arg(long, default_value = "128k", value_parser = parse_size)]
        block_size: u64,
        /// Commands in flight (at most 32).
        #[arg(long, default_value_t = 8)]
        queue_depth: u32,
        /// Write zeros instead of reading (destroys the LUN's contents).
        #[arg(long)]
        write: bool,
        /// Sessions run at once, each on its own thread with its own ISID (a boot storm).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
        sessions: u32,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A target argument and the session options that go with it.
#[derive(Clone, Args)]
pub struct TargetArgs {
    /// `iscsi://[user[%secret]@]host[:port]/IQN/LUN` or `iscsi:host:proto:port:LUN:IQN`.
    pub target: String,
    /// Session options.
    #[command(flatten)]
    pub session: SessionArgs,
}

/// The target URL may carry `user%secret@`: shown redacted.
impl std::fmt::Debug for TargetArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetArgs")
            .field("target", &session::redact_url(&self.target))
            .field("session", &self.session)
            .finish()
    }
}

/// Runs a target-facing subcommand.
pub fn run(cmd: SanCommand) -> ExitCode {
    match execute(cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

fn execute(cmd: SanCommand) -> Result<(), Failure> {
    match cmd {
        SanCommand::Discover { portal, session } => {
            session.validate()?;
            for target in session::discover(&portal, &session)? {
                println!("{}", target.name);
                for portal in &target.portals {
                    println!("    {portal}");
                }
            }
            Ok(())
        }
        SanCommand::Inquiry { target } => {
            let dev = session::open(&target.target, &target.session, 1)?;
            let info = dev.info().clone();
            println!("vendor:     {}", info.vendor);
            println!("product:    {}", info.product);
            println!("revision:   {}", info.revision);
            println!("serial:     {}", info.serial.as_deref().unwrap_or("-"));
            for id in &info.identifiers {
                println!("identifier: {id}");
            }
            println!("block size: {}", info.block_size);
            println!("blocks:     {}", info.blocks);
            println!("capacity:   {} bytes", info.capacity());
            let luns: Vec<String> = info.luns.iter().map(u64::to_string).collect();
            println!("luns:       {}", luns.join(" "));
            dev.close()
        }
        SanCommand::Read {
            target,
            output,
            lba,
            blocks,
            queue_depth,
        } => {
            let mut dev = session::open(&target.target, &target.session, queue_depth)?;
            let bytes = transfer::read_to_file(&mut *dev, &output, lba, blocks, queue_depth)?;
            eprintln!("iscsi-boot: read {bytes} bytes into {}", output.display());
            dev.close()
        }
        SanCommand::Write {
            target,
            input,
            lba,
            verify,
            queue_depth,
        } => {
            let mut dev = session::open(&target.target, &target.session, queue_depth)?;
            let out = transfer::write_from_file(&mut *dev, &input, lba, queue_depth, verify)?;
            eprintln!(
                "iscsi-boot: wrote {} blocks from LBA {}{}",
                out.blocks,
                out.first_lba,
                if verify { ", verified" } else { "" }
            );
            dev.close()
        }
        SanCommand::Bench {
            target,
            seconds,
            block_size,
            queue_depth,
            write,
            sessions,
            json,
        } if sessions > 1 => {
            let workload = storm::Workload {
                duration: Duration::from_secs(seconds.max(1)),
                block_size,
                queue_depth,
                write,
            };
            target.session.validate()?;
            let report = storm::run(&target, sessions, workload);
            if json {
                let line = serde_json::to_string(&report)
                    .map_err(|e| Failure::new(Cause::Other, e.to_string()))?;
                println!("{line}");
            } else {
                print!("{}", report.human());
            }
            report.failure().map_or(Ok(()), Err)
        }
        SanCommand::Bench {
            target,
            seconds,
            block_size,
            queue_depth,
            write,
            json,
            ..
        } => {
            let mut dev = session::open(&target.target, &target.session, queue_depth)?;
            let duration = Duration::from_secs(seconds.max(1));
            let r = transfer::bench(&mut *dev, duration, block_size, queue_depth, write)?;
            if json {
                let line = serde_json::to_string(&r)
                    .map_err(|e| Failure::new(Cause::Other, e.to_string()))?;
                println!("{line}");
            } else {
                println!(
                    "{}: {:.1} MB/s, {:.0} IOPS ({} bytes per command, queue depth {}, {:.1} s)",
                    r.mode, r.mb_per_s, r.iops, r.block_size, r.queue_depth, r.seconds
                );
            }
            dev.close()
        }
    }
}
