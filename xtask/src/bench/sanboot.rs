//! Sanboot under QEMU/TCG: seconds from QEMU's start to the first line of a payload on the LUN
//! (`read-payload`), and seconds for that payload to read a 64 MiB file from the LUN's FAT
//! partition, for `uefi-sanboot` and for Debian's iPXE in the same machine (the e2e machine:
//! q35, OVMF, two virtio-net ports without option ROMs, the SAN on the second).
//!
//! One disk image (GPT + FAT: the payload as `\EFI\BOOT\BOOTX64.EFI` and `\BIG.BIN`), one
//! private tgtd on 127.0.0.1 without CHAP, then alternating rounds (iPXE, ours, iPXE, …). iPXE runs from a local FAT drive and fetches its script
//! (`dhcp net1`, `sanboot iscsi:…`) over the first port's TFTP; ours runs from an identical
//! drive with its `sanboot.conf`; both machines carry the same TFTP option on port 0. Times are
//! taken on the host when each serial line first appears (the log is polled every 10 ms).

use crate::e2e::{self, MAC1, OVMF_CODE, OVMF_VARS};
use crate::tgtd::{TARGET_NAME, Tgtd};
use read_payload::{
    DONE_LINE, FAIL_PREFIX, FILE_BYTES, OPEN_LINE, READ_PREFIX, START_LINE, SUM_PREFIX,
};
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's iPXE (package `ipxe`) with its native drivers. Its `snponly.efi` cannot take part:
/// started from a disk it drives only the SNP of the device it was loaded from, finds none
/// ("No more network devices") and never runs the script.
const IPXE_EFI: &str = "/usr/lib/ipxe/ipxe.efi";
/// The LUN: the 64 MiB file, the payload and FAT overhead fit with room to spare.
const DISK_BYTES: u64 = 96 << 20;
/// How long one boot may take before it counts as failed.
const BOOT_TIMEOUT: Duration = Duration::from_secs(150);
/// How often the serial log is looked at.
const POLL: Duration = Duration::from_millis(10);

/// One boot's figures, in seconds.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sample {
    /// QEMU start → the payload's first line.
    pub(super) to_payload: f64,
    /// The payload's open line (buffer ready) → its read line (64 MiB in memory).
    pub(super) read: f64,
}

/// The measured sides, each with one sample per round, and how the machine was started.
#[derive(Debug)]
pub(super) struct SanbootRows {
    pub(super) ipxe: Vec<Sample>,
    pub(super) ours: Vec<Sample>,
    /// The QEMU command line of ours (iPXE's differs only in the drive's directory).
    pub(super) qemu: String,
    /// Where ours spends the time before the payload: (line prefix, seconds from QEMU start)
    /// for its stage lines, from the last round.
    pub(super) ours_stages: Vec<(String, f64)>,
}

/// A side of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Ipxe,
    Ours,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Ipxe => "ipxe",
            Side::Ours => "ours",
        }
    }
}

