//! The iSCSI root path (RFC 4173, as iPXE writes it): `iscsi:<server>:<protocol>:<port>:<lun>:<target>`.
//!
//! Empty fields take their defaults: protocol 6 (TCP), port 3260, LUN 0. The server may be an
//! IPv4 address or a bracketed IPv6 address (`[fe80::1]`); the target name is everything after
//! the fifth colon, so it may itself contain colons (`iqn.2003-01.org.example:disk1`).
//!
//! ```
//! use sanboot::root_path::RootPath;
//! let rp = RootPath::parse("iscsi:10.0.3.2::3261:1:iqn.2026-11.org.example:disk").unwrap();
//! assert_eq!(rp.port, 3261);
//! assert_eq!(rp.lun, 1);
//! assert_eq!(rp.target, "iqn.2026-11.org.example:disk");
//! ```

use core::net::IpAddr;
use initiator::addr::{AddrError, Host, TargetAddress};

/// The default iSCSI port (RFC 7143).
pub const DEFAULT_PORT: u16 = initiator::addr::DEFAULT_PORT;

/// One parsed root path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootPath<'a> {
    /// The target portal's address.
    pub server: IpAddr,
    /// The target portal's TCP port.
    pub port: u16,
    /// The logical unit number (flat addressing, 0..=16383 fits the single-level format).
    pub lun: u64,
    /// The target's iSCSI name.
    pub target: &'a str,
}

/// Why a root path was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootPathError {
    /// It does not start with `iscsi:`.
    Scheme,
    /// Fewer than six colon-separated fields.
    MissingField,
    /// The server is not an IP address (host names need DNS, which is not done here).
    Server,
    /// The protocol field is neither empty nor 6 (TCP).
    Protocol,
    /// The port is not a number in 1..=65535.
    Port,
    /// The LUN is not hexadecimal (iPXE's form) or not a single-level LUN below 16384.
    Lun,
    /// The target name is empty.
    Target,
}

impl core::fmt::Display for RootPathError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Scheme => "root path must start with \"iscsi:\"",
            Self::MissingField => "root path needs iscsi:<server>:<protocol>:<port>:<lun>:<target>",
            Self::Server => "root path server must be an IP address",
            Self::Protocol => "root path protocol must be empty or 6 (TCP)",
            Self::Port => "root path port must be 1..65535",
            Self::Lun => "root path LUN must be a number",
            Self::Target => "root path target name is empty",
        })
    }
}

impl core::error::Error for RootPathError {}

impl<'a> RootPath<'a> {
    /// Parses `iscsi:<server>:<protocol>:<port>:<lun>:<target>` with the initiator's
    /// root-path parser (`initiator::addr`), which reads the LUN as iPXE does (hexadecimal,
    /// up to four `-`-separated 16-bit groups); the app then needs an IP server (no DNS here)
    /// and a single-level LUN.
    pub fn parse(text: &'a str) -> Result<Self, RootPathError> {
        let addr = TargetAddress::parse_root_path(text).map_err(|e| match e {
            AddrError::BadScheme => RootPathError::Scheme,
            AddrError::BadHost => RootPathError::Server,
            AddrError::BadPort => RootPathError::Port,
            AddrError::BadProtocol => RootPathError::Protocol,
            AddrError::BadLun => RootPathError::Lun,
            AddrError::BadTargetName => RootPathError::Target,
            _ => RootPathError::MissingField,
        })?;
        let Host::Ip(server) = addr.host else {
            return Err(RootPathError::Server);
        };
        let lun = addr.lun.number().ok_or(RootPathError::Lun)?;
        Ok(Self {
            server,
            port: addr.port,
            lun: u64::from(lun),
            target: addr.target_name,
        })
    }

    /// The LUN in SAM format as the iBFT and the UEFI iSCSI device path node store it
    /// (single-level, peripheral addressing for LUNs below 256, flat space above).
    pub fn sam_lun(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        if self.lun < 256 {
            out[1] = self.lun as u8;
        } else {
            let flat = (self.lun & 0x3fff) as u16 | 0x4000;
            out[..2].copy_from_slice(&flat.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn ipxe_style_defaults() {
        // The form from the field report: only server and target given.
        let rp = RootPath::parse("iscsi:10.0.3.2::::iqn.2026-11.org.example:t1").unwrap();
        assert_eq!(rp.server, IpAddr::V4(Ipv4Addr::new(10, 0, 3, 2)));
        assert_eq!(rp.port, 3260);
        assert_eq!(rp.lun, 0);
        assert_eq!(rp.target, "iqn.2026-11.org.example:t1");
    }

    #[test]
    fn explicit_fields_and_ipv6() {
        // The LUN field is hexadecimal, as iPXE writes it.
        let rp = RootPath::parse("iscsi:[fd00::2]:6:3261:10:iqn.x:y").unwrap();
        assert_eq!(
            rp.server,
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2))
        );
        assert_eq!(rp.port, 3261);
        assert_eq!(rp.lun, 16);
        assert_eq!(rp.target, "iqn.x:y");
    }

    #[test]
    fn sam_lun_matches_ibft_spec_example() {
        // ibft.md: LUN 1 = 00 01 00 00 00 00 00 00.
        let rp = RootPath::parse("iscsi:10.0.3.2:::1:t").unwrap();
        assert_eq!(rp.sam_lun(), [0, 1, 0, 0, 0, 0, 0, 0]);
        // SAM-2 flat space addressing (LUN 300): 0x40 | high bits, then low byte.
        let rp = RootPath::parse("iscsi:10.0.3.2:::412c:t").unwrap();
        assert_eq!(rp.sam_lun(), [0x41, 0x2c, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(RootPath::parse("nfs:1.2.3.4"), Err(RootPathError::Scheme));
        assert_eq!(
            RootPath::parse("iscsi:1.2.3.4::"),
            Err(RootPathError::MissingField)
        );
        assert_eq!(
            RootPath::parse("iscsi:san.example::::t"),
            Err(RootPathError::Server)
        );
        assert_eq!(
            RootPath::parse("iscsi:1.2.3.4:17:::t"),
            Err(RootPathError::Protocol)
        );
        assert_eq!(
            RootPath::parse("iscsi:1.2.3.4::0::t"),
            Err(RootPathError::Port)
        );
        assert_eq!(
            RootPath::parse("iscsi:1.2.3.4::99999::t"),
            Err(RootPathError::Port)
        );
        assert_eq!(
            RootPath::parse("iscsi:1.2.3.4:::x:t"),
            Err(RootPathError::Lun)
        );
        assert_eq!(
            RootPath::parse("iscsi:1.2.3.4::::"),
            Err(RootPathError::Target)
        );
        assert_eq!(
            RootPath::parse("iscsi:[fd00::2:::t"),
            Err(RootPathError::Server)
        );
    }
}
