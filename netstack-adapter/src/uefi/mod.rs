//! UEFI ports: a smoltcp [`Device`](smoltcp::phy::Device) over the Simple Network Protocol, and
//! each port's identity (MAC, permanent MAC, PCI location) for its NIC value.
//!
//! Typical use in a boot application, for each SNP handle:
//! ```ignore
//! let settings = port_settings(handle, Addressing::Dhcp, seed)?; // MAC, permanent MAC, PCI
//! let snp = boot::open_protocol_exclusive::<SimpleNetwork>(handle)?; // keeps MNP off the port
//! let device = SnpDevice::new(snp, &mut snp_buffers, false)?;
//! let port = Port::new(device, FirmwareClock::new(), &settings, &mut storage, tcp_buffers)?;
//! ```

mod clock;
mod device;
mod identity;
mod pci_io;

pub use clock::FirmwareClock;
pub use device::{FRAME_LEN, SnpBuffers, SnpDevice, SnpRxToken, SnpTxToken, TX_SLOTS};
pub use identity::{PortIdentity, pci_location, port_handles, port_identity, port_settings};
pub use pci_io::PciIo;
