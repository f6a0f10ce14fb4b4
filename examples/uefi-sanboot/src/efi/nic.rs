//! Enumerates the network ports (`EFI_SIMPLE_NETWORK_PROTOCOL` handles): MAC, PCI location and
//! device path of each, which is what the iBFT NIC records and the disk's device path need.

use alloc::boxed::Box;
use alloc::vec::Vec;
use netstack_adapter::uefi::{PciIo, port_handles, port_identity};
use sanboot::mac::Mac;
use uefi::boot::{self, OpenProtocolAttributes, OpenProtocolParams, SearchType};
use uefi::proto::device_path::DevicePath;
use uefi::{Handle, Identify};

/// One port.
#[derive(Debug)]
pub struct Port {
    /// The SNP handle.
    pub handle: Handle,
    /// The permanent MAC address (what the OS sees as the port's identity).
    pub mac: Mac,
    /// PCI location as `bus << 8 | device << 3 | function` (segment dropped: the iBFT has none).
    pub pci_bdf: Option<u16>,
    /// The port's device path (PciRoot/Pci/…/MAC).
    pub path: Box<DevicePath>,
}

impl Port {
    /// The port's identity for its iBFT NIC record (addresses are added once it is configured).
    pub fn nic_config(&self) -> ibft::NicConfig<'static> {
        ibft::NicConfig {
            mac: self.mac.0,
            pci: self.pci_bdf.map(ibft::PciAddress::from_wire),
            ..Default::default()
        }
    }
}

/// Opens a protocol without taking it from the driver that owns it.
fn peek<P: uefi::proto::ProtocolPointer + ?Sized>(
    handle: Handle,
) -> uefi::Result<boot::ScopedProtocol<P>> {
    // SAFETY: GET_PROTOCOL does not disturb the owning driver; the interface is only read while
    // the returned scope is alive, during which this application runs no code that could
    // uninstall it.
    unsafe {
        boot::open_protocol::<P>(
            OpenProtocolParams {
                handle,
                agent: boot::image_handle(),
                controller: None,
            },
            OpenProtocolAttributes::GetProtocol,
        )
    }
}

/// Most ports a machine is expected to have; more are ignored.
const MAX_PORTS: usize = 16;

/// The ports as `netstack_adapter::uefi` finds them (one handle per physical port), with
/// their device paths.
fn ports_now() -> Vec<Port> {
    let mut handles = [None; MAX_PORTS];
    let found = port_handles(&mut handles).unwrap_or(0);
    handles[..found]
        .iter()
        .flatten()
        .filter_map(|&handle| {
            let id = port_identity(handle).ok()?;
            let path = peek::<DevicePath>(handle).ok()?.to_boxed();
            Some(Port {
                handle,
                mac: Mac(id.permanent_mac),
                pci_bdf: id.pci.map(|p| p.to_wire()),
                path,
            })
        })
        .collect()
}

/// Lists the ports, connecting controllers first if no port is bound yet (firmware that boots
/// fast may not have started the network drivers).
///
/// First only the PCI devices' own drivers, without recursion: a NIC's driver installs SNP,
/// and the firmware's network stack (MNP, IP, DHCP, PXE, HTTP boot) is not started on top of
/// every port only to be displaced when the SAN port's SNP is opened exclusively. That took
/// about a second of the time to the payload under QEMU/TCG. Everything, recursively, only if
/// that found no port.
pub fn discover() -> Vec<Port> {
    let ports = ports_now();
    if !ports.is_empty() {
        return ports;
    }
    connect_each(SearchType::ByProtocol(&PciIo::GUID), false);
    let ports = ports_now();
    if !ports.is_empty() {
        return ports;
    }
    connect_each(SearchType::AllHandles, true);
    ports_now()
}

/// `ConnectController` on every handle found by `search`.
fn connect_each(search: SearchType<'_>, recursive: bool) {
    if let Ok(handles) = boot::locate_handle_buffer(search) {
        for &handle in handles.iter() {
            let _ = boot::connect_controller(handle, &[], None, recursive);
        }
    }
}
