//! The criterion micro-benchmarks that live beside the crates (PDU codec, CRC32C, the sans-IO
//! session, the iBFT builder): run once, read back from criterion's `estimates.json` files.

use std::fmt::Write as _;
use std::path::Path;

/// One reported benchmark: criterion's id (its directory under `target/criterion`), and the
/// baseline measured beside it in the same run, if there is one.
struct Entry {
    what: &'static str,
    id: &'static str,
    /// Bytes per iteration, for a throughput column.
    bytes: Option<u64>,
    baseline: Option<(&'static str, &'static str)>,
}

const BYTEWISE: &str = "byte-at-a-time table (libiscsi's `crc32c()`)";

const ENTRIES: &[Entry] = &[
    Entry {
        what: "CRC32C, 48 bytes (a header digest)",
        id: "crc32c_48B/iscsi-boot",
        bytes: Some(48),
        baseline: Some((BYTEWISE, "crc32c_48B/bytewise-table")),
    },
    Entry {
        what: "CRC32C, 8 KiB (a data digest)",
        id: "crc32c_8KiB/iscsi-boot",
        bytes: Some(8192),
        baseline: Some((BYTEWISE, "crc32c_8KiB/bytewise-table")),
    },
    Entry {
        what: "Data-In header emit",
        id: "data_in_emit_header",
        bytes: None,
        baseline: None,
    },
    Entry {
        what: "Data-In frame, split and parse",
        id: "data_in_frame_split_parse",
        bytes: None,
        baseline: None,
    },
    Entry {
        what: "1 MiB READ through the session, 8 KiB Data-In segments",
        id: "session_read_1mib/8k_segments",
        bytes: Some(1 << 20),
        baseline: None,
    },
    Entry {
        what: "1 MiB READ through the session, 64 KiB segments",
        id: "session_read_1mib/64k_segments",
        bytes: Some(1 << 20),
        baseline: None,
    },
    Entry {
        what: "1 MiB READ through the session, 64 KiB segments, CRC32C digests",
        id: "session_read_1mib/64k_segments_crc32c",
        bytes: Some(1 << 20),
        baseline: None,
    },
    Entry {
        what: "iBFT emit, 2 NICs + 2 targets",
        id: "emit 2+2",
        bytes: None,
        baseline: None,
    },
    Entry {
        what: "iBFT parse, 2 + 2",
        id: "parse 2+2",
        bytes: None,
        baseline: None,
    },
    Entry {
        what: "iBFT lint, 2 + 2",
        id: "lint 2+2",
        bytes: None,
        baseline: None,
    },
    Entry {
        what: "iBFT emit, 8 NICs + 8 targets",
        id: "emit 8+8",
        bytes: None,
        baseline: None,
    },
    Entry {
        what: "iBFT parse, 8 + 8",
        id: "parse 8+8",
        bytes: None,
        baseline: None,
    },
    Entry {
        what: "iBFT lint, 8 + 8",
        id: "lint 8+8",
        bytes: None,
        baseline: None,
    },
];

/// The bench targets that hold the entries: `(package, bench)`.
const TARGETS: &[(&str, &str)] = &[
    ("initiator", "codec"),
    ("initiator", "session"),
    ("ibft", "build"),
];

/// The `cargo bench` commands that run [`TARGETS`], for the report.
pub(super) fn commands() -> String {
    let shown: Vec<String> = TARGETS
        .iter()
        .map(|(package, bench)| format!("`cargo bench -p {package} --bench {bench}`"))
        .collect();
    shown.join(", ")
}

/// A measured entry: median nanoseconds per iteration of ours and of the baseline.
pub(super) struct Measured {
    entry: &'static Entry,
    ours_ns: f64,
    baseline_ns: Option<f64>,
}

/// Runs every bench target (criterion, without plots) and reads back the medians.
pub(super) fn measure() -> Result<Vec<Measured>, String> {
    for (package, bench) in TARGETS {
        crate::run(
            "cargo",
            &[
                "bench",
                "-p",
                package,
                "--bench",
                bench,
                "--",
                "--noplot",
                "--warm-up-time",
                "1",
                "--measurement-time",
                "3",
            ],
        )?;
    }
    let dir = crate::target_dir().join("criterion");
    ENTRIES
        .iter()
        .map(|entry| {
            Ok(Measured {
                entry,
                ours_ns: median_ns(&dir, entry.id)?,
                baseline_ns: match entry.baseline {
                    Some((_, id)) => Some(median_ns(&dir, id)?),
                    None => None,
                },
            })
        })
        .collect()
}

