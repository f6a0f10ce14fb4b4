//! `cargo xtask bench`: sequential-read throughput of `iscsi-boot bench` against libiscsi's
//! `iscsi-perf`, on the same tgtd and tmpfs-backed LUN, in alternating rounds (A B A B …) so that
//! drift of the machine hits both sides alike. Writes `docs/BENCHMARKS.md`.

use crate::tgtd::Tgtd;
use timed::Usage;

mod baseline;
mod micro;
mod netns;
mod sanboot;
mod size;
mod timed;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const BLOCK_SIZES: &[(u64, &str)] = &[(128 << 10, "128 KiB"), (1 << 20, "1 MiB")];
const QUEUE_DEPTHS: &[u32] = &[1, 8, 32];

struct Options {
    seconds: u64,
    rounds: usize,
    lun_mib: u64,
    /// The parts to measure; `None` is all of them (and only then is `docs/BENCHMARKS.md` written).
    only: Option<Vec<Part>>,
}

/// The independently runnable parts of the benchmark (`--only read,write,…`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Part {
    /// Sequential reads against iscsi-perf.
    Read,
    /// Sequential writes against qemu-img bench.
    Write,
    /// Whole-LUN download and upload against qemu-img convert.
    Whole,
    /// smoltcp on a TAP against std TCP.
    Paths,
    /// The .efi size and one session's RAM.
    Footprint,
    /// Sanboot under QEMU/OVMF against iPXE.
    Sanboot,
    /// The criterion micro-benchmarks beside the crates.
    Micro,
}

impl Part {
    const ALL: [Part; 7] = [
        Part::Read,
        Part::Write,
        Part::Whole,
        Part::Paths,
        Part::Footprint,
        Part::Sanboot,
        Part::Micro,
    ];

    fn name(self) -> &'static str {
        match self {
            Part::Read => "read",
            Part::Write => "write",
            Part::Whole => "whole",
            Part::Paths => "paths",
            Part::Footprint => "footprint",
            Part::Sanboot => "sanboot",
            Part::Micro => "micro",
        }
    }
}

/// Every part's name, comma-separated, as `--only` takes them.
pub(crate) fn part_names() -> String {
    let names: Vec<&str> = Part::ALL.iter().map(|p| p.name()).collect();
    names.join(",")
}

impl Options {
    fn wants(&self, part: Part) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(&part))
    }
}

/// The 1-minute load average, to show how busy the machine was while measuring.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        seconds: 3,
        rounds: 5,
        lun_mib: 1024,
        only: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let text = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        if flag == "--only" {
            o.only = Some(parse_parts(text)?);
            continue;
        }
        let value = text.parse::<u64>().map_err(|e| format!("{flag}: {e}"))?;
        match flag.as_str() {
            "--seconds" => o.seconds = value.max(1),
            "--rounds" => o.rounds = (value as usize).max(1),
            "--lun-mib" => o.lun_mib = value.max(16),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
}

/// `read,write,…` into parts; an unknown name lists the known ones.
fn parse_parts(list: &str) -> Result<Vec<Part>, String> {
    list.split(',')
        .map(|name| {
            Part::ALL
                .into_iter()
                .find(|p| p.name() == name.trim())
                .ok_or_else(|| format!("--only: unknown part {name:?} (known: {})", part_names()))
        })
        .collect()
}

/// One measured run: throughput and CPU cost.
#[derive(Clone, Copy, Debug)]
struct Sample {
    mib_per_s: f64,
    cpu_per_gib: f64,
}

impl Sample {
    fn new(bytes: f64, seconds: f64, usage: Usage) -> Sample {
        let mib = bytes / (1u64 << 20) as f64;
        Sample {
            mib_per_s: mib / seconds.max(1e-9),
            cpu_per_gib: usage.cpu() / (mib / 1024.0).max(1e-9),
        }
    }
}

/// What a row measures.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
enum Kind {
    Read,
    Write,
    Download,
    Upload,
}

impl Kind {
    fn title(self) -> &'static str {
        match self {
            Kind::Read => "sequential read",
            Kind::Write => "sequential write",
            Kind::Download => "whole-LUN download",
            Kind::Upload => "whole-LUN upload",
        }
    }
}

