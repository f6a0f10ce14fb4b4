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
use initiator::driver::{Buffers, Client, ClientConfig};
use initiator::session::SessionConfig;
use initiator::transport::{Connector, Transport};
use netstack_adapter::uefi::{
    FirmwareClock, SnpBuffers, SnpDevice, port_handles, port_identity, port_settings,
};
use netstack_adapter::{Addressing, Port, PortStorage, TcpBuffers};
use uefi::boot::{self, SearchType};
use uefi::fs::FileSystem;
use uefi::prelude::*;
use uefi::proto::network::snp::SimpleNetwork;
use uefi::runtime::ResetType;
use uefi::{Identify, cstr16, println};

fn read_file(path: &uefi::CStr16) -> Option<alloc::string::String> {
    let sfs = boot::get_image_file_system(boot::image_handle()).ok()?;
    let bytes = FileSystem::new(sfs).read(path).ok()?;
    alloc::string::String::from_utf8(bytes).ok()
}

fn host_port() -> Option<u16> {
    read_file(cstr16!("\\port.txt"))?.trim().parse().ok()
}

/// FNV-1a (64-bit): a checksum the host side recomputes over the backing file.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Logs in to the target named in `\\iscsi.txt` (`PORT TARGET-NAME`, on the host alias) over
/// `connector`, reads the first MiB of LUN 1 and prints its size and checksum.
fn iscsi_read<C: Connector>(connector: C) -> Result<(), &'static str> {
    let Some(spec) = read_file(cstr16!("\\iscsi.txt")) else {
        return Ok(());
    };
    let mut fields = spec.split_whitespace();
    let port: u16 = fields
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or("iscsi.txt port")?;
    let target = fields.next().ok_or("iscsi.txt target")?;
    let portal = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2)), port);
    let session = SessionConfig::new("iqn.2026-11.test.probe:init", target, [0x40, 0, 0, 0, 0, 7]);
    let mut config = ClientConfig::new(portal, session);
    config.lun = 1;
    let (mut rx, mut tx) = (vec![0u8; 300 * 1024], vec![0u8; 128 * 1024]);
    let buffers = Buffers {
        rx: &mut rx,
        tx: &mut tx,
    };
    let mut client = Client::connect(connector, &config, buffers).map_err(|_| "iSCSI login")?;
    let capacity = client.read_capacity().map_err(|_| "READ CAPACITY")?;
    println!(
        "probe.iscsi_capacity: {} x {}",
        capacity.blocks(),
        capacity.block_size
    );
    let mut data = vec![0u8; 1 << 20];
    client.read(0, &mut data).map_err(|_| "iSCSI read")?;
    println!("probe.iscsi_fnv: {:016x}", fnv1a(&data));
    client.logout().map_err(|_| "logout")?;
    Ok(())
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
            "probe.port{i}: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} 0000:{pci}",
            m[0], m[1], m[2], m[3], m[4], m[5]
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
        Some(p) => println!("probe.pci: 0000:{p}"),
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
    let clock = FirmwareClock::new();
    println!("probe.clock_counter: {}", clock.has_counter());
    let port = Port::new(device, clock, &settings, &mut storage, buffers).map_err(|_| "port")?;
    let mut connector = &port;
    let deadline = connector.now() + Duration::from_secs(20);
    let cfg = port.configure(deadline).map_err(|_| "no DHCP lease")?;
    let nic = cfg.nic();
    let a = nic.address.ok_or("no address")?;
    println!("probe.address: {}/{}", a.addr, a.prefix);
    println!("probe.gateway: {:?}", nic.gateway);
    println!("probe.dns0: {:?}", nic.dns[0]);
    println!("probe.dhcp_server: {:?}", nic.dhcp_server);
    println!("probe.origin: {:?}", nic.origin);
    println!("probe.nic_mac_matches: {}", nic.mac == id.permanent_mac);
    println!("probe.nic_pci_matches: {}", nic.pci == id.pci);

    // The NIC value goes into the iBFT builder whole; read the record back from the table.
    let mut builder: ibft::Builder = ibft::Builder::new("iqn.2026-11.test.probe:init");
    builder.gateway_policy = ibft::GatewayPolicy::Keep;
    let handle = builder.add_nic(nic).map_err(|_| "ibft add_nic")?;
    let target = ibft::TargetConfig::new(handle, IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2)), "iqn.x:d");
    builder.add_target(target).map_err(|_| "ibft add_target")?;
    let mut table = vec![0u8; builder.buffer_len().map_err(|_| "ibft len")?];
    let len = builder.emit(&mut table).map_err(|_| "ibft emit")?;
    let table = ibft::Table::parse(&table[..len]).map_err(|_| "ibft parse")?;
    let record = table.nics().next().ok_or("no NIC record")?.config;
    let (m, a) = (record.mac, record.address.ok_or("record without address")?);
    println!(
        "probe.ibft_nic: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} {} {}/{} gw {:?} dhcp {:?}",
        m[0],
        m[1],
        m[2],
        m[3],
        m[4],
        m[5],
        record.pci.ok_or("record without PCI")?,
        a.addr,
        a.prefix,
        record.gateway,
        record.dhcp_server
    );

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
    iscsi_read(&port)?;
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
