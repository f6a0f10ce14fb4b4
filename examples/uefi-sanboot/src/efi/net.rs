//! The `net` stage: brings ports up with DHCP over smoltcp on SNP (`netstack-adapter`), so each
//! port's iBFT NIC record carries the addresses that port actually got.

use super::say::status_cause;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use core::time::Duration;
use netstack_adapter::uefi::{FirmwareClock, SnpBuffers, SnpDevice, port_settings};
use netstack_adapter::{Addressing, Clock, Port, PortStorage, TcpBuffers};
use uefi::Handle;
use uefi::boot::{self, ScopedProtocol};
use uefi::proto::network::snp::SimpleNetwork;

/// A port driven by smoltcp over its SNP.
pub type SnpPort = Port<'static, SnpDevice<'static, ScopedProtocol<SimpleNetwork>>, FirmwareClock>;

/// TCP receive buffer: the advertised window (256 KiB keeps a 1 Gb/s LAN busy).
const RX_BUFFER: usize = 256 * 1024;
/// TCP send buffer: a few write PDUs.
const TX_BUFFER: usize = 64 * 1024;

/// A port with a lease.
#[derive(Debug)]
pub struct UpPort {
    /// The port, ready to open TCP connections.
    pub port: SnpPort,
    /// Its iBFT NIC value (MAC, PCI, address, gateway, DNS, DHCP server, origin, host name).
    pub nic: ibft::NicConfig<'static>,
}

/// Takes the port's SNP from the firmware's network stack, and runs DHCP until `timeout`.
///
/// The port is built in its own stack frame and returned boxed: the smoltcp interface and the
/// device are kilobytes, and are not copied through the callers' frames (see docs/sanboot.md
/// "Stack").
#[inline(never)]
pub fn bring_up(handle: Handle, seed: u64, timeout: Duration) -> Result<Box<UpPort>, String> {
    let settings = port_settings(handle, Addressing::Dhcp, seed)
        .map_err(|e| status_cause("port identity", e.status()))?;
    let snp = boot::open_protocol_exclusive::<SimpleNetwork>(handle)
        .map_err(|e| status_cause("open SNP", e.status()))?;
    // The port lives until the OS takes over (the SAN port) or is shut down; its buffers are
    // leaked rather than tied to a stack frame.
    let buffers: &'static mut SnpBuffers = Box::leak(new_snp_buffers());
    let device =
        SnpDevice::new(snp, buffers, false).map_err(|e| status_cause("SNP start", e.status()))?;
    let storage: &'static mut PortStorage<'static> = Box::leak(new_port_storage());
    let tcp = TcpBuffers {
        rx: vec![0u8; RX_BUFFER].leak(),
        tx: vec![0u8; TX_BUFFER].leak(),
    };
    let mut clock = FirmwareClock::new();
    let deadline = clock.now() + timeout;
    let port = Port::new(device, clock, &settings, storage, tcp)
        .map_err(|e| alloc::format!("port: {e}"))?;
    let config = port
        .configure(deadline)
        .map_err(|e| alloc::format!("{e}"))?;
    // The NIC value borrows its host name from the configuration; keep that for good.
    let config: &'static netstack_adapter::PortConfig = Box::leak(Box::new(config));
    Ok(Box::new(UpPort {
        port,
        nic: config.nic(),
    }))
}

/// Stops the port's SNP so nothing touches the NIC any more.
pub fn shut_down(up: Box<UpPort>) {
    let (device, _) = up.port.into_parts();
    let _ = device.shutdown();
}

/// The frame buffers (17 KiB), allocated in a small frame of their own: built inside
/// `bring_up`, they made its frame 29 KiB.
#[inline(never)]
fn new_snp_buffers() -> Box<SnpBuffers> {
    Box::new(SnpBuffers::new())
}

/// The socket storage, allocated outside `bring_up`'s frame for the same reason.
#[inline(never)]
fn new_port_storage() -> Box<PortStorage<'static>> {
    Box::new(PortStorage::new())
}
