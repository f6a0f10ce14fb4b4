//! Image transfer between a local file and a LUN: `read`, `write`, and the benchmark loop.

use super::device::BlockDevice;
use super::failure::{Cause, Failure};
use super::progress::transfer_bar;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Bytes per SCSI command when transferring images; `queue_depth` of them go out together.
pub const COMMAND_BYTES: u64 = 256 << 10;

/// Blocks per transfer step for `queue_depth` commands in flight.
pub fn step_blocks(block_size: u32, queue_depth: u32) -> u64 {
    let per_command = (COMMAND_BYTES / u64::from(block_size.max(1))).max(1);
    per_command.saturating_mul(u64::from(queue_depth.max(1)))
}

/// Least bytes per step of a download or upload: each step waits for its last command, so the
/// queue drains once per step; several queues' worth per step keeps that rare. An interrupted
/// upload names the last LBA of its last finished step as "last LBA known written", so this is
/// also how far that may lag behind the blocks really written.
const MIN_STEP_BYTES: u64 = 8 << 20;

/// Blocks per step of a download or upload (at least `MIN_STEP_BYTES`).
fn transfer_step_blocks(block_size: u32, queue_depth: u32) -> u64 {
    let min = MIN_STEP_BYTES / u64::from(block_size.max(1));
    step_blocks(block_size, queue_depth).max(min)
}

/// Checks that `lba .. lba + blocks` lies on the LUN.
fn check_range(dev: &dyn BlockDevice, lba: u64, blocks: u64) -> Result<(), Failure> {
    let total = dev.info().blocks;
    match lba.checked_add(blocks) {
        Some(end) if end <= total => Ok(()),
        _ => Err(Failure::new(
            Cause::Usage,
            format!("LBA {lba} + {blocks} blocks runs past the end of the LUN ({total} blocks)"),
        )),
    }
}

/// Copies `blocks` blocks from `lba` into `output`; `None` reads to the end of the LUN.
/// Returns the bytes written to the file.
///
/// A second thread writes each step to the file while the next step is read, so the target
/// never waits for the local disk (two step buffers, passed back and forth).
pub fn read_to_file(
    dev: &mut dyn BlockDevice,
    output: &Path,
    lba: u64,
    blocks: Option<u64>,
    queue_depth: u32,
) -> Result<u64, Failure> {
    let info = dev.info().clone();
    let blocks = blocks.unwrap_or(info.blocks.saturating_sub(lba));
    check_range(dev, lba, blocks)?;
    let local =
        |e: std::io::Error| Failure::new(Cause::LocalIo, format!("{}: {e}", output.display()));
    let mut file = File::create(output).map_err(local)?;
    let bs = u64::from(info.block_size);
    // A read shorter than one step needs no larger buffers than itself.
    let step = transfer_step_blocks(info.block_size, queue_depth).min(blocks.max(1));
    let step_bytes = usize::try_from(step * bs).unwrap_or(usize::MAX);
    let bar = transfer_bar(blocks * bs, "read");
    let (to_writer, filled) = mpsc::sync_channel::<(Vec<u8>, usize)>(1);
    let (to_reader, emptied) = mpsc::sync_channel::<Vec<u8>>(2);
    for _ in 0..2 {
        // Cannot fail: the receiver is alive and the channel has room for both.
        let _ = to_reader.send(vec![0u8; step_bytes]);
    }
    let written = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> std::io::Result<()> {
            for (buf, len) in filled {
                file.write_all(&buf[..len])?;
                if to_reader.send(buf).is_err() {
                    break;
                }
            }
            file.flush()
        });
        let mut done = 0u64;
        let mut outcome = Ok(());
        while done < blocks {
            // The writer hands buffers back until it fails; then its error is the one to report.
            let Ok(mut buf) = emptied.recv() else { break };
            let n = step.min(blocks - done);
            let len = (n * bs) as usize;
            if let Err(e) = dev.read(lba + done, &mut buf[..len]) {
                outcome = Err(e);
                break;
            }
            if to_writer.send((buf, len)).is_err() {
                break;
            }
            done += n;
            bar.inc(n * bs);
        }
        drop(to_writer);
        let wrote = writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("writer panicked")));
        outcome.and(wrote.map_err(local))
    });
    bar.finish_and_clear();
    written.map(|()| blocks * bs)
}

/// What a finished or interrupted write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    /// First LBA written.
    pub first_lba: u64,
    /// Blocks written and acknowledged by the target.
    pub blocks: u64,
}

