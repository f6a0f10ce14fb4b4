//! The iBFT against the firmware's own view of the machine: every valid NIC record must be a
//! real port (its MAC and PCI location) with the address that port leased, and the
//! boot-selected target must be associated with the SAN port.
//!
//! The ports come from the firmware (SNP handles, their MACs and PCI locations); the leased
//! addresses come from the load options as `lease=MAC,IPv4` words, since OVMF's own IP4
//! configuration does not know about leases made by another program's stack.

use core::net::{IpAddr, Ipv4Addr};
use ibft::{PciAddress, Table, flags};

/// One network port as the firmware reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    /// Its MAC address.
    pub mac: [u8; 6],
    /// Its PCI function, when it has one.
    pub pci: Option<PciAddress>,
}

/// Why the iBFT disagrees with the machine; each names the NIC record's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortFail {
    /// The table does not parse (the main verdict says why).
    Parse,
    /// No port has this NIC record's MAC.
    NoSuchMac(u8),
    /// The port with this record's MAC sits at another PCI location.
    Pci(u8),
    /// The record's address is not the one its port leased (or that port leased none).
    Address(u8),
    /// The boot-selected target's NIC association names a record that is not the SAN port.
    TargetNic(u8),
    /// No boot-selected target, or fewer ports than the SAN port's position.
    NoSanPort,
}

impl core::fmt::Display for PortFail {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Parse => f.write_str("table does not parse"),
            Self::NoSuchMac(i) => write!(f, "nic{i}: no port has its MAC"),
            Self::Pci(i) => write!(f, "nic{i}: PCI location differs from its port's"),
            Self::Address(i) => write!(f, "nic{i}: address is not the one its port leased"),
            Self::TargetNic(i) => write!(
                f,
                "boot target's NIC association nic{i} is not the SAN port"
            ),
            Self::NoSanPort => f.write_str("no boot target or no SAN port"),
        }
    }
}

impl core::error::Error for PortFail {}

/// The address leased to `mac` according to `options` (`lease=52:54:00:00:00:01,10.0.2.15`
/// words among others).
///
/// ```
/// use ibft_payload::ports::lease_for;
/// let opts = "x lease=52:54:00:00:00:02,10.0.3.15 y";
/// assert_eq!(lease_for(opts, [0x52, 0x54, 0, 0, 0, 2]), Some([10, 0, 3, 15].into()));
/// assert_eq!(lease_for(opts, [0x52, 0x54, 0, 0, 0, 1]), None);
/// ```
pub fn lease_for(options: &str, mac: [u8; 6]) -> Option<Ipv4Addr> {
    options.split_ascii_whitespace().find_map(|word| {
        let (m, ip) = word.strip_prefix("lease=")?.split_once(',')?;
        (parse_mac(m)? == mac).then_some(())?;
        ip.parse().ok()
    })
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Checks every valid NIC record of `table` against `ports` (leases from `options`) and that
/// the first boot-selected target uses the port at `ports[san]`. Returns how many NIC
/// records matched.
pub fn check_ports(
    table: &[u8],
    ports: &[Port],
    options: &str,
    san: usize,
) -> Result<usize, PortFail> {
    let parsed = Table::parse(table).map_err(|_| PortFail::Parse)?;
    let valid = |f: u8| f & flags::VALID != 0;
    let mut matched = 0;
    for nic in parsed.nics().filter(|n| valid(n.flags)) {
        let port = ports
            .iter()
            .find(|p| p.mac == nic.config.mac)
            .ok_or(PortFail::NoSuchMac(nic.index))?;
        if port.pci != nic.config.pci {
            return Err(PortFail::Pci(nic.index));
        }
        let leased = lease_for(options, port.mac).map(IpAddr::V4);
        if leased.is_none() || nic.config.address.map(|a| a.addr) != leased {
            return Err(PortFail::Address(nic.index));
        }
        matched += 1;
    }
    let san_mac = ports.get(san).ok_or(PortFail::NoSanPort)?.mac;
    let boot = flags::VALID | flags::BOOT_SELECTED;
    let target = parsed
        .targets()
        .find(|t| t.flags & boot == boot)
        .ok_or(PortFail::NoSanPort)?;
    let assoc = parsed
        .nics()
        .find(|n| valid(n.flags) && n.index == target.nic);
    match assoc {
        Some(n) if n.config.mac == san_mac => Ok(matched),
        _ => Err(PortFail::TargetNic(target.nic)),
    }
}
