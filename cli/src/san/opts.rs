//! Options shared by every target command: the target, credentials, initiator name, digests.

use super::failure::{Cause, Failure};
use clap::{Args, ValueEnum};
use std::time::Duration;

/// How a digest is offered in login negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DigestChoice {
    /// Offer `None` only.
    #[default]
    None,
    /// Require CRC32C.
    Crc32c,
    /// Offer `CRC32C,None`: CRC32C when the target agrees.
    Prefer,
}

/// Session options of every command that logs in to a target.
#[derive(Clone, Args)]
pub struct SessionArgs {
    /// CHAP user name (overrides the one in an iscsi:// URL).
    #[arg(long, value_name = "USER")]
    pub chap_user: Option<String>,
    /// CHAP secret; prefer the environment variable, command lines are visible to other users.
    #[arg(
        long,
        value_name = "SECRET",
        env = "ISCSI_CHAP_SECRET",
        hide_env_values = true
    )]
    pub chap_secret: Option<String>,
    /// Name the target must prove with mutual CHAP.
    #[arg(long, value_name = "USER")]
    pub mutual_chap_user: Option<String>,
    /// Secret the target must prove it knows (mutual CHAP).
    #[arg(
        long,
        value_name = "SECRET",
        env = "ISCSI_MUTUAL_CHAP_SECRET",
        hide_env_values = true
    )]
    pub mutual_chap_secret: Option<String>,
    /// Refuse a target that lets us in without CHAP (`AuthMethod=None`) instead of logging in
    /// unauthenticated; mutual CHAP always refuses it.
    #[arg(long)]
    pub require_chap: bool,
    /// Our iSCSI name (default: iqn.2026-01.org.iscsi-boot:<hostname>).
    #[arg(long, value_name = "IQN")]
    pub initiator_name: Option<String>,
    /// HeaderDigest to negotiate.
    #[arg(long, value_enum, default_value_t = DigestChoice::None)]
    pub header_digest: DigestChoice,
    /// DataDigest to negotiate.
    #[arg(long, value_enum, default_value_t = DigestChoice::None)]
    pub data_digest: DigestChoice,
    /// Seconds to wait for the target before giving up on a step.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
}

/// Shows which secrets are set, never their values.
impl std::fmt::Debug for SessionArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("SessionArgs")
            .field("chap_user", &self.chap_user)
            .field("chap_secret", &set(&self.chap_secret))
            .field("mutual_chap_user", &self.mutual_chap_user)
            .field("mutual_chap_secret", &set(&self.mutual_chap_secret))
            .field("require_chap", &self.require_chap)
            .field("initiator_name", &self.initiator_name)
            .field("header_digest", &self.header_digest)
            .field("data_digest", &self.data_digest)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl SessionArgs {
    /// The initiator name to log in with.
    pub fn initiator_name(&self) -> String {
        self.initiator_name
            .clone()
            .unwrap_or_else(default_initiator_name)
    }

    /// The per-step timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.max(1))
    }

    /// Checks that every secret comes with its user name and that mutual CHAP has one-way CHAP.
    pub fn validate(&self) -> Result<(), Failure> {
        if self.mutual_chap_secret.is_some() && self.mutual_chap_user.is_none() {
            return Err(Failure::new(
                Cause::Usage,
                "--mutual-chap-secret needs --mutual-chap-user",
            ));
        }
        Ok(())
    }
}

/// `iqn.2026-01.org.iscsi-boot:<hostname>`, with the host name reduced to legal characters.
pub fn default_initiator_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let host: String = host
        .trim()
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        .collect();
    let host = if host.is_empty() {
        "host".to_owned()
    } else {
        host
    };
    format!("iqn.2026-01.org.iscsi-boot:{host}")
}

/// Parses a size such as `512`, `128k`, `4M`, `1g` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits.parse().map_err(|_| format!("not a size: {s:?}"))?;
    let shift = match unit.to_ascii_lowercase().trim_end_matches(['b', 'i']) {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        _ => return Err(format!("unknown size unit in {s:?} (use k, m or g)")),
    };
    n.checked_mul(1 << shift)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("size out of range: {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        session: SessionArgs,
    }

    #[test]
    fn debug_never_shows_secrets() {
        let cli = Cli::parse_from([
            "x",
            "--chap-user",
            "u",
            "--chap-secret",
            "Secret-One-123",
            "--mutual-chap-user",
            "t",
            "--mutual-chap-secret",
            "Secret-Two-456",
        ]);
        let shown = format!("{cli:?}");
        assert!(!shown.contains("Secret-"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("128k"), Ok(131_072));
        assert_eq!(parse_size("4M"), Ok(4 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12q").is_err());
        assert!(parse_size("k").is_err());
    }

    #[test]
    fn default_name_is_an_iqn() {
        let name = default_initiator_name();
        assert!(name.starts_with("iqn.2026-01.org.iscsi-boot:"));
        assert!(!name.ends_with(':'));
    }
}
