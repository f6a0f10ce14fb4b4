//! The UEFI side of the application: one function per stage, run in order by [`run`].
//!
//! Stages: `config` → `nic` → `net` → `disk` → `blockio` → `ibft` → `boot`. Each prints one
//! `sanboot: <stage>: …` line; a failure prints `sanboot: FAILED at <stage>: <cause>` and ends
//! the program with an error status.

mod acpi;
mod blockio;
mod chainload;
mod conf;
mod file;
#[cfg(feature = "iscsi")]
mod iscsi;
mod net;
mod nic;
mod say;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use sanboot::block::{BlockDevice, RamDisk};
use sanboot::config::{Config, IbftNics};
use sanboot::ibft_table;
use sanboot::naming;
use say::StatusText;
use uefi::boot;
use uefi::proto::device_path::DevicePath;
use uefi::proto::device_path::build::{self, DevicePathBuilder};
use uefi::proto::device_path::messaging::{IscsiLoginOptions, IscsiProtocol};
use uefi::proto::device_path::text::{AllowShortcuts, DisplayOnly};
use uefi::table::cfg::ConfigTableEntry;
use uefi::{CString16, Status};

/// A stage's failure: which stage, and why.
struct Failure {
    stage: &'static str,
    cause: String,
}

fn fail<T>(stage: &'static str, cause: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        stage,
        cause: cause.into(),
    })
}

/// Runs all stages; returns the chain-loaded image's status if it returns.
pub fn run() -> Status {
    match stages() {
        Ok(status) => status,
        Err(f) => {
            say::failed(f.stage, &f.cause);
            Status::ABORTED
        }
    }
}

fn path_text(path: &DevicePath) -> String {
    path.to_string16(DisplayOnly(false), AllowShortcuts(false))
        .map(|s| String::from(&s))
        .unwrap_or_else(|_| String::from("<no DevicePathToText>"))
}

/// A PCI location `bus << 8 | device << 3 | function` as `bb:dd.f`, or `?`.
struct Bdf(Option<u16>);

impl core::fmt::Display for Bdf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(b) => write!(f, "{:02x}:{:02x}.{}", b >> 8, (b >> 3) & 0x1f, b & 7),
            None => f.write_str("?"),
        }
    }
}

