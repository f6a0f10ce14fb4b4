//! A small parser for RFC 4173 / iPXE iSCSI root paths, kept on its own so it can be
//! replaced by the initiator crate's full URI parser.
//!
//! `iscsi:<server>:<protocol>:<port>:<LUN>:<targetname>`; empty fields take defaults
//! (port 3260, LUN 0), the server may be `[IPv6]`, the LUN is hex in up to four
//! `-`-separated 16-bit groups (the 8-byte SAM LUN, big-endian per group), and the target
//! name is the rest of the string.

use std::net::IpAddr;

/// A parsed root path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootPath<'a> {
    /// Target address.
    pub server: IpAddr,
    /// TCP port.
    pub port: u16,
    /// The 8-byte SAM LUN.
    pub lun: [u8; 8],
    /// Target name.
    pub target: &'a str,
}

/// Parses a root path; the error says which part is wrong.
pub fn parse(s: &str) -> Result<RootPath<'_>, String> {
    let rest = s
        .strip_prefix("iscsi:")
        .or_else(|| s.strip_prefix("ISCSI:"))
        .ok_or("must start with `iscsi:`")?;
    let (server, rest) = if let Some(r) = rest.strip_prefix('[') {
        let (host, r) = r
            .split_once(']')
            .ok_or("`[` without `]` around the IPv6 server")?;
        let r = r.strip_prefix(':').ok_or("expected `:` after `]`")?;
        (host, r)
    } else {
        rest.split_once(':')
            .ok_or("missing fields after the server")?
    };
    let server: IpAddr = server
        .parse()
        .map_err(|_| format!("server `{server}` is not an IP address"))?;
    let mut fields = rest.splitn(4, ':');
    let protocol = fields.next().unwrap_or_default();
    let port = fields.next().ok_or("missing port field")?;
    let lun = fields.next().ok_or("missing LUN field")?;
    let target = fields.next().ok_or("missing target name field")?;
    if !(protocol.is_empty() || protocol == "6") {
        return Err(format!("protocol `{protocol}` is not TCP (6 or empty)"));
    }
    let port = if port.is_empty() {
        3260
    } else {
        port.parse()
            .map_err(|_| format!("port `{port}` is not a number 0..65535"))?
    };
    if target.is_empty() {
        return Err("target name is empty".into());
    }
    Ok(RootPath {
        server,
        port,
        lun: parse_lun(lun)?,
        target,
    })
}

fn parse_lun(s: &str) -> Result<[u8; 8], String> {
    let mut lun = [0u8; 8];
    if s.is_empty() {
        return Ok(lun);
    }
    let bad = || format!("LUN `{s}` is not up to four `-`-separated hex groups of 16 bits");
    let groups: Vec<&str> = s.split('-').collect();
    if groups.len() > 4 {
        return Err(bad());
    }
    for (k, g) in groups.iter().enumerate() {
        if g.is_empty() || g.len() > 4 {
            return Err(bad());
        }
        let v = u16::from_str_radix(g, 16).map_err(|_| bad())?;
        lun[2 * k..2 * k + 2].copy_from_slice(&v.to_be_bytes());
    }
    Ok(lun)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_default_fields() {
        let r = parse("iscsi:10.0.2.2::3260:1:iqn.2026-11.org.example:disk1").unwrap();
        assert_eq!(r.server, IpAddr::from([10, 0, 2, 2]));
        assert_eq!(r.port, 3260);
        assert_eq!(r.lun, [0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(r.target, "iqn.2026-11.org.example:disk1");
        let r = parse("iscsi:192.168.0.1::::iqn.x:y").unwrap();
        assert_eq!((r.port, r.lun), (3260, [0; 8]));
        let r = parse("iscsi:[fd00::2]:6:3261:4000-0001:iqn.x").unwrap();
        assert_eq!(r.server, "fd00::2".parse::<IpAddr>().unwrap());
        assert_eq!(r.port, 3261);
        assert_eq!(r.lun, [0x40, 0x00, 0x00, 0x01, 0, 0, 0, 0]);
    }

    #[test]
    fn errors_name_the_part() {
        assert!(parse("http://x").unwrap_err().contains("iscsi:"));
        assert!(
            parse("iscsi:host.example::::iqn.x")
                .unwrap_err()
                .contains("not an IP")
        );
        assert!(
            parse("iscsi:10.0.0.1::99999::iqn.x")
                .unwrap_err()
                .contains("port")
        );
        assert!(
            parse("iscsi:10.0.0.1:::1-2-3-4-5:iqn.x")
                .unwrap_err()
                .contains("LUN")
        );
        assert!(
            parse("iscsi:10.0.0.1:::g:iqn.x")
                .unwrap_err()
                .contains("LUN")
        );
        assert!(parse("iscsi:10.0.0.1::::").unwrap_err().contains("target"));
        assert!(
            parse("iscsi:10.0.0.1:17:::iqn.x")
                .unwrap_err()
                .contains("protocol")
        );
        assert!(parse("iscsi:[fd00::2:::iqn.x").is_err());
    }
}
