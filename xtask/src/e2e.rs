//! `cargo xtask e2e`: boots `uefi-sanboot` in QEMU + OVMF on a machine with two NICs and checks,
//! from the serial log, that it attached the disk, installed the iBFT and chain-loaded the
//! payload, and that the payload found a correct iBFT.
//!
//! The disk is a GPT image with an EFI system partition holding `ibft-payload` as
//! `\EFI\BOOT\BOOTX64.EFI`. With `--backend ram` the app serves that image from
//! memory (`ram-disk = \disk.img`), which proves Block I/O, partition/FAT binding, the iBFT
//! install and the chain-load without a target. `--backend iscsi` (the default) exports the
//! image with tgtd on 127.0.0.1 and a free port (the guest reaches it as 10.0.3.2) and the app
//! logs in to it: the real sanboot.
//!
//! Options: `--backend iscsi|ram` (default iscsi), `--scenario NAME`, `--timeout SECONDS` (default
//! 120), `--keep` (leave the work
//! directory for inspection).

use iscsi_boot_tests::tgtd::Tgtd;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
pub(crate) const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// The first port (management network, no host access) and the second (the SAN network).
pub(crate) const MAC0: &str = "52:54:00:00:00:01";
pub(crate) const MAC1: &str = "52:54:00:00:00:02";
/// Fixed PCI slots so the expected iBFT PCI fields are known: 00:08.0 and 00:09.0.
const SLOT0: u8 = 8;
const SLOT1: u8 = 9;
/// A fixed SMBIOS UUID so the derived initiator name is known.
const UUID: &str = "8f3c1a52-7d0e-4b6a-9c21-5e4f0a1b2c3d";
const TARGET_IQN: &str = "iqn.2026-11.org.iscsi-boot:e2e";
/// Mutual CHAP on the tgtd target (secrets of 12+ characters, as the Microsoft initiator wants).
const CHAP_USER: &str = "sanboot-host";
const CHAP_SECRET: &str = "host-secret-0123";
const MUTUAL_USER: &str = "sanboot-target";
const MUTUAL_SECRET: &str = "target-secret-4567";

/// Disk image geometry: 32 MiB, one partition from sector 2048 to the last usable one.
const DISK_BYTES: u64 = 32 << 20;
const PART_START: u64 = 2048;

/// Which block backend the app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Ram,
    Iscsi,
}

struct Options {
    backend: Backend,
    timeout: Duration,
    keep: bool,
    scenario: Option<String>,
    /// A Linux kernel (EFI stub) and initramfs for the `linux` scenario.
    linux: Option<(PathBuf, PathBuf)>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut opts = Options {
        backend: Backend::Iscsi,
        timeout: Duration::from_secs(120),
        keep: false,
        scenario: None,
        linux: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--backend" => {
                opts.backend = match it.next().map(String::as_str) {
                    Some("ram") => Backend::Ram,
                    Some("iscsi") => Backend::Iscsi,
                    other => return Err(format!("--backend ram|iscsi, not {other:?}")),
                }
            }
            "--timeout" => {
                let secs = it
                    .next()
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or("--timeout needs a number of seconds")?;
                opts.timeout = Duration::from_secs(secs);
            }
            "--keep" => opts.keep = true,
            "--linux" => {
                let kernel = it.next().ok_or("--linux needs KERNEL INITRD")?;
                let initrd = it.next().ok_or("--linux needs KERNEL INITRD")?;
                opts.linux = Some((kernel.into(), initrd.into()));
            }
            "--scenario" => {
                let name = it.next().ok_or("--scenario needs a name")?;
                if !SCENARIOS.iter().any(|s| s.name == name) {
                    return Err(format!("unknown scenario {name}"));
                }
                opts.scenario = Some(name.clone());
            }
            other => return Err(format!("unknown e2e option {other}")),
        }
    }
    Ok(opts)
}

