//! A Linux guest in QEMU that reports what its `iscsi_ibft` driver exposes.
//!
//! Debian's kernel (`/boot/vmlinuz-*`) boots under TCG with an initramfs built at test time from
//! `busybox-static` plus `iscsi_ibft.ko` and its dependencies. The table under test is handed to the
//! guest with `-acpitable file=...`; legacy BIOS boot is fine because Linux falls back to the ACPI
//! table when its memory scan finds nothing. The guest's `/init` loads the module, prints every file
//! under `/sys/firmware/ibft` as `path=value` on the serial console, and powers off.
//!
//! Note that QEMU recomputes the checksum of an `-acpitable` table, so this cannot test checksums.
//!
//! ```no_run
//! use iscsi_boot_tests::linux_vm;
//!
//! let sysfs = linux_vm::read_ibft_sysfs(std::path::Path::new("table.bin")).unwrap();
//! assert_eq!(sysfs["ethernet0/mac"], "52:54:00:12:34:00");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Set (to anything) to turn a missing QEMU, kernel or busybox into a test failure instead of a skip.
/// `cargo xtask test` sets it, so CI never silently skips.
pub const REQUIRE_PEERS_ENV: &str = "ISCSI_BOOT_REQUIRE_PEERS";
/// Overrides the kernel image (its modules are looked up by the version in its file name).
pub const KERNEL_ENV: &str = "ISCSI_BOOT_KERNEL";
/// Overrides the guest timeout in seconds (default [`DEFAULT_TIMEOUT`]).
pub const TIMEOUT_ENV: &str = "ISCSI_BOOT_VM_TIMEOUT";
/// How long one guest may run before it is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

const QEMU: &str = "qemu-system-x86_64";
const BUSYBOX: &str = "/bin/busybox";
const MODULE: &str = "iscsi_ibft";
const BEGIN: &str = "@@IBFT-BEGIN@@";
const END: &str = "@@IBFT-END@@";
const LINE: &str = "@@IBFT@@ ";
const MODULE_FAILED: &str = "@@IBFT-INSMOD-FAILED@@";

/// Why a guest could not report its iBFT.
#[derive(Debug)]
pub enum VmError {
    /// A prerequisite (QEMU, a kernel with modules, busybox) is not installed.
    Missing(String),
    /// Building the initramfs or running QEMU failed.
    Io(String, io::Error),
    /// The guest did not finish within the timeout; the serial log so far is attached.
    Timeout {
        /// The serial console output.
        log: String,
    },
    /// A module did not load in the guest (so an empty report would mean nothing).
    ModuleFailed {
        /// The module's name, e.g. `iscsi_ibft` (whose init fails when it rejects a table).
        module: String,
        /// The serial console output (with the guest's iBFT-related kernel messages).
        log: String,
    },
    /// The guest finished without printing the report markers; the serial log is attached.
    NoReport {
        /// The serial console output.
        log: String,
    },
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmError::Missing(what) => write!(f, "missing prerequisite: {what}"),
            VmError::Io(what, e) => write!(f, "{what}: {e}"),
            VmError::Timeout { log } => write!(f, "guest timed out; serial log:\n{log}"),
            VmError::ModuleFailed { module, log } => {
                write!(f, "insmod {module} failed in the guest; serial log:\n{log}")
            }
            VmError::NoReport { log } => {
                write!(f, "guest printed no iBFT report; serial log:\n{log}")
            }
        }
    }
}

impl std::error::Error for VmError {}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> VmError {
    let what = what.into();
    move |e| VmError::Io(what, e)
}

/// A Debian kernel image and the modules directory that belongs to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kernel {
    /// The bzImage, e.g. `/boot/vmlinuz-6.1.0-56-amd64`.
    pub image: PathBuf,
    /// Its modules, e.g. `/lib/modules/6.1.0-56-amd64`.
    pub modules: PathBuf,
}

