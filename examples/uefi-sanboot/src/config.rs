//! The application's configuration: `key = value` lines from `\sanboot.conf`, or `key=value`
//! words on the UEFI shell command line (load options). Later settings override earlier ones,
//! except `root-path`, which may be given twice (primary and secondary target).
//!
//! ```
//! use sanboot::config::{Config, IbftNics};
//! let cfg = Config::from_file(
//!     "# SAN on the second port\n\
//!      root-path = iscsi:10.0.3.2::3260:0:iqn.2026-11.org.example:disk\n\
//!      ibft-nics = all\n",
//! ).unwrap();
//! assert_eq!(cfg.root_paths().count(), 1);
//! assert_eq!(cfg.ibft_nics, IbftNics::All);
//! assert_eq!(cfg.boot_file, "\\EFI\\BOOT\\BOOTX64.EFI");
//! ```

use crate::mac::{Mac, MacError};
use crate::root_path::{RootPath, RootPathError};
pub use ibft::GatewayPolicy;

/// Where the second stage is loaded from on the LUN when `boot-file` is not set.
pub const DEFAULT_BOOT_FILE: &str = "\\EFI\\BOOT\\BOOTX64.EFI";

/// Which ports get a NIC record in the iBFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IbftNics {
    /// Only the port that carries the SAN session.
    #[default]
    San,
    /// Every port that got an address (Windows disables NICs missing from the table).
    All,
}

/// A CHAP user name and secret.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Credentials<'a> {
    /// The CHAP name.
    pub user: Option<&'a str>,
    /// The CHAP secret.
    pub secret: Option<&'a str>,
}

impl core::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print a secret.
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("secret", &self.secret.map(|_| "***"))
            .finish()
    }
}

/// The parsed configuration; strings borrow from the text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config<'a> {
    root_paths: [Option<RootPath<'a>>; 2],
    /// The MAC of the port to use; `None` = the first port that gets a lease and reaches the target.
    pub nic: Option<Mac>,
    /// The initiator's iSCSI name; `None` = derived from the SMBIOS UUID.
    pub initiator_name: Option<&'a str>,
    /// One-way CHAP: the credentials the initiator presents.
    pub chap: Credentials<'a>,
    /// Mutual CHAP: the credentials the target must present.
    pub mutual_chap: Credentials<'a>,
    /// Which ports get an iBFT NIC record.
    pub ibft_nics: IbftNics,
    /// What goes into the NIC records' gateway fields (the Microsoft initiator routes to the
    /// target through it, KB960104).
    pub gateway_policy: GatewayPolicy,
    /// The file to chain-load from the LUN's file system.
    pub boot_file: &'a str,
    /// Load options (command line) handed to the chain-loaded image.
    pub boot_args: Option<&'a str>,
    /// Keep the disk and the iBFT installed when the boot file fails or returns.
    pub keep_san: bool,
    /// Test/demo backend: a disk image on the application's own volume, served from memory
    /// instead of an iSCSI LUN.
    pub ram_disk: Option<&'a str>,
}

impl Default for Config<'_> {
    fn default() -> Self {
        Self {
            root_paths: [None, None],
            nic: None,
            initiator_name: None,
            chap: Credentials::default(),
            mutual_chap: Credentials::default(),
            ibft_nics: IbftNics::San,
            gateway_policy: GatewayPolicy::OmitWhenOnLink,
            boot_file: DEFAULT_BOOT_FILE,
            boot_args: None,
            keep_san: false,
            ram_disk: None,
        }
    }
}

/// What was wrong with a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// A line or word without `=`.
    MissingEquals,
    /// A key this application does not know.
    UnknownKey,
    /// A key that needs a value was given an empty one.
    EmptyValue,
    /// `root-path` given more than twice.
    TooManyRootPaths,
    /// A malformed root path.
    RootPath(RootPathError),
    /// A malformed MAC address.
    Mac(MacError),
    /// A value outside the key's allowed set (`ibft-nics`, `gateway-policy`, `keep-san`).
    BadValue,
    /// A string containing a NUL character.
    Nul,
}

/// A configuration error and where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigError {
    /// The 1-based line (file) or word (command line) number.
    pub position: usize,
    /// What was wrong.
    pub kind: ConfigErrorKind,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "setting {}: ", self.position)?;
        match self.kind {
            ConfigErrorKind::MissingEquals => f.write_str("expected key = value"),
            ConfigErrorKind::UnknownKey => f.write_str("unknown key"),
            ConfigErrorKind::EmptyValue => f.write_str("empty value"),
            ConfigErrorKind::TooManyRootPaths => {
                f.write_str("root-path may be given at most twice")
            }
            ConfigErrorKind::RootPath(e) => write!(f, "{e}"),
            ConfigErrorKind::Mac(e) => write!(f, "{e}"),
            ConfigErrorKind::BadValue => f.write_str("value not allowed for this key"),
            ConfigErrorKind::Nul => f.write_str("value contains NUL"),
        }
    }
}