/// Runs the end-to-end boot; `args` are the words after `e2e`.
pub fn run(args: &[String]) -> Result<(), String> {
    let opts = parse_options(args)?;
    for tool in ["qemu-system-x86_64", "sgdisk", "mformat", "mcopy", "mmd"] {
        if !on_path(tool) {
            return Err(format!("{tool} not found: run `cargo xtask setup`"));
        }
    }
    for file in [OVMF_CODE, OVMF_VARS] {
        if !Path::new(file).exists() {
            return Err(format!("{file} not found: run `cargo xtask setup`"));
        }
    }

    let target_dir = crate::target_dir();
    let features = (opts.backend == Backend::Iscsi).then_some("uefi-sanboot/iscsi");
    let efi_dir = crate::build_firmware(&["uefi-sanboot", "ibft-payload"], features)?;
    let sanboot = efi_dir.join("uefi-sanboot.efi");
    let payload = efi_dir.join("ibft-payload.efi");
    eprintln!(
        "e2e: uefi-sanboot.efi is {} bytes, ibft-payload.efi {} bytes",
        file_len(&sanboot)?,
        file_len(&payload)?
    );

    let work = target_dir.join("e2e");
    let _ = fs::remove_dir_all(&work);
    let esp = work.join("esp");
    fs::create_dir_all(esp.join("EFI/BOOT")).map_err(|e| format!("{}: {e}", esp.display()))?;
    copy(&sanboot, &esp.join("EFI/BOOT/BOOTX64.EFI"))?;

    let payload_data = work.join("payload.bin");
    fs::write(&payload_data, read_payload::pattern(1 << 20)).map_err(|e| e.to_string())?;
    // The RAM disk is read from the app's own volume; the LUN's image stays outside the guest.
    let image = match opts.backend {
        Backend::Ram => esp.join("disk.img"),
        Backend::Iscsi => work.join("lun.img"),
    };
    build_disk_image(&image, &payload, &payload_data, opts.linux.as_ref())?;
    let _tgtd; // stopped when dropped, after the scenarios
    let setup = match opts.backend {
        Backend::Ram => Setup {
            root_path: format!("iscsi:10.0.3.2::3260:0:{TARGET_IQN}"),
            portal_port: 3260,
            lun: 0,
            disk_conf: "ram-disk = \\disk.img\n".into(),
            chap_line: "sanboot: ibft:   chap type 0 name - secret - reverse name - secret -"
                .into(),
            disk_line: "sanboot: disk: RAM disk from \\disk.img: 65536 blocks of 512 bytes".into(),
            dead_port: None,
            tgtd_log: None,
        },
        Backend::Iscsi => {
            let tgtd = start_tgtd(&image)?;
            let port = tgtd.portal().port();
            let tgtd_log = Some(tgtd.dir().join("tgtd.log"));
            _tgtd = tgtd;
            Setup {
                root_path: format!("iscsi:10.0.3.2::{port}:1:{TARGET_IQN}"),
                portal_port: port,
                lun: 1,
                disk_conf: format!(
                    "chap-user = {CHAP_USER}\nchap-secret = {CHAP_SECRET}\n\
                     mutual-chap-user = {MUTUAL_USER}\nmutual-chap-secret = {MUTUAL_SECRET}\n"
                ),
                chap_line: format!(
                    "sanboot: ibft:   chap type 2 name {CHAP_USER} secret ({} chars) reverse name {MUTUAL_USER} secret ({} chars)",
                    CHAP_SECRET.len(),
                    MUTUAL_SECRET.len()
                ),
                dead_port: Some(free_port()?),
                tgtd_log,
                disk_line: format!(
                    "sanboot: disk: iSCSI 10.0.3.2:{port} lun 1 {TARGET_IQN} via port1: 65536 blocks of 512 bytes"
                ),
            }
        }
    };

    let mut result = Ok(());
    for scenario in SCENARIOS {
        if let Some(only) = &opts.scenario
            && only != scenario.name
        {
            continue;
        }
        if scenario.linux && opts.linux.is_none() {
            eprintln!(
                "e2e: scenario {} needs --linux KERNEL INITRD; skipped",
                scenario.name
            );
            continue;
        }
        result = run_scenario(&work, &esp, &setup, scenario, opts.timeout);
        if result.is_err() {
            break;
        }
    }
    if opts.keep || result.is_err() {
        eprintln!("e2e: work directory kept: {}", work.display());
    } else {
        let _ = fs::remove_dir_all(&work);
    }
    result
}

/// One boot of the machine with one configuration.
struct Scenario {
    name: &'static str,
    /// Lines appended to the common `sanboot.conf`.
    extra_conf: &'static str,
    /// What the serial log must show, in order.
    expected: fn(&Setup) -> Vec<String>,
    /// A line prefix that must not appear at all.
    forbidden: Option<&'static str>,
    /// A primary root path to a port nobody listens on comes before the real one (iSCSI only).
    dead_primary: bool,
    /// Needs the iSCSI backend (CHAP, portals); skipped with the RAM disk.
    iscsi_only: bool,
    /// The run must end in one `sanboot: FAILED at` line, within seconds, that contains this.
    failure_mentions: Option<&'static str>,
    /// Boots Linux from the LUN (`--linux`) and checks what its `iscsi_ibft` shows.
    linux: bool,
    /// tgtd must not have dropped a connection for unanswered NOP-Ins during the boot.
    session_kept: bool,
}

