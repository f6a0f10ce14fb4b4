//! Where a target lives: RFC 4173 / iPXE root paths, libiscsi URLs, portals and LUNs.
//!
//! * Root path: `iscsi:<server>:<protocol>:<port>:<LUN>:<targetname>` — empty protocol means TCP
//!   (`6`), empty port 3260, empty LUN 0; the server may be `[IPv6]`, a hostname or IPv4; the LUN
//!   is hex in up to four `-`-separated 16-bit groups; the target name is the rest (it contains
//!   colons).
//! * libiscsi URL: `iscsi://[user[%password]@]host[:port]/<target-iqn>/<lun>` — IPv6 as
//!   `[addr]`, the LUN in decimal. As in libiscsi, the first `%` of the user part separates user
//!   and password; the password and target name may carry `%XX` escapes, decoded on request with
//!   [`percent_decode`].
//!
//! ```
//! use initiator::addr::{Host, TargetAddress};
//! let a = TargetAddress::parse("iscsi:[fe80::1]::3261:2:iqn.2004-01.org:disk").unwrap();
//! assert_eq!(a.port, 3261);
//! assert_eq!(a.lun.number(), Some(2));
//! assert_eq!(a.target_name, "iqn.2004-01.org:disk");
//! assert!(matches!(a.host, Host::Ip(_)));
//! assert_eq!(a.url().to_string(), "iscsi://[fe80::1]:3261/iqn.2004-01.org:disk/2");
//! ```

use core::fmt;
use core::net::{IpAddr, SocketAddr};

mod ip;

/// The well-known iSCSI port.
pub const DEFAULT_PORT: u16 = 3260;
/// Longest host name accepted (DNS limit).
pub const MAX_HOST_NAME_LEN: usize = 253;
/// Longest target name accepted (RFC 7143 §4.2.7.1: 223 bytes).
pub const MAX_TARGET_NAME_LEN: usize = 223;

/// A malformed address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    /// Not `iscsi:` / `iscsi://`.
    #[error("address does not start with iscsi: or iscsi://")]
    BadScheme,
    /// A field separator is missing.
    #[error("root path is missing a field")]
    MissingField,
    /// Server is empty, has bad characters, or an unterminated `[`.
    #[error("invalid host")]
    BadHost,
    /// Port is not a number 1..=65535.
    #[error("invalid port")]
    BadPort,
    /// Root path protocol other than empty or 6 (TCP).
    #[error("unsupported protocol (only 6 = TCP)")]
    BadProtocol,
    /// LUN malformed or not representable.
    #[error("invalid LUN")]
    BadLun,
    /// Target name empty or too long.
    #[error("invalid target name")]
    BadTargetName,
    /// Portal group tag not a number 0..=65535.
    #[error("invalid portal group tag")]
    BadTag,
    /// A `%XX` escape is malformed or the decoded text is not UTF-8.
    #[error("invalid percent escape")]
    BadEscape,
    /// The decoding buffer is too small.
    #[error("buffer too small")]
    BufferTooSmall,
}

/// A host: an IP literal or a DNS name (resolved elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// Host name.
    Name(&'a str),
}

impl<'a> Host<'a> {
    /// Parses a host without brackets: an IP literal or a host name
    /// (`A-Z a-z 0-9 . - _`, at most [`MAX_HOST_NAME_LEN`]).
    pub fn parse(s: &'a str) -> Result<Self, AddrError> {
        if let Some(ip) = ip::parse_ip(s) {
            return Ok(Host::Ip(ip));
        }
        let ok = !s.is_empty()
            && s.len() <= MAX_HOST_NAME_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if ok {
            Ok(Host::Name(s))
        } else {
            Err(AddrError::BadHost)
        }
    }
}

