//! Glue between network stacks and the `initiator`/`ibft` crates: adapters only, no protocol logic.
//!
//! - [`Port`]: one network port over any smoltcp `phy::Device` and a [`Clock`], configured by
//!   DHCPv4 or statically, yielding one [`PortConfig`] whose [`PortConfig::nic`] is the iBFT NIC
//!   value of exactly that port.
//! - `&Port` is an [`initiator::transport::Connector`]; its connections are [`TcpTransport`]s.
//! - [`time`] converts instants between the initiator and smoltcp; [`buffers`] sizes TCP buffers.
//! - Feature `uefi`: a smoltcp device over the UEFI Simple Network Protocol and per-port PCI/MAC
//!   discovery.
#![cfg_attr(not(feature = "std"), no_std)]

pub mod buffers;
pub mod clock;
pub mod config;
pub mod dhcp;
pub mod nic;
pub mod port;
pub mod tcp;
pub mod time;
#[cfg(feature = "uefi")]
pub mod uefi;

pub use clock::Clock;
pub use config::{Addressing, PortConfig, PortSettings, StaticConfig};
pub use nic::{NicAddress, NicConfig, Origin, PciAddress};
pub use port::{ConfigureError, Port, PortError, PortStorage, TcpBuffers};
pub use tcp::{TcpError, TcpTransport};
#[cfg(feature = "std")]
pub mod std_tcp;