/// One measured configuration: samples of each side.
struct Row {
    kind: Kind,
    block: &'static str,
    depth: u32,
    theirs: Vec<Sample>,
    ours: Vec<Sample>,
}

/// Where the measured programs and files are.
struct Setup<'o> {
    ours: PathBuf,
    url: String,
    o: &'o Options,
    scratch_theirs: PathBuf,
    scratch_ours: PathBuf,
}

/// Runs the benchmark and writes `docs/BENCHMARKS.md` (only when every part ran; with `--only`
/// the report is printed).
pub fn run(args: &[String]) -> Result<(), String> {
    let o = parse_options(args)?;
    // Only the target rows run the CLI; the footprint and sanboot rows build their own images.
    if [Part::Read, Part::Write, Part::Whole, Part::Paths]
        .iter()
        .any(|&p| o.wants(p))
    {
        crate::run(
            "cargo",
            &["build", "--release", "-p", "cli", "--bin", "iscsi-boot"],
        )?;
    }
    let ours = crate::workspace_root().join("target/release/iscsi-boot");
    let load_before = load_average();
    let mut rows = Vec::new();
    if o.wants(Part::Read) || o.wants(Part::Write) || o.wants(Part::Whole) {
        let backing = shm_path("lun");
        let tgtd = Tgtd::start(&backing, o.lun_mib)?;
        let url = tgtd.url();
        eprintln!(
            "xtask bench: tgtd serving {url} ({} MiB on tmpfs)",
            o.lun_mib
        );
        let setup = Setup {
            ours: ours.clone(),
            url,
            o: &o,
            scratch_theirs: shm_path("theirs"),
            scratch_ours: shm_path("ours"),
        };
        let measured = measure_all(&setup);
        let _ = std::fs::remove_file(&setup.scratch_theirs);
        let _ = std::fs::remove_file(&setup.scratch_ours);
        drop(tgtd);
        rows = measured?;
        // Show reads and writes first, as the issue lists them.
        rows.sort_by_key(|r| r.kind as u8);
    }
    let mut sections = String::new();
    if o.wants(Part::Paths) {
        sections.push_str(&render_paths(netns::measure(
            &ours,
            o.rounds,
            o.lun_mib.min(256),
        )));
    }
    if o.wants(Part::Footprint) {
        sections.push_str(&render_footprint(size::measure(), size::session_ram()));
    }
    if o.wants(Part::Sanboot) {
        sections.push_str(&sanboot::render(&sanboot::measure(o.rounds)));
    }
    if o.wants(Part::Micro) {
        sections.push_str(&micro::render(&micro::measure()));
    }

    let load = (load_before, load_average());
    let mut report = render(&o, &rows, &ours, &load);
    report = report.replacen(
        "\n## Machine and versions",
        &format!("{sections}\n## Machine and versions"),
        1,
    );
    if o.only.is_some() {
        println!("{report}");
        eprintln!("xtask bench: --only given, docs/BENCHMARKS.md left as it is");
        return Ok(());
    }
    let path = crate::workspace_root().join("docs/BENCHMARKS.md");
    let kept = std::fs::read_to_string(&path)
        .map(|old| kept_sections(&old).to_string())
        .unwrap_or_default();
    if !kept.is_empty() {
        report.push('\n');
        report.push_str(&kept);
    }
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
        .and_then(|()| std::fs::write(&path, &report))
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    println!("{report}");
    eprintln!("xtask bench: wrote {}", path.display());
    Ok(())
}

fn shm_path(what: &str) -> PathBuf {
    PathBuf::from(format!(
        "/dev/shm/iscsi-boot-bench-{}-{what}.img",
        std::process::id()
    ))
}

/// The sections other tools append (from the first `## Reliability` or `## Footprint`
/// heading on), kept when the file is rewritten.
fn kept_sections(old: &str) -> &str {
    let mut at = 0;
    for line in old.split_inclusive('\n') {
        let heading = line.trim_end();
        if heading == "## Reliability"
            || heading == "## Footprint"
            || heading.starts_with("## Reliability ")
            || heading.starts_with("## Footprint ")
        {
            return &old[at..];
        }
        at += line.len();
    }
    ""
}