/// `boot-args` that tell the payload which address each port leased (QEMU's user network
/// hands out `.15`), so it can check the iBFT's NIC records against the real ports.
const LEASES: &str = "lease=52:54:00:00:00:01,10.0.2.15 lease=52:54:00:00:00:02,10.0.3.15";

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "boot",
        extra_conf: "ibft-nics = all\nboot-args = e2e-args console=ttyS0 {LEASES}\n",
        expected: expected_boot,
        forbidden: Some("sanboot: FAILED"),
        dead_primary: false,
        iscsi_only: false,
        failure_mentions: None,
        linux: false,
        session_kept: false,
    },
    // One boot covers two settings: only the SAN port in the iBFT, and one-way CHAP.
    Scenario {
        name: "san-only-one-way-chap",
        extra_conf: "ibft-nics = san\nmutual-chap-user =\nmutual-chap-secret =\n\
                     boot-args = {LEASES}\n",
        expected: expected_san_only_one_way_chap,
        forbidden: Some("sanboot: FAILED"),
        dead_primary: false,
        iscsi_only: true,
        failure_mentions: None,
        linux: false,
        session_kept: false,
    },
    // Debian's kernel (an EFI stub) and an initramfs from the LUN: Linux takes over.
    Scenario {
        name: "linux",
        extra_conf: "ibft-nics = all\nboot-file = \\vmlinuz\n\
                     boot-args = initrd=\\initrd.img console=ttyS0 panic=-1 loglevel=1 rdinit=/init\n",
        expected: expected_linux,
        forbidden: Some("sanboot: FAILED"),
        dead_primary: false,
        iscsi_only: false,
        failure_mentions: None,
        linux: true,
        session_kept: false,
    },
    // The payload waits 6 s without reading while tgtd pings every second and gives up after
    // three unanswered pings: only the timer-driven idle servicing keeps the session.
    Scenario {
        name: "idle",
        extra_conf: "ibft-nics = all\nboot-args = stall=6 {LEASES}\n",
        expected: expected_idle,
        forbidden: Some("sanboot: FAILED"),
        dead_primary: false,
        iscsi_only: true,
        failure_mentions: None,
        linux: false,
        session_kept: true,
    },
    Scenario {
        name: "wrong-secret",
        extra_conf: "chap-secret = not-the-secret-0\n",
        expected: expected_wrong_secret,
        forbidden: Some("IBFT-"),
        dead_primary: false,
        iscsi_only: true,
        failure_mentions: Some("authentication"),
        linux: false,
        session_kept: false,
    },
    Scenario {
        name: "missing-boot-file",
        extra_conf: "boot-file = \\EFI\\missing.efi\nkeep-san = no\n",
        expected: expected_missing_boot_file,
        forbidden: Some("IBFT-"),
        dead_primary: false,
        iscsi_only: false,
        failure_mentions: None,
        linux: false,
        session_kept: false,
    },
    Scenario {
        name: "failover",
        extra_conf: "ibft-nics = all\nboot-args = {LEASES}\n",
        expected: expected_failover,
        forbidden: Some("sanboot: FAILED"),
        dead_primary: true,
        iscsi_only: true,
        failure_mentions: None,
        linux: false,
        session_kept: false,
    },
];

/// What differs between the backends.
struct Setup {
    /// The `root-path` the app is given.
    root_path: String,
    /// The target portal's port as the guest sees it.
    portal_port: u16,
    /// The LUN (tgtd's LUN 0 is its controller; the disk is LUN 1).
    lun: u8,
    /// `sanboot.conf` lines that select the backend.
    disk_conf: String,
    /// The expected `disk` stage line.
    disk_line: String,
    /// The expected CHAP line of the iBFT dump.
    chap_line: String,
    /// A host port nobody listens on (iSCSI backend), for the failover scenario.
    dead_port: Option<u16>,
    /// tgtd's log (iSCSI backend).
    tgtd_log: Option<PathBuf>,
}

