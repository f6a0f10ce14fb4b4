//! Build, parse, locate and lint iSCSI Boot Firmware Tables (iBFT).
//!
//! The iBFT tells the operating system which NIC, addresses and iSCSI target the firmware
//! booted from. This crate is `no_std`, needs no allocator, does no I/O:
//!
//! - [`Builder`] takes each NIC as one [`NicConfig`] and each target as a [`TargetConfig`]
//!   referring to its NIC by [`NicHandle`], and emits a checksummed table into a `&mut [u8]`;
//! - [`Table::parse`] is strict (at least as strict as Linux), [`Table::decode`] is lenient and
//!   reports each [`Problem`];
//! - [`lint()`] reports structural and semantic defects with stable [`Code`]s;
//! - [`find`] scans memory for a table; [`legacy_placement_ok`] checks a BIOS placement.
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! let mut b: ibft::Builder = ibft::Builder::new("iqn.2026-11.org.example:node1");
//! let nic = b.add_nic(ibft::NicConfig {
//!     mac: [0x52, 0x54, 0, 0x12, 0x34, 0x01],
//!     address: Some(ibft::IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)), 24)),
//!     ..Default::default()
//! })?;
//! b.add_target(ibft::TargetConfig::new(nic, "10.0.2.2".parse().unwrap(), "iqn.2026-11.org.example:disk1"))?;
//! let mut buf = [0u8; 1024];
//! let len = b.emit(&mut buf)?;
//! let table = ibft::Table::parse(&buf[..len]).unwrap();
//! assert_eq!(table.nics().next().unwrap().config.mac, [0x52, 0x54, 0, 0x12, 0x34, 0x01]);
//! # Ok::<(), ibft::BuildError>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

/// The Rust examples of `docs/ibft.md` compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/ibft.md")]
mod guide {}

mod builder;
mod display;
mod find;
pub mod lint;
mod parse;
mod types;
pub mod wire;

pub use builder::{
    Alignment, BuildError, Builder, DEFAULT_CAPACITY, GatewayPolicy, MAX_ISCSI_NAME, NicHandle,
    TargetConfig,
};
pub use find::{LEGACY_WINDOW, find, find_all, legacy_placement_ok};
pub use lint::{Code, Finding, LintSummary, Severity};
#[cfg(feature = "lint")]
pub use lint::{lint, lint_into};
pub use parse::{
    Decoded, HeaderRepr, InitiatorRepr, NicRepr, ParseError, Problem, SIGNATURES, Slot,
    StringField, Table, TargetRepr, flags,
};
pub use types::{Chap, ChapType, IpCidr, Lun, NicConfig, Origin, PciAddress, decode_ip, encode_ip};
