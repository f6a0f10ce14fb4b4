//! The libiscsi-based baselines: `iscsi-perf` (reads; it cannot write), `qemu-img bench -w`
//! (writes through QEMU's libiscsi driver) and `qemu-img convert` (whole-LUN copies).

use super::Sample;
use super::timed::{self, Usage};
use std::path::Path;
use std::time::Duration;

/// tgtd's default logical block size for a file-backed LUN.
const LUN_BLOCK: u64 = 512;

/// libiscsi's sequential READ(16) loop for `seconds`.
pub(super) fn iscsi_perf(
    url: &str,
    block: u64,
    depth: u32,
    seconds: u64,
) -> Result<Sample, String> {
    let args = [
        "-t".to_string(),
        seconds.to_string(),
        "-m".into(),
        depth.to_string(),
        "-b".into(),
        (block / LUN_BLOCK).to_string(),
        url.into(),
    ];
    let t = timed::run(
        Path::new("iscsi-perf"),
        &args,
        Duration::from_secs(seconds + 15),
    )?;
    let out = &t.stdout;
    if !out.contains(&format!("({block} byte)")) {
        return Err(format!(
            "iscsi-perf did not use {block}-byte requests:\n{out}"
        ));
    }
    let iops = iops_average(out)
        .ok_or_else(|| format!("no \"iops average\" in iscsi-perf output:\n{out}"))?;
    let bytes = iops * block as f64 * seconds as f64;
    Ok(Sample::new(bytes, seconds as f64, t.usage))
}

/// The last progress line of iscsi-perf (lines end in \r) reads "iops average N (M MB/s)".
fn iops_average(out: &str) -> Option<f64> {
    let (_, after) = out.rsplit_once("iops average ")?;
    after.split_whitespace().next()?.parse().ok()
}

/// `qemu-img bench -w`: one sequential pass of `block`-byte writes over the whole LUN with
/// `depth` in flight; the time is qemu-img's own "Run completed in X seconds" (login excluded).
pub(super) fn qemu_img_bench_write(
    url: &str,
    block: u64,
    depth: u32,
    lun_mib: u64,
) -> Result<Sample, String> {
    let count = (lun_mib << 20) / block;
    let args = [
        "bench",
        "-w",
        "-f",
        "raw",
        "-t",
        "none",
        "-c",
        &count.to_string(),
        "-d",
        &depth.to_string(),
        "-s",
        &block.to_string(),
        url,
    ]
    .map(String::from);
    let t = timed::run(Path::new("qemu-img"), &args, Duration::from_secs(120))?;
    let seconds = run_completed(&t.stdout)
        .ok_or_else(|| format!("no \"Run completed in\" in qemu-img output:\n{}", t.stdout))?;
    Ok(Sample::new((count * block) as f64, seconds, t.usage))
}

fn run_completed(out: &str) -> Option<f64> {
    let (_, after) = out.split_once("Run completed in ")?;
    after.split_whitespace().next()?.parse().ok()
}

/// `qemu-img convert` of a whole raw image from `src` to `dst` (either may be an `iscsi://`
/// URL); `existing` writes into the existing target rather than creating it.
pub(super) fn qemu_img_convert(src: &str, dst: &str, existing: bool) -> Result<Usage, String> {
    let mut args: Vec<String> = vec!["convert".into()];
    if existing {
        args.push("-n".into());
    }
    args.extend(["-f", "raw", "-O", "raw", "-t", "none", src, dst].map(String::from));
    if !existing {
        // `-t none` is for the destination; a new file on tmpfs cannot be opened O_DIRECT.
        args.retain(|a| a != "-t" && a != "none");
    }
    Ok(timed::run(Path::new("qemu-img"), &args, Duration::from_secs(120))?.usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iscsi_perf_and_qemu_img_lines() {
        let perf = "iops average 100 (12 MB/s)\r iops average 1144 (150 MB/s)\r";
        assert_eq!(iops_average(perf), Some(1144.0));
        let qemu = "Sending 512 write requests, 131072 bytes each, 8 in parallel\n\
                    Run completed in 0.243 seconds.\n";
        assert_eq!(run_completed(qemu), Some(0.243));
    }
}