impl fmt::Display for Host<'_> {
    /// IPv6 literals in brackets, so that a `:port` can follow.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]"),
            Host::Ip(IpAddr::V4(v4)) => write!(f, "{v4}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// Splits `[v6]rest` or `host<sep>rest` at the first separator after the host.
fn split_host<'s>(s: &'s str, seps: &[u8]) -> Result<(&'s str, &'s str, bool), AddrError> {
    if let Some(inner) = s.strip_prefix('[') {
        let end = inner.find(']').ok_or(AddrError::BadHost)?;
        let (host, rest) = (&inner[..end], &inner[end + 1..]);
        return Ok((host, rest, true));
    }
    let end = s.bytes().position(|b| seps.contains(&b)).unwrap_or(s.len());
    Ok((&s[..end], &s[end..], false))
}

fn parse_bracketed(host: &str, bracketed: bool) -> Result<Host<'_>, AddrError> {
    if bracketed {
        ip::parse_v6(host)
            .map(|v6| Host::Ip(IpAddr::V6(v6)))
            .ok_or(AddrError::BadHost)
    } else {
        Host::parse(host)
    }
}

fn parse_port(s: &str) -> Result<u16, AddrError> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddrError::BadPort);
    }
    match s.parse::<u16>() {
        Ok(0) | Err(_) => Err(AddrError::BadPort),
        Ok(p) => Ok(p),
    }
}

/// A network portal: host and TCP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Portal<'a> {
    /// Host.
    pub host: Host<'a>,
    /// TCP port.
    pub port: u16,
}

impl<'a> Portal<'a> {
    /// Parses `HOST[:PORT]`; IPv6 in brackets (a bare IPv6 literal is accepted without a port).
    ///
    /// ```
    /// use initiator::addr::Portal;
    /// let p = Portal::parse("[::1]:3261").unwrap();
    /// assert_eq!(p.port, 3261);
    /// assert_eq!(p.to_string(), "[::1]:3261");
    /// assert_eq!(Portal::parse("san.example").unwrap().port, 3260);
    /// ```
    pub fn parse(s: &'a str) -> Result<Self, AddrError> {
        if !s.starts_with('[')
            && let Some(v6) = ip::parse_v6(s)
        {
            return Ok(Portal {
                host: Host::Ip(IpAddr::V6(v6)),
                port: DEFAULT_PORT,
            });
        }
        let (host, rest, bracketed) = split_host(s, b":")?;
        let host = parse_bracketed(host, bracketed)?;
        let port = match rest {
            "" => DEFAULT_PORT,
            _ => parse_port(rest.strip_prefix(':').ok_or(AddrError::BadHost)?)?,
        };
        Ok(Portal { host, port })
    }

    /// Parses a SendTargets / redirect `TargetAddress` value `host[:port][,tpgt]`.
    ///
    /// ```
    /// use initiator::addr::Portal;
    /// let (p, tag) = Portal::parse_target_address("[fd00::5]:3260,2").unwrap();
    /// assert_eq!(p.to_string(), "[fd00::5]:3260");
    /// assert_eq!(tag, Some(2));
    /// ```
    pub fn parse_target_address(s: &'a str) -> Result<(Self, Option<u16>), AddrError> {
        let (portal, tag) = match s.rfind(',') {
            Some(i) if !s[i..].contains(']') => (&s[..i], Some(&s[i + 1..])),
            _ => (s, None),
        };
        let tag = match tag {
            None => None,
            Some(t) => {
                if t.is_empty() || t.len() > 5 || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(AddrError::BadTag);
                }
                Some(t.parse::<u16>().map_err(|_| AddrError::BadTag)?)
            }
        };
        Ok((Portal::parse(portal)?, tag))
    }
}

/// The portal of a socket address (an IPv6 scope id is not part of a portal). The driver's
/// errors print their socket addresses this way: `core`'s `SocketAddr` formatting is 0.8 KB of a
/// firmware image.
///
/// ```
/// use initiator::addr::Portal;
/// let addr: core::net::SocketAddr = "[fd00::5]:3261".parse().unwrap();
/// assert_eq!(Portal::from(addr).to_string(), "[fd00::5]:3261");
/// assert_eq!(
///     initiator::error::Error::Connect(addr).to_string(),
///     "cannot connect to [fd00::5]:3261"
/// );
/// ```
impl From<SocketAddr> for Portal<'_> {
    fn from(addr: SocketAddr) -> Self {
        Portal {
            host: Host::Ip(addr.ip()),
            port: addr.port(),
        }
    }
}

