//! `smoltcp-tap`: the iSCSI initiator over smoltcp on an existing Linux TAP device.
//!
//! ```text
//! ip tuntap add dev tap0 mode tap && ip addr add 10.77.0.1/24 dev tap0 && ip link set tap0 up
//! smoltcp-tap --tap tap0 --ip 10.77.0.2/24 --target iscsi://10.77.0.1/iqn.2026-11.test:disk/1 \
//!     --blocks 2048 --output disk.img
//! ```
//! It configures the port (static or DHCP), prints the NIC value the iBFT would record, logs in
//! to the target (CHAP from the URL's `user%password@`), reads the blocks into the output file
//! and reports the throughput. With `--dhcp` and no `--target`, the root path from DHCP option
//! 17 names the target, as in a sanboot (`tests/netns_dhcp_boot.rs` runs exactly that against
//! dnsmasq and tgtd in a network namespace).
//!
//! The TAP device must exist: the program opens it, it does not create it.

mod clock;

use clap::Parser;
use initiator::addr::{Host, TargetAddress, percent_decode};
use initiator::driver::{Buffers, Client, ClientConfig};
use initiator::session::config::StandardChap;
use initiator::session::{Chap, SessionConfig};
use initiator::transport::Connector;
use netstack_adapter::buffers::{RECOMMENDED_RX_BUFFER, RECOMMENDED_TX_BUFFER};
use netstack_adapter::{
    IpCidr, Port, PortConfig, PortSettings, PortStorage, StaticConfig, TcpBuffers,
};
use smoltcp::phy::{Medium, TunTapInterface};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
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
    /// Our iSCSI name.
    #[arg(long, default_value = "iqn.2026-11.org.example.iscsi-boot:smoltcp-tap")]
    initiator_name: String,
}

/// Initiator session id: random-qualifier format (type 01b), fixed per program.
const ISID: [u8; 6] = [0x40, 0x00, 0x5e, 0x7a, 0x00, 0x01];

/// Blocks read per request to the driver (it splits and pipelines further).
const CHUNK_BYTES: u64 = 4 << 20;

/// The longest wait for a freshly attached TAP to come up.
const TAP_SETTLE_LIMIT: Duration = Duration::from_secs(1);

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

fn parse_cidr(s: &str) -> Result<IpCidr, String> {
    let (ip, prefix) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}` needs a /prefix"))?;
    Ok(IpCidr {
        addr: ip.parse().map_err(|_| format!("bad address `{ip}`"))?,
        prefix: prefix
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
        Some(p) => println!("nic.pci: {p}"),
        None => println!("nic.pci: -"),
    }
    match nic.address {
        Some(a) => println!("nic.address: {}/{}", a.addr, a.prefix),
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
    let settled = wait_until_up(&args.tap, TAP_SETTLE_LIMIT);
    println!("tap up after {:.3} s", settled.as_secs_f64());
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
    let address = TargetAddress::parse(&target).map_err(|e| format!("target `{target}`: {e}"))?;
    let ip = match address.host {
        Host::Ip(ip) => ip,
        Host::Name(name) => return Err(format!("`{name}`: host names are not resolved")),
    };
    let portal = SocketAddr::new(ip, address.port);
    let lun = address
        .lun
        .number()
        .ok_or("only single-level LUNs (0..=16383) are supported")?;
    let mut session = SessionConfig::new(&args.initiator_name, address.target_name, ISID);
    let mut secret_buf = [0u8; 256];
    if let Some(credentials) = address.credentials {
        let password = credentials.password.ok_or("CHAP user without password")?;
        let secret = percent_decode(password, &mut secret_buf).map_err(|e| e.to_string())?;
        session.chap = Some(Chap {
            user: credentials.user,
            secret: secret.as_bytes(),
            mutual: None,
            required: true,
            algorithms: &[7, 6, 5],
            digest: &StandardChap,
        });
    }
    let mut config = ClientConfig::new(portal, session);
    config.lun = lun;
    config.connect_timeout = timeout;
    let (mut pdu_rx, mut pdu_tx) = (vec![0u8; 256 << 10], vec![0u8; 64 << 10]);
    let buffers = Buffers {
        rx: &mut pdu_rx,
        tx: &mut pdu_tx,
    };
    let mut client =
        Client::connect(connector, &config, buffers).map_err(|e| format!("{portal}: {e}"))?;
    let logged_in = connector.now();
    println!(
        "logged in to {} LUN {lun} at {portal} in {:.3} s",
        address.target_name,
        logged_in
            .saturating_duration_since(configured)
            .as_secs_f64()
    );
    let capacity = client.read_capacity().map_err(|e| e.to_string())?;
    println!(
        "capacity: {} blocks of {} bytes",
        capacity.blocks(),
        capacity.block_size
    );
    let block = u64::from(capacity.block_size);
    let end = args
        .lba
        .checked_add(args.blocks)
        .filter(|&end| end <= capacity.blocks())
        .ok_or("the range goes past the end of the LUN")?;
    let mut out = match &args.output {
        Some(path) => Some(std::fs::File::create(path).map_err(|e| format!("{path:?}: {e}"))?),
        None => None,
    };
    let per_chunk = (CHUNK_BYTES / block).max(1);
    let mut buf = vec![0u8; (per_chunk * block) as usize];
    let started = std::time::Instant::now();
    let mut lba = args.lba;
    while lba < end {
        let n = per_chunk.min(end - lba);
        let chunk = &mut buf[..(n * block) as usize];
        client
            .read(lba, chunk)
            .map_err(|e| format!("read at LBA {lba}: {e}"))?;
        if let Some(out) = &mut out {
            out.write_all(chunk).map_err(|e| e.to_string())?;
        }
        lba += n;
    }
    let secs = started.elapsed().as_secs_f64();
    let bytes = args.blocks * block;
    println!(
        "read {bytes} bytes in {secs:.3} s: {:.1} MB/s",
        bytes as f64 / secs.max(1e-9) / 1e6
    );
    client.logout().map_err(|e| e.to_string())?;
    port.poll();
    Ok(())
}

/// Waits until the kernel reports `tap` up, at most `limit`; how long that took.
///
/// Attaching a TAP turns its carrier on, but the kernel brings the device up afterwards,
/// asynchronously, and what it sends right after the attach can be dropped (the TAP's
/// TX-dropped counter rises). When that is the reply to our first ARP request, smoltcp asks
/// again only a second later: back to back in one namespace, 4 of 125 logins took a second
/// without this wait, none of 120 with it. The wait is 0–1 ms. Without sysfs (or without the
/// file) there is nothing to wait for.
fn wait_until_up(tap: &str, limit: Duration) -> Duration {
    let state = format!("/sys/class/net/{tap}/operstate");
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        match std::fs::read_to_string(&state) {
            Ok(s) if s.trim() != "up" => std::thread::sleep(Duration::from_millis(1)),
            _ => break,
        }
    }
    started.elapsed()
}
