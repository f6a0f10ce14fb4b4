//! Codec throughput: Data-In header parse and emit, CRC32C over an 8 KiB data segment.

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

    let mut group = c.benchmark_group("crc32c");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    group.bench_function("8KiB", |b| {
        b.iter(|| black_box(crc32c(black_box(&payload))))
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
