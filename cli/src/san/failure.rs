//! One-line errors that name their cause, and the exit code each cause maps to.

use std::fmt;
use std::process::ExitCode;

/// Why a target command failed; each cause has its own exit code (see `docs/initiator.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Anything not listed below.
    Other,
    /// Bad arguments or an unparsable target address.
    Usage,
    /// The portal refused or could not be reached.
    ConnectionRefused,
    /// Login refused for authentication (0x0201), or the target failed mutual CHAP.
    Authentication,
    /// Login refused because the target or LUN does not exist (0x0203), or access denied (0x0202).
    NotFound,
    /// Redirects went round in a loop.
    RedirectLoop,
    /// A header or data digest did not match and recovery gave up.
    Digest,
    /// The target stopped answering.
    Timeout,
    /// The target answered a SCSI command with an error.
    Scsi,
    /// A local file could not be read or written.
    LocalIo,
}

impl Cause {
    /// The process exit code for this cause.
    pub fn exit_code(self) -> u8 {
        match self {
            Cause::Other => 1,
            Cause::Usage => 2,
            Cause::ConnectionRefused => 3,
            Cause::Authentication => 4,
            Cause::NotFound => 5,
            Cause::RedirectLoop => 6,
            Cause::Digest => 7,
            Cause::Timeout => 8,
            Cause::Scsi => 9,
            Cause::LocalIo => 10,
        }
    }

    /// A short label printed before the message.
    pub fn label(self) -> &'static str {
        match self {
            Cause::Other => "error",
            Cause::Usage => "usage",
            Cause::ConnectionRefused => "connection refused",
            Cause::Authentication => "authentication failed",
            Cause::NotFound => "not found",
            Cause::RedirectLoop => "redirect loop",
            Cause::Digest => "digest error",
            Cause::Timeout => "timeout",
            Cause::Scsi => "SCSI error",
            Cause::LocalIo => "local file",
        }
    }
}

/// A failed command: its cause and a one-line message (never containing a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The classified cause.
    pub cause: Cause,
    /// What happened, in one line.
    pub message: String,
}

impl Failure {
    /// A failure of `cause` described by `message`.
    pub fn new(cause: Cause, message: impl Into<String>) -> Failure {
        Failure {
            cause,
            message: message.into(),
        }
    }

    /// Prints the one-line error and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("iscsi-boot: {self}");
        ExitCode::from(self.cause.exit_code())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.cause.label(), self.message)
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_have_distinct_exit_codes() {
        let all = [
            Cause::Other,
            Cause::Usage,
            Cause::ConnectionRefused,
            Cause::Authentication,
            Cause::NotFound,
            Cause::RedirectLoop,
            Cause::Digest,
            Cause::Timeout,
            Cause::Scsi,
            Cause::LocalIo,
        ];
        let mut codes: Vec<u8> = all.iter().map(|c| c.exit_code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(!codes.contains(&0));
    }
}
