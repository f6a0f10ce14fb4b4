//! The target portal (address and TCP port) named by an iSCSI URL or an RFC 4173 root path.
//!
//! Only the portal is needed to open the connection; the full address (target name, LUN,
//! credentials) is the initiator's to parse.

use std::net::{IpAddr, SocketAddr};

/// The iSCSI well-known port.
const ISCSI_PORT: u16 = 3260;

/// Extracts the portal from `iscsi://[user[%pw]@]host[:port]/iqn/lun` or
/// `iscsi:server:protocol:port:lun:target` (IPv6 literals in brackets; names are not resolved).
pub fn portal(target: &str) -> Result<SocketAddr, String> {
    if let Some(rest) = target.strip_prefix("iscsi://") {
        let authority = rest.split('/').next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or("");
        let (host, port) = split_host_port(host_port)?;
        return socket_addr(host, port);
    }
    if let Some(rest) = target.strip_prefix("iscsi:") {
        let (host, rest) = split_host(rest)?;
        let mut fields = rest.splitn(3, ':');
        let _protocol = fields.next();
        let port = fields.next().unwrap_or("");
        return socket_addr(host, port);
    }
    Err(format!(
        "`{target}` is neither an iscsi:// URL nor an iscsi: root path"
    ))
}

/// Splits `host` (possibly `[v6]`) from the rest after the following `:`.
fn split_host(s: &str) -> Result<(&str, &str), String> {
    if let Some(v6) = s.strip_prefix('[') {
        let end = v6.find(']').ok_or("unterminated `[`")?;
        let rest = &v6[end + 1..];
        return Ok((&v6[..end], rest.strip_prefix(':').unwrap_or(rest)));
    }
    Ok(s.split_once(':').unwrap_or((s, "")))
}

fn split_host_port(s: &str) -> Result<(&str, &str), String> {
    let (host, rest) = split_host(s)?;
    Ok((host, rest))
}

fn socket_addr(host: &str, port: &str) -> Result<SocketAddr, String> {
    let ip: IpAddr = host
        .parse()
        .map_err(|_| format!("`{host}` is not an IP address (names are not resolved)"))?;
    let port = if port.is_empty() {
        ISCSI_PORT
    } else {
        port.parse().map_err(|_| format!("bad port `{port}`"))?
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::portal;

    #[test]
    fn root_paths_and_urls() {
        let p = |s| portal(s).unwrap().to_string();
        assert_eq!(
            p("iscsi:10.0.0.1::3261:1:iqn.2026-11.x:disk"),
            "10.0.0.1:3261"
        );
        assert_eq!(p("iscsi:10.0.0.1:::0:iqn.2026-11.x:disk"), "10.0.0.1:3260");
        assert_eq!(p("iscsi:[fd00::1]:6::0:iqn.x"), "[fd00::1]:3260");
        assert_eq!(p("iscsi://10.0.0.2/iqn.2026-11.x:disk/1"), "10.0.0.2:3260");
        assert_eq!(p("iscsi://u%pw@[fd00::2]:3262/iqn.x/0"), "[fd00::2]:3262");
        assert!(portal("nfs:10.0.0.1").is_err());
        assert!(portal("iscsi:server.example::::iqn.x").is_err());
    }
}
