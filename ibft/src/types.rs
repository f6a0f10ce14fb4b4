//! The values a table is built from and parsed into: NICs, targets, addresses, LUNs.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A PCI function address on segment 0 (the iBFT cannot express a segment).
///
/// ```
/// let pci = ibft::PciAddress { bus: 0, device: 3, function: 0 };
/// assert_eq!(pci.to_wire(), 0x0018);
/// assert_eq!(ibft::PciAddress::from_wire(0x0018), pci);
/// assert_eq!(format!("{pci}"), "00:03.0");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PciAddress {
    /// Bus number.
    pub bus: u8,
    /// Device number, 0..=31.
    pub device: u8,
    /// Function number, 0..=7.
    pub function: u8,
}

impl PciAddress {
    /// The iBFT encoding `bus << 8 | device << 3 | function` (device and function masked).
    pub fn to_wire(self) -> u16 {
        u16::from(self.bus) << 8 | u16::from(self.device & 0x1f) << 3 | u16::from(self.function & 7)
    }
    /// Decodes the iBFT encoding.
    pub fn from_wire(v: u16) -> Self {
        Self {
            bus: (v >> 8) as u8,
            device: ((v >> 3) & 0x1f) as u8,
            function: (v & 7) as u8,
        }
    }
    /// Whether device and function are in range.
    pub fn is_valid(self) -> bool {
        self.device < 32 && self.function < 8
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02x}:{:02x}.{:x}",
            self.bus, self.device, self.function
        )
    }
}

/// An address with its subnet prefix length.
///
/// ```
/// use core::net::{IpAddr, Ipv4Addr};
/// let c = ibft::IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)), 24);
/// assert!(c.contains(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2))));
/// assert!(!c.contains(IpAddr::V4(Ipv4Addr::new(10, 0, 3, 2))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpCidr {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length in bits (0..=32 for IPv4, 0..=128 for IPv6).
    pub prefix: u8,
}

impl IpCidr {
    /// Pairs an address with a prefix length.
    pub fn new(addr: IpAddr, prefix: u8) -> Self {
        Self { addr, prefix }
    }
    /// Whether the prefix length fits the address family and is not 0.
    pub fn is_valid(&self) -> bool {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        self.prefix > 0 && self.prefix <= max
    }
    /// Whether `other` is in this subnet (false across address families or for invalid prefixes).
    pub fn contains(&self, other: IpAddr) -> bool {
        if !self.is_valid() {
            return false;
        }
        match (self.addr, other) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                // is_valid() guarantees 1..=32, so the shift is 0..=31.
                let mask = u32::MAX << (32 - u32::from(self.prefix));
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX << (128 - u32::from(self.prefix));
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Where a NIC's address came from (Windows `NL_PREFIX_ORIGIN`); an open enum.
///
/// ```
/// assert_eq!(ibft::Origin::from(3), ibft::Origin::Dhcp);
/// assert_eq!(ibft::Origin::from(7), ibft::Origin::Unknown(7));
/// assert_eq!(u8::from(ibft::Origin::RouterAdvertisement), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Origin {
    /// 0: other.
    Other,
    /// 1: configured by hand.
    #[default]
    Manual,
    /// 2: well-known (e.g. link-local).
    WellKnown,
    /// 3: DHCP.
    Dhcp,
    /// 4: IPv6 router advertisement.
    RouterAdvertisement,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for Origin {
    fn from(v: u8) -> Self {
        match v {
            0 => Self::Other,
            1 => Self::Manual,
            2 => Self::WellKnown,
            3 => Self::Dhcp,
            4 => Self::RouterAdvertisement,
            other => Self::Unknown(other),
        }
    }
}

impl From<Origin> for u8 {
    fn from(v: Origin) -> Self {
        match v {
            Origin::Other => 0,
            Origin::Manual => 1,
            Origin::WellKnown => 2,
            Origin::Dhcp => 3,
            Origin::RouterAdvertisement => 4,
            Origin::Unknown(other) => other,
        }
    }
}

impl fmt::Display for Origin {
    /// The code and its name, e.g. `3 (dhcp)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Other => "other",
            Self::Manual => "manual",
            Self::WellKnown => "well-known",
            Self::Dhcp => "dhcp",
            Self::RouterAdvertisement => "router-advertisement",
            Self::Unknown(_) => "unknown",
        };
        write!(f, "{} ({name})", u8::from(*self))
    }
}

/// One network port exactly as it was configured: the single value the iBFT builder takes
/// for a NIC record, so MAC, PCI address and addresses cannot come from different ports.
///
/// ```
/// use core::net::{IpAddr, Ipv4Addr};
/// let nic = ibft::NicConfig {
///     mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
///     pci: Some(ibft::PciAddress { bus: 0, device: 3, function: 0 }),
///     address: Some(ibft::IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)), 24)),
///     gateway: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2))),
///     dns: [Some(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 3))), None],
///     dhcp_server: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2))),
///     origin: ibft::Origin::Dhcp,
///     vlan: 0,
///     hostname: Some("node1"),
/// };
/// assert_eq!(nic.address.unwrap().prefix, 24);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NicConfig<'a> {
    /// The port's MAC address.
    pub mac: [u8; 6],
    /// The port's PCI function (`None` writes 0).
    pub pci: Option<PciAddress>,
    /// The port's address and prefix.
    pub address: Option<IpCidr>,
    /// Default gateway (subject to the builder's [`GatewayPolicy`](crate::GatewayPolicy)).
    pub gateway: Option<IpAddr>,
    /// Primary and secondary DNS servers.
    pub dns: [Option<IpAddr>; 2],
    /// The DHCP server that leased the address.
    pub dhcp_server: Option<IpAddr>,
    /// Where the address came from.
    pub origin: Origin,
    /// 802.1Q VLAN id (0 = untagged, at most 4095).
    pub vlan: u16,
    /// Host name.
    pub hostname: Option<&'a str>,
}