/// Copies `input` onto the LUN starting at `lba`, padding the last block with zeros.
/// Refuses an image that does not fit. On failure the error names the last LBA known written.
pub fn write_from_file(
    dev: &mut dyn BlockDevice,
    input: &Path,
    lba: u64,
    queue_depth: u32,
    verify: bool,
) -> Result<WriteOutcome, Failure> {
    let info = dev.info().clone();
    let local =
        |e: std::io::Error| Failure::new(Cause::LocalIo, format!("{}: {e}", input.display()));
    let mut file = File::open(input).map_err(local)?;
    let len = file.seek(SeekFrom::End(0)).map_err(local)?;
    file.seek(SeekFrom::Start(0)).map_err(local)?;
    let bs = u64::from(info.block_size);
    let blocks = len.div_ceil(bs);
    let room = info.blocks.saturating_sub(lba);
    if blocks > room {
        return Err(Failure::new(
            Cause::Usage,
            format!(
                "{} is {len} bytes ({blocks} blocks of {bs}) but only {room} blocks fit from LBA {lba}; nothing written",
                input.display()
            ),
        ));
    }
    if blocks == 0 {
        return Ok(WriteOutcome {
            first_lba: lba,
            blocks: 0,
        });
    }
    eprintln!(
        "iscsi-boot: overwriting LBA {lba}..={} ({} bytes) of a {}-byte LUN",
        lba + blocks - 1,
        blocks * bs,
        info.capacity()
    );
    let step = transfer_step_blocks(info.block_size, queue_depth);
    let bar = transfer_bar(blocks * bs, "write");
    let mut buf = vec![0u8; (step * bs) as usize];
    let mut check = if verify {
        vec![0u8; buf.len()]
    } else {
        Vec::new()
    };
    let mut done = 0u64;
    let interrupted = |done: u64, e: Failure| {
        let last = if done == 0 {
            "none".to_owned()
        } else {
            (lba + done - 1).to_string()
        };
        Failure::new(
            e.cause,
            format!("{}; last LBA known written: {last}", e.message),
        )
    };
    while done < blocks {
        let n = step.min(blocks - done);
        let chunk = &mut buf[..(n * bs) as usize];
        let got = read_full(&mut file, chunk).map_err(local)?;
        chunk[got..].fill(0);
        dev.write(lba + done, chunk)
            .map_err(|e| interrupted(done, e))?;
        if verify {
            let back = &mut check[..chunk.len()];
            dev.read(lba + done, back)
                .map_err(|e| interrupted(done + n, e))?;
            if back != chunk {
                return Err(interrupted(
                    done + n,
                    Failure::new(
                        Cause::Scsi,
                        format!(
                            "verify failed: LBA {}..{} reads back different",
                            lba + done,
                            lba + done + n
                        ),
                    ),
                ));
            }
        }
        done += n;
        bar.inc(n * bs);
    }
    bar.finish_and_clear();
    Ok(WriteOutcome {
        first_lba: lba,
        blocks,
    })
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Bytes a benchmark moves per read or write call (the queue drains at the end of each).
const BENCH_CALL_BYTES: u64 = 256 << 20;

/// The outcome of a benchmark run.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BenchResult {
    /// `read` or `write`.
    pub mode: &'static str,
    /// Bytes per command.
    pub block_size: u64,
    /// Commands in flight.
    pub queue_depth: u32,
    /// Wall time measured, in seconds.
    pub seconds: f64,
    /// Bytes moved.
    pub bytes: u64,
    /// Commands completed.
    pub ios: u64,
    /// Megabytes (10^6 bytes) per second.
    pub mb_per_s: f64,
    /// Commands per second.
    pub iops: f64,
}