fn measure_all(s: &Setup) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    // Whole-LUN copies first, while the LUN still holds tgtd's non-zero pattern: after the
    // write rows it is all zeros, which qemu-img convert detects and skips.
    let whole: &[Kind] = if s.o.wants(Part::Whole) {
        &[Kind::Download, Kind::Upload]
    } else {
        &[]
    };
    for &kind in whole {
        let mut row = Row {
            kind,
            block: "whole LUN",
            depth: 8,
            theirs: Vec::new(),
            ours: Vec::new(),
        };
        for round in 1..=s.o.rounds {
            let (a, b) = whole_lun(s, kind)?;
            log(kind, "LUN", 8, round, a, b);
            row.theirs.push(a);
            row.ours.push(b);
        }
        rows.push(row);
    }
    for kind in [Kind::Read, Kind::Write] {
        let part = if kind == Kind::Read {
            Part::Read
        } else {
            Part::Write
        };
        if !s.o.wants(part) {
            continue;
        }
        for &(block, block_name) in BLOCK_SIZES {
            for &depth in QUEUE_DEPTHS {
                let mut row = Row {
                    kind,
                    block: block_name,
                    depth,
                    theirs: Vec::new(),
                    ours: Vec::new(),
                };
                for round in 1..=s.o.rounds {
                    let (a, b) = match kind {
                        Kind::Read => (
                            baseline::iscsi_perf(&s.url, block, depth, s.o.seconds)?,
                            iscsi_boot_bench(s, block, depth, false)?,
                        ),
                        _ => (
                            baseline::qemu_img_bench_write(&s.url, block, depth, s.o.lun_mib)?,
                            iscsi_boot_bench(s, block, depth, true)?,
                        ),
                    };
                    log(kind, block_name, depth, round, a, b);
                    row.theirs.push(a);
                    row.ours.push(b);
                }
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

fn log(kind: Kind, block: &str, depth: u32, round: usize, a: Sample, b: Sample) {
    eprintln!(
        "  {:<18} {block:>7} QD{depth:<2} round {round}: baseline {:8.1} MiB/s {:6.3} CPU s/GiB, \
         ours {:8.1} MiB/s {:6.3} CPU s/GiB",
        kind.title(),
        a.mib_per_s,
        a.cpu_per_gib,
        b.mib_per_s,
        b.cpu_per_gib
    );
}

/// `iscsi-boot bench --json [--write]`.
fn iscsi_boot_bench(s: &Setup, block: u64, depth: u32, write: bool) -> Result<Sample, String> {
    let mut args: Vec<String> = ["bench", &s.url, "--json", "--seconds"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    args.push(s.o.seconds.to_string());
    args.extend(["--block-size".into(), block.to_string()]);
    args.extend(["--queue-depth".into(), depth.to_string()]);
    if write {
        args.push("--write".into());
    }
    let t = timed::run(&s.ours, &args, Duration::from_secs(s.o.seconds + 30))?;
    let bytes = json_number(&t.stdout, "bytes");
    let seconds = json_number(&t.stdout, "seconds");
    match (bytes, seconds) {
        (Some(b), Some(secs)) => Ok(Sample::new(b, secs, t.usage)),
        _ => Err(format!(
            "no bytes/seconds in `iscsi-boot bench --json` output:\n{}",
            t.stdout
        )),
    }
}

/// One round of a whole-LUN copy with each side: `qemu-img convert` then `iscsi-boot read` /
/// `write`, timed from process start to exit (login included on both sides).
fn whole_lun(s: &Setup, kind: Kind) -> Result<(Sample, Sample), String> {
    let bytes = (s.o.lun_mib << 20) as f64;
    let limit = Duration::from_secs(120);
    let scratch = |p: &Path| p.to_string_lossy().into_owned();
    let (theirs, ours) = if kind == Kind::Download {
        let t = baseline::qemu_img_convert(&s.url, &scratch(&s.scratch_theirs), false)?;
        let args = ["read", &s.url, "-o", &scratch(&s.scratch_ours)].map(String::from);
        (t, timed::run(&s.ours, &args, limit)?.usage)
    } else {
        // Upload the image the download produced.
        let t = baseline::qemu_img_convert(&scratch(&s.scratch_theirs), &s.url, true)?;
        let args = ["write", &s.url, "-i", &scratch(&s.scratch_theirs)].map(String::from);
        (t, timed::run(&s.ours, &args, limit)?.usage)
    };
    Ok((
        Sample::new(bytes, theirs.wall, theirs),
        Sample::new(bytes, ours.wall, ours),
    ))
}

/// The number after `"key":` in a flat JSON object (enough for a one-line report).
fn json_number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = json.get(at..)?.trim_start().strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// "median (min–max)" with `places` decimals.
fn summary(samples: &[f64], places: usize) -> String {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "{:.places$} ({min:.places$}–{max:.places$})",
        median(samples)
    )
}

fn render_paths(paths: Result<netns::Paths, String>) -> String {
    let mut s = String::from("\n## smoltcp path vs std TCP (goal: ratio ≥ 0.7)\n\n");
    match paths {
        Ok(p) => {
            let _ = writeln!(
                s,
                "A network namespace made for the run holds tgtd on 10.77.0.1, the kernel side of \
                 a TAP device. `smoltcp-tap --tap tap0 --ip 10.77.0.2/24` (release) reads the \
                 whole {} MiB LUN through the TAP with smoltcp, once with the TAP's MTU at \
                 Ethernet's 1,500 bytes and once at 9,000 (jumbo frames, usual on iSCSI \
                 networks); `iscsi-boot read` reads it through the namespace's kernel TCP. MiB/s \
                 over each process's whole life (login included), median (min–max) of {} \
                 alternating rounds.\n\n| path | MiB/s | ratio to std TCP |\n|---|---|---|\n\
                 | std TCP (`iscsi-boot read`) | {} | |",
                p.lun_mib,
                p.std_tcp.len(),
                summary(&p.std_tcp, 1),
            );
            for (mtu, samples) in netns::TAP_MTUS.iter().zip(&p.smoltcp) {
                let _ = writeln!(
                    s,
                    "| smoltcp on a TAP (`smoltcp-tap`), MTU {mtu} | {} | {:.2} |",
                    summary(samples, 1),
                    median(samples) / median(&p.std_tcp)
                );
            }
        }
        Err(e) => {
            let _ = writeln!(s, "Not measured: {e}");
        }
    }
    s
}

fn render_footprint(
    sizes: Result<size::Sizes, String>,
    ram: Result<size::SessionRam, String>,
) -> String {
    let mut s = String::from(
        "\n## Boot program size and session RAM (goal: `.efi` smaller than iPXE's snponly.efi)\n\n",
    );
    match sizes {
        Ok(z) => {
            let _ = writeln!(
                s,
                "| file | bytes |\n|---|---|\n\
                 | `uefi-sanboot.efi` (x86_64-unknown-uefi, iSCSI on, `--profile firmware`: \
                 the release profile for UEFI images, as `cargo xtask e2e` builds it) | {} |\n\
                 | Debian iPXE `/usr/lib/ipxe/snponly.efi` | {} |\n\n\
                 Ratio (ours / snponly.efi): {:.3}.\n",
                z.ours,
                z.snponly,
                z.ours as f64 / z.snponly as f64
            );
        }
        Err(e) => {
            let _ = writeln!(s, "Size not measured: {e}\n");
        }
    }
    let _ = writeln!(
        s,
        "RAM of one initiator session at queue depth 8 with the sanboot app's buffers \
         (`cargo run --release -p initiator --example footprint`; the job's per-call state lives \
         on the stack and is not counted):\n"
    );
    match ram {
        Ok(r) => {
            let setting = |key: &str| {
                r.parts
                    .iter()
                    .find(|(n, _)| n == key)
                    .map_or(0, |(_, v)| *v)
            };
            let _ = writeln!(
                s,
                "Queue depth {}, MaxRecvDataSegmentLength {} bytes.\n\n| part | bytes |\n|---|---|",
                setting("queue_depth"),
                setting("max_recv_data_segment_length")
            );
            for (name, bytes) in r
                .parts
                .iter()
                .filter(|(n, _)| n != "queue_depth" && n != "max_recv_data_segment_length")
            {
                let label = match name.as_str() {
                    "session" => "`Session` (sans-IO state: task table, text and event queues)",
                    "client" => "`Client` around it (driver state)",
                    "rx_buffer" => "receive buffer (one PDU at our MaxRecvDataSegmentLength)",
                    "tx_buffer" => "transmit buffer (as the sanboot app lends it)",
                    "total" => "**total**",
                    other => other,
                };
                let _ = writeln!(s, "| {label} | {bytes} |");
            }
        }
        Err(e) => {
            let _ = writeln!(s, "Not measured: {e}");
        }
    }
    s
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn render(o: &Options, rows: &[Row], ours_bin: &Path, load: &(String, String)) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let dpkg = |p: &str| command_output("dpkg-query", &["-W", "-f=${Version}", p]);
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "One `tgtd` on 127.0.0.1 serves a {} MiB LUN backed by a file on tmpfs (`/dev/shm`), so \
         the numbers measure the initiators and the loopback path, not a disk. tgtd runs with \
         `{}={}`: with glibc's default, dynamic thresholds it page-faults its way through a \
         fresh buffer on every large command until some larger request has raised them, which \
         halved or doubled the read rows depending on what the target had served before. Each \
         cell is the median of {} rounds (min–max in brackets); within a round the baseline \
         runs first, then iscsi-boot (A B A B …), so drift of the shared machine hits both \
         alike. Ratio = iscsi-boot median / baseline median.\n",
        o.lun_mib,
        crate::tgtd::MALLOC_TUNABLES.0,
        crate::tgtd::MALLOC_TUNABLES.1,
        o.rounds
    );
    let _ = writeln!(
        s,
        "Baselines, all built on libiscsi: reads — `iscsi-perf` ({} s per round); writes — \
         `qemu-img bench -w` (one sequential pass over the LUN; `iscsi-perf` cannot write); \
         whole-LUN download and upload — `qemu-img convert` between the `iscsi://` URL and a \
         file on tmpfs, against `iscsi-boot read` / `iscsi-boot write` (default queue depth 8; \
         qemu-img's default is 8 coroutines), copying the whole {} MiB LUN{}.\n",
        o.seconds,
        o.lun_mib,
        if o.lun_mib == 1024 {
            ""
        } else {
            " (1 GiB with `--lun-mib 1024`)"
        }
    );
    let _ = writeln!(
        s,
        "## Throughput (MiB/s; goal: ratio ≥ 1.0, ≥ 1.2 at queue depth 1)\n"
    );
    let _ = writeln!(
        s,
        "| operation | block size | queue depth | baseline MiB/s | iscsi-boot MiB/s | ratio |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    let pick = |v: &[Sample], f: fn(&Sample) -> f64| v.iter().map(f).collect::<Vec<f64>>();
    for r in rows {
        let theirs = pick(&r.theirs, |x| x.mib_per_s);
        let ours = pick(&r.ours, |x| x.mib_per_s);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.2} |",
            r.kind.title(),
            r.block,
            r.depth,
            summary(&theirs, 1),
            summary(&ours, 1),
            median(&ours) / median(&theirs)
        );
    }
    let _ = writeln!(
        s,
        "\n## CPU seconds (user + sys) per GiB moved (goal: ratio ≤ 1.0)\n\n\
         From the same runs: the kernel's user + system time of each process and its children \
         (`getrusage`, microseconds), login included. tgtd's CPU is not counted on either side.\n"
    );
    let _ = writeln!(
        s,
        "| operation | block size | queue depth | baseline CPU s/GiB | iscsi-boot CPU s/GiB | ratio |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for r in rows {
        let theirs = pick(&r.theirs, |x| x.cpu_per_gib);
        let ours = pick(&r.ours, |x| x.cpu_per_gib);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.2} |",
            r.kind.title(),
            r.block,
            r.depth,
            summary(&theirs, 3),
            summary(&ours, 3),
            median(&ours) / median(&theirs)
        );
    }
    let _ = writeln!(s, "\n## Machine and versions\n");
    let _ = writeln!(
        s,
        "- CPU: {} ({} logical cores available)",
        cpu_model(),
        cores
    );
    let _ = writeln!(s, "- Kernel: {}", command_output("uname", &["-sr"]));
    let _ = writeln!(
        s,
        "- Load average (1 min) before / after: {} / {}",
        load.0, load.1
    );
    let _ = writeln!(s, "- tgt: {}", dpkg("tgt"));
    let _ = writeln!(s, "- libiscsi-bin: {}", dpkg("libiscsi-bin"));
    let _ = writeln!(s, "- rustc: {}", command_output("rustc", &["-V"]));
    let _ = writeln!(
        s,
        "- iscsi-boot: {} (release build)",
        command_output(&ours_bin.to_string_lossy(), &["--version"])
    );
    let _ = writeln!(
        s,
        "- Date: {}",
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    );
    let _ = writeln!(s, "\n## Reproduce\n");
    let _ = writeln!(s, "```sh");
    let _ = writeln!(
        s,
        "cargo xtask bench --seconds {} --rounds {} --lun-mib {}   # as root (tgtd)",
        o.seconds, o.rounds, o.lun_mib
    );
    let _ = writeln!(s, "```\n");
    let _ = writeln!(
        s,
        "The target, started once (target 1 and the LUN are then added with `tgtadm`):\n\n\
         ```sh\n{}={} tgtd -f -C CONTROL_PORT --iscsi portal=127.0.0.1:PORT\n```\n\n\
         Per round and configuration it runs, against `iscsi://127.0.0.1:PORT/{}/1`:\n",
        crate::tgtd::MALLOC_TUNABLES.0,
        crate::tgtd::MALLOC_TUNABLES.1,
        crate::tgtd::TARGET_NAME
    );
    let _ = writeln!(s, "```sh");
    for line in [
        "iscsi-perf -t SECONDS -m QUEUE_DEPTH -b BLOCK_SIZE/512 URL",
        "iscsi-boot bench URL --json --seconds SECONDS --block-size BLOCK_SIZE --queue-depth QUEUE_DEPTH",
        "qemu-img bench -w -f raw -t none -c LUN_SIZE/BLOCK_SIZE -d QUEUE_DEPTH -s BLOCK_SIZE URL",
        "iscsi-boot bench URL --json --write --seconds SECONDS --block-size BLOCK_SIZE --queue-depth QUEUE_DEPTH",
        "qemu-img convert -f raw -O raw URL FILE",
        "iscsi-boot read URL -o FILE",
        "qemu-img convert -n -f raw -O raw -t none FILE URL",
        "iscsi-boot write URL -i FILE",
    ] {
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s, "```\n");
    let _ = writeln!(
        s,
        "iscsi-perf's figure is its final \"iops average\" × request size; qemu-img bench's is \
         bytes / its \"Run completed in\" time. Wall-clock times are taken around each \
         process; CPU times are the kernel's (`getrusage(RUSAGE_CHILDREN)`). The machine is \
         shared with other work, so compare the two columns of one run rather than runs of \
         different days."
    );
    let _ = writeln!(
        s,
        "\nOne part alone: `cargo xtask bench --only {}` (any subset; prints the tables and \
         leaves this file as it is). The micro-benchmarks alone: {}.",
        part_names(),
        micro::commands()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_number_finds_the_key() {
        let j = r#"{"seconds": 5, "bytes_per_second": 1.5e8, "iops": 1144}"#;
        assert_eq!(json_number(j, "bytes_per_second"), Some(1.5e8));
        assert_eq!(json_number(j, "iops"), Some(1144.0));
        assert_eq!(json_number(j, "mib_per_s"), None);
    }

    #[test]
    fn keeps_the_appended_sections() {
        let old = "# Benchmarks\n\n| a |\n\n## Reliability\n\nr\n\n## Footprint\n\nf\n";
        assert_eq!(
            kept_sections(old),
            "## Reliability\n\nr\n\n## Footprint\n\nf\n"
        );
        assert_eq!(
            kept_sections("# Benchmarks\n\n## Footprint\nf"),
            "## Footprint\nf"
        );
        assert_eq!(kept_sections("# Benchmarks\n\n## Reproduce\n"), "");
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