fn stages() -> Result<Status, Failure> {
    // config
    let sources = conf::read().or_else(|e| fail("config", e))?;
    let mut cfg = match sources.file {
        Some(text) => Config::from_file(text)
            .or_else(|e| fail("config", alloc::format!("{}: {e}", conf::CONF_PATH)))?,
        None => Config::default(),
    };
    if let Some(args) = sources.args {
        cfg.apply_args(args)
            .or_else(|e| fail("config", alloc::format!("load options: {e}")))?;
    }
    let Some(mut root) = cfg.root_paths().next().copied() else {
        return fail(
            "config",
            "no root-path given (in \\sanboot.conf or on the command line)",
        );
    };
    say::stage(
        "config",
        format_args!(
            "root-path {}:{} lun {} {}; ibft-nics {:?}; boot-file {}; keep-san {}",
            root.server,
            root.port,
            root.lun,
            root.target,
            cfg.ibft_nics,
            cfg.boot_file,
            if cfg.keep_san { "yes" } else { "no" }
        ),
    );

    // nic
    let ports = nic::discover();
    if ports.is_empty() {
        return fail("nic", "no network port (no Simple Network Protocol handle)");
    }
    for (i, p) in ports.iter().enumerate() {
        say::stage(
            "nic",
            format_args!(
                "port{i} {} pci {} {}",
                p.mac,
                Bdf(p.pci_bdf),
                path_text(&p.path)
            ),
        );
    }
    let chosen = match cfg.nic {
        Some(mac) => match ports.iter().position(|p| p.mac == mac) {
            Some(i) => Some(i),
            None => return fail("nic", alloc::format!("no port with MAC {mac}")),
        },
        None => None,
    };

    // net
    let NetUp {
        san: mut san_index,
        configs,
        up,
    } = bring_up_ports(&cfg, &ports, chosen, &root)?;
    let san_port = &ports[san_index];
    let initiator_name: &'static str = match (cfg.initiator_name, smbios_uuid()) {
        (Some(name), _) => name,
        (None, Some(uuid)) => {
            let buf = Box::leak(Box::new([0u8; naming::NAME_LEN]));
            naming::initiator_name_from_smbios_uuid(&uuid, buf)
        }
        (None, None) => {
            let buf = Box::leak(Box::new([0u8; naming::MAC_NAME_LEN]));
            naming::initiator_name_from_mac(&san_port.mac.0, buf)
        }
    };
    say::stage(
        "net",
        format_args!(
            "SAN port is port{san_index} {}; initiator {initiator_name}",
            san_port.mac
        ),
    );

    // disk
    // The target booted from (index among the root paths): the primary unless it failed.
    let mut booted_target = 0;
    let backend: Box<dyn BlockDevice> = match cfg.ram_disk {
        Some(image_path) => {
            // No port carries a session: none stays up.
            for (_, port) in up {
                net::shut_down(port);
            }
            let image = read_own_file(image_path).or_else(|e| fail("disk", e))?;
            let image: &'static mut [u8] = image.leak();
            let size = image.len();
            let Some(disk) = RamDisk::new(image, 512) else {
                return fail(
                    "disk",
                    alloc::format!("{image_path} is not a whole number of 512-byte blocks"),
                );
            };
            say::stage(
                "disk",
                format_args!(
                    "RAM disk from {image_path}: {} blocks of 512 bytes ({size} bytes)",
                    disk.last_lba() + 1
                ),
            );
            Box::new(disk)
        }
        #[cfg(not(feature = "iscsi"))]
        None => {
            let _ = (&mut san_index, &mut booted_target, &mut root);
            return fail(
                "disk",
                "this build has no iSCSI backend (feature `iscsi`); set ram-disk = <image>",
            );
        }
        #[cfg(feature = "iscsi")]
        None => {
            let (index, target, attached) =
                attach_san(&cfg, &ports, san_index, chosen, up, initiator_name)?;
            san_index = index;
            booted_target = target;
            if let Some(r) = cfg.root_paths().nth(target) {
                root = *r;
            }
            say::stage(
                "disk",
                format_args!(
                    "iSCSI {}:{} lun {} {} via port{index}: {}",
                    root.server, root.port, root.lun, root.target, attached.geometry
                ),
            );
            Box::new(attached.disk)
        }
    };
    let san_port = &ports[san_index];

    // blockio
    let disk_path = disk_device_path(&san_port.path, &root).or_else(|e| fail("blockio", e))?;
    let disk = blockio::install(backend, disk_path)
        .or_else(|e| fail("blockio", say::status_cause("install", e.status())))?;
    let volumes = chainload::volumes_on(disk.path).len();
    say::stage(
        "blockio",
        format_args!("installed {}; {volumes} volume(s)", path_text(disk.path)),
    );

    // ibft
    let mut table = alloc::vec![0u8; 4096];
    let built = ibft_table::build(
        &cfg,
        initiator_name,
        &configs,
        san_index,
        booted_target,
        &mut table,
    )
    .or_else(|e| fail("ibft", alloc::format!("build: {e}")))?;
    let table = &table[..built.len];
    let installed = acpi::install(table)
        .or_else(|e| fail("ibft", say::status_cause("InstallAcpiTable", e.status())))?;
    say::stage(
        "ibft",
        format_args!(
            "installed {} bytes; SAN port{san_index} is nic{}",
            built.len, built.san_record
        ),
    );
    if let Ok(parsed) = ibft::Table::parse(table) {
        let dump = alloc::format!("{parsed}");
        for line in dump.lines() {
            say::stage("ibft", format_args!("{line}"));
        }
    }

    // boot
    let loaded = match chainload::load(disk.path, cfg.boot_file, cfg.boot_args) {
        Ok(loaded) => loaded,
        Err(cause) => {
            cleanup(&cfg, &disk, installed);
            return fail("boot", cause);
        }
    };
    say::stage(
        "boot",
        format_args!(
            "starting {} ({} bytes) from volume {}",
            cfg.boot_file,
            loaded.size,
            boot::open_protocol_exclusive::<DevicePath>(loaded.volume)
                .map(|p| path_text(&p))
                .unwrap_or_default()
        ),
    );
    let status = chainload::start(&loaded);
    say::stage(
        "boot",
        format_args!("{} returned {}", cfg.boot_file, say::StatusText(status)),
    );
    cleanup(&cfg, &disk, installed);
    Ok(status)
}