/// A SCSI logical unit number in the 8-byte SAM format the iBFT stores.
///
/// ```
/// let lun = ibft::Lun::new(1);
/// assert_eq!(lun.0, [0, 1, 0, 0, 0, 0, 0, 0]);
/// assert_eq!(ibft::Lun::new(300).0, [0x41, 0x2c, 0, 0, 0, 0, 0, 0]);
/// assert_eq!(ibft::Lun::new(300).single_level(), Some(300));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Lun(pub [u8; 8]);

impl Lun {
    /// Encodes a single-level LUN: peripheral addressing below 256, flat addressing up to
    /// 16383 (larger values are truncated to 14 bits).
    pub fn new(n: u16) -> Self {
        let mut b = [0; 8];
        if n < 256 {
            b[1] = n as u8;
        } else {
            b[0] = 0x40 | ((n >> 8) as u8 & 0x3f);
            b[1] = n as u8;
        }
        Self(b)
    }
    /// Decodes a single-level peripheral or flat LUN, `None` for other forms.
    pub fn single_level(&self) -> Option<u16> {
        if self.0[2..] != [0; 6] {
            return None;
        }
        match self.0[0] >> 6 {
            0 if self.0[0] == 0 => Some(u16::from(self.0[1])),
            1 => Some(u16::from(self.0[0] & 0x3f) << 8 | u16::from(self.0[1])),
            _ => None,
        }
    }
}

impl fmt::Display for Lun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.single_level() {
            Some(n) => write!(f, "{n}"),
            None => {
                for (i, pair) in self.0.chunks(2).enumerate() {
                    if i > 0 {
                        f.write_str("-")?;
                    }
                    write!(f, "{:02x}{:02x}", pair[0], pair[1])?;
                }
                Ok(())
            }
        }
    }
}

/// A CHAP name and secret.
///
/// ```
/// let c = ibft::Chap { user: "iqn.2026-11.org.example:node1", secret: "at-least-12-chars" };
/// assert!(c.secret.len() >= 12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chap<'a> {
    /// CHAP name.
    pub user: &'a str,
    /// CHAP secret (the Microsoft initiator refuses secrets shorter than 12 characters).
    pub secret: &'a str,
}

/// CHAP type of a target record; an open enum.
///
/// ```
/// assert_eq!(ibft::ChapType::from(2), ibft::ChapType::Mutual);
/// assert_eq!(u8::from(ibft::ChapType::Unknown(5)), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChapType {
    /// 0: no CHAP.
    None,
    /// 1: one-way CHAP.
    Chap,
    /// 2: mutual CHAP.
    Mutual,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for ChapType {
    fn from(v: u8) -> Self {
        match v {
            0 => Self::None,
            1 => Self::Chap,
            2 => Self::Mutual,
            other => Self::Unknown(other),
        }
    }
}

impl From<ChapType> for u8 {
    fn from(v: ChapType) -> Self {
        match v {
            ChapType::None => 0,
            ChapType::Chap => 1,
            ChapType::Mutual => 2,
            ChapType::Unknown(o) => o,
        }
    }
}

/// Encodes an address into a 16-byte iBFT field (IPv4 as `::ffff:a.b.c.d`, `None` as zeros).
///
/// ```
/// use core::net::{IpAddr, Ipv4Addr};
/// let b = ibft::encode_ip(Some(IpAddr::V4(Ipv4Addr::new(192, 168, 50, 1))));
/// assert_eq!(b, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 50, 1]);
/// assert_eq!(ibft::decode_ip(b), Some(IpAddr::V4(Ipv4Addr::new(192, 168, 50, 1))));
/// ```
pub fn encode_ip(addr: Option<IpAddr>) -> [u8; 16] {
    match addr {
        None => [0; 16],
        Some(IpAddr::V4(v4)) => v4.to_ipv6_mapped().octets(),
        Some(IpAddr::V6(v6)) => v6.octets(),
    }
}

/// Decodes a 16-byte iBFT address field; all zeros and `::ffff:0.0.0.0` are empty.
pub fn decode_ip(b: [u8; 16]) -> Option<IpAddr> {
    let v6 = Ipv6Addr::from(b);
    match v6.to_ipv4_mapped() {
        Some(v4) if v4 == Ipv4Addr::UNSPECIFIED => None,
        Some(v4) => Some(IpAddr::V4(v4)),
        None if v6.is_unspecified() => None,
        None => Some(IpAddr::V6(v6)),
    }
}

/// Whether an address is link-local (169.254.0.0/16 or fe80::/10).
pub(crate) fn is_link_local(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}