impl fmt::Display for Portal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// A LUN in its 8-byte SAM encoding (SAM-5 §4.7).
///
/// ```
/// use initiator::addr::Lun;
/// assert_eq!(Lun::from_number(5).unwrap().as_bytes(), &[0, 5, 0, 0, 0, 0, 0, 0]);
/// // flat space addressing above 255
/// assert_eq!(Lun::from_number(300).unwrap().as_bytes(), &[0x41, 0x2c, 0, 0, 0, 0, 0, 0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Lun(pub [u8; 8]);

impl Lun {
    /// LUN 0.
    pub const ZERO: Lun = Lun([0; 8]);

    /// Single-level LUN: peripheral device addressing for 0..=255, flat space for
    /// 256..=16383; `None` above.
    #[must_use]
    pub const fn from_number(n: u16) -> Option<Lun> {
        let mut b = [0u8; 8];
        if n < 256 {
            b[1] = n as u8;
        } else if n < 0x4000 {
            b[0] = 0x40 | (n >> 8) as u8;
            b[1] = n as u8;
        } else {
            return None;
        }
        Some(Lun(b))
    }

    /// The number of a single-level peripheral (bus 0) or flat-space LUN.
    #[must_use]
    pub fn number(&self) -> Option<u16> {
        let b = self.0;
        if b[2..] != [0; 6] {
            return None;
        }
        match b[0] >> 6 {
            0b00 if b[0] == 0 => Some(u16::from(b[1])),
            0b01 => Some(u16::from_be_bytes([b[0] & 0x3f, b[1]])),
            _ => None,
        }
    }

    /// The 8 wire bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }

    /// Parses the root path form: hex, up to four `-`-separated 16-bit groups (each
    /// group fills two bytes, big-endian, left to right).
    ///
    /// ```
    /// use initiator::addr::Lun;
    /// assert_eq!(Lun::parse_root_path("4001-2").unwrap().as_bytes(), &[0x40, 1, 0, 2, 0, 0, 0, 0]);
    /// ```
    pub fn parse_root_path(s: &str) -> Result<Lun, AddrError> {
        let mut b = [0u8; 8];
        if s.is_empty() {
            return Ok(Lun::ZERO);
        }
        for (i, group) in s.split('-').enumerate() {
            if i >= 4
                || group.is_empty()
                || group.len() > 4
                || !group.bytes().all(|c| c.is_ascii_hexdigit())
            {
                return Err(AddrError::BadLun);
            }
            let v = u16::from_str_radix(group, 16).map_err(|_| AddrError::BadLun)?;
            b[2 * i..2 * i + 2].copy_from_slice(&v.to_be_bytes());
        }
        Ok(Lun(b))
    }
}

impl fmt::Display for Lun {
    /// The root path form, trailing zero groups omitted (`0` for LUN 0).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups: [u16; 4] =
            core::array::from_fn(|i| u16::from_be_bytes([self.0[2 * i], self.0[2 * i + 1]]));
        let used = groups.iter().rposition(|&g| g != 0).map_or(1, |i| i + 1);
        for (i, g) in groups[..used].iter().enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            write!(f, "{g:x}")?;
        }
        Ok(())
    }
}

/// CHAP credentials carried in a libiscsi URL, as written (still percent-encoded).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UrlCredentials<'a> {
    /// User name (never contains `%`).
    pub user: &'a str,
    /// Password, percent-encoded; decode with [`percent_decode`].
    pub password: Option<&'a str>,
}

impl fmt::Debug for UrlCredentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrlCredentials")
            .field("user", &self.user)
            .field("password", &self.password.map(|_| "<redacted>"))
            .finish()
    }
}

