//! Probe: for the first SNP port, print its identity, get a DHCP lease over smoltcp on SNP,
//! then send a line to the host's echo listener (port read from `\port.txt` on the boot
//! volume) and print what comes back. Results go to the console (QEMU's serial port) as
//! `probe.KEY: VALUE` lines; the machine powers off at the end.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use initiator::time::Instant;
use initiator::transport::{Connector, Transport};
use netstack_adapter::uefi::{SnpBuffers, SnpDevice, port_handles, port_identity, port_settings};
use netstack_adapter::{Addressing, Clock, Port, PortStorage, TcpBuffers};
use uefi::boot::{self, SearchType};
use uefi::fs::FileSystem;
use uefi::prelude::*;
use uefi::proto::network::snp::SimpleNetwork;
use uefi::runtime::ResetType;
use uefi::{Identify, cstr16, println};

/// Time from `Stall`: firmware has no cheap monotonic clock, so idle time is counted as it
/// is spent and every reading advances by a microsecond.
struct StallClock(u64);

impl Clock for StallClock {
    fn now(&mut self) -> Instant {
        self.0 += 1;
        Instant::from_micros(self.0)
    }
    fn idle(&mut self, timeout: Duration) {
        let step = timeout.min(Duration::from_micros(200));
        boot::stall(step);
        self.0 += step.as_micros() as u64;
    }
}

fn host_port() -> Option<u16> {
    let sfs = boot::get_image_file_system(boot::image_handle()).ok()?;
    let bytes = FileSystem::new(sfs).read(cstr16!("\\port.txt")).ok()?;
    core::str::from_utf8(&bytes).ok()?.trim().parse().ok()
}

/// Boot from disk leaves NICs unconnected in OVMF: connect every controller so SNP appears.
fn connect_all() {
    if let Ok(all) = boot::locate_handle_buffer(SearchType::AllHandles) {
        for handle in all.iter() {
            let _ = boot::connect_controller(*handle, &[], None, true);
        }
    }
}

fn run() -> Result<(), &'static str> {
    connect_all();
    let handles = boot::locate_handle_buffer(SearchType::ByProtocol(&SimpleNetwork::GUID))
        .map_err(|_| "no SNP handle")?;
    println!("probe.snp_handles: {}", handles.len());
    let mut ports = [None; 4];
    let count = port_handles(&mut ports).map_err(|_| "port handles")?;
    println!("probe.ports: {count}");
    for (i, port) in ports[..count].iter().flatten().enumerate() {
        let id = port_identity(*port).map_err(|_| "port identity")?;
        let m = id.permanent_mac;
        let pci = id.pci.ok_or("port without PCI location")?;
        println!(
            "probe.port{i}: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} {:04x}:{:02x}:{:02x}.{}",
            m[0], m[1], m[2], m[3], m[4], m[5], pci.segment, pci.bus, pci.device, pci.function
        );
    }
    // Traffic goes through the port on the host-reachable network (MAC set by the test).
    let handle = ports[..count]
        .iter()
        .flatten()
        .copied()
        .find(|h| port_identity(*h).is_ok_and(|id| id.mac == [0x52, 0x54, 0, 0x12, 0x34, 0x77]))
        .ok_or("no port with MAC 52:54:00:12:34:77")?;
    let id = port_identity(handle).map_err(|_| "port identity")?;
    let m = id.permanent_mac;
    println!(
        "probe.mac: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    );
    match id.pci {
        Some(p) => println!(
            "probe.pci: {:04x}:{:02x}:{:02x}.{}",
            p.segment, p.bus, p.device, p.function
        ),
        None => println!("probe.pci: -"),
    }
    let settings = port_settings(handle, Addressing::Dhcp, 0x5eed).map_err(|_| "settings")?;
    let snp = boot::open_protocol_exclusive::<SimpleNetwork>(handle).map_err(|_| "open SNP")?;
    let mut snp_buffers = alloc::boxed::Box::new(SnpBuffers::new());
    let device = SnpDevice::new(snp, &mut snp_buffers, false).map_err(|_| "SNP init")?;
    let mut storage = alloc::boxed::Box::new(PortStorage::new());
    let (mut rx, mut tx) = (vec![0u8; 256 * 1024], vec![0u8; 64 * 1024]);
    let buffers = TcpBuffers {
        rx: &mut rx,
        tx: &mut tx,
    };
    let port =
        Port::new(device, StallClock(0), &settings, &mut storage, buffers).map_err(|_| "port")?;
    let mut connector = &port;
    let deadline = connector.now() + Duration::from_secs(20);
    let cfg = port.configure(deadline).map_err(|_| "no DHCP lease")?;
    let nic = cfg.nic();
    let a = nic.address.ok_or("no address")?;
    println!("probe.address: {}/{}", a.ip, a.prefix_len);
    println!("probe.gateway: {:?}", nic.gateway);
    println!("probe.dns0: {:?}", nic.dns[0]);
    println!("probe.dhcp_server: {:?}", nic.dhcp_server);
    println!("probe.origin: {:?}", nic.origin);
    println!("probe.nic_mac_matches: {}", nic.mac == id.permanent_mac);
    println!("probe.nic_pci_matches: {}", nic.pci == id.pci);

    let host = host_port().ok_or("no port.txt")?;
    let portal = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2)), host);
    let deadline = connector.now() + Duration::from_secs(20);
    let mut conn = connector.connect(portal, deadline).map_err(|_| "connect")?;
    let line = b"hello from smoltcp on SNP\n";
    let mut sent = 0;
    while sent < line.len() {
        sent += conn.send(&line[sent..]).map_err(|_| "send")?;
        if sent < line.len() {
            conn.wait(true, deadline).map_err(|_| "wait")?;
        }
    }
    let mut reply = [0u8; 64];
    let mut got = 0;
    while got == 0 || reply[got - 1] != b'\n' {
        let n = conn.recv(&mut reply[got..]).map_err(|_| "recv")?;
        got += n;
        if n == 0 {
            if connector.now() >= deadline {
                return Err("no reply");
            }
            conn.wait(false, deadline).map_err(|_| "wait")?;
        }
        if got == reply.len() {
            return Err("reply too long");
        }
    }
    let reply = core::str::from_utf8(&reply[..got]).map_err(|_| "reply not UTF-8")?;
    println!("probe.reply: {}", reply.trim_end());
    drop(conn);
    port.poll();
    let (device, _) = port.into_parts();
    device.shutdown().map_err(|_| "SNP shutdown")?;
    Ok(())
}

#[entry]
fn main() -> Status {
    let status = match run() {
        Ok(()) => {
            println!("probe.result: ok");
            Status::SUCCESS
        }
        Err(e) => {
            println!("probe.result: error: {e}");
            Status::ABORTED
        }
    };
    runtime::reset(ResetType::SHUTDOWN, status, None)
}