/// Builds everything, then measures `rounds` alternating rounds.
pub(super) fn measure(rounds: usize) -> Result<SanbootRows, String> {
    for tool in [
        "qemu-system-x86_64",
        "sgdisk",
        "mformat",
        "mcopy",
        "mmd",
        "tgtd",
    ] {
        if !e2e::on_path(tool) && !Path::new("/usr/sbin").join(tool).exists() {
            return Err(format!("{tool} not found: run `cargo xtask setup`"));
        }
    }
    for file in [OVMF_CODE, OVMF_VARS, IPXE_EFI] {
        if !Path::new(file).exists() {
            return Err(format!("{file} not found: run `cargo xtask setup`"));
        }
    }
    let target_dir = crate::target_dir();
    let efi_dir = crate::build_firmware(
        &["uefi-sanboot", "read-payload"],
        Some("uefi-sanboot/iscsi"),
    )?;
    let work = target_dir.join("bench-sanboot");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;

    let big = work.join("BIG.BIN");
    fs::write(&big, read_payload::pattern(FILE_BYTES)).map_err(|e| e.to_string())?;
    let image = PathBuf::from(format!(
        "/dev/shm/iscsi-boot-bench-{}-sanboot.img",
        std::process::id()
    ));
    e2e::build_fat_disk(
        &image,
        DISK_BYTES,
        &efi_dir.join("read-payload.efi"),
        &[(&big, "::/BIG.BIN")],
    )?;
    let tgtd = Tgtd::serve(&image)?;
    let port = tgtd.portal.port();
    eprintln!("xtask bench: sanboot: tgtd serves {TARGET_NAME} LUN 1 on 127.0.0.1:{port}");

    // Port 0's TFTP (for iPXE's script) is given to every machine alike.
    let tftp = work.join("tftp");
    fs::create_dir_all(&tftp).map_err(|e| e.to_string())?;
    fs::write(
        tftp.join("boot.ipxe"),
        format!("#!ipxe\ndhcp net1\nsanboot iscsi:10.0.3.2::{port}:1:{TARGET_NAME}\n"),
    )
    .map_err(|e| e.to_string())?;
    let port0 = format!(
        ",tftp={},bootfile=boot.ipxe",
        tftp.to_str().ok_or("non-UTF-8 path")?
    );

    let sides = [Side::Ipxe, Side::Ours];
    for side in sides {
        let esp = work.join(format!("esp-{}", side.name()));
        fs::create_dir_all(esp.join("EFI/BOOT")).map_err(|e| e.to_string())?;
        let loader = match side {
            Side::Ipxe => PathBuf::from(IPXE_EFI),
            Side::Ours => {
                fs::write(
                    esp.join("sanboot.conf"),
                    format!(
                        "# written by cargo xtask bench\n\
                         root-path = iscsi:10.0.3.2::{port}:1:{TARGET_NAME}\nnic = {MAC1}\n"
                    ),
                )
                .map_err(|e| e.to_string())?;
                efi_dir.join("uefi-sanboot.efi")
            }
        };
        e2e::copy(&loader, &esp.join("EFI/BOOT/BOOTX64.EFI"))?;
    }

    let expected_sum = format!(
        "{SUM_PREFIX}{:#018x}",
        read_payload::checksum(&read_payload::pattern(FILE_BYTES))
    );
    let mut rows = SanbootRows {
        ipxe: Vec::new(),
        ours: Vec::new(),
        qemu: String::new(),
        ours_stages: Vec::new(),
    };
    for round in 1..=rounds {
        for side in sides {
            let esp = work.join(format!("esp-{}", side.name()));
            let vars = work.join("OVMF_VARS_4M.fd");
            e2e::copy(Path::new(OVMF_VARS), &vars)?;
            let log = work.join(format!("serial-{}-{round}.log", side.name()));
            let args = e2e::qemu_args(&esp, &vars, &log, &port0)?;
            let timeline = boot_timed(&args, &log)
                .map_err(|e| format!("{} round {round}: {e}", side.name()))?;
            let sample = sample_of(&timeline, &expected_sum).map_err(|e| {
                format!(
                    "{} round {round}: {e} (serial log {})",
                    side.name(),
                    log.display()
                )
            })?;
            eprintln!(
                "xtask bench: sanboot round {round} {:>7}: start → payload {:.2} s, 64 MiB read {:.2} s",
                side.name(),
                sample.to_payload,
                sample.read
            );
            match side {
                Side::Ipxe => rows.ipxe.push(sample),
                Side::Ours => {
                    rows.ours.push(sample);
                    rows.qemu = format!("qemu-system-x86_64 {}", args.join(" "));
                    rows.ours_stages = timeline
                        .iter()
                        .filter(|(l, _)| {
                            l.starts_with("sanboot: ")
                                && (!l.starts_with("sanboot: ibft:") || l.contains("installed"))
                        })
                        .map(|(l, t)| (l.clone(), *t))
                        .collect();
                }
            }
        }
    }
    drop(tgtd);
    Ok(rows)
}

/// Every serial line with the seconds from QEMU's start to when it was first seen complete.
type Timeline = Vec<(String, f64)>;