impl core::error::Error for ConfigError {}

impl<'a> Config<'a> {
    /// Parses a `\sanboot.conf` file: one `key = value` per line, `#` starts a comment line.
    pub fn from_file(text: &'a str) -> Result<Self, ConfigError> {
        let mut cfg = Self::default();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            cfg.apply_pair(line, index + 1)?;
        }
        Ok(cfg)
    }

    /// Parses load options from the UEFI shell: whitespace-separated `key=value` words. A first
    /// word without `=` is the program's own name (the shell passes it) and is skipped.
    pub fn from_args(text: &'a str) -> Result<Self, ConfigError> {
        let mut cfg = Self::default();
        cfg.apply_args(text)?;
        Ok(cfg)
    }

    /// Applies command-line words on top of this configuration (the command line overrides the
    /// file).
    pub fn apply_args(&mut self, text: &'a str) -> Result<(), ConfigError> {
        let mut root_paths_reset = false;
        for (index, word) in text.split_whitespace().enumerate() {
            if index == 0 && !word.contains('=') {
                continue;
            }
            // Root paths on the command line replace those of the file rather than adding to them.
            if !root_paths_reset && word.starts_with("root-path=") {
                self.root_paths = [None, None];
                root_paths_reset = true;
            }
            self.apply_pair(word, index + 1)?;
        }
        Ok(())
    }

    /// The configured root paths, primary first.
    pub fn root_paths(&self) -> impl Iterator<Item = &RootPath<'a>> {
        self.root_paths.iter().flatten()
    }

    fn apply_pair(&mut self, pair: &'a str, position: usize) -> Result<(), ConfigError> {
        let err = |kind| ConfigError { position, kind };
        let (key, value) = pair
            .split_once('=')
            .ok_or(err(ConfigErrorKind::MissingEquals))?;
        let (key, value) = (key.trim(), value.trim());
        if value.contains('\0') {
            return Err(err(ConfigErrorKind::Nul));
        }
        let optional = |v: &'a str| (!v.is_empty()).then_some(v);
        match key {
            "root-path" => {
                let rp = RootPath::parse(value).map_err(|e| err(ConfigErrorKind::RootPath(e)))?;
                let slot = self
                    .root_paths
                    .iter_mut()
                    .find(|s| s.is_none())
                    .ok_or(err(ConfigErrorKind::TooManyRootPaths))?;
                *slot = Some(rp);
            }
            "nic" => {
                self.nic = match optional(value) {
                    None => None,
                    Some(v) => Some(v.parse().map_err(|e| err(ConfigErrorKind::Mac(e)))?),
                }
            }
            "initiator-name" => self.initiator_name = optional(value),
            "chap-user" => self.chap.user = optional(value),
            "chap-secret" => self.chap.secret = optional(value),
            "mutual-chap-user" => self.mutual_chap.user = optional(value),
            "mutual-chap-secret" => self.mutual_chap.secret = optional(value),
            "ibft-nics" => {
                self.ibft_nics = match value {
                    "san" => IbftNics::San,
                    "all" => IbftNics::All,
                    _ => return Err(err(ConfigErrorKind::BadValue)),
                }
            }
            "gateway-policy" => {
                self.gateway_policy = match value {
                    // The same names as the `iscsi-boot ibft build` configuration.
                    "keep" => GatewayPolicy::Keep,
                    "omit-when-on-link" => GatewayPolicy::OmitWhenOnLink,
                    "target-as-gateway" => GatewayPolicy::TargetAsGateway,
                    _ => return Err(err(ConfigErrorKind::BadValue)),
                }
            }
            "boot-file" => {
                self.boot_file = optional(value).ok_or(err(ConfigErrorKind::EmptyValue))?;
            }
            "boot-args" => self.boot_args = optional(value),
            "keep-san" => {
                self.keep_san = match value {
                    "yes" | "1" | "true" => true,
                    "no" | "0" | "false" => false,
                    _ => return Err(err(ConfigErrorKind::BadValue)),
                }
            }
            "ram-disk" => self.ram_disk = optional(value),
            _ => return Err(err(ConfigErrorKind::UnknownKey)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let cfg = Config::from_file("").unwrap();
        assert_eq!(cfg.root_paths().count(), 0);
        assert_eq!(cfg.nic, None);
        assert_eq!(cfg.ibft_nics, IbftNics::San);
        assert_eq!(cfg.gateway_policy, GatewayPolicy::OmitWhenOnLink);
        assert_eq!(cfg.boot_file, "\\EFI\\BOOT\\BOOTX64.EFI");
        assert!(!cfg.keep_san);
    }

    #[test]
    fn full_file() {
        let text = "\
# the scenario of the field report: two ports, SAN on the second
root-path = iscsi:10.0.3.2::3260:0:iqn.2026-11.org.example:win
root-path = iscsi:10.0.3.3::::iqn.2026-11.org.example:win
nic = 52:54:00:12:34:57
initiator-name = iqn.2026-11.org.example:host1
chap-user = host1
chap-secret = twelve-chars-secret
mutual-chap-user = target
mutual-chap-secret = another-long-secret
ibft-nics = all
gateway-policy = target-as-gateway
boot-file = \\EFI\\Microsoft\\Boot\\bootmgfw.efi
boot-args = quiet console=ttyS0
keep-san = yes
";
        let cfg = Config::from_file(text).unwrap();
        let rps: [_; 2] = [cfg.root_paths[0].unwrap(), cfg.root_paths[1].unwrap()];
        assert_eq!(rps[0].target, "iqn.2026-11.org.example:win");
        assert_eq!(rps[1].server.to_string(), "10.0.3.3");
        assert_eq!(cfg.nic, Some(Mac([0x52, 0x54, 0x00, 0x12, 0x34, 0x57])));
        assert_eq!(cfg.initiator_name, Some("iqn.2026-11.org.example:host1"));
        assert_eq!(cfg.chap.user, Some("host1"));
        assert_eq!(cfg.chap.secret, Some("twelve-chars-secret"));
        assert_eq!(cfg.mutual_chap.user, Some("target"));
        assert_eq!(cfg.ibft_nics, IbftNics::All);
        assert_eq!(cfg.gateway_policy, GatewayPolicy::TargetAsGateway);
        assert_eq!(cfg.boot_file, "\\EFI\\Microsoft\\Boot\\bootmgfw.efi");
        assert_eq!(cfg.boot_args, Some("quiet console=ttyS0"));
        assert!(cfg.keep_san);
    }

    #[test]
    fn command_line_skips_program_name_and_overrides_file() {
        let mut cfg = Config::from_file(
            "root-path = iscsi:10.0.3.2::::a\nroot-path = iscsi:10.0.3.3::::b\nkeep-san = no\n",
        )
        .unwrap();
        cfg.apply_args("sanboot.efi keep-san=yes root-path=iscsi:10.0.3.4::::c")
            .unwrap();
        assert!(cfg.keep_san);
        let targets: Vec<&str> = cfg.root_paths().map(|r| r.target).collect();
        assert_eq!(targets, ["c"]);
    }

    #[test]
    fn debug_hides_secrets() {
        let cfg = Config::from_file("chap-secret = very-secret-value\n").unwrap();
        let text = format!("{cfg:?}");
        assert!(!text.contains("very-secret-value"));
    }

    #[test]
    fn errors_name_the_position() {
        let e = Config::from_file("keep-san = yes\nbogus = 1\n").unwrap_err();
        assert_eq!(
            e,
            ConfigError {
                position: 2,
                kind: ConfigErrorKind::UnknownKey
            }
        );
        let e = Config::from_file("\n\nroot-path\n").unwrap_err();
        assert_eq!(e.position, 3);
        assert_eq!(e.kind, ConfigErrorKind::MissingEquals);
        let e = Config::from_file("ibft-nics = some\n").unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::BadValue);
        let e = Config::from_file("gateway-policy = never\n").unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::BadValue);
        let e = Config::from_file("keep-san = maybe\n").unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::BadValue);
        let e = Config::from_file("boot-file =\n").unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::EmptyValue);
        let e = Config::from_file("nic = 52:54:00\n").unwrap_err();
        assert!(matches!(e.kind, ConfigErrorKind::Mac(_)));
        let e = Config::from_file("root-path = iscsi:x::::t\n").unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::RootPath(RootPathError::Server));
        let e = Config::from_file("initiator-name = a\0b\n").unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::Nul);
        let three = "root-path = iscsi:1.1.1.1::::a\n".repeat(3);
        let e = Config::from_file(&three).unwrap_err();
        assert_eq!(e.position, 3);
        assert_eq!(e.kind, ConfigErrorKind::TooManyRootPaths);
        let e = Config::from_args("sanboot.efi keep-san=yes oops").unwrap_err();
        assert_eq!(e.position, 3);
    }
}
