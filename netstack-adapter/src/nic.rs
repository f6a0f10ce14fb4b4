//! The NIC value one configured port produces is the iBFT builder's own [`NicConfig`]: the
//! port hands it over whole, so its MAC, PCI location and addresses cannot come from
//! different ports.
//!
//! ```
//! use netstack_adapter::{NicConfig, Origin};
//! let nic = NicConfig { mac: [2, 0, 0, 0, 0, 1], origin: Origin::Dhcp, ..NicConfig::default() };
//! assert!(nic.address.is_none());
//! ```

pub use ibft::{IpCidr, NicConfig, Origin, PciAddress};