/// The median (ns per iteration) of criterion's latest run of `id`.
fn median_ns(dir: &Path, id: &str) -> Result<f64, String> {
    let path = dir.join(id).join("new/estimates.json");
    let json =
        std::fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
    median_point_estimate(&json).ok_or_else(|| format!("no median in {}", path.display()))
}

/// `median.point_estimate` of criterion's `estimates.json` (its keys are fixed, so a search is
/// enough: the first `point_estimate` after `"median":`).
fn median_point_estimate(json: &str) -> Option<f64> {
    let median = json.find("\"median\":")?;
    super::json_number(&json[median..], "point_estimate")
}

/// Nanoseconds as the shortest readable unit.
fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// Bytes per nanosecond as GiB/s or MiB/s.
fn throughput(bytes: u64, ns: f64) -> String {
    let per_s = bytes as f64 / (ns * 1e-9);
    if per_s >= (1u64 << 30) as f64 {
        format!("{:.2} GiB/s", per_s / (1u64 << 30) as f64)
    } else {
        format!("{:.0} MiB/s", per_s / (1u64 << 20) as f64)
    }
}

/// The section of `docs/BENCHMARKS.md`.
pub(super) fn render(measured: &Result<Vec<Measured>, String>) -> String {
    let mut s = String::from("\n## Micro-benchmarks (criterion, beside the crates)\n\n");
    let measured = match measured {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(s, "Not measured: {e}");
            return s;
        }
    };
    let _ = write!(s, "{}", commands());
    s.push_str(
        ": median time per iteration (1 s warm-up, 3 s of samples). Where a \
         baseline runs beside ours in the same bench, ratio = baseline time / ours (above 1: \
         ours is faster). The session rows drive a 1 MiB READ through the sans-IO session from \
         an in-memory target, so they show the initiator's own per-byte cost without a network. \
         Only CRC32C has a baseline that runs in the same process: libiscsi's PDU code is \
         internal to its library, and the other iBFT code (iPXE's builder, Linux's parser) runs \
         in firmware and in the kernel, so those rows track our own figures from run to run.\n\n\
         | benchmark | iscsi-boot | baseline | ratio |\n|---|---|---|---|\n",
    );
    for m in measured {
        let ours = match m.entry.bytes {
            Some(b) => format!("{} ({})", time(m.ours_ns), throughput(b, m.ours_ns)),
            None => time(m.ours_ns),
        };
        let (baseline, ratio) = match (m.entry.baseline, m.baseline_ns) {
            (Some((name, _)), Some(ns)) => {
                let shown = match m.entry.bytes {
                    Some(b) => format!("{name}: {} ({})", time(ns), throughput(b, ns)),
                    None => format!("{name}: {}", time(ns)),
                };
                (shown, format!("{:.1}", ns / m.ours_ns))
            }
            _ => ("—".to_string(), "—".to_string()),
        };
        let _ = writeln!(s, "| {} | {ours} | {baseline} | {ratio} |", m.entry.what);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_from_criterion_estimates() {
        // Shape of criterion 0.8's estimates.json, values written by hand.
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.5,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.5,"upper_bound":2.5},"point_estimate":2497.9,"standard_error":1.3}}"#;
        assert_eq!(median_point_estimate(json), Some(2497.9));
        assert_eq!(median_point_estimate("{}"), None);
    }

    #[test]
    fn units() {
        assert_eq!(time(18.24), "18.2 ns");
        assert_eq!(time(2504.9), "2.50 µs");
        assert_eq!(time(356_950.0), "356.95 µs");
        assert_eq!(time(1.5e6), "1.50 ms");
        // 8 KiB in 2,504.9 ns is 3.05 GiB/s; in 20,447 ns 382 MiB/s.
        assert_eq!(throughput(8192, 2504.9), "3.05 GiB/s");
        assert_eq!(throughput(8192, 20_447.0), "382 MiB/s");
    }
}