/// Boots QEMU with `args`, polling `log` every 10 ms until the payload's done line (or a
/// failure) appears and QEMU has exited.
fn boot_timed(args: &[String], log: &Path) -> Result<Timeline, String> {
    let _ = fs::remove_file(log);
    let started = Instant::now();
    let mut child = Command::new("qemu-system-x86_64")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
    let mut raw = Vec::new();
    let mut file = None;
    let mut timeline = Timeline::new();
    let mut seen = 0; // bytes of `raw` already split into lines
    let outcome = loop {
        if file.is_none() {
            file = fs::File::open(log).ok();
        }
        if let Some(f) = file.as_mut() {
            let _ = f.read_to_end(&mut raw);
        }
        let now = started.elapsed().as_secs_f64();
        while let Some(end) = raw[seen..].iter().position(|&b| b == b'\n') {
            let line = e2e::clean(&raw[seen..seen + end]);
            let line = line.trim().to_string();
            seen += end + 1;
            if !line.is_empty() {
                timeline.push((line, now));
            }
        }
        let finished = timeline
            .iter()
            .any(|(l, _)| l == DONE_LINE || l.contains("sanboot: FAILED"));
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            if !status.success() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                break Err(format!("QEMU failed: {status}: {}", err.trim()));
            }
            break Ok(());
        }
        if finished {
            // The payload powers off right after its done line; give QEMU a moment to exit.
            wait_exit(&mut child, Duration::from_secs(5)).map_err(|e| e.to_string())?;
            break Ok(());
        }
        if started.elapsed() > BOOT_TIMEOUT {
            break Err(format!(
                "no `{DONE_LINE}` within {} s",
                BOOT_TIMEOUT.as_secs()
            ));
        }
        std::thread::sleep(POLL);
    };
    if child.try_wait().map_err(|e| e.to_string())?.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    outcome.map(|()| timeline)
}

/// Waits up to `limit` for `child` to exit (polled every 10 ms); whether it did.
fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::io::Result<bool> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if child.try_wait()?.is_some() {
            return Ok(true);
        }
        std::thread::sleep(POLL);
    }
    Ok(false)
}

/// The figures of one boot from its timeline; the read must be whole and its checksum right.
fn sample_of(timeline: &Timeline, expected_sum: &str) -> Result<Sample, String> {
    let at = |pred: &dyn Fn(&str) -> bool| timeline.iter().find(|(l, _)| pred(l));
    if let Some((line, _)) = at(&|l| l.starts_with(FAIL_PREFIX) || l.contains("sanboot: FAILED")) {
        return Err(line.clone());
    }
    let (_, start) = at(&|l| l == START_LINE).ok_or("the payload never started")?;
    let (_, open) = at(&|l| l == OPEN_LINE).ok_or("no open line")?;
    let (read_line, read) = at(&|l| l.starts_with(READ_PREFIX)).ok_or("no read line")?;
    let want = format!("{READ_PREFIX}{FILE_BYTES} bytes");
    if *read_line != want {
        return Err(format!("{read_line:?}, want {want:?}"));
    }
    let (sum_line, _) = at(&|l| l.starts_with(SUM_PREFIX)).ok_or("no checksum line")?;
    if sum_line != expected_sum {
        return Err(format!("{sum_line:?}, want {expected_sum:?}"));
    }
    Ok(Sample {
        to_payload: *start,
        read: read - open,
    })
}