/// Reads (or writes zeros) sequentially for `duration`, wrapping at the end of the LUN.
pub fn bench(
    dev: &mut dyn BlockDevice,
    duration: Duration,
    io_bytes: u64,
    queue_depth: u32,
    write: bool,
) -> Result<BenchResult, Failure> {
    let info = dev.info().clone();
    let bs = u64::from(info.block_size);
    let io_blocks = (io_bytes / bs).max(1);
    // Commands of exactly `io_bytes`, as the baselines issue them. The data is dropped, as
    // iscsi-perf drops it, so every command shares one command's worth of buffer: the copy
    // target stays in cache as libiscsi's recycled PDU buffers do (a read into a large
    // buffer, as `read` to a file does, pays for cache misses in the kernel's copy).
    dev.set_request_bytes(u32::try_from(io_blocks * bs).unwrap_or(u32::MAX));
    let mut buf = vec![0u8; (io_blocks * bs) as usize];
    // Each call drains the queue at its end: make calls long (BENCH_CALL_BYTES) so that it
    // stays full in between, and short enough to stop close to `duration`.
    let step = (BENCH_CALL_BYTES / bs).max(io_blocks).min(info.blocks);
    if step == 0 {
        return Err(Failure::new(Cause::Usage, "the LUN is empty"));
    }
    let start = Instant::now();
    let (mut bytes, mut ios, mut lba) = (0u64, 0u64, 0u64);
    while start.elapsed() < duration {
        if lba + step > info.blocks {
            lba = 0;
        }
        if write {
            dev.write_streaming(lba, step, &buf)?;
        } else {
            dev.read_streaming(lba, step, &mut buf)?;
        }
        lba += step;
        bytes += step * bs;
        ios += step.div_ceil(io_blocks);
    }
    let seconds = start.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
    Ok(BenchResult {
        mode: if write { "write" } else { "read" },
        block_size: io_blocks * bs,
        queue_depth: queue_depth.max(1),
        seconds,
        bytes,
        ios,
        mb_per_s: bytes as f64 / seconds / 1e6,
        iops: ios as f64 / seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::super::device::MemDevice;
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("iscsi-boot-cli-{}-{name}", std::process::id()))
    }

    #[test]
    fn read_copies_the_requested_range() {
        let mut dev = MemDevice::new(512, 4096);
        for (i, b) in dev.bytes.iter_mut().enumerate() {
            *b = (i / 512) as u8;
        }
        let out = temp("read");
        let n = read_to_file(&mut dev, &out, 10, Some(3), 2).unwrap();
        assert_eq!(n, 1536);
        let got = std::fs::read(&out).unwrap();
        assert_eq!(got, dev.bytes[10 * 512..13 * 512]);
        assert!(read_to_file(&mut dev, &out, 4095, Some(2), 1).is_err());
        std::fs::remove_file(out).unwrap();
    }

    #[test]
    fn read_over_many_steps_keeps_order_and_reports_failures() {
        // 40 MiB: five 8 MiB steps through the two buffers the writer thread hands back.
        let mut dev = MemDevice::new(512, 81_920);
        for (i, b) in dev.bytes.iter_mut().enumerate() {
            *b = (i / 512 % 251) as u8;
        }
        let out = temp("read-steps");
        assert_eq!(read_to_file(&mut dev, &out, 0, None, 8).unwrap(), 40 << 20);
        assert!(std::fs::read(&out).unwrap() == dev.bytes);

        // A read failing in the third step: its cause is reported, the steps before are kept.
        dev.fail_reads_from = Some(2 * 16_384 + 7);
        let e = read_to_file(&mut dev, &out, 7, None, 8).unwrap_err();
        assert_eq!(e.cause, Cause::Timeout);
        let got = std::fs::read(&out).unwrap();
        assert_eq!(got.len(), 2 * (8 << 20));
        assert!(got == dev.bytes[7 * 512..7 * 512 + got.len()]);
        std::fs::remove_file(out).unwrap();

        // The local file failing (no space left): a local I/O error, not a hang.
        dev.fail_reads_from = None;
        let e = read_to_file(&mut dev, Path::new("/dev/full"), 0, None, 8).unwrap_err();
        assert_eq!(e.cause, Cause::LocalIo);
    }

    #[test]
    fn write_pads_refuses_oversize_and_reports_progress() {
        let mut dev = MemDevice::new(512, 2048);
        let input = temp("write");
        std::fs::write(&input, vec![7u8; 1000]).unwrap();
        let out = write_from_file(&mut dev, &input, 5, 1, true).unwrap();
        assert_eq!(
            out,
            WriteOutcome {
                first_lba: 5,
                blocks: 2
            }
        );
        assert!(dev.bytes[5 * 512..5 * 512 + 1000].iter().all(|&b| b == 7));
        assert!(dev.bytes[5 * 512 + 1000..7 * 512].iter().all(|&b| b == 0));

        let err = write_from_file(&mut dev, &input, 2047, 1, false).unwrap_err();
        assert_eq!(err.cause, Cause::Usage);

        // 12 MiB: an 8 MiB step, then a failure in the second.
        let mut dev = MemDevice::new(512, 24_576);
        std::fs::write(&input, vec![1u8; 12 << 20]).unwrap();
        dev.fail_writes_from = Some(16_384);
        let err = write_from_file(&mut dev, &input, 0, 1, false).unwrap_err();
        assert_eq!(err.cause, Cause::Timeout);
        assert!(
            err.message.ends_with("last LBA known written: 16383"),
            "{}",
            err.message
        );
        std::fs::remove_file(input).unwrap();
    }

    #[test]
    fn bench_counts_ios() {
        let mut dev = MemDevice::new(512, 1024);
        let r = bench(&mut dev, Duration::from_millis(20), 4096, 2, false).unwrap();
        assert_eq!(r.block_size, 4096);
        assert!(r.ios > 0 && r.bytes == r.ios * 4096);
    }
}