/// Runs DHCP on the ports: the configured SAN port first, then (with `ibft-nics = all`, or
/// until a SAN port is found) the others. Without `nic`, the SAN port is the first port with a
/// lease on the target's subnet, else the first port with a lease. Returns the SAN port's index
/// and every port's iBFT NIC value (ports without a lease keep only MAC and PCI).
///
/// The ports that got leases stay up for the `disk` stage.
#[inline(never)]
fn bring_up_ports(
    cfg: &Config<'_>,
    ports: &[nic::Port],
    chosen: Option<usize>,
    root: &sanboot::root_path::RootPath<'_>,
) -> Result<NetUp, Failure> {
    let mut configs: Vec<ibft::NicConfig<'static>> =
        ports.iter().map(nic::Port::nic_config).collect();
    // The configured port first, then the others in firmware order.
    let order = chosen
        .into_iter()
        .chain((0..ports.len()).filter(|&j| Some(j) != chosen));
    let want_all = cfg.ibft_nics == IbftNics::All;
    let seed = uefi::runtime::get_time().map_or(0x5eed, |t| {
        u64::from(t.nanosecond()) ^ (u64::from(t.second()) << 32) ^ (u64::from(t.minute()) << 40)
    });
    let mut san = chosen;
    let mut first_lease = None;
    let mut up = Vec::new();
    for i in order {
        // The configured port is always tried; the others only while no SAN port is known,
        // or when every port is listed.
        if Some(i) != chosen && san.is_some() && !want_all {
            break;
        }
        match net::bring_up(ports[i].handle, seed ^ i as u64, DHCP_TIMEOUT) {
            Ok(port) => {
                let n = &port.nic;
                say::stage(
                    "net",
                    format_args!(
                        "port{i} {} lease {} gateway {} dhcp {}",
                        ports[i].mac,
                        Opt(n.address),
                        Opt(n.gateway),
                        Opt(n.dhcp_server)
                    ),
                );
                if san.is_none() && n.address.is_some_and(|a| a.contains(root.server)) {
                    san = Some(i);
                }
                first_lease.get_or_insert(i);
                configs[i] = port.nic;
                up.push((i, port));
            }
            Err(cause) => say::stage(
                "net",
                format_args!("port{i} {} no lease: {cause}", ports[i].mac),
            ),
        }
    }
    let Some(san) = san.or(first_lease) else {
        return fail("net", "no port got a DHCP lease");
    };
    if cfg.ram_disk.is_none() && configs[san].address.is_none() {
        return fail(
            "net",
            alloc::format!("SAN port{san} {} got no DHCP lease", ports[san].mac),
        );
    }
    Ok(NetUp { san, configs, up })
}

/// The outcome of the `net` stage.
struct NetUp {
    /// The SAN port's index.
    san: usize,
    /// Every port's iBFT NIC value.
    configs: Vec<ibft::NicConfig<'static>>,
    /// The ports with a lease, by index.
    up: Vec<(usize, Box<net::UpPort>)>,
}

