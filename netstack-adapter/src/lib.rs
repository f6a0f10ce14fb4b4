//! Glue between network stacks and the `initiator`/`ibft` crates: adapters only, no protocol logic.
//!
//! - [`Port`]: one network port over any smoltcp `phy::Device` and a [`Clock`], configured by
//!   DHCPv4 or statically, yielding one [`PortConfig`] whose [`PortConfig::nic`] is the iBFT NIC
//!   value of exactly that port.
//! - `&Port` is an [`initiator::transport::Connector`]; its connections are [`TcpTransport`]s.
//! - [`time`] converts instants between the initiator and smoltcp; [`buffers`] sizes TCP buffers.
//! - Feature `uefi`: a smoltcp device over the UEFI Simple Network Protocol and per-port PCI/MAC
//!   discovery.
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use netstack_adapter::{IpCidr, Origin, Port, PortSettings, PortStorage, StaticConfig, TcpBuffers};
//!
//! // Any smoltcp Ethernet device works: a TAP on a host, `uefi::SnpDevice` in firmware.
//! let device = smoltcp::phy::Loopback::new(smoltcp::phy::Medium::Ethernet);
//! let mut ms = 0;
//! let clock = move || { ms += 1; initiator::time::Instant::from_millis(ms) };
//! let address = IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)), 24);
//! let settings = PortSettings::fixed([2, 0, 0, 0, 0, 1], StaticConfig::new(address), 42);
//! let (mut storage, mut rx, mut tx) = (PortStorage::new(), [0u8; 4096], [0u8; 4096]);
//! let port = Port::new(device, clock, &settings, &mut storage, TcpBuffers { rx: &mut rx, tx: &mut tx })?;
//!
//! // One value per port, handed whole to the iBFT builder.
//! let config = port.configure(initiator::time::Instant::from_millis(10_000))?;
//! let mut table: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:host");
//! let nic = table.add_nic(config.nic())?;
//! assert_eq!(config.nic().origin, Origin::Manual);
//!
//! // `&port` is the initiator's `Connector`:
//! // let client = initiator::driver::Client::connect(&port, &client_config, buffers)?;
//! # let _ = nic;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

pub mod buffers;
pub mod checksum;
pub mod clock;
pub mod config;
pub mod dhcp;
pub mod nic;
pub mod port;
pub mod tcp;
pub mod ticks;
pub mod time;
#[cfg(feature = "uefi")]
pub mod uefi;

pub use clock::Clock;
pub use config::{Addressing, PortConfig, PortSettings, StaticConfig};
pub use nic::{IpCidr, NicConfig, Origin, PciAddress};
pub use port::{ConfigureError, Port, PortError, PortStorage, TcpBuffers};
pub use tcp::{TcpError, TcpTransport};
#[cfg(feature = "std")]
pub mod std_tcp;
