//! Builder and parser throughput for a typical 2+2 table and a full 8+8 table.

use core::net::{IpAddr, Ipv4Addr};
use criterion::{Criterion, criterion_group, criterion_main};
use ibft::{Builder, Chap, IpCidr, NicConfig, PciAddress, Table, TargetConfig};
use std::hint::black_box;

fn builder(n: u8) -> Builder<'static> {
    let mut b: Builder = Builder::new("iqn.2026-11.org.example:node1");
    for k in 0..n {
        let h = b
            .add_nic(NicConfig {
                mac: [0x52, 0x54, 0, 0x12, 0x34, k],
                pci: Some(PciAddress {
                    bus: 0,
                    device: 3 + k,
                    function: 0,
                }),
                address: Some(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, k, 15)), 24)),
                gateway: Some(IpAddr::V4(Ipv4Addr::new(10, 0, k, 1))),
                hostname: Some("node1"),
                ..Default::default()
            })
            .unwrap();
        let mut t = TargetConfig::new(
            h,
            IpAddr::V4(Ipv4Addr::new(10, 0, k, 2)),
            "iqn.2026-11.org.example:disk1",
        );
        t.chap = Some(Chap {
            user: "initiator",
            secret: "0123456789abcdef",
        });
        b.add_target(t).unwrap();
    }
    b
}

fn bench(c: &mut Criterion) {
    for n in [2u8, 8] {
        let b = builder(n);
        let mut buf = [0u8; 4096];
        c.bench_function(&format!("emit {n}+{n}"), |bench| {
            bench.iter(|| black_box(&b).emit(black_box(&mut buf)).unwrap())
        });
        let len = b.emit(&mut buf).unwrap();
        c.bench_function(&format!("parse {n}+{n}"), |bench| {
            bench.iter(|| {
                let t = Table::parse(black_box(&buf[..len])).unwrap();
                t.nics().count() + t.targets().count()
            })
        });
        c.bench_function(&format!("lint {n}+{n}"), |bench| {
            bench.iter(|| {
                ibft::lint(black_box(&buf[..len]), &mut |f| {
                    black_box(f);
                })
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
