//! The `EFI_BLOCK_IO_PROTOCOL` (revision 1) served from a [`BlockDevice`], installed with a
//! device path on a new handle so the partition and FAT drivers can bind to it.

use alloc::boxed::Box;
use core::cell::RefCell;
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, Ordering};
use sanboot::block::{BlockDevice, BlockError};
use uefi::boot::{self, EventType, Tpl};
use uefi::proto::device_path::DevicePath;
use uefi::{Event, Handle, Status};
use uefi_raw::Boolean;
use uefi_raw::protocol::block::{BlockIoMedia, BlockIoProtocol, Lba};
use uefi_raw::protocol::device_path::DevicePathProtocol;

/// Set by the ExitBootServices notification: from then on the backend is not touched (the NIC
/// belongs to the OS) and every request fails.
static BOOT_SERVICES_GONE: AtomicBool = AtomicBool::new(false);

/// The interface handed to the firmware. `proto` must stay the first field: the firmware passes
/// a pointer to it back as `this`.
#[repr(C)]
struct SanBlockIo {
    proto: BlockIoProtocol,
    media: BlockIoMedia,
    backend: RefCell<Box<dyn BlockDevice>>,
}

/// An installed disk: its handle and device path.
#[derive(Debug)]
pub struct InstalledDisk {
    /// The new handle carrying Block I/O and the device path.
    pub handle: Handle,
    /// The disk's device path (the NIC's path + the iSCSI node).
    pub path: &'static DevicePath,
    interface: *const SanBlockIo,
    /// The periodic timer that services the backend between requests.
    tick: Event,
}

fn status_of(error: BlockError) -> Status {
    match error {
        BlockError::BadBufferSize => Status::BAD_BUFFER_SIZE,
        BlockError::OutOfRange => Status::INVALID_PARAMETER,
        BlockError::ReadOnly => Status::WRITE_PROTECTED,
        BlockError::Device => Status::DEVICE_ERROR,
    }
}

/// Common argument checks of ReadBlocks/WriteBlocks (UEFI spec 13.9).
///
/// # Safety
/// `this` must be the `proto` field of a live `SanBlockIo`.
unsafe fn checked<'a>(
    this: *const BlockIoProtocol,
    media_id: u32,
    buffer_size: usize,
    buffer: *const c_void,
) -> Result<&'a SanBlockIo, Status> {
    // SAFETY: the caller guarantees `this` is the first field of a live, leaked SanBlockIo.
    let dev = unsafe { &*this.cast::<SanBlockIo>() };
    if BOOT_SERVICES_GONE.load(Ordering::Acquire) {
        return Err(Status::DEVICE_ERROR);
    }
    if media_id != dev.media.media_id {
        return Err(Status::MEDIA_CHANGED);
    }
    if !buffer_size.is_multiple_of(dev.media.block_size as usize) {
        return Err(Status::BAD_BUFFER_SIZE);
    }
    if buffer.is_null() && buffer_size != 0 {
        return Err(Status::INVALID_PARAMETER);
    }
    Ok(dev)
}

unsafe extern "efiapi" fn read_blocks(
    this: *const BlockIoProtocol,
    media_id: u32,
    lba: Lba,
    buffer_size: usize,
    buffer: *mut c_void,
) -> Status {
    // SAFETY: the firmware passes back the interface pointer this module installed.
    let dev = match unsafe { checked(this, media_id, buffer_size, buffer) } {
        Ok(dev) => dev,
        Err(status) => return status,
    };
    if buffer_size == 0 {
        return Status::SUCCESS;
    }
    // SAFETY: the caller owns `buffer_size` writable bytes at `buffer` (checked non-null).
    let buf = unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), buffer_size) };
    let Ok(mut backend) = dev.backend.try_borrow_mut() else {
        return Status::DEVICE_ERROR;
    };
    match backend.read_blocks(lba, buf) {
        Ok(()) => Status::SUCCESS,
        Err(e) => status_of(e),
    }
}

unsafe extern "efiapi" fn write_blocks(
    this: *mut BlockIoProtocol,
    media_id: u32,
    lba: Lba,
    buffer_size: usize,
    buffer: *const c_void,
) -> Status {
    // SAFETY: the firmware passes back the interface pointer this module installed.
    let dev = match unsafe { checked(this, media_id, buffer_size, buffer) } {
        Ok(dev) => dev,
        Err(status) => return status,
    };
    if dev.media.read_only.into() {
        return Status::WRITE_PROTECTED;
    }
    if buffer_size == 0 {
        return Status::SUCCESS;
    }
    // SAFETY: the caller owns `buffer_size` readable bytes at `buffer` (checked non-null).
    let buf = unsafe { core::slice::from_raw_parts(buffer.cast::<u8>(), buffer_size) };
    let Ok(mut backend) = dev.backend.try_borrow_mut() else {
        return Status::DEVICE_ERROR;
    };
    match backend.write_blocks(lba, buf) {
        Ok(()) => Status::SUCCESS,
        Err(e) => status_of(e),
    }
}