/// The markdown section for `docs/BENCHMARKS.md`.
pub(super) fn render(rows: &Result<SanbootRows, String>) -> String {
    let mut s = String::from(
        "\n## Sanboot under QEMU/TCG (goal: 64 MiB read ≥ 2× faster than iPXE; start → payload no slower)\n\n",
    );
    let r = match rows {
        Ok(r) if !r.ours.is_empty() && !r.ipxe.is_empty() => r,
        Ok(_) => {
            let _ = writeln!(s, "Not measured: no rounds.");
            return s;
        }
        Err(e) => {
            let _ = writeln!(s, "Not measured: {e}");
            return s;
        }
    };
    let col = |v: &[Sample], f: fn(&Sample) -> f64| v.iter().map(f).collect::<Vec<f64>>();
    let to_payload = |v: &[Sample]| col(v, |x| x.to_payload);
    let read = |v: &[Sample]| col(v, |x| x.read);
    let mib_s = |v: &[Sample]| col(v, |x| (FILE_BYTES >> 20) as f64 / x.read.max(1e-9));
    let _ = writeln!(
        s,
        "One QEMU machine for every side: q35 under TCG, OVMF, a local FAT drive holding the boot \
         program, two virtio-net ports without option ROMs (port 0: a restricted user network \
         whose TFTP serves iPXE's script `dhcp net1` / `sanboot iscsi:10.0.3.2::PORT:1:IQN`; \
         port 1: the SAN network, 10.0.3.2 being the host's 127.0.0.1). One tgtd (no CHAP) \
         exports a 96 MiB GPT disk whose FAT partition holds `read-payload.efi` as \
         `\\EFI\\BOOT\\BOOTX64.EFI` and the 64 MiB `\\BIG.BIN`. The payload prints its first line \
         at once, allocates its 64 MiB buffer, prints an open line, reads the file in one ReadFile \
         and prints a read line and a checksum (checked); the read is timed from the open line \
         to the read line; the host stamps each serial line when it appears (10 ms polling). Seconds, median \
         (min–max) of {} alternating rounds.\n",
        r.ours.len()
    );
    let _ = writeln!(
        s,
        "| boot program | QEMU start → payload (s) | 64 MiB read (s) | read MiB/s |\n|---|---|---|---|"
    );
    let mut line = |name: &str, v: &[Sample]| {
        if !v.is_empty() {
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} |",
                super::summary(&to_payload(v), 2),
                super::summary(&read(v), 2),
                super::summary(&mib_s(v), 1)
            );
        }
    };
    line("Debian iPXE `ipxe.efi` (native virtio)", &r.ipxe);
    line(
        "`uefi-sanboot.efi` (firmware profile, firmware SNP)",
        &r.ours,
    );
    let med = |v: Vec<f64>| super::median(&v);
    let _ = writeln!(
        s,
        "\nRatios against `ipxe.efi`: 64 MiB read iPXE / ours {:.2} (goal ≥ 2); start → payload \
         ours / iPXE {:.2} (goal ≤ 1).",
        med(read(&r.ipxe)) / med(read(&r.ours)),
        med(to_payload(&r.ours)) / med(to_payload(&r.ipxe)),
    );
    if !r.ours_stages.is_empty() {
        let _ = writeln!(
            s,
            "\nOurs, last round, seconds from QEMU start to each stage line:\n"
        );
        for (l, t) in &r.ours_stages {
            let short: String = l.chars().take(90).collect();
            let _ = writeln!(s, "- {t:.2} s `{short}`");
        }
    }
    let _ = writeln!(
        s,
        "\nTCG emulates every guest instruction, so these seconds are far above real hardware's. \
         Both boot programs receive the same ~45,000 frames of at most 1,514 bytes through the \
         same emulated virtio-net and QEMU user network, and each frame costs a queue \
         notification and a pass through QEMU's network code: that per-frame cost, shared by \
         both sides and sensitive to other load on the host, bounds the read. iPXE's \
         `snponly.efi` is not measured: started from a disk it drives only the network device \
         it was loaded from, finds none and never runs the script. The command line (ours):\n\n\
         ```\n{}\n```",
        r.qemu
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(lines: &[(&str, f64)]) -> Timeline {
        lines.iter().map(|(l, t)| (l.to_string(), *t)).collect()
    }

    #[test]
    fn sample_takes_the_first_line_and_the_read_line() {
        let sum = format!("{SUM_PREFIX}0x0000000000000022");
        let t = timeline(&[
            ("BdsDxe: loading", 3.0),
            (START_LINE, 16.25),
            (OPEN_LINE, 16.5),
            ("read-payload: read 67108864 bytes", 17.5),
            (&sum, 17.75),
            (DONE_LINE, 17.75),
        ]);
        let s = sample_of(&t, &sum).unwrap();
        assert_eq!(s.to_payload, 16.25);
        assert_eq!(s.read, 1.0);
        assert!(sample_of(&t, &format!("{SUM_PREFIX}0x1")).is_err());
        let short = timeline(&[
            (START_LINE, 1.0),
            (OPEN_LINE, 1.0),
            ("read-payload: read 512 bytes", 2.0),
        ]);
        assert!(sample_of(&short, &sum).is_err());
        let failed = timeline(&[("sanboot: FAILED at disk: login", 9.0)]);
        assert_eq!(
            sample_of(&failed, &sum).unwrap_err(),
            "sanboot: FAILED at disk: login"
        );
    }
}
