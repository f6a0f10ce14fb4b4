//! Which port an SNP handle is: its MACs and PCI location, read from the firmware.

use super::pci_io::PciIo;
use crate::config::{Addressing, PortSettings};
use crate::nic::PciAddress;
use uefi::Identify;
use uefi::boot::{self, OpenProtocolAttributes, OpenProtocolParams, ScopedProtocol, SearchType};
use uefi::proto::ProtocolPointer;
use uefi::proto::device_path::DevicePath;
use uefi::proto::network::EfiMacAddr;
use uefi::proto::network::snp::SimpleNetwork;
use uefi::{Handle, Status};

/// A port's hardware identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortIdentity {
    /// The MAC the port currently sends from (SNP `CurrentAddress`).
    pub mac: [u8; 6],
    /// The factory MAC (SNP `PermanentAddress`), which the iBFT records as EDK2 does; equal to
    /// `mac` when the driver reports none.
    pub permanent_mac: [u8; 6],
    /// The PCI function behind the port, when there is one on segment 0.
    pub pci: Option<PciAddress>,
}

/// Opens `P` on `handle` without taking it from its driver, to read from it briefly.
fn peek<P: ProtocolPointer + ?Sized>(handle: Handle) -> uefi::Result<ScopedProtocol<P>> {
    let params = OpenProtocolParams {
        handle,
        agent: boot::image_handle(),
        controller: None,
    };
    // SAFETY: GetProtocol does not stop the owning driver from uninstalling the protocol; the
    // callers here only read from it before returning, with no boot-services call in between
    // that could run that driver's unbind.
    unsafe { boot::open_protocol::<P>(params, OpenProtocolAttributes::GetProtocol) }
}

fn mac6(addr: &EfiMacAddr) -> [u8; 6] {
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&addr.0[..6]);
    mac
}

/// The PCI location of the device behind `handle`: PCI I/O `GetLocation` on the handle itself
/// or on the nearest parent in its device path that has PCI I/O. A device outside PCI
/// segment 0 is `UNSUPPORTED`: the iBFT cannot express a segment (and Linux links only
/// domain 0).
pub fn pci_location(handle: Handle) -> uefi::Result<PciAddress> {
    let path = peek::<DevicePath>(handle)?;
    let mut remaining: &DevicePath = &path;
    let pci_handle = boot::locate_device_path::<PciIo>(&mut remaining)?;
    match peek::<PciIo>(pci_handle)?.location()? {
        (0, address) => Ok(address),
        _ => Err(Status::UNSUPPORTED.into()),
    }
}

/// MACs and PCI location of the SNP port on `handle`.
pub fn port_identity(handle: Handle) -> uefi::Result<PortIdentity> {
    let snp = peek::<SimpleNetwork>(handle)?;
    let mode = snp.mode();
    if mode.hw_address_size != 6 {
        return Err(Status::UNSUPPORTED.into());
    }
    let mac = mac6(&mode.current_address);
    let permanent = mac6(&mode.permanent_address);
    drop(snp);
    Ok(PortIdentity {
        mac,
        permanent_mac: if permanent == [0; 6] { mac } else { permanent },
        pci: pci_location(handle).ok(),
    })
}

/// Settings for a [`Port`](crate::Port) on the SNP handle `handle`, so that the NIC value it
/// produces carries this port's own MAC and PCI location.
pub fn port_settings(
    handle: Handle,
    addressing: Addressing,
    random_seed: u64,
) -> uefi::Result<PortSettings> {
    let id = port_identity(handle)?;
    Ok(PortSettings {
        mac: id.mac,
        permanent_mac: Some(id.permanent_mac),
        pci: id.pci,
        vlan: 0,
        addressing,
        random_seed,
    })
}

/// Device-path depth of `handle` (children of a port have longer paths), or `usize::MAX`.
fn path_depth(handle: Handle) -> usize {
    peek::<DevicePath>(handle).map_or(usize::MAX, |path| path.node_iter().count())
}

/// The MAC (current address) of the SNP on `handle`.
fn current_mac(handle: Handle) -> Option<[u8; 6]> {
    let snp = peek::<SimpleNetwork>(handle).ok()?;
    let mode = snp.mode();
    (mode.hw_address_size == 6).then(|| mac6(&mode.current_address))
}

/// One SNP handle per physical port, stored in `out` from the start; returns how many were
/// found (at most `out.len()`; the rest of `out` is left `None`).
///
/// Firmware installs SNP on more than the port's own handle (OVMF shows three handles for one
/// virtio-net port, all with the same MAC and PCI location), so handles are grouped by MAC
/// and the one with the shortest device path — the port itself — is kept. Firmware connects
/// NICs lazily; call `ConnectController` on the handles first if none show up.
pub fn port_handles(out: &mut [Option<Handle>]) -> uefi::Result<usize> {
    out.fill(None);
    let handles = boot::locate_handle_buffer(SearchType::ByProtocol(&SimpleNetwork::GUID))?;
    let mut found = 0;
    for &handle in handles.iter() {
        let Some(mac) = current_mac(handle) else {
            continue;
        };
        let same_port = out[..found]
            .iter()
            .position(|kept| kept.and_then(current_mac) == Some(mac));
        match same_port {
            Some(i) if out[i].is_none_or(|kept| path_depth(handle) < path_depth(kept)) => {
                out[i] = Some(handle);
            }
            Some(_) => {}
            None if found < out.len() => {
                out[found] = Some(handle);
                found += 1;
            }
            None => {}
        }
    }
    Ok(found)
}
