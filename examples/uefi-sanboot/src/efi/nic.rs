//! Enumerates the network ports (`EFI_SIMPLE_NETWORK_PROTOCOL` handles): MAC, PCI location and
//! device path of each, which is what the iBFT NIC records and the disk's device path need.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::c_void;
use sanboot::mac::Mac;
use uefi::boot::{self, OpenProtocolAttributes, OpenProtocolParams, SearchType};
use uefi::proto::device_path::DevicePath;
use uefi::proto::network::snp::SimpleNetwork;
use uefi::proto::unsafe_protocol;
use uefi::{Handle, Status};

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

/// The leading part of `EFI_PCI_IO_PROTOCOL`, up to `GetLocation`, which is all this needs.
/// The uefi crate has no binding for it.
#[repr(C)]
#[unsafe_protocol("4cf5b200-68b8-4ca5-9eec-b23e3f50029a")]
struct PciIo {
    /// PollMem, PollIo, Mem.Read/Write, Io.Read/Write, Pci.Read/Write, CopyMem, Map, Unmap,
    /// AllocateBuffer, FreeBuffer, Flush: not called.
    _before: [*const c_void; 14],
    get_location: unsafe extern "efiapi" fn(
        this: *mut PciIo,
        segment: *mut usize,
        bus: *mut usize,
        device: *mut usize,
        function: *mut usize,
    ) -> Status,
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

fn pci_location(path: &DevicePath) -> Option<u16> {
    let mut remaining = path;
    let pci_handle = boot::locate_device_path::<PciIo>(&mut remaining).ok()?;
    let mut pci = peek::<PciIo>(pci_handle).ok()?;
    let pci: &mut PciIo = &mut pci;
    let (mut seg, mut bus, mut dev, mut func) = (0usize, 0usize, 0usize, 0usize);
    // SAFETY: `pci` is a live PCI I/O interface whose layout up to GetLocation matches the
    // UEFI specification's EFI_PCI_IO_PROTOCOL; the out-pointers are valid locals.
    let status = unsafe { (pci.get_location)(pci, &mut seg, &mut bus, &mut dev, &mut func) };
    if status.is_error() || bus > 0xff || dev > 0x1f || func > 7 {
        return None;
    }
    Some(((bus as u16) << 8) | ((dev as u16) << 3) | func as u16)
}

fn ports_now() -> Vec<Port> {
    let Ok(handles) = boot::find_handles::<SimpleNetwork>() else {
        return Vec::new();
    };
    let mut ports = Vec::new();
    for handle in handles {
        let Ok(snp) = peek::<SimpleNetwork>(handle) else {
            continue;
        };
        let raw = snp.mode().permanent_address.0;
        let mac = Mac([raw[0], raw[1], raw[2], raw[3], raw[4], raw[5]]);
        drop(snp);
        let Ok(path) = peek::<DevicePath>(handle) else {
            continue;
        };
        let path = path.to_boxed();
        // The network stack publishes SNP again on child handles (…/MAC/IPv4(…) and
        // …/MAC/IPv6(…)); the port itself is the handle whose path is shortest.
        if let Some(seen) = ports.iter_mut().find(|p: &&mut Port| p.mac == mac) {
            if path.as_bytes().len() < seen.path.as_bytes().len() {
                seen.handle = handle;
                seen.path = path;
            }
            continue;
        }
        let pci_bdf = pci_location(&path);
        ports.push(Port {
            handle,
            mac,
            pci_bdf,
            path,
        });
    }
    ports
}

/// Lists the ports, connecting every controller first if no port is bound yet (firmware that
/// boots fast may not have started the network drivers).
pub fn discover() -> Vec<Port> {
    let ports = ports_now();
    if !ports.is_empty() {
        return ports;
    }
    if let Ok(all) = boot::locate_handle_buffer(SearchType::AllHandles) {
        for &handle in all.iter() {
            let _ = boot::connect_controller(handle, &[], None, true);
        }
    }
    ports_now()
}