unsafe extern "efiapi" fn flush_blocks(this: *mut BlockIoProtocol) -> Status {
    if BOOT_SERVICES_GONE.load(Ordering::Acquire) {
        return Status::DEVICE_ERROR;
    }
    // SAFETY: the firmware passes back the interface pointer this module installed.
    let dev = unsafe { &*this.cast::<SanBlockIo>() };
    let Ok(mut backend) = dev.backend.try_borrow_mut() else {
        return Status::DEVICE_ERROR;
    };
    match backend.flush() {
        Ok(()) => Status::SUCCESS,
        Err(e) => status_of(e),
    }
}

unsafe extern "efiapi" fn reset(_this: *mut BlockIoProtocol, _extended: Boolean) -> Status {
    Status::SUCCESS
}

/// How often the backend is serviced between requests: well inside the usual NOP-In
/// timeouts of targets (5-30 s).
const IDLE_PERIOD: core::time::Duration = core::time::Duration::from_secs(1);

/// The periodic timer's callback: lets the backend answer its target while nobody reads.
/// A request in progress (the backend borrowed) services the connection itself, so the tick
/// is skipped then.
unsafe extern "efiapi" fn on_idle_tick(_event: Event, ctx: Option<core::ptr::NonNull<c_void>>) {
    if BOOT_SERVICES_GONE.load(Ordering::Acquire) {
        return;
    }
    let Some(ctx) = ctx else { return };
    // SAFETY: the context is the leaked, never-freed SanBlockIo registered by `install`.
    let dev = unsafe { ctx.cast::<SanBlockIo>().as_ref() };
    if let Ok(mut backend) = dev.backend.try_borrow_mut() {
        backend.service_idle();
    }
}

unsafe extern "efiapi" fn on_exit_boot_services(
    _event: Event,
    _ctx: Option<core::ptr::NonNull<c_void>>,
) {
    BOOT_SERVICES_GONE.store(true, Ordering::Release);
}

/// Installs Block I/O and `path` on a new handle, registers for ExitBootServices, and connects
/// the controller recursively so partitions and file systems appear.
pub fn install(
    backend: Box<dyn BlockDevice>,
    path: &'static DevicePath,
) -> uefi::Result<InstalledDisk> {
    let media = BlockIoMedia {
        media_id: 1,
        removable_media: Boolean::FALSE,
        media_present: Boolean::TRUE,
        logical_partition: Boolean::FALSE,
        read_only: backend.read_only().into(),
        write_caching: Boolean::FALSE,
        block_size: backend.block_size(),
        io_align: 0,
        last_block: backend.last_lba(),
        lowest_aligned_lba: 0,
        logical_blocks_per_physical_block: 1,
        optimal_transfer_length_granularity: 0,
    };
    let dev: &'static mut SanBlockIo = Box::leak(Box::new(SanBlockIo {
        proto: BlockIoProtocol {
            revision: BlockIoProtocol::REVISION,
            media: core::ptr::null(),
            reset,
            read_blocks,
            write_blocks,
            flush_blocks,
        },
        media,
        backend: RefCell::new(backend),
    }));
    dev.proto.media = &dev.media;
    let interface: *const SanBlockIo = dev;

    // SAFETY: the event callback only stores to an atomic; it stays registered for the
    // program's lifetime (the interface it guards is leaked).
    unsafe {
        boot::create_event(
            EventType::SIGNAL_EXIT_BOOT_SERVICES,
            Tpl::NOTIFY,
            Some(on_exit_boot_services),
            None,
        )?;
    }
    // SAFETY: the context is the leaked interface, valid for the program's lifetime; the
    // callback runs at TPL_CALLBACK, where SNP may be called, and touches the backend only
    // through its RefCell, so it never overlaps a request.
    let tick = unsafe {
        boot::create_event(
            EventType::TIMER | EventType::NOTIFY_SIGNAL,
            Tpl::CALLBACK,
            Some(on_idle_tick),
            core::ptr::NonNull::new(interface.cast_mut().cast()),
        )?
    };
    boot::set_timer(&tick, boot::TimerTrigger::Periodic(IDLE_PERIOD))?;
    // SAFETY: both interfaces are leaked, so they outlive the handle; the Block I/O layout is
    // the specification's (BlockIoProtocol first in a repr(C) struct).
    let handle = unsafe {
        let handle = boot::install_protocol_interface(
            None,
            &DevicePathProtocol::GUID,
            path.as_ffi_ptr().cast(),
        )?;
        boot::install_protocol_interface(Some(handle), &BlockIoProtocol::GUID, interface.cast())?
    };
    // Partition and file-system drivers bind now; "not found" only means no driver wanted it.
    let _ = boot::connect_controller(handle, &[], None, true);
    Ok(InstalledDisk {
        handle,
        path,
        interface,
        tick,
    })
}

impl InstalledDisk {
    /// Disconnects the drivers and removes the protocols (when `keep-san` is off and the boot
    /// failed). The interface memory stays leaked: a driver might still hold a stale pointer.
    pub fn remove(&self) -> uefi::Result {
        let _ = boot::set_timer(&self.tick, boot::TimerTrigger::Cancel);
        let _ = boot::disconnect_controller(self.handle, None, None);
        // SAFETY: these are exactly the interfaces installed by `install`.
        unsafe {
            boot::uninstall_protocol_interface(
                self.handle,
                &BlockIoProtocol::GUID,
                self.interface.cast(),
            )?;
            boot::uninstall_protocol_interface(
                self.handle,
                &DevicePathProtocol::GUID,
                self.path.as_ffi_ptr().cast(),
            )
        }
    }
}