#[cfg(feature = "iscsi")]
#[inline(never)]
/// Logs in: to the primary target, then (if that fails) to the secondary one; each through the
/// SAN port, or (when no `nic` was configured) through the first port with a lease that
/// reaches it. The port that carries the session stays up for good; ports never tried are shut
/// down. Returns the carrying port's index, the target's index among the root paths, and the
/// disk.
fn attach_san(
    cfg: &Config<'static>,
    ports: &[nic::Port],
    san: usize,
    chosen: Option<usize>,
    up: Vec<(usize, Box<net::UpPort>)>,
    initiator_name: &'static str,
) -> Result<(usize, usize, iscsi::Attached), Failure> {
    let mut candidates = up;
    // The preferred port first; without `nic`, the rest in order after it.
    sanboot::small_sort::sort_by_key(&mut candidates, |(i, _)| (*i != san, *i));
    if chosen.is_some() {
        // Only the configured port may carry the session; stop the others.
        let (keep, others): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|(i, _)| *i == san);
        candidates = keep;
        for (_, port) in others {
            net::shut_down(port);
        }
    }
    // Only mutual CHAP sends a challenge.
    let challenge = if cfg.mutual_chap.secret.is_some() {
        random_challenge()
    } else {
        [0; 16]
    };
    // A session keeps using its port until the OS takes over, so a port is leaked (made
    // 'static) when first tried.
    let mut tried: Vec<(usize, &'static net::UpPort)> = Vec::new();
    let mut untried: Vec<(usize, Box<net::UpPort>)> = candidates;
    untried.reverse();
    let mut last_cause = String::new();
    for (t, root) in cfg.root_paths().enumerate() {
        let mut order: Vec<(usize, &'static net::UpPort)> = tried.clone();
        let mut result = None;
        let mut k = 0;
        loop {
            let (i, port) = if k < order.len() {
                order[k]
            } else if let Some((i, port)) = untried.pop() {
                let port: &'static net::UpPort = Box::leak(port);
                tried.push((i, port));
                order.push((i, port));
                (i, port)
            } else {
                break;
            };
            k += 1;
            match iscsi::attach(&port.port, cfg, initiator_name, root, challenge) {
                Ok(a) => {
                    result = Some((i, a));
                    break;
                }
                Err(cause) => {
                    say::stage(
                        "disk",
                        format_args!("target{t} via port{i} {}: {cause}", ports[i].mac),
                    );
                    last_cause = cause;
                }
            }
        }
        if let Some((i, a)) = result {
            for (_, port) in untried {
                net::shut_down(port);
            }
            return Ok((i, t, a));
        }
    }
    for (_, port) in untried {
        net::shut_down(port);
    }
    if last_cause.is_empty() {
        fail("disk", "no port with a lease to reach the target")
    } else {
        fail("disk", last_cause)
    }
}

#[cfg(feature = "iscsi")]
/// 16 bytes for the mutual-CHAP challenge: from the firmware's RNG when it has one, else from
/// the clock (a weak fallback, said so on the console).
fn random_challenge() -> [u8; 16] {
    let mut out = [0u8; 16];
    if let Ok(handle) = boot::get_handle_for_protocol::<uefi::proto::rng::Rng>()
        && let Ok(mut rng) = boot::open_protocol_exclusive::<uefi::proto::rng::Rng>(handle)
        && rng.get_rng(None, &mut out).is_ok()
    {
        return out;
    }
    say::stage(
        "disk",
        format_args!("no EFI_RNG_PROTOCOL: weak CHAP challenge from the clock"),
    );
    // splitmix64 over what varies without an RNG: the RTC and a heap address.
    let mut x = uefi::runtime::get_time().map_or(0u64, |t| {
        u64::from(t.nanosecond())
            ^ (u64::from(t.second()) << 32)
            ^ (u64::from(t.minute()) << 40)
            ^ (u64::from(t.hour()) << 48)
            ^ (u64::from(t.day()) << 56)
    });
    let probe = Box::new(0u8);
    x ^= &*probe as *const u8 as u64;
    for chunk in out.chunks_mut(8) {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
    }
    out
}

/// An optional value for a stage line: the value, or `-`.
struct Opt<T>(Option<T>);

impl<T: core::fmt::Display> core::fmt::Display for Opt<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// How long a port may take to get a DHCP lease.
const DHCP_TIMEOUT: core::time::Duration = core::time::Duration::from_secs(15);

/// After a failed or returning boot: keep the disk and the table (`keep-san`), or remove both.
fn cleanup(cfg: &Config<'_>, disk: &blockio::InstalledDisk, table: acpi::InstalledTable) {
    if cfg.keep_san {
        say::stage("keep-san", format_args!("disk and iBFT left installed"));
        return;
    }
    let disk_removed = disk.remove().is_ok();
    let table_removed = table.remove().is_ok();
    say::stage(
        "keep-san",
        format_args!(
            "off: disk {}, iBFT {}",
            if disk_removed {
                "removed"
            } else {
                "could not be removed"
            },
            if table_removed {
                "removed"
            } else {
                "could not be removed"
            }
        ),
    );
}

/// Reads a file from the volume this application was loaded from.
fn read_own_file(path: &str) -> Result<Vec<u8>, String> {
    let sfs = boot::get_image_file_system(boot::image_handle())
        .map_err(|e| say::status_cause("own volume", e.status()))?;
    let name = CString16::try_from(path).map_err(|_| alloc::format!("bad path {path}"))?;
    file::read(sfs, &name).map_err(|e| alloc::format!("read {path}: {}", StatusText(e.status())))
}

/// The disk's device path: the SAN port's path followed by a Messaging/iSCSI node, as EDK2's
/// and iPXE's iSCSI drivers build it.
fn disk_device_path(
    port_path: &DevicePath,
    root: &sanboot::root_path::RootPath<'_>,
) -> Result<&'static DevicePath, String> {
    // EDK2 (IScsiDxe, DevicePathToText) stores and reads the target name NUL-terminated.
    let mut name = Vec::with_capacity(root.target.len() + 1);
    name.extend_from_slice(root.target.as_bytes());
    name.push(0);
    let name: &'static [u8] = name.leak();
    let storage: &'static mut Vec<u8> = Box::leak(Box::new(Vec::new()));
    extend_path(
        storage,
        port_path,
        &build::messaging::Iscsi {
            protocol: IscsiProtocol::TCP,
            options: IscsiLoginOptions::AUTH_METHOD_NONE,
            logical_unit_number: root.sam_lun(),
            target_portal_group_tag: 1,
            iscsi_target_name: name,
        },
    )
}

