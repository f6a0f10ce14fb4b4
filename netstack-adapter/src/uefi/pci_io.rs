//! The one part of `EFI_PCI_IO_PROTOCOL` a port needs: `GetLocation`.
//!
//! The `uefi` crate has no PCI I/O protocol wrapper, so its layout is declared here from the
//! UEFI specification (§14.4): function pointers in this order — PollMem, PollIo, Mem.Read,
//! Mem.Write, Io.Read, Io.Write, Pci.Read, Pci.Write, CopyMem, Map, Unmap, AllocateBuffer,
//! FreeBuffer, Flush, GetLocation, …

use crate::nic::PciAddress;
use core::ffi::c_void;
use uefi::proto::unsafe_protocol;
use uefi::{Status, StatusExt};

/// `EFI_PCI_IO_PROTOCOL` (GUID 4cf5b200-68b8-4ca5-9eec-b23e3f50029a), up to `GetLocation`.
/// Only ever used through a pointer the firmware hands out, so the fields after it do not matter.
#[derive(Debug)]
#[repr(C)]
#[unsafe_protocol("4cf5b200-68b8-4ca5-9eec-b23e3f50029a")]
pub struct PciIo {
    /// PollMem … Flush: 14 function pointers this crate never calls.
    unused: [*const c_void; 14],
    get_location: unsafe extern "efiapi" fn(
        this: *const PciIo,
        segment: *mut usize,
        bus: *mut usize,
        device: *mut usize,
        function: *mut usize,
    ) -> Status,
}

impl PciIo {
    /// The PCI location of the function this protocol instance drives: (segment, address).
    pub fn location(&self) -> uefi::Result<(u16, PciAddress)> {
        let (mut segment, mut bus, mut device, mut function) = (0usize, 0usize, 0usize, 0usize);
        // SAFETY: `self` is a PCI I/O protocol instance the firmware handed out (it is only
        // reachable through `open_protocol`), and `GetLocation` only writes its four
        // out-parameters, which point to live locals.
        let status = unsafe {
            (self.get_location)(self, &mut segment, &mut bus, &mut device, &mut function)
        };
        status.to_result()?;
        let bad = || uefi::Error::from(Status::DEVICE_ERROR);
        let address = PciAddress {
            bus: u8::try_from(bus).map_err(|_| bad())?,
            device: u8::try_from(device).map_err(|_| bad())?,
            function: u8::try_from(function).map_err(|_| bad())?,
        };
        Ok((u16::try_from(segment).map_err(|_| bad())?, address))
    }
}
