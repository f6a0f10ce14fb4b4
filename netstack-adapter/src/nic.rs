//! The NIC value one configured port produces: everything an iBFT NIC record holds.
//!
//! The field set mirrors `ibft::NicConfig` so that the iBFT builder can take it whole; the
//! conversion is a plain field move.

use core::net::IpAddr;

/// A PCI function location: segment, bus, device, function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PciAddress {
    /// PCI segment (domain); the iBFT cannot express it, so it must be 0 there.
    pub segment: u16,
    /// Bus number.
    pub bus: u8,
    /// Device number (0..=31).
    pub device: u8,
    /// Function number (0..=7).
    pub function: u8,
}

/// How the address was assigned (Windows' `NL_PREFIX_ORIGIN`, the iBFT NIC "origin" byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// 0: none of the others.
    Other,
    /// 1: configured by hand.
    Manual,
    /// 2: a well-known address.
    WellKnown,
    /// 3: leased by DHCP.
    Dhcp,
    /// 4: from an IPv6 router advertisement.
    RouterAdvertisement,
    /// Any other value.
    Unknown(u8),
}

/// An interface address with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NicAddress {
    /// The address.
    pub ip: IpAddr,
    /// Prefix length in bits (0..=32 for IPv4, 0..=128 for IPv6).
    pub prefix_len: u8,
}

/// One port's configuration as the iBFT records it.
///
/// ```
/// use netstack_adapter::{NicConfig, Origin};
/// let nic = NicConfig::unconfigured([2, 0, 0, 0, 0, 1]);
/// assert_eq!(nic.origin, Origin::Other);
/// assert!(nic.address.is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NicConfig<'a> {
    /// The port's MAC address (the permanent one where the platform reports it).
    pub mac: [u8; 6],
    /// The port's PCI location, when the platform knows it.
    pub pci: Option<PciAddress>,
    /// The address the port uses, with its prefix.
    pub address: Option<NicAddress>,
    /// Default gateway.
    pub gateway: Option<IpAddr>,
    /// Primary and secondary DNS server.
    pub dns: [Option<IpAddr>; 2],
    /// The DHCP server that leased the address (its server identifier, option 54).
    pub dhcp_server: Option<IpAddr>,
    /// How the address was assigned.
    pub origin: Origin,
    /// 802.1Q VLAN id (12 bits), 0 for none.
    pub vlan: u16,
    /// Host name, from DHCP option 12 or configured by hand.
    pub hostname: Option<&'a str>,
}

impl NicConfig<'_> {
    /// A port that has a MAC and nothing else yet.
    pub const fn unconfigured(mac: [u8; 6]) -> Self {
        NicConfig {
            mac,
            pci: None,
            address: None,
            gateway: None,
            dns: [None, None],
            dhcp_server: None,
            origin: Origin::Other,
            vlan: 0,
            hostname: None,
        }
    }
}