/// A target: portal, LUN, name and optional credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TargetAddress<'a> {
    /// Host.
    pub host: Host<'a>,
    /// TCP port.
    pub port: u16,
    /// LUN.
    pub lun: Lun,
    /// Target name (as written; percent-encoded if it came from a URL with escapes).
    pub target_name: &'a str,
    /// CHAP user/password from a URL.
    pub credentials: Option<UrlCredentials<'a>>,
}

impl<'a> TargetAddress<'a> {
    /// Parses either form (`iscsi://` URL or `iscsi:` root path).
    pub fn parse(s: &'a str) -> Result<Self, AddrError> {
        if s.get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("iscsi://"))
        {
            Self::parse_url(s)
        } else {
            Self::parse_root_path(s)
        }
    }

    /// Parses an RFC 4173 root path.
    ///
    /// ```
    /// use initiator::addr::TargetAddress;
    /// let a = TargetAddress::parse_root_path("iscsi:10.0.0.1::::iqn.2026-01.test:t1").unwrap();
    /// assert_eq!((a.port, a.lun.number()), (3260, Some(0)));
    /// ```
    pub fn parse_root_path(s: &'a str) -> Result<Self, AddrError> {
        let rest = s
            .get(..6)
            .filter(|p| p.eq_ignore_ascii_case("iscsi:"))
            .map(|_| &s[6..])
            .ok_or(AddrError::BadScheme)?;
        let (host, rest, bracketed) = split_host(rest, b":")?;
        if host.is_empty() {
            return Err(AddrError::BadHost);
        }
        let host = parse_bracketed(host, bracketed)?;
        let rest = rest.strip_prefix(':').ok_or(AddrError::MissingField)?;
        let (protocol, rest) = rest.split_once(':').ok_or(AddrError::MissingField)?;
        if !matches!(protocol, "" | "6") {
            return Err(AddrError::BadProtocol);
        }
        let (port, rest) = rest.split_once(':').ok_or(AddrError::MissingField)?;
        let port = if port.is_empty() {
            DEFAULT_PORT
        } else {
            parse_port(port)?
        };
        let (lun, target_name) = rest.split_once(':').ok_or(AddrError::MissingField)?;
        let lun = Lun::parse_root_path(lun)?;
        check_target_name(target_name)?;
        Ok(TargetAddress {
            host,
            port,
            lun,
            target_name,
            credentials: None,
        })
    }

    /// Parses a libiscsi URL.
    ///
    /// ```
    /// use initiator::addr::TargetAddress;
    /// let a = TargetAddress::parse_url("iscsi://alice%pa%25ss@san:3261/iqn.2026-01.test:t1/3").unwrap();
    /// let c = a.credentials.unwrap();
    /// assert_eq!(c.user, "alice");
    /// let mut buf = [0u8; 16];
    /// assert_eq!(initiator::addr::percent_decode(c.password.unwrap(), &mut buf), Ok("pa%ss"));
    /// assert_eq!(a.lun.number(), Some(3));
    /// ```
    pub fn parse_url(s: &'a str) -> Result<Self, AddrError> {
        let rest = s
            .get(..8)
            .filter(|p| p.eq_ignore_ascii_case("iscsi://"))
            .map(|_| &s[8..])
            .ok_or(AddrError::BadScheme)?;
        let (authority, path) = rest.split_once('/').ok_or(AddrError::MissingField)?;
        // User info ends at the last '@' (a password may contain '@' only escaped, but be lenient).
        let (credentials, hostport) = match authority.rfind('@') {
            Some(i) => {
                let userinfo = &authority[..i];
                let (user, password) = match userinfo.split_once('%') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                if user.is_empty() {
                    return Err(AddrError::BadHost);
                }
                if let Some(p) = password {
                    check_escapes(p)?;
                }
                (Some(UrlCredentials { user, password }), &authority[i + 1..])
            }
            None => (None, authority),
        };
        let (host, rest, bracketed) = split_host(hostport, b":")?;
        if host.is_empty() {
            return Err(AddrError::BadHost);
        }
        let host = parse_bracketed(host, bracketed)?;
        let port = match rest {
            "" => DEFAULT_PORT,
            _ => parse_port(rest.strip_prefix(':').ok_or(AddrError::BadHost)?)?,
        };
        let (target_name, lun) = path.rsplit_once('/').ok_or(AddrError::MissingField)?;
        check_target_name(target_name)?;
        check_escapes(target_name)?;
        if lun.is_empty() || lun.len() > 5 || !lun.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AddrError::BadLun);
        }
        let lun = lun
            .parse::<u16>()
            .ok()
            .and_then(Lun::from_number)
            .ok_or(AddrError::BadLun)?;
        Ok(TargetAddress {
            host,
            port,
            lun,
            target_name,
            credentials,
        })
    }

    /// The portal.
    #[must_use]
    pub fn portal(&self) -> Portal<'a> {
        Portal {
            host: self.host,
            port: self.port,
        }
    }

    /// Displays as a root path (credentials are not part of that form).
    #[must_use]
    pub fn root_path(&self) -> RootPathDisplay<'_, 'a> {
        RootPathDisplay(self)
    }

    /// Displays as a libiscsi URL (with credentials, if any). A LUN that has no single-level
    /// number is written in root path hex form, which libiscsi will not accept.
    #[must_use]
    pub fn url(&self) -> UrlDisplay<'_, 'a> {
        UrlDisplay(self)
    }
}

