//! Per-port address configuration: what the caller asks for, and what the port ended up with.

use crate::nic::{IpCidr, NicConfig, Origin, PciAddress};
use core::net::IpAddr;

/// Longest host name or root path kept (one DHCP option carries at most 255 bytes).
pub const MAX_OPTION_STRING: usize = 255;

/// A string from a DHCP option or the caller, stored in the port (no allocator).
pub type OptionString = heapless::String<MAX_OPTION_STRING>;

/// How a port gets its address.
// Built once per port; boxing the larger variant would need an allocator.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressing {
    /// DHCPv4 through smoltcp's DHCP client; the lease also brings gateway, DNS, host name and
    /// root path.
    Dhcp,
    /// A fixed IPv4 or IPv6 address.
    Static(StaticConfig),
}

/// A hand-configured address (IPv4 or IPv6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticConfig {
    /// The port's address and prefix length.
    pub address: IpCidr,
    /// Default gateway, of the same family as `address`.
    pub gateway: Option<IpAddr>,
    /// DNS servers (recorded for the iBFT only; nothing here resolves names).
    pub dns: [Option<IpAddr>; 2],
    /// Host name to record in the iBFT.
    pub hostname: OptionString,
}

impl StaticConfig {
    /// An address with no gateway, DNS or host name.
    ///
    /// ```
    /// use core::net::{IpAddr, Ipv4Addr};
    /// use netstack_adapter::{IpCidr, StaticConfig};
    /// let cfg = StaticConfig::new(IpCidr { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), prefix: 24 });
    /// assert!(cfg.gateway.is_none());
    /// ```
    pub fn new(address: IpCidr) -> Self {
        StaticConfig {
            address,
            gateway: None,
            dns: [None, None],
            hostname: OptionString::new(),
        }
    }
}

/// What one port is, before any address: its identity and how to address it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSettings {
    /// The MAC the port sends from (must be unicast).
    pub mac: [u8; 6],
    /// The MAC to record in the iBFT when it differs from `mac` (UEFI's permanent address);
    /// `None` records `mac`.
    pub permanent_mac: Option<[u8; 6]>,
    /// The port's PCI location, when the platform knows it.
    pub pci: Option<PciAddress>,
    /// 802.1Q VLAN id to record (tagging itself is the device's job: UEFI VLAN handles tag).
    pub vlan: u16,
    /// DHCP or static.
    pub addressing: Addressing,
    /// Seed for TCP initial sequence numbers and ephemeral ports; should differ on each boot.
    pub random_seed: u64,
}

impl PortSettings {
    /// Settings for a DHCP-configured port without PCI location or VLAN.
    pub fn dhcp(mac: [u8; 6], random_seed: u64) -> Self {
        PortSettings {
            mac,
            permanent_mac: None,
            pci: None,
            vlan: 0,
            addressing: Addressing::Dhcp,
            random_seed,
        }
    }

    /// Settings for a statically addressed port without PCI location or VLAN.
    pub fn fixed(mac: [u8; 6], config: StaticConfig, random_seed: u64) -> Self {
        PortSettings {
            addressing: Addressing::Static(config),
            ..PortSettings::dhcp(mac, random_seed)
        }
    }
}

/// The configuration a port actually has: one value, so MAC, PCI location and addresses can only
/// come from the same port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConfig {
    /// MAC for the iBFT (the permanent one where known).
    pub mac: [u8; 6],
    /// PCI location.
    pub pci: Option<PciAddress>,
    /// Address and prefix.
    pub address: IpCidr,
    /// Default gateway.
    pub gateway: Option<IpAddr>,
    /// DNS servers.
    pub dns: [Option<IpAddr>; 2],
    /// DHCP server identifier (option 54).
    pub dhcp_server: Option<IpAddr>,
    /// How the address was assigned.
    pub origin: Origin,
    /// VLAN id.
    pub vlan: u16,
    /// Host name (DHCP option 12, or configured); empty when none.
    pub hostname: OptionString,
    /// Root path (DHCP option 17), e.g. `iscsi:10.0.0.1::3260:1:iqn...`; empty when none.
    pub root_path: OptionString,
    /// The DHCP client identifier (option 61) the port sent: type 1 (Ethernet) + MAC.
    pub client_identifier: Option<[u8; 7]>,
}

impl PortConfig {
    /// The NIC value for the iBFT builder.
    ///
    /// ```
    /// use core::net::{IpAddr, Ipv4Addr};
    /// use netstack_adapter::{IpCidr, Origin, PortConfig};
    /// let cfg = PortConfig::fixed([2, 0, 0, 0, 0, 1], None, 0, &netstack_adapter::StaticConfig::new(
    ///     IpCidr { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), prefix: 24 }));
    /// let nic = cfg.nic();
    /// assert_eq!(nic.origin, Origin::Manual);
    /// assert_eq!(nic.hostname, None);
    /// ```
    pub fn nic(&self) -> NicConfig<'_> {
        NicConfig {
            mac: self.mac,
            pci: self.pci,
            address: Some(self.address),
            gateway: self.gateway,
            dns: self.dns,
            dhcp_server: self.dhcp_server,
            origin: self.origin,
            vlan: self.vlan,
            hostname: non_empty(&self.hostname),
        }
    }

    /// The root path from DHCP option 17, if the server sent one.
    pub fn root_path(&self) -> Option<&str> {
        non_empty(&self.root_path)
    }

    /// The configuration of a statically addressed port.
    pub fn fixed(mac: [u8; 6], pci: Option<PciAddress>, vlan: u16, cfg: &StaticConfig) -> Self {
        PortConfig {
            mac,
            pci,
            address: cfg.address,
            gateway: cfg.gateway,
            dns: cfg.dns,
            dhcp_server: None,
            origin: Origin::Manual,
            vlan,
            hostname: cfg.hostname.clone(),
            root_path: OptionString::new(),
            client_identifier: None,
        }
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}