fn run_scenario(
    work: &Path,
    esp: &Path,
    setup: &Setup,
    scenario: &Scenario,
    timeout: Duration,
) -> Result<(), String> {
    if scenario.iscsi_only && setup.dead_port.is_none() {
        eprintln!(
            "e2e: scenario {} needs the iSCSI backend; skipped",
            scenario.name
        );
        return Ok(());
    }
    eprintln!("e2e: scenario {}", scenario.name);
    let primary = match setup.dead_port {
        Some(dead) if scenario.dead_primary => {
            format!("root-path = iscsi:10.0.3.2::{dead}:1:{TARGET_IQN}\n")
        }
        _ => String::new(),
    };
    let conf = format!(
        "# written by cargo xtask e2e, scenario {}\n\
         {primary}root-path = {}\n\
         nic = {MAC1}\n\
         {}{}",
        scenario.name,
        setup.root_path,
        setup.disk_conf,
        scenario.extra_conf.replace("{LEASES}", LEASES)
    );
    fs::write(esp.join("sanboot.conf"), conf).map_err(|e| e.to_string())?;
    let vars = work.join("OVMF_VARS_4M.fd");
    copy(Path::new(OVMF_VARS), &vars)?;
    let log = work.join(format!("serial-{}.log", scenario.name));
    let tgtd_log = setup.tgtd_log.as_deref();
    let tgtd_log_before = tgtd_log.and_then(|p| file_len(p).ok()).unwrap_or(0);
    let started = Instant::now();
    let outcome = boot(esp, &vars, &log, timeout)?;
    let text = clean(&fs::read(&log).unwrap_or_default());
    for line in text.lines().filter(|l| is_ours(l)) {
        eprintln!("  | {line}");
    }
    eprintln!(
        "e2e: QEMU {outcome} after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    check_log(&text, &(scenario.expected)(setup), scenario.forbidden)?;
    if let Some(word) = scenario.failure_mentions {
        check_failure(&text, word, started.elapsed())?;
    }
    if scenario.linux {
        check_linux_report(&linux_report(&text))?;
    }
    if let (true, Some(tgtd_log)) = (scenario.session_kept, tgtd_log) {
        let tgtd_text =
            String::from_utf8_lossy(&fs::read(tgtd_log).unwrap_or_default()).into_owned();
        let during = tgtd_text.get(tgtd_log_before as usize..).unwrap_or("");
        if let Some(line) = during.lines().find(|l| l.contains(TGTD_NOP_TIMEOUT)) {
            return Err(format!("e2e failed: tgtd dropped the idle session: {line}"));
        }
    }
    eprintln!(
        "e2e: scenario {}: OK in {:.1} s",
        scenario.name,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub(crate) fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

pub(crate) fn file_len(path: &Path) -> Result<u64, String> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

pub(crate) fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

fn tool(program: &str, args: &[&str]) -> Result<(), String> {
    crate::run_quiet(Command::new(program).args(args))
}

/// A GPT disk with one EFI system partition (FAT, sized to the partition) holding the payload
/// as `\EFI\BOOT\BOOTX64.EFI` and `\payload.bin` for its read check. No root needed.
fn build_disk_image(
    image: &Path,
    payload: &Path,
    data: &Path,
    linux: Option<&(PathBuf, PathBuf)>,
) -> Result<(), String> {
    let mut files = vec![(data, "::/payload.bin")];
    if let Some((kernel, initrd)) = linux {
        files.push((kernel.as_path(), "::/vmlinuz"));
        files.push((initrd.as_path(), "::/initrd.img"));
    }
    build_fat_disk(image, DISK_BYTES, payload, &files)
}

/// A GPT disk of `disk_bytes` with one EFI system partition from sector 2048 to the last usable
/// one, FAT sized to it, holding `loader` as `\EFI\BOOT\BOOTX64.EFI` and each
/// `(file, "::/NAME")`. No root needed.
pub(crate) fn build_fat_disk(
    image: &Path,
    disk_bytes: u64,
    loader: &Path,
    files: &[(&Path, &str)],
) -> Result<(), String> {
    let file = fs::File::create(image).map_err(|e| format!("{}: {e}", image.display()))?;
    file.set_len(disk_bytes).map_err(|e| e.to_string())?;
    drop(file);
    let img = image.to_str().ok_or("non-UTF-8 path")?;
    tool(
        "sgdisk",
        &["-o", &format!("-n=1:{PART_START}:0"), "-t=1:ef00", img],
    )?;
    // The backup GPT takes the last 33 sectors.
    let sectors = disk_bytes / 512 - PART_START - 33;
    let part = format!("{img}@@{}", PART_START * 512);
    tool("mformat", &["-i", &part, "-T", &sectors.to_string(), "::"])?;
    tool("mmd", &["-i", &part, "::/EFI", "::/EFI/BOOT"])?;
    let loader = loader.to_str().ok_or("non-UTF-8 path")?;
    tool("mcopy", &["-i", &part, loader, "::/EFI/BOOT/BOOTX64.EFI"])?;
    for (from, to) in files {
        let from = from.to_str().ok_or("non-UTF-8 path")?;
        tool("mcopy", &["-i", &part, from, to])?;
    }
    Ok(())
}

/// The QEMU command line of the test machine (after `qemu-system-x86_64`): q35 under TCG,
/// OVMF, the directory `esp` as a virtio FAT drive that boots first, two virtio-net ports
/// without option ROMs (port 0 a restricted user network plus `port0_extra` options such as
/// `,tftp=DIR,bootfile=NAME`; port 1 the SAN network whose 10.0.3.2 is the host's 127.0.0.1),
/// an RNG, and the serial port into `log`.
pub(crate) fn qemu_args(
    esp: &Path,
    vars: &Path,
    log: &Path,
    port0_extra: &str,
) -> Result<Vec<String>, String> {
    let esp = esp.to_str().ok_or("non-UTF-8 path")?;
    let vars = vars.to_str().ok_or("non-UTF-8 path")?;
    let log_arg = format!("file:{}", log.to_str().ok_or("non-UTF-8 path")?);
    Ok([
        "-accel",
        "tcg",
        "-machine",
        "q35",
        "-m",
        "512",
        "-display",
        "none",
        "-no-reboot",
        "-uuid",
        UUID,
        "-drive",
        &format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"),
        "-drive",
        &format!("if=pflash,format=raw,file={vars}"),
        "-drive",
        &format!("if=none,id=esp,format=raw,file=fat:rw:{esp}"),
        "-device",
        "virtio-blk-pci,drive=esp,bootindex=0",
        // Port 0: a network with no host access at all.
        "-netdev",
        &format!("user,id=n0,net=10.0.2.0/24,restrict=on{port0_extra}"),
        "-device",
        &format!("virtio-net-pci,netdev=n0,mac={MAC0},addr={SLOT0:#x},romfile="),
        // Port 1: the SAN network; its host alias 10.0.3.2 is the host's 127.0.0.1 (so not
        // restricted); the guest is only ever pointed at 10.0.3.2.
        "-netdev",
        "user,id=n1,net=10.0.3.0/24",
        "-device",
        &format!("virtio-net-pci,netdev=n1,mac={MAC1},addr={SLOT1:#x},romfile="),
        // EFI_RNG_PROTOCOL for the mutual-CHAP challenge, as on real servers.
        "-device",
        "virtio-rng-pci",
        "-serial",
        &log_arg,
        "-monitor",
        "none",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect())
}

/// Boots QEMU, polling the serial log; stops at the payload's last line, at a sanboot failure,
/// when QEMU exits, or at the timeout. Returns how it ended.
fn boot(esp: &Path, vars: &Path, log: &Path, timeout: Duration) -> Result<&'static str, String> {
    let args = qemu_args(esp, vars, log, "")?;
    eprintln!("+ qemu-system-x86_64 {}", args.join(" "));
    let mut child = Command::new("qemu-system-x86_64")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
    let deadline = Instant::now() + timeout;
    let outcome = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            if !status.success() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                return Err(format!("QEMU failed: {status}: {}", err.trim()));
            }
            break "exited";
        }
        let text = clean(&fs::read(log).unwrap_or_default());
        if text.contains("sanboot: FAILED at") {
            // Give the line a moment to be complete, then stop the machine.
            std::thread::sleep(Duration::from_millis(300));
            break "stopped after a sanboot failure";
        }
        if Instant::now() >= deadline {
            break "stopped at the timeout";
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    if child.try_wait().map_err(|e| e.to_string())?.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(outcome)
}

/// The serial log without ANSI escapes and carriage returns.
pub(crate) fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI: ESC [ params final-byte
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn is_ours(line: &str) -> bool {
    line.contains("sanboot:")
        || line.starts_with("IBFT-")
        || line.starts_with("PORTS-")
        || line.starts_with("PAYLOAD-")
        || line.contains("@@IBFT")
}

/// Scenario `boot`: every stage, then the payload's verdict and self-checks.
fn expected_boot(setup: &Setup) -> Vec<String> {
    let (port, lun) = (setup.portal_port, setup.lun);
    vec![
        format!("sanboot: config: root-path 10.0.3.2:{port} lun {lun} {TARGET_IQN}"),
        format!("sanboot: nic: port0 {MAC0} pci 00:{SLOT0:02x}.0"),
        format!("sanboot: nic: port1 {MAC1} pci 00:{SLOT1:02x}.0"),
        // DHCP on the SAN port first (it is configured), then on the other (ibft-nics = all).
        format!("sanboot: net: port1 {MAC1} lease 10.0.3.15/24 gateway 10.0.3.2 dhcp 10.0.3.2"),
        format!("sanboot: net: port0 {MAC0} lease 10.0.2.15/24"),
        format!(
            "sanboot: net: SAN port is port1 {MAC1}; initiator iqn.2026-11.org.iscsi-boot:{UUID}"
        ),
        setup.disk_line.clone(),
        format!("sanboot: blockio: installed PciRoot(0x0)/Pci(0x{SLOT1:x},0x0)/MAC("),
        "sanboot: ibft: installed".into(),
        "sanboot: ibft: nic0 @".into(),
        format!("sanboot: ibft:   mac {MAC0} pci 00:{SLOT0:02x}.0"),
        "sanboot: ibft:   ip 10.0.2.15/24 origin 3 ".into(),
        "sanboot: ibft: nic1 @".into(),
        format!("sanboot: ibft:   mac {MAC1} pci 00:{SLOT1:02x}.0"),
        // The target is on-link: no gateway (omit-when-on-link, KB960104).
        "sanboot: ibft:   ip 10.0.3.15/24 origin 3 (dhcp) gateway - ".into(),
        "sanboot: ibft: target0 @".into(),
        format!("sanboot: ibft:   name {TARGET_IQN}"),
        format!("sanboot: ibft:   address 10.0.3.2 port {port} lun {lun} nic 1"),
        setup.chap_line.clone(),
        "sanboot: boot: starting \\EFI\\BOOT\\BOOTX64.EFI".into(),
        format!("IBFT-OK nics=2 targets=1 boot-mac={MAC1} boot-pci=00:{SLOT1:02x}.0 target-nic=1"),
        "PORTS-OK nics=2 ports=2".into(),
        "PAYLOAD-ARGS e2e-args console=ttyS0".into(),
        "PAYLOAD-DEVICE set".into(),
        format!(
            "PAYLOAD-READ \\payload.bin 1048576 bytes sum {:#x}",
            read_payload::pattern(1 << 20)
                .iter()
                .fold(0u32, |a, &b| a.wrapping_add(u32::from(b)))
        ),
        "PAYLOAD-DONE".into(),
    ]
}

/// Scenario `san-only-one-way-chap`: only the SAN port's NIC record, and it is the real
/// second port; the target authenticates the initiator only, so the iBFT says CHAP type 1
/// with no reverse credentials.
fn expected_san_only_one_way_chap(setup: &Setup) -> Vec<String> {
    vec![
        setup.disk_line.clone(),
        "sanboot: ibft: installed".into(),
        "sanboot: ibft: nic0 @".into(),
        format!("sanboot: ibft:   mac {MAC1} pci 00:{SLOT1:02x}.0"),
        "sanboot: ibft:   ip 10.0.3.15/24 origin 3 ".into(),
        format!(
            "sanboot: ibft:   chap type 1 name {CHAP_USER} secret ({} chars) reverse name - secret -",
            CHAP_SECRET.len()
        ),
        "sanboot: boot: starting".into(),
        format!("IBFT-OK nics=1 targets=1 boot-mac={MAC1} boot-pci=00:{SLOT1:02x}.0"),
        "PORTS-OK nics=1 ports=2".into(),
        "PAYLOAD-DONE".into(),
    ]
}

/// Scenario `wrong-secret`: the target rejects the login; one failure line, no table, no hang.
fn expected_wrong_secret(_: &Setup) -> Vec<String> {
    vec![
        "sanboot: net: SAN port is port1".into(),
        "sanboot: FAILED at disk: ".into(),
    ]
}

/// What tgtd logs when it drops a connection whose initiator answered no NOP-In
/// (`iscsi_tcp_nop_work_handler`: "tcp connection timed out after 3 failed NOP-OUT").
const TGTD_NOP_TIMEOUT: &str = "failed NOP-OUT";

/// Scenario `idle`: the payload reads its file after the stall.
fn expected_idle(_: &Setup) -> Vec<String> {
    vec![
        "PORTS-OK nics=2 ports=2".into(),
        "PAYLOAD-STALL 6 s".into(),
        "PAYLOAD-READ \\payload.bin 1048576 bytes".into(),
        "PAYLOAD-DONE".into(),
    ]
}

/// Scenario `linux`: sanboot starts the kernel, whose initramfs reports `/sys/firmware/ibft`.
fn expected_linux(setup: &Setup) -> Vec<String> {
    vec![
        setup.disk_line.clone(),
        "sanboot: ibft: installed".into(),
        "sanboot: boot: starting \\vmlinuz".into(),
        REPORT_BEGIN.into(),
        REPORT_END.into(),
    ]
}

/// The markers and line prefix of the report the initramfs (`iscsi_boot_tests::linux_vm`)
/// prints: `@@IBFT@@ ethernet0/mac=52:54:…` for each file under `/sys/firmware/ibft`.
const REPORT_BEGIN: &str = "@@IBFT-BEGIN@@";
const REPORT_END: &str = "@@IBFT-END@@";
const REPORT_LINE: &str = "@@IBFT@@ ";

/// The `path=value` pairs of the guest's report.
fn linux_report(text: &str) -> std::collections::BTreeMap<String, String> {
    let start = text.find(REPORT_BEGIN).unwrap_or(text.len());
    text[start..]
        .lines()
        .take_while(|l| !l.contains(REPORT_END))
        .filter_map(|l| l.split_once(REPORT_LINE).map(|(_, kv)| kv))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// What Linux's `iscsi_ibft` shows must be this machine: each `ethernetN` has the MAC of the
/// PCI device it links to and the address its port leased, and the boot target's
/// `nic-assoc` names the record of the second (SAN) port.
fn check_linux_report(report: &std::collections::BTreeMap<String, String>) -> Result<(), String> {
    let leases = [(MAC0, "10.0.2.15", SLOT0), (MAC1, "10.0.3.15", SLOT1)];
    let mut san_index = None;
    let mut records = 0;
    for index in 0..8 {
        let key = |field: &str| format!("ethernet{index}/{field}");
        let Some(mac) = report.get(&key("mac")) else {
            continue;
        };
        records += 1;
        let (_, ip, slot) = leases
            .iter()
            .find(|(m, _, _)| m.eq_ignore_ascii_case(mac))
            .ok_or(format!(
                "linux: ethernet{index} mac {mac} is no port of this machine"
            ))?;
        let device = report.get(&key("device")).map(String::as_str);
        if device != Some(format!("0000:00:{slot:02x}.0").as_str()) {
            return Err(format!(
                "linux: ethernet{index} links to {device:?}, not slot {slot:#x}"
            ));
        }
        // `device/net/IF/address`, or `device/virtioN/net/IF/address` for virtio.
        let prefix = key("device/");
        let addresses: Vec<&String> = report
            .iter()
            .filter(|(k, _)| {
                k.starts_with(&prefix) && k.contains("/net/") && k.ends_with("/address")
            })
            .map(|(_, v)| v)
            .collect();
        if addresses.is_empty() || addresses.iter().any(|a| !a.eq_ignore_ascii_case(mac)) {
            return Err(format!(
                "linux: ethernet{index} mac {mac} but its device's interfaces have {addresses:?}"
            ));
        }
        let got_ip = report.get(&key("ip-addr")).map(String::as_str);
        if got_ip != Some(*ip) {
            return Err(format!("linux: ethernet{index} ip {got_ip:?}, leased {ip}"));
        }
        if mac.eq_ignore_ascii_case(MAC1) {
            san_index = Some(index.to_string());
        }
    }
    if records != 2 {
        return Err(format!("linux: {records} ethernet records, want 2"));
    }
    let assoc = report.get("target0/nic-assoc");
    if assoc != san_index.as_ref() {
        return Err(format!(
            "linux: target0 nic-assoc {assoc:?}, the SAN port is ethernet{san_index:?}"
        ));
    }
    eprintln!(
        "e2e: linux: both ethernet records match their devices and leases; target0 uses the SAN port"
    );
    Ok(())
}

/// The longest a failing run may take from power-on to its `FAILED` line (the firmware's own
/// start-up under TCG is most of it).
const FAILURE_WITHIN: Duration = Duration::from_secs(45);

/// Exactly one `sanboot: FAILED at` line, mentioning `word`, soon enough.
fn check_failure(text: &str, word: &str, took: Duration) -> Result<(), String> {
    let failures: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("sanboot: FAILED at"))
        .collect();
    match failures.as_slice() {
        [one] if one.contains(word) => {}
        [one] => return Err(format!("e2e failed: {one:?} does not mention {word:?}")),
        _ => return Err(format!("e2e failed: {} FAILED lines", failures.len())),
    }
    if took > FAILURE_WITHIN {
        return Err(format!(
            "e2e failed: the failure took {:.1} s",
            took.as_secs_f64()
        ));
    }
    Ok(())
}

/// Scenario `missing-boot-file`: the disk and table are set up, the boot file is not there, and
/// without `keep-san` both are removed again; one failure line names the stage and the cause.
fn expected_missing_boot_file(_: &Setup) -> Vec<String> {
    vec![
        "sanboot: blockio: installed".into(),
        "sanboot: ibft: installed".into(),
        "sanboot: keep-san: off: disk removed, iBFT removed".into(),
        "sanboot: FAILED at boot: \\EFI\\missing.efi not found on 1 volume(s) of the disk".into(),
    ]
}

/// Scenario `failover`: the primary target's portal refuses connections, so sanboot logs in
/// to the secondary, and the iBFT lists both with the secondary boot-selected.
fn expected_failover(setup: &Setup) -> Vec<String> {
    let dead = setup.dead_port.unwrap_or_default();
    vec![
        format!("sanboot: disk: target0 via port1 {MAC1}: login to 10.0.3.2:{dead}"),
        setup.disk_line.clone(),
        "sanboot: ibft: target0 @".into(),
        format!("sanboot: ibft:   address 10.0.3.2 port {dead} lun 1 nic 1"),
        "sanboot: ibft: target1 @0x".into(),
        format!(
            "sanboot: ibft:   address 10.0.3.2 port {} lun 1 nic 1",
            setup.portal_port
        ),
        "sanboot: boot: starting".into(),
        format!("IBFT-OK nics=2 targets=2 boot-mac={MAC1} boot-pci=00:{SLOT1:02x}.0 target-nic=1"),
        "PORTS-OK nics=2 ports=2".into(),
        "PAYLOAD-DONE".into(),
    ]
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Checks that every expected line prefix appears, in order, and that `forbidden` does not.
fn check_log(text: &str, expected: &[String], forbidden: Option<&str>) -> Result<(), String> {
    if let Some(bad) = forbidden
        && let Some(line) = text.lines().find(|l| l.trim_start().starts_with(bad))
    {
        return Err(format!("e2e failed: unexpected line {line:?}"));
    }
    let mut lines = text.lines();
    for want in expected {
        if !lines.any(|l| l.trim_start().starts_with(want.as_str())) {
            let failure = text
                .lines()
                .find(|l| l.contains("sanboot: FAILED at") || l.starts_with("IBFT-FAIL"));
            return Err(match failure {
                Some(f) => format!("e2e failed: {f}"),
                None => format!("e2e failed: serial log lacks (in order) a line starting {want:?}"),
            });
        }
    }
    Ok(())
}

/// A `tgtd` (the test harness's) exporting `image` as LUN 1 of `TARGET_IQN` on 127.0.0.1 and a
/// free port, with mutual CHAP; stopped when dropped.
fn start_tgtd(image: &Path) -> Result<Tgtd, String> {
    if !Tgtd::available() {
        return Err("tgtd needs root and the `tgt` package: run `cargo xtask setup`".into());
    }
    let io = |e: std::io::Error| format!("tgtd: {e}");
    let tgtd = Tgtd::start().map_err(io)?;
    tgtd.new_target(1, TARGET_IQN).map_err(io)?;
    tgtd.add_lun_file(1, 1, image, 512).map_err(io)?;
    tgtd.bind_all(1).map_err(io)?;
    // Mutual CHAP: the initiator must log in as CHAP_USER; the target answers as MUTUAL_USER.
    tgtd.new_account(CHAP_USER, CHAP_SECRET).map_err(io)?;
    tgtd.new_account(MUTUAL_USER, MUTUAL_SECRET).map_err(io)?;
    tgtd.bind_incoming_account(1, CHAP_USER).map_err(io)?;
    tgtd.bind_outgoing_account(1, MUTUAL_USER).map_err(io)?;
    // Ping the initiator every second and drop the connection after three unanswered pings:
    // an initiator that does not service its session while the loader is busy elsewhere loses
    // it (the `idle` scenario).
    tgtd.set_param(1, "nop_interval", "1").map_err(io)?;
    tgtd.set_param(1, "nop_count", "3").map_err(io)?;
    eprintln!(
        "e2e: tgtd exports {} as {TARGET_IQN} LUN 1 on {} (mutual CHAP, NOP-In every 1 s)",
        image.display(),
        tgtd.portal()
    );
    Ok(tgtd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_strips_escapes() {
        assert_eq!(clean(b"\x1b[0m\x1b[37;40mIBFT-OK\r\n"), "IBFT-OK\n");
    }

    #[test]
    fn check_log_wants_all_lines_in_order() {
        let setup = Setup {
            root_path: String::new(),
            portal_port: 3260,
            lun: 0,
            disk_conf: String::new(),
            disk_line: "sanboot: disk: RAM disk".into(),
            chap_line: String::new(),
            dead_port: None,
            tgtd_log: None,
        };
        let want = expected_boot(&setup);
        assert!(check_log(&want.join("\n"), &want, Some("sanboot: FAILED")).is_ok());
        let mut reversed = want.clone();
        reversed.reverse();
        assert!(check_log(&reversed.join("\n"), &want, None).is_err());
        let failed = "sanboot: FAILED at disk: read \\disk.img: not found";
        assert_eq!(
            check_log(failed, &want, None),
            Err(format!("e2e failed: {failed}"))
        );
        assert!(check_log(failed, &[], Some("sanboot: FAILED")).is_err());
    }

    /// A report as Debian 6.1's `iscsi_ibft` printed it for this machine (abridged).
    const LINUX_REPORT: &str = "noise\n@@IBFT-BEGIN@@\n\
        @@IBFT@@ ethernet0/ip-addr=10.0.2.15\n@@IBFT@@ ethernet0/mac=52:54:00:00:00:01\n\
        @@IBFT@@ ethernet1/ip-addr=10.0.3.15\n@@IBFT@@ ethernet1/mac=52:54:00:00:00:02\n\
        @@IBFT@@ target0/nic-assoc=1\n\
        @@IBFT@@ ethernet0/device=0000:00:08.0\n@@IBFT@@ ethernet1/device=0000:00:09.0\n\
        @@IBFT@@ ethernet0/device/virtio0/net/enp0s8/address=52:54:00:00:00:01\n\
        @@IBFT@@ ethernet1/device/virtio1/net/enp0s9/address=52:54:00:00:00:02\n\
        @@IBFT-END@@\n@@IBFT@@ ethernet2/mac=after-the-end\n";

    #[test]
    fn linux_report_matches_this_machine() {
        let report = linux_report(LINUX_REPORT);
        assert_eq!(report.len(), 9);
        assert_eq!(check_linux_report(&report), Ok(()));
    }

    #[test]
    fn linux_report_mismatches_are_caught() {
        for (from, to) in [
            ("nic-assoc=1", "nic-assoc=0"),
            ("ip-addr=10.0.3.15", "ip-addr=10.0.3.16"),
            (
                "net/enp0s9/address=52:54:00:00:00:02",
                "net/enp0s9/address=52:54:00:00:00:09",
            ),
            (
                "ethernet1/device=0000:00:09.0",
                "ethernet1/device=0000:00:08.0",
            ),
            ("@@IBFT@@ ethernet1/mac=52:54:00:00:00:02\n", ""),
        ] {
            let report = linux_report(&LINUX_REPORT.replace(from, to));
            assert!(check_linux_report(&report).is_err(), "{from} -> {to}");
        }
    }
}
