//! Codec throughput: Data-In header parse and emit; CRC32C over a header digest's 48 bytes and
//! an 8 KiB data segment, ours beside the baseline, the byte-at-a-time table lookup that
//! libiscsi's `crc32c()` uses (one 256-entry table, one byte per step). `cargo xtask bench`
//! reports both and their ratio.

use crc::{CRC_32_ISCSI, Crc, Table};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use initiator::digest::{Digests, crc32c};
use initiator::pdu::{DataIn, Frame, Repr, ScsiStatus, frame_status};
use initiator::serial::SeqNum;
use std::hint::black_box;

fn data_in(data: &[u8]) -> Repr<'_> {
    Repr::DataIn(DataIn {
        final_bit: true,
        ack: false,
        overflow: false,
        underflow: false,
        status: Some(ScsiStatus::Good),
        lun: 0,
        itt: 0x10,
        ttt: 0xffff_ffff,
        stat_sn: SeqNum(100),
        exp_cmd_sn: SeqNum(50),
        max_cmd_sn: SeqNum(81),
        data_sn: 3,
        buffer_offset: 0x6000,
        residual: 0,
        data,
    })
}

/// The baseline CRC32C: libiscsi's algorithm, one table lookup per byte.
static BYTEWISE: Crc<u32, Table<1>> = Crc::<u32, Table<1>>::new(&CRC_32_ISCSI);

fn codec(c: &mut Criterion) {
    let payload = vec![0x5au8; 8192];

    let mut header = [0u8; 52];
    c.bench_function("data_in_emit_header", |b| {
        b.iter(|| black_box(data_in(black_box(&payload)).emit_header(&mut header, Digests::NONE)))
    });

    let mut pdu = vec![0u8; data_in(&payload).buffer_len(Digests::NONE)];
    data_in(&payload).emit(&mut pdu, Digests::NONE).unwrap();
    c.bench_function("data_in_frame_split_parse", |b| {
        b.iter(|| {
            let buf = black_box(&pdu[..]);
            let _ = black_box(frame_status(buf, Digests::NONE, 1 << 20));
            let frame = Frame::split(buf, Digests::NONE).unwrap();
            black_box(Repr::parse_frame(&frame).unwrap());
        })
    });

    for (name, len) in [("48B", 48), ("8KiB", 8192)] {
        let data = &payload[..len];
        assert_eq!(
            crc32c(data),
            BYTEWISE.checksum(data),
            "the baseline computes CRC32C too"
        );
        let mut group = c.benchmark_group(format!("crc32c_{name}"));
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function("iscsi-boot", |b| {
            b.iter(|| black_box(crc32c(black_box(data))))
        });
        group.bench_function("bytewise-table", |b| {
            b.iter(|| black_box(BYTEWISE.checksum(black_box(data))))
        });
        group.finish();
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