impl Kernel {
    /// Finds the kernel: `$ISCSI_BOOT_KERNEL` if set, else the newest `/boot/vmlinuz-*` whose
    /// `/lib/modules/<version>/modules.dep` exists.
    pub fn find() -> Result<Kernel, VmError> {
        if let Some(image) = std::env::var_os(KERNEL_ENV) {
            let image = PathBuf::from(image);
            return Kernel::for_image(&image)
                .ok_or_else(|| VmError::Missing(format!("modules for {}", image.display())));
        }
        let mut found: Vec<Kernel> = fs::read_dir("/boot")
            .map_err(|_| VmError::Missing("/boot".into()))?
            .filter_map(|e| e.ok())
            .filter_map(|e| Kernel::for_image(&e.path()))
            .collect();
        found.sort_by_key(|k| version_key(&k.image));
        found.pop().ok_or_else(|| {
            VmError::Missing(
                "a kernel (/boot/vmlinuz-* with /lib/modules; linux-image-amd64)".into(),
            )
        })
    }

    fn for_image(image: &Path) -> Option<Kernel> {
        let name = image.file_name()?.to_str()?;
        let version = name.strip_prefix("vmlinuz-")?;
        let modules = Path::new("/lib/modules").join(version);
        // Some distributions make the image readable by root only: then it is missing for us.
        let readable = image.is_file() && fs::File::open(image).is_ok();
        (readable && modules.join("modules.dep").is_file()).then(|| Kernel {
            image: image.to_path_buf(),
            modules,
        })
    }
}

/// Orders kernel versions numerically where they are numbers (`6.10` after `6.9`).
fn version_key(image: &Path) -> Vec<(u64, String)> {
    let name = image.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.split(['.', '-', '+'])
        .map(|part| (part.parse().unwrap_or(0), part.to_string()))
        .collect()
}

/// Returns why the guest cannot run on this machine, or `None` when everything is installed.
pub fn missing_prerequisite() -> Option<String> {
    if Command::new(QEMU).arg("--version").output().is_err() {
        return Some(format!("{QEMU} (package qemu-system-x86)"));
    }
    if !Path::new(BUSYBOX).is_file() {
        return Some(format!("{BUSYBOX} (package busybox-static)"));
    }
    match Kernel::find() {
        Err(VmError::Missing(what)) => Some(what),
        Err(e) => Some(e.to_string()),
        Ok(_) => None,
    }
}

/// For tests: returns `true` when the guest can run. Otherwise prints a loud skip message and
/// returns `false` — or panics when [`REQUIRE_PEERS_ENV`] is set (as it is in CI).
pub fn available_or_skip(test: &str) -> bool {
    match missing_prerequisite() {
        None => true,
        Some(what) if std::env::var_os(REQUIRE_PEERS_ENV).is_some() => {
            panic!("{test}: cannot boot the Linux guest, missing {what}")
        }
        Some(what) => {
            eprintln!(
                "\n!!!!! SKIPPED {test}: cannot boot the Linux guest, missing {what} !!!!!\n"
            );
            false
        }
    }
}

/// An emulated network card on the guest's root PCI bus (`00:SLOT.0`), so that Linux can link an
/// iBFT NIC record with that PCI address to a real device (`ethernetN/device`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciNic {
    /// PCI slot (device number) on bus 0, function 0. Slots 1 to 0x1e are free on q35 here.
    pub slot: u8,
    /// The card's MAC address.
    pub mac: [u8; 6],
}

/// Boots Linux with `table` as an extra ACPI table and returns every file under
/// `/sys/firmware/ibft` keyed by its path below that directory (`ethernet0/mac` → `52:54:00:…`).
///
/// Symbolic links are reported by the name of what they point to (`ethernet0/device` →
/// `0000:00:03.0`). An empty map means the kernel exposed no iBFT at all.
pub fn read_ibft_sysfs(table: &Path) -> Result<BTreeMap<String, String>, VmError> {
    read_ibft_sysfs_with_nics(table, &[])
}

