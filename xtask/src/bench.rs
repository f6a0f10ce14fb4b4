//! `cargo xtask bench`: sequential-read throughput of `iscsi-boot bench` against libiscsi's
//! `iscsi-perf`, on the same tgtd and tmpfs-backed LUN, in alternating rounds (A B A B …) so that
//! drift of the machine hits both sides alike. Writes `docs/BENCHMARKS.md`.

use crate::tgtd::Tgtd;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BLOCK_SIZES: &[(u64, &str)] = &[(128 << 10, "128 KiB"), (1 << 20, "1 MiB")];
const QUEUE_DEPTHS: &[u32] = &[1, 8, 32];
/// tgtd's default logical block size for a file-backed LUN.
const LUN_BLOCK: u64 = 512;

struct Options {
    seconds: u64,
    rounds: usize,
    lun_mib: u64,
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
        seconds: 5,
        rounds: 5,
        lun_mib: 256,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?
            .parse::<u64>()
            .map_err(|e| format!("{flag}: {e}"))?;
        match flag.as_str() {
            "--seconds" => o.seconds = value.max(1),
            "--rounds" => o.rounds = (value as usize).max(1),
            "--lun-mib" => o.lun_mib = value.max(16),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
}

/// One measured configuration: throughput samples in MiB/s of each side.
struct Row {
    block: &'static str,
    depth: u32,
    theirs: Vec<f64>,
    ours: Option<Vec<f64>>,
}

/// Runs the benchmark and writes `docs/BENCHMARKS.md`.
pub fn run(args: &[String]) -> Result<(), String> {
    let o = parse_options(args)?;
    crate::run(
        "cargo",
        &["build", "--release", "-p", "cli", "--bin", "iscsi-boot"],
    )?;
    let ours_bin = crate::workspace_root().join("target/release/iscsi-boot");
    let ours_available = has_bench_command(&ours_bin);
    if !ours_available {
        eprintln!("xtask bench: `iscsi-boot bench` is not available; measuring libiscsi only");
    }
    let backing = PathBuf::from(format!(
        "/dev/shm/iscsi-boot-bench-{}.img",
        std::process::id()
    ));
    let tgtd = Tgtd::start(&backing, o.lun_mib)?;
    let url = tgtd.url();
    eprintln!(
        "xtask bench: tgtd serving {url} ({} MiB on tmpfs)",
        o.lun_mib
    );

    let load_before = load_average();
    let mut rows = Vec::new();
    for &(block, block_name) in BLOCK_SIZES {
        for &depth in QUEUE_DEPTHS {
            let mut row = Row {
                block: block_name,
                depth,
                theirs: Vec::new(),
                ours: ours_available.then(Vec::new),
            };
            for round in 1..=o.rounds {
                let a = iscsi_perf(&url, block, depth, o.seconds)?;
                eprintln!("  {block_name:>7} QD{depth:<2} round {round}: libiscsi {a:8.1} MiB/s");
                row.theirs.push(a);
                if let Some(ours) = row.ours.as_mut() {
                    let b = iscsi_boot(&ours_bin, &url, block, depth, o.seconds)?;
                    eprintln!(
                        "  {block_name:>7} QD{depth:<2} round {round}: ours     {b:8.1} MiB/s"
                    );
                    ours.push(b);
                }
            }
            rows.push(row);
        }
    }
    drop(tgtd);

    let load = (load_before, load_average());
    let report = render(&o, &rows, &ours_bin, &load);
    let path = crate::workspace_root().join("docs/BENCHMARKS.md");
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
        .and_then(|()| std::fs::write(&path, &report))
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    println!("{report}");
    eprintln!("xtask bench: wrote {}", path.display());
    Ok(())
}

fn has_bench_command(bin: &Path) -> bool {
    Command::new(bin)
        .args(["bench", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs a command with a deadline; on expiry it gets SIGTERM (iscsi-perf then prints its
/// average and exits), then SIGKILL. Returns stdout.
fn output_within(cmd: &mut Command, limit: Duration) -> Result<String, String> {
    let shown = crate::show(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    let pid = child.id().to_string();
    let reader = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut out, &mut s);
            s
        })
    });
    let started = Instant::now();
    let mut termed = false;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        let waited = started.elapsed();
        if waited > limit && !termed {
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            termed = true;
        } else if waited > limit + Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("`{shown}` did not finish"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = reader.and_then(|r| r.join().ok()).unwrap_or_default();
    if !status.success() {
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        return Err(format!("`{shown}` failed ({status}): {stderr}{stdout}"));
    }
    Ok(stdout)
}

/// libiscsi's sequential READ(16) loop; returns MiB/s.
fn iscsi_perf(url: &str, block: u64, depth: u32, seconds: u64) -> Result<f64, String> {
    let blocks = block / LUN_BLOCK;
    let out = output_within(
        Command::new("iscsi-perf")
            .args(["-t", &seconds.to_string()])
            .args(["-m", &depth.to_string()])
            .args(["-b", &blocks.to_string()])
            .arg(url),
        Duration::from_secs(seconds + 15),
    )?;
    if !out.contains(&format!("({block} byte)")) {
        return Err(format!(
            "iscsi-perf did not use {block}-byte requests:\n{out}"
        ));
    }
    // The last progress line (lines end in \r) reads "iops average N (M MB/s)".
    let iops = out
        .rsplit("iops average ")
        .next()
        .filter(|_| out.contains("iops average "))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or_else(|| format!("no \"iops average\" in iscsi-perf output:\n{out}"))?;
    Ok(iops * block as f64 / (1u64 << 20) as f64)
}

/// `iscsi-boot bench --json`; returns MiB/s.
///
/// Reads the first of these keys of the JSON object: `bytes_per_second`, `mib_per_second`,
/// `mib_per_s`, `mb_per_second`, `mb_per_s` (MB = 10^6 bytes).
fn iscsi_boot(bin: &Path, url: &str, block: u64, depth: u32, seconds: u64) -> Result<f64, String> {
    let out = output_within(
        Command::new(bin)
            .args(["bench", url, "--json"])
            .args(["--seconds", &seconds.to_string()])
            .args(["--block-size", &block.to_string()])
            .args(["--queue-depth", &depth.to_string()]),
        Duration::from_secs(seconds + 30),
    )?;
    let mib = (1u64 << 20) as f64;
    let keys: [(&str, f64); 5] = [
        ("bytes_per_second", 1.0 / mib),
        ("mib_per_second", 1.0),
        ("mib_per_s", 1.0),
        ("mb_per_second", 1e6 / mib),
        ("mb_per_s", 1e6 / mib),
    ];
    keys.iter()
        .find_map(|(key, scale)| json_number(&out, key).map(|v| v * scale))
        .ok_or_else(|| format!("no throughput in `iscsi-boot bench --json` output:\n{out}"))
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

fn summary(samples: &[f64]) -> String {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{:.1} ({:.1}–{:.1})", median(samples), min, max)
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
        "Sequential reads from one `tgtd` on 127.0.0.1 serving a {} MiB LUN backed by a file on \
         tmpfs (`/dev/shm`), so the numbers measure the initiators and the loopback path, not a disk. \
         Each cell is the median MiB/s of {} rounds of {} s (min–max in brackets); rounds alternate \
         libiscsi and iscsi-boot (A B A B …). Ratio = iscsi-boot median / libiscsi median.\n",
        o.lun_mib, o.rounds, o.seconds
    );
    let _ = writeln!(
        s,
        "| block size | queue depth | libiscsi `iscsi-perf` MiB/s | `iscsi-boot bench` MiB/s | ratio |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for r in rows {
        let (ours, ratio) = match &r.ours {
            Some(v) => (summary(v), format!("{:.2}", median(v) / median(&r.theirs))),
            None => ("not available".into(), "–".into()),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.block,
            r.depth,
            summary(&r.theirs),
            ours,
            ratio
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
        "Per round and configuration it runs, against `iscsi://127.0.0.1:PORT/{}/1`:\n",
        crate::tgtd::TARGET_NAME
    );
    let _ = writeln!(s, "```sh");
    let _ = writeln!(
        s,
        "iscsi-perf -t SECONDS -m QUEUE_DEPTH -b BLOCK_SIZE/512 URL"
    );
    let _ = writeln!(
        s,
        "target/release/iscsi-boot bench URL --json --seconds SECONDS --block-size BLOCK_SIZE --queue-depth QUEUE_DEPTH"
    );
    let _ = writeln!(s, "```\n");
    let _ = writeln!(
        s,
        "libiscsi's figure is its final \"iops average\" × request size. The machine is shared with \
         other work, so compare the two columns of one run rather than runs of different days."
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
    fn median_of_even_and_odd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
