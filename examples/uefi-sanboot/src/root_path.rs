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

/// The default iSCSI port (RFC 7143).
pub const DEFAULT_PORT: u16 = 3260;

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
    /// The LUN is not a decimal or `0x` hexadecimal number.
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
    /// Parses `iscsi:<server>:<protocol>:<port>:<lun>:<target>`.
    pub fn parse(text: &'a str) -> Result<Self, RootPathError> {
        let rest = text
            .strip_prefix("iscsi:")
            .or_else(|| text.strip_prefix("ISCSI:"))
            .ok_or(RootPathError::Scheme)?;
        // The server may be a bracketed IPv6 address containing colons.
        let (server_text, rest) = if let Some(v6) = rest.strip_prefix('[') {
            let end = v6.find(']').ok_or(RootPathError::Server)?;
            let after = v6.get(end + 1..).ok_or(RootPathError::Server)?;
            let after = after.strip_prefix(':').ok_or(RootPathError::MissingField)?;
            (v6.get(..end).ok_or(RootPathError::Server)?, after)
        } else {
            rest.split_once(':').ok_or(RootPathError::MissingField)?
        };
        let mut fields = rest.splitn(4, ':');
        let protocol = fields.next().ok_or(RootPathError::MissingField)?;
        let port = fields.next().ok_or(RootPathError::MissingField)?;
        let lun = fields.next().ok_or(RootPathError::MissingField)?;
        let target = fields.next().ok_or(RootPathError::MissingField)?;

        let server: IpAddr = server_text.parse().map_err(|_| RootPathError::Server)?;
        if !(protocol.is_empty() || protocol == "6") {
            return Err(RootPathError::Protocol);
        }
        let port = if port.is_empty() {
            DEFAULT_PORT
        } else {
            match port.parse::<u16>() {
                Ok(0) | Err(_) => return Err(RootPathError::Port),
                Ok(p) => p,
            }
        };
        let lun = parse_lun(lun)?;
        if target.is_empty() {
            return Err(RootPathError::Target);
        }
        Ok(Self {
            server,
            port,
            lun,
            target,
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

fn parse_lun(text: &str) -> Result<u64, RootPathError> {
    if text.is_empty() {
        return Ok(0);
    }
    let value = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    };
    match value {
        Ok(v) if v < 0x4000 => Ok(v),
        _ => Err(RootPathError::Lun),
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
        let rp = RootPath::parse("iscsi:[fd00::2]:6:3261:0x10:iqn.x:y").unwrap();
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
        // SAM-2 flat space addressing: 0x40 | high bits, then low byte.
        let rp = RootPath::parse("iscsi:10.0.3.2:::300:t").unwrap();
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