fn check_target_name(name: &str) -> Result<(), AddrError> {
    if name.is_empty() || name.len() > MAX_TARGET_NAME_LEN || name.bytes().any(|b| b <= b' ') {
        return Err(AddrError::BadTargetName);
    }
    Ok(())
}

fn check_escapes(s: &str) -> Result<(), AddrError> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return Err(AddrError::BadEscape);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes into `buf`.
///
/// ```
/// let mut buf = [0u8; 8];
/// assert_eq!(initiator::addr::percent_decode("a%2Fb", &mut buf), Ok("a/b"));
/// ```
pub fn percent_decode<'b>(s: &str, buf: &'b mut [u8]) -> Result<&'b str, AddrError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        let byte = if b[i] == b'%' {
            let h = b.get(i + 1..i + 3).ok_or(AddrError::BadEscape)?;
            let h = core::str::from_utf8(h).map_err(|_| AddrError::BadEscape)?;
            if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(AddrError::BadEscape);
            }
            i += 3;
            u8::from_str_radix(h, 16).map_err(|_| AddrError::BadEscape)?
        } else {
            i += 1;
            b[i - 1]
        };
        *buf.get_mut(n).ok_or(AddrError::BufferTooSmall)? = byte;
        n += 1;
    }
    core::str::from_utf8(&buf[..n]).map_err(|_| AddrError::BadEscape)
}

impl fmt::Display for TargetAddress<'_> {
    /// The root path form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root_path().fmt(f)
    }
}

/// [`TargetAddress`] shown as `iscsi:<server>::<port>:<LUN>:<targetname>`.
#[derive(Debug, Clone, Copy)]
pub struct RootPathDisplay<'r, 'a>(&'r TargetAddress<'a>);

impl fmt::Display for RootPathDisplay<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0;
        write!(
            f,
            "iscsi:{}::{}:{}:{}",
            a.host, a.port, a.lun, a.target_name
        )
    }
}

/// [`TargetAddress`] shown as `iscsi://[user[%password]@]host:port/<target>/<lun>`.
#[derive(Debug, Clone, Copy)]
pub struct UrlDisplay<'r, 'a>(&'r TargetAddress<'a>);

impl fmt::Display for UrlDisplay<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0;
        f.write_str("iscsi://")?;
        if let Some(c) = a.credentials {
            f.write_str(c.user)?;
            if let Some(p) = c.password {
                write!(f, "%{p}")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}:{}/{}/", a.host, a.port, a.target_name)?;
        match a.lun.number() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "{}", a.lun),
        }
    }
}