/// Like [`read_ibft_sysfs`], with network cards plugged into the guest's PCI bus.
///
/// Guests run one at a time (the machines running the tests have few cores and TCG is CPU-bound).
pub fn read_ibft_sysfs_with_nics(
    table: &Path,
    nics: &[PciNic],
) -> Result<BTreeMap<String, String>, VmError> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let kernel = Kernel::find()?;
    let initramfs = cached_initramfs(&kernel)?;
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let log = run_guest(&kernel, &initramfs, table, nics, timeout())?;
    let failed = log
        .lines()
        .find_map(|l| l.trim_end_matches('\r').split_once(MODULE_FAILED))
        .map(|(_, module)| module.trim().to_string());
    if let Some(module) = failed {
        return Err(VmError::ModuleFailed { module, log });
    }
    parse_report(&log).ok_or(VmError::NoReport { log })
}

fn timeout() -> Duration {
    std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// Extracts the `path=value` lines between the markers of a serial log.
///
/// Kernel messages may interleave with the report, so only lines with the report prefix count.
pub fn parse_report(log: &str) -> Option<BTreeMap<String, String>> {
    let begin = log.find(BEGIN)?;
    let end = begin + log[begin..].find(END)?;
    let values = log[begin..end]
        .lines()
        .filter_map(|line| {
            line.trim_end_matches('\r')
                .split_once(LINE)
                .map(|(_, kv)| kv)
        })
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
        .collect();
    Some(values)
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Result<Scratch, VmError> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("iscsi-boot-{tag}-{}-{n}", std::process::id()));
        fs::create_dir_all(&dir).map_err(io_err(format!("create {}", dir.display())))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A QEMU process killed (and reaped) when dropped, whatever happened to the test.
struct Guest(Child);

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_guest(
    kernel: &Kernel,
    initramfs: &Path,
    table: &Path,
    nics: &[PciNic],
    timeout: Duration,
) -> Result<String, VmError> {
    let scratch = Scratch::new("vm")?;
    let serial = scratch.0.join("serial.log");
    // QEMU splits -acpitable options at commas; a private copy gives a path without any.
    let table_copy = scratch.0.join("table.bin");
    fs::copy(table, &table_copy).map_err(io_err(format!("read {}", table.display())))?;
    // QEMU's own messages go to a file: a pipe nobody reads could fill up and stall it.
    let stderr_path = scratch.0.join("qemu.stderr");
    let stderr_file = fs::File::create(&stderr_path)
        .map_err(io_err(format!("create {}", stderr_path.display())))?;
    let mut qemu = Command::new(QEMU);
    for nic in nics {
        let m = nic.mac;
        // No netdev: the card only has to exist on the bus (QEMU warns that it has no peer).
        qemu.arg("-device").arg(format!(
            "e1000,addr={:#x},mac={:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            nic.slot, m[0], m[1], m[2], m[3], m[4], m[5]
        ));
    }
    let child = qemu
        .args(["-accel", "tcg", "-machine", "q35", "-m", "512", "-smp", "1"])
        .args(["-display", "none", "-nodefaults", "-no-reboot"])
        .arg("-kernel")
        .arg(&kernel.image)
        .arg("-initrd")
        .arg(initramfs)
        .args(["-append", "console=ttyS0 panic=-1 loglevel=1 rdinit=/init"])
        .arg("-acpitable")
        .arg(format!("file={}", table_copy.display()))
        .arg("-serial")
        .arg(format!("file:{}", serial.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr_file)
        .spawn()
        .map_err(io_err(format!("start {QEMU}")))?;
    let mut guest = Guest(child);
    let started = Instant::now();
    let read_log = || fs::read(&serial).map(|b| String::from_utf8_lossy(&b).into_owned());
    loop {
        match guest.0.try_wait().map_err(io_err("wait for qemu"))? {
            Some(status) => {
                let log = read_log().unwrap_or_default();
                if !status.success() {
                    let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
                    return Err(VmError::Io(
                        format!("{QEMU} failed ({status}): {stderr}\nserial log:\n{log}"),
                        io::Error::other("qemu exited with an error"),
                    ));
                }
                return Ok(log);
            }
            None if started.elapsed() > timeout => {
                return Err(VmError::Timeout {
                    log: read_log().unwrap_or_default(),
                });
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The guest's `/init`: load the modules, report sysfs between markers (with `net_addresses`,
/// also the addresses of the interfaces behind each record's device), power off.
fn init_script(modules: &[String], net_addresses: bool) -> String {
    let mut s = String::from(
        "#!/bin/busybox sh\n\
         /bin/busybox --install -s /bin\n\
         mount -t devtmpfs devtmpfs /dev 2>/dev/null\n\
         mount -t proc proc /proc\n\
         mount -t sysfs sysfs /sys\n",
    );
    for m in modules {
        s.push_str(&format!(
            "insmod /lib/modules/{m}.ko || echo \"{MODULE_FAILED} {m}\"\n"
        ));
    }
    s.push_str(&format!(
        "echo {BEGIN}\n\
         if [ -d /sys/firmware/ibft ]; then\n\
         \x20 find /sys/firmware/ibft -type f | sort | while read -r f; do\n\
         \x20   echo \"{LINE}${{f#/sys/firmware/ibft/}}=$(cat \"$f\" 2>/dev/null)\"\n\
         \x20 done\n\
         \x20 find /sys/firmware/ibft -type l | sort | while read -r f; do\n\
         \x20   echo \"{LINE}${{f#/sys/firmware/ibft/}}=$(basename \"$(readlink -f \"$f\")\")\"\n\
         \x20 done\n\
         fi\n\
         {}\
         echo {END}\n\
         dmesg | grep -i -e ibft -e iscsi\n\
         poweroff -f\n",
        if net_addresses {
            // The NIC driver binds asynchronously; give the interfaces a moment to appear.
            format!(
                "sleep 1\n\
                 for a in /sys/firmware/ibft/ethernet*/device/net/*/address \\\n\
                 \x20 /sys/firmware/ibft/ethernet*/device/*/net/*/address; do\n\
                 \x20 [ -f \"$a\" ] && echo \"{LINE}${{a#/sys/firmware/ibft/}}=$(cat \"$a\")\"\n\
                 done\n"
            )
        } else {
            String::new()
        }
    ));
    s
}

/// Builds the initramfs once per test process (and per kernel) and returns its path.
fn cached_initramfs(kernel: &Kernel) -> Result<PathBuf, VmError> {
    static CACHE: OnceLock<Mutex<BTreeMap<PathBuf, PathBuf>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(path) = cache.get(&kernel.image) {
        return Ok(path.clone());
    }
    let version = kernel
        .modules
        .file_name()
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default();
    // One directory per user, so that root's and a user's test runs never share files.
    let uid = {
        use std::os::unix::fs::MetadataExt;
        fs::metadata("/proc/self").map_or(0, |m| m.uid())
    };
    let dir = std::env::temp_dir().join(format!("iscsi-boot-linux-vm-{uid}"));
    fs::create_dir_all(&dir).map_err(io_err(format!("create {}", dir.display())))?;
    let path = dir.join(format!("initramfs-{version}.cpio.gz"));
    let partial = dir.join(format!(
        "initramfs-{version}.{}.partial",
        std::process::id()
    ));
    build_initramfs(kernel, &partial)?;
    fs::rename(&partial, &path).map_err(io_err(format!("rename to {}", path.display())))?;
    cache.insert(kernel.image.clone(), path.clone());
    Ok(path)
}

/// Writes a gzip-compressed `newc` cpio archive with busybox, the modules and `/init`.
fn build_initramfs(kernel: &Kernel, out: &Path) -> Result<(), VmError> {
    write_initramfs(kernel, &[], out)
}

/// Writes an initramfs like the one [`read_ibft_sysfs`] boots, for a guest booted by other
/// means (e.g. its kernel loaded by firmware from an iSCSI LUN): `extra_modules` (with their
/// dependencies, e.g. `virtio_pci`, `virtio_net`) are loaded before `iscsi_ibft`, and the report
/// also lists the address of each network interface a NIC record's device has
/// (`ethernet0/device/virtio0/net/eth0/address=52:54:…`; virtio puts the interface one level
/// below the PCI function, other drivers directly under it). The report is read with [`parse_report`].
pub fn build_initramfs_with(
    kernel: &Kernel,
    extra_modules: &[&str],
    out: &Path,
) -> Result<(), VmError> {
    write_initramfs(kernel, extra_modules, out)
}

fn write_initramfs(kernel: &Kernel, extra_modules: &[&str], out: &Path) -> Result<(), VmError> {
    let mut chain = Vec::new();
    for module in extra_modules.iter().copied().chain([MODULE]) {
        for path in module_chain(&kernel.modules, module)? {
            if !chain.contains(&path) {
                chain.push(path);
            }
        }
    }
    let mut cpio = cpio::Writer::default();
    for dir in ["bin", "dev", "proc", "sys", "lib", "lib/modules"] {
        cpio.dir(dir);
    }
    cpio.char_device("dev/console", 5, 1);
    let busybox = fs::read(BUSYBOX).map_err(io_err(format!("read {BUSYBOX}")))?;
    cpio.file("bin/busybox", 0o755, &busybox);
    let mut names = Vec::new();
    for path in &chain {
        let name = module_name(path);
        let bytes = read_module(path)?;
        cpio.file(&format!("lib/modules/{name}.ko"), 0o644, &bytes);
        names.push(name);
    }
    let script = init_script(&names, !extra_modules.is_empty());
    cpio.file("init", 0o755, script.as_bytes());
    gzip_to(&cpio.finish(), out)
}

/// Paths of `module` and its dependencies from `modules.dep`, in load order.
fn module_chain(modules_dir: &Path, module: &str) -> Result<Vec<PathBuf>, VmError> {
    let dep_file = modules_dir.join("modules.dep");
    let deps =
        fs::read_to_string(&dep_file).map_err(io_err(format!("read {}", dep_file.display())))?;
    let line = deps
        .lines()
        .find(|l| {
            l.split_once(':')
                .is_some_and(|(path, _)| module_name(Path::new(path)) == module)
        })
        .ok_or_else(|| VmError::Missing(format!("{module} in {}", dep_file.display())))?;
    let (path, needs) = line.split_once(':').unwrap_or((line, ""));
    // modules.dep lists the deepest dependency last; it has to be loaded first.
    let mut chain: Vec<PathBuf> = needs
        .split_whitespace()
        .rev()
        .map(|p| modules_dir.join(p))
        .collect();
    chain.push(modules_dir.join(path));
    Ok(chain)
}

/// `kernel/drivers/firmware/iscsi_ibft.ko.xz` → `iscsi_ibft`.
fn module_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy())
        .unwrap_or_default();
    file.split(".ko").next().unwrap_or(&file).to_string()
}

/// Reads a module, decompressing `.ko.xz`, `.ko.zst` and `.ko.gz` (busybox's insmod may not).
fn read_module(path: &Path) -> Result<Vec<u8>, VmError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let tool = match ext {
        "ko" => return fs::read(path).map_err(io_err(format!("read {}", path.display()))),
        "xz" => "xz",
        "zst" => "zstd",
        "gz" => "gzip",
        _ => {
            return Err(VmError::Missing(format!(
                "a way to read {}",
                path.display()
            )));
        }
    };
    let out = Command::new(tool)
        .arg("-dc")
        .arg(path)
        .output()
        .map_err(io_err(format!("run {tool} -dc {}", path.display())))?;
    if !out.status.success() {
        return Err(VmError::Io(
            format!("{tool} -dc {}", path.display()),
            io::Error::other(String::from_utf8_lossy(&out.stderr).into_owned()),
        ));
    }
    Ok(out.stdout)
}

fn gzip_to(data: &[u8], out: &Path) -> Result<(), VmError> {
    let file = fs::File::create(out).map_err(io_err(format!("create {}", out.display())))?;
    let mut gzip = Command::new("gzip")
        .args(["-c", "-6", "-n"])
        .stdin(Stdio::piped())
        .stdout(file)
        .spawn()
        .map_err(io_err("run gzip"))?;
    let written = gzip.stdin.take().map(|mut stdin| stdin.write_all(data));
    let status = gzip.wait().map_err(io_err("wait for gzip"))?;
    match written {
        Some(Err(e)) => Err(VmError::Io("write to gzip".into(), e)),
        _ if !status.success() => Err(VmError::Io(
            "gzip".into(),
            io::Error::other(status.to_string()),
        )),
        _ => Ok(()),
    }
}

/// The `newc` cpio format the kernel unpacks into its initial root file system.
///
/// Written in-process so that a device node (`/dev/console`) can go in without root.
mod cpio {
    /// An archive being assembled in memory.
    #[derive(Debug, Default)]
    pub struct Writer {
        out: Vec<u8>,
        next_inode: u32,
    }

    impl Writer {
        pub fn dir(&mut self, name: &str) {
            self.entry(name, 0o040_755, (0, 0), &[]);
        }

        pub fn file(&mut self, name: &str, permissions: u32, data: &[u8]) {
            self.entry(name, 0o100_000 | permissions, (0, 0), data);
        }

        pub fn char_device(&mut self, name: &str, major: u32, minor: u32) {
            self.entry(name, 0o020_600, (major, minor), &[]);
        }

        pub fn finish(mut self) -> Vec<u8> {
            self.entry("TRAILER!!!", 0, (0, 0), &[]);
            self.out
        }

        fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
            self.next_inode += 1;
            let nlink = if mode & 0o040_000 != 0 { 2 } else { 1 };
            let fields = [
                self.next_inode,
                mode,
                0, // uid
                0, // gid
                nlink,
                0, // mtime
                data.len() as u32,
                0, // dev major
                0, // dev minor
                rdev.0,
                rdev.1,
                name.len() as u32 + 1,
                0, // check
            ];
            self.out.extend_from_slice(b"070701");
            for f in fields {
                self.out.extend_from_slice(format!("{f:08x}").as_bytes());
            }
            self.out.extend_from_slice(name.as_bytes());
            self.out.push(0);
            self.pad();
            self.out.extend_from_slice(data);
            self.pad();
        }

        fn pad(&mut self) {
            while !self.out.len().is_multiple_of(4) {
                self.out.push(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_ignores_interleaved_kernel_lines() {
        let log = "boot\r\n@@IBFT-BEGIN@@\r\n@@IBFT@@ ethernet0/mac=52:54:00:12:34:00\r\n\
                   [    1.0] random kernel line\r\n@@IBFT@@ target0/port=3260\r\n@@IBFT-END@@\r\n";
        let map = parse_report(log).unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map["ethernet0/mac"], "52:54:00:12:34:00");
        assert_eq!(map["target0/port"], "3260");
    }

    #[test]
    fn report_without_markers_is_none() {
        assert!(parse_report("Kernel panic").is_none());
    }

    #[test]
    fn cpio_header_matches_newc_layout() {
        let mut w = cpio::Writer::default();
        w.file("a", 0o644, b"xy");
        let out = w.finish();
        // 110-byte header, "a\0" padded to 112, 2 data bytes padded to 116.
        assert_eq!(&out[..6], b"070701");
        assert_eq!(&out[6..14], b"00000001"); // inode
        assert_eq!(&out[14..22], b"000081a4"); // regular file, 0644
        assert_eq!(&out[54..62], b"00000002"); // file size
        assert_eq!(&out[94..102], b"00000002"); // name size with NUL
        assert_eq!(&out[110..112], b"a\0");
        assert_eq!(&out[112..114], b"xy");
        assert_eq!(&out[116..122], b"070701");
        assert_eq!(out.len() % 4, 0);
    }

    #[test]
    fn module_names_drop_compression_suffixes() {
        assert_eq!(module_name(Path::new("a/iscsi_ibft.ko.xz")), "iscsi_ibft");
        assert_eq!(
            module_name(Path::new("a/iscsi_boot_sysfs.ko")),
            "iscsi_boot_sysfs"
        );
    }
}
