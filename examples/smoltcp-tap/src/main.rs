//! `smoltcp-tap`: the iSCSI initiator over smoltcp on an existing Linux TAP device.
//!
//! ```text
//! ip tuntap add dev tap0 mode tap && ip addr add 10.77.0.1/24 dev tap0 && ip link set tap0 up
//! smoltcp-tap --tap tap0 --ip 10.77.0.2/24 --target iscsi://10.77.0.1/iqn.2026-11.test:disk/1 \
//!     --blocks 2048 --output disk.img
//! ```
//! It configures the port (static or DHCP), prints the NIC value the iBFT would record, opens
//! the TCP connection to the target portal and reports how long each step took.

mod clock;
mod portal;

use clap::Parser;
use initiator::transport::Connector;
use netstack_adapter::buffers::{RECOMMENDED_RX_BUFFER, RECOMMENDED_TX_BUFFER};
use netstack_adapter::{
    NicAddress, Port, PortConfig, PortSettings, PortStorage, StaticConfig, TcpBuffers,
};
use smoltcp::phy::{Medium, TunTapInterface};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Command line.
#[derive(Debug, Parser)]
#[command(version, about = "iSCSI initiator over smoltcp on a Linux TAP device")]
struct Args {
    /// The TAP device to use (must exist and be up).
    #[arg(long)]
    tap: String,
    /// Static address with prefix, e.g. 10.77.0.2/24.
    #[arg(long, conflicts_with = "dhcp", required_unless_present = "dhcp")]
    ip: Option<String>,
    /// Default gateway for a static address.
    #[arg(long, requires = "ip")]
    gateway: Option<IpAddr>,
    /// Get the address by DHCP (the root path, option 17, names the target if --target is absent).
    #[arg(long)]
    dhcp: bool,
    /// Target as iscsi://host[:port]/iqn/lun or root path iscsi:server:proto:port:lun:name.
    #[arg(long, required_unless_present = "dhcp")]
    target: Option<String>,
    /// First block to read.
    #[arg(long, default_value_t = 0)]
    lba: u64,
    /// Number of blocks to read.
    #[arg(long, default_value_t = 1)]
    blocks: u64,
    /// Where to write the blocks read.
    #[arg(long)]
    output: Option<PathBuf>,
    /// MAC the port uses (default: a locally administered one).
    #[arg(long, default_value = "02:00:00:00:77:02")]
    mac: String,
    /// Seconds to wait for DHCP or the TCP connection.
    #[arg(long, default_value_t = 15)]
    timeout: u64,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smoltcp-tap: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for byte in &mut mac {
        let part = parts.next().ok_or_else(|| format!("bad MAC `{s}`"))?;
        *byte = u8::from_str_radix(part, 16).map_err(|_| format!("bad MAC `{s}`"))?;
    }
    if parts.next().is_some() {
        return Err(format!("bad MAC `{s}`"));
    }
    Ok(mac)
}

fn parse_cidr(s: &str) -> Result<NicAddress, String> {
    let (ip, prefix) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}` needs a /prefix"))?;
    Ok(NicAddress {
        ip: ip.parse().map_err(|_| format!("bad address `{ip}`"))?,
        prefix_len: prefix
            .parse()
            .map_err(|_| format!("bad prefix `{prefix}`"))?,
    })
}

/// Prints the NIC value as `key: value` lines (stable, for scripts and tests).
fn print_nic(cfg: &PortConfig) {
    let nic = cfg.nic();
    let mac = nic.mac.map(|b| format!("{b:02x}")).join(":");
    let opt = |ip: Option<IpAddr>| ip.map_or("-".to_string(), |ip| ip.to_string());
    println!("nic.mac: {mac}");
    match nic.pci {
        Some(p) => println!(
            "nic.pci: {:04x}:{:02x}:{:02x}.{}",
            p.segment, p.bus, p.device, p.function
        ),
        None => println!("nic.pci: -"),
    }
    match nic.address {
        Some(a) => println!("nic.address: {}/{}", a.ip, a.prefix_len),
        None => println!("nic.address: -"),
    }
    println!("nic.gateway: {}", opt(nic.gateway));
    println!("nic.dns: {} {}", opt(nic.dns[0]), opt(nic.dns[1]));
    println!("nic.dhcp_server: {}", opt(nic.dhcp_server));
    println!("nic.origin: {:?}", nic.origin);
    println!("nic.vlan: {}", nic.vlan);
    println!("nic.hostname: {}", nic.hostname.unwrap_or("-"));
    println!("root_path: {}", cfg.root_path().unwrap_or("-"));
}

fn run(args: Args) -> Result<(), String> {
    let mac = parse_mac(&args.mac)?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let settings = match &args.ip {
        Some(ip) => {
            let mut cfg = StaticConfig::new(parse_cidr(ip)?);
            cfg.gateway = args.gateway;
            PortSettings::fixed(mac, cfg, seed)
        }
        None => PortSettings::dhcp(mac, seed),
    };
    let tap = TunTapInterface::new(&args.tap, Medium::Ethernet)
        .map_err(|e| format!("opening TAP {}: {e}", args.tap))?;
    let clock = clock::TapClock::new(&tap);
    let mut storage = PortStorage::new();
    let mut rx = vec![0u8; RECOMMENDED_RX_BUFFER];
    let mut tx = vec![0u8; RECOMMENDED_TX_BUFFER];
    let buffers = TcpBuffers {
        rx: &mut rx,
        tx: &mut tx,
    };
    let port =
        Port::new(tap, clock, &settings, &mut storage, buffers).map_err(|e| e.to_string())?;
    let mut connector = &port;
    let timeout = Duration::from_secs(args.timeout);

    let started = connector.now();
    let cfg = port
        .configure(started + timeout)
        .map_err(|e| e.to_string())?;
    let configured = connector.now();
    print_nic(&cfg);
    println!(
        "configured in {:.3} s",
        configured.saturating_duration_since(started).as_secs_f64()
    );

    let target = match (&args.target, cfg.root_path()) {
        (Some(t), _) => t.clone(),
        (None, Some(root)) => root.to_string(),
        (None, None) => return Err("no --target and no root path from DHCP".into()),
    };
    let portal = portal::portal(&target)?;
    let transport = connector
        .connect(portal, configured + timeout)
        .map_err(|e| format!("connecting to {portal}: {e}"))?;
    let connected = connector.now();
    println!(
        "connected to {portal} in {:.3} s",
        connected
            .saturating_duration_since(configured)
            .as_secs_f64()
    );
    drop(transport);
    port.poll();
    Err(format!(
        "reading {} blocks at LBA {} into {:?}: the initiator's driver is not available yet",
        args.blocks, args.lba, args.output
    ))
}
