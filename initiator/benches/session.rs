//! Session throughput: one 1 MiB READ through the sans-IO session against an in-memory scripted
//! target (no network), so the per-byte cost of framing, sequence checks, digests and the copy
//! into the caller's buffer is visible.
//!
//! Login, the command PDU and the target's Data-In stream are prepared outside the measured
//! part; what is measured is `handle_input` over the whole stream (fed as a transport would, in
//! receive-buffer-sized pieces) and the completion event.

#[path = "../tests/session_target/mod.rs"]
#[allow(unused_imports)]
mod session_target;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use initiator::digest::Digests;
use initiator::session::{Command, DataDirection, DataSink, Event, Params, SessionConfig, TaskTag};
use session_target::{Harness, INITIATOR, ISID, TARGET, data_in, login_plain, parse, target_keys};
use std::hint::black_box;

const READ_BYTES: usize = 1 << 20;
/// READ(10) of 2048 blocks of 512 bytes at LBA 0.
const READ10: [u8; 10] = [0x28, 0, 0, 0, 0, 0, 0, 0x08, 0, 0];

/// Copies Data-In into one flat buffer, as the driver does.
struct Flat(Vec<u8>);

impl DataSink for Flat {
    fn write(&mut self, _tag: TaskTag, offset: u32, bytes: &[u8]) {
        let at = offset as usize;
        if let Some(dst) = self.0.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
}

/// A logged-in session with the READ submitted and sent, and the target's answer to it.
fn prepared(segment: u32, digests: Digests) -> (Harness<'static>, Vec<u8>) {
    let mut config = SessionConfig::new(INITIATOR, TARGET, ISID);
    config.params = Params {
        max_recv_data_segment_length: segment,
        header_digest: digests.header,
        data_digest: digests.data,
        ..Params::default()
    };
    let mut h = Harness::new(config);
    let mut keys = target_keys(segment, 262_144, 65_536, "Yes", "No");
    let digest = |on| if on { "CRC32C" } else { "None" };
    let mut text = Vec::new();
    for pair in keys.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let s = std::str::from_utf8(pair).unwrap();
        let s = match s.split_once('=').unwrap().0 {
            "HeaderDigest" => format!("HeaderDigest={}", digest(digests.header)),
            "DataDigest" => format!("DataDigest={}", digest(digests.data)),
            _ => s.to_string(),
        };
        text.extend_from_slice(s.as_bytes());
        text.push(0);
    }
    keys = text;
    login_plain(&mut h, &keys, 1, 64);
    h.digests = digests;
    h.session
        .submit(Command {
            lun: 0,
            cdb: &READ10,
            data: DataDirection::Read(READ_BYTES as u32),
        })
        .unwrap();
    let sent = h.sent();
    let itt = match parse(&sent[0], digests) {
        initiator::pdu::Repr::ScsiCommand(c) => c.itt,
        other => panic!("expected a SCSI command, got {other:?}"),
    };
    let payload: Vec<u8> = (0..READ_BYTES).map(|i| (i * 7 + 3) as u8).collect();
    let mut stream = Vec::with_capacity(READ_BYTES + READ_BYTES / 1024);
    let pdus = READ_BYTES / segment as usize;
    for (n, chunk) in payload.chunks(segment as usize).enumerate() {
        // The last Data-In carries GOOD status (phase collapse), StatSN 102.
        let status = (n + 1 == pdus).then_some((0u8, 102, 2, 65));
        let offset = (n * segment as usize) as u32;
        stream.extend(data_in(itt, n as u32, offset, chunk, status, digests));
    }
    (h, stream)
}

/// Feeds `stream` in pieces of at most `rx` bytes, keeping partial PDUs as the driver does.
fn run(h: &mut Harness<'static>, stream: &[u8], rx: usize, sink: &mut Flat) {
    let mut start = 0;
    let mut end = 0;
    while start < stream.len() {
        end = (end + rx).min(stream.len()).max(end);
        let used = h
            .session
            .handle_input(h.now, &stream[start..end], sink)
            .unwrap();
        start += used;
        if used == 0 && end == stream.len() {
            panic!("stream not consumed");
        }
    }
    let done = std::iter::from_fn(|| h.session.poll_event())
        .any(|e| matches!(e, Event::TaskComplete(c) if c.is_good()));
    assert!(done, "the READ completed");
}

fn session(c: &mut Criterion) {
    let mut group = c.benchmark_group("session_read_1mib");
    group.throughput(Throughput::Bytes(READ_BYTES as u64));
    let cases = [
        ("8k_segments", 8192, Digests::NONE),
        ("64k_segments", 65_536, Digests::NONE),
        (
            "64k_segments_crc32c",
            65_536,
            Digests {
                header: true,
                data: true,
            },
        ),
    ];
    for (name, segment, digests) in cases {
        group.bench_function(name, |b| {
            b.iter_batched(
                || (prepared(segment, digests), Flat(vec![0u8; READ_BYTES])),
                |((mut h, stream), mut sink)| {
                    run(&mut h, black_box(&stream), 70_000, &mut sink);
                    sink
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, session);
criterion_main!(benches);