/// `base` followed by `node`, built in `storage` (for the disk's path and the boot file's).
fn extend_path<'a>(
    storage: &'a mut Vec<u8>,
    base: &DevicePath,
    node: &dyn build::BuildNode,
) -> Result<&'a DevicePath, String> {
    fn build<'a>(
        storage: &'a mut Vec<u8>,
        base: &DevicePath,
        node: &dyn build::BuildNode,
    ) -> Result<&'a DevicePath, build::BuildError> {
        let mut builder = DevicePathBuilder::with_vec(storage);
        for n in base.node_iter() {
            builder = builder.push(&n)?;
        }
        builder.push(node)?.finalize()
    }
    // `storage` grows, so this fails only for a node over 64 KiB (a huge boot-file name) or an
    // end node inside the firmware's path.
    build(storage, base, node).map_err(|_| String::from("device path node too long or malformed"))
}

/// The SMBIOS type 1 UUID, from the SMBIOS 3 or 2 entry point in the configuration table.
fn smbios_uuid() -> Option<[u8; 16]> {
    let entry = uefi::system::with_config_table(|entries: &[ConfigTableEntry]| {
        entries
            .iter()
            .find(|e| e.guid == ConfigTableEntry::SMBIOS3_GUID)
            .map(|e| (true, e.address as usize))
            .or_else(|| {
                entries
                    .iter()
                    .find(|e| e.guid == ConfigTableEntry::SMBIOS_GUID)
                    .map(|e| (false, e.address as usize))
            })
    })?;
    let (v3, address) = entry;
    if address == 0 {
        return None;
    }
    // SAFETY: the firmware publishes the entry point at this (identity-mapped) address; both
    // entry point formats are at least 0x18/0x1F bytes long.
    let ep = unsafe { core::slice::from_raw_parts(address as *const u8, 0x18) };
    let (table, len) = if v3 {
        let len = u32::from_le_bytes(ep.get(0x0c..0x10)?.try_into().ok()?) as usize;
        let table = u64::from_le_bytes(ep.get(0x10..0x18)?.try_into().ok()?) as usize;
        (table, len)
    } else {
        // SAFETY: as above; the 2.x entry point is 0x1F bytes.
        let ep = unsafe { core::slice::from_raw_parts(address as *const u8, 0x1f) };
        let len = u16::from_le_bytes(ep.get(0x16..0x18)?.try_into().ok()?) as usize;
        let table = u32::from_le_bytes(ep.get(0x18..0x1c)?.try_into().ok()?) as usize;
        (table, len)
    };
    if table == 0 || len == 0 || len > 1 << 20 {
        return None;
    }
    // SAFETY: the entry point says the structure table spans `len` bytes at `table`.
    let table = unsafe { core::slice::from_raw_parts(table as *const u8, len) };
    sanboot::smbios::system_uuid(table)
}

/// The panic handler's body (see `main.rs`): one fixed line, ten seconds to read it, then the
/// machine powers off, as `uefi`'s own handler does. The panic message is not formatted, so
/// the formatting paths of every panic site (and their messages) stay out of the image.
/// Returning to the boot manager instead is not safe: the Block I/O protocol this image may
/// have installed would point into unloaded code.
pub fn halt_on_panic() -> ! {
    uefi::system::with_stdout(|out| {
        let _ = out.output_string(uefi::cstr16!(
            "sanboot: FAILED at panic: internal error\r\n"
        ));
    });
    boot::stall(core::time::Duration::from_secs(10));
    uefi::runtime::reset(uefi::runtime::ResetType::SHUTDOWN, Status::ABORTED, None)
}
