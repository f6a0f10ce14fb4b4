//! Soak: seeded random reads and writes against tgtd, verified against a shadow copy of the LUN,
//! through the fault proxy that drops the connection every few seconds, with one tgtd restart
//! half-way (the new daemon serves the old one's backing bytes on a new port, reached through a
//! switchable relay). Reports operations, reconnects, mismatches and hangs; all but the first two
//! must be zero.
//!
//! Runs for `ISCSI_BOOT_SOAK_SECONDS` (default 60, what CI runs); `cargo xtask soak --minutes N`
//! runs it longer. `ISCSI_BOOT_SOAK_SEED` picks the operation sequence.

use initiator::driver::{Buffers, Client, ClientConfig};
use initiator::session::SessionConfig;
use iscsi_boot_tests::hostile::Relay;
use iscsi_boot_tests::linux_vm::REQUIRE_PEERS_ENV;
use iscsi_boot_tests::proxy::FaultProxy;
use iscsi_boot_tests::tgtd::Tgtd;
use netstack_adapter::std_tcp::StdConnector;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BLOCK: usize = 512;
const LUN_BYTES: usize = 16 << 20;
const IQN: &str = "iqn.2026-01.org.iscsi-boot.test:soak";
/// No operation may take longer than this, reconnects included.
const HANG: Duration = Duration::from_secs(30);

/// xorshift64*: the seeded operation sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A tgtd serving `IQN` LUN 1 with `bytes`, open to every initiator, and the LUN's file.
fn target_with(bytes: &[u8]) -> (Tgtd, std::path::PathBuf) {
    let tgtd = Tgtd::start().expect("start tgtd");
    tgtd.new_target(1, IQN).expect("target");
    let backing = tgtd.add_lun_with(1, 1, bytes, BLOCK as u32).expect("LUN");
    tgtd.bind_all(1).expect("bind");
    (tgtd, backing)
}

#[derive(Debug, Default)]
struct Figures {
    reads: u64,
    writes: u64,
    bytes: u64,
    mismatches: u64,
    errors: u64,
}

#[test]
fn soak_through_drops_and_a_restart() {
    if !Tgtd::available() {
        assert!(
            std::env::var_os(REQUIRE_PEERS_ENV).is_none(),
            "tgtd is required here"
        );
        return;
    }
    let seconds = env_u64("ISCSI_BOOT_SOAK_SECONDS", 60);
    let seed = env_u64("ISCSI_BOOT_SOAK_SEED", 0x5eed_2026);
    let mut rng = Rng(seed | 1);
    let mut shadow = vec![0u8; LUN_BYTES];
    rng.fill(&mut shadow);

    let tgtd = Arc::new(Mutex::new(Some(target_with(&shadow))));
    let first_portal = tgtd.lock().unwrap().as_ref().unwrap().0.portal();
    let relay = Relay::start(first_portal).expect("relay");
    let proxy = Arc::new(FaultProxy::start(relay.addr()).expect("proxy"));

    // Faults: the proxy drops every connection every 2-5 s; tgtd is restarted once, half-way.
    let done = Arc::new(AtomicBool::new(false));
    let restarted = Arc::new(AtomicBool::new(false));
    let last_progress = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let faults = {
        let (proxy, done) = (proxy.clone(), done.clone());
        let mut rng = Rng(seed.rotate_left(17) | 1);
        std::thread::spawn(move || {
            let mut drops = 0u64;
            while !done.load(Ordering::Relaxed) {
                let pause = Duration::from_millis(2000 + rng.below(3000));
                let until = Instant::now() + pause;
                while Instant::now() < until && !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if !done.load(Ordering::Relaxed) {
                    proxy.drop_all();
                    drops += 1;
                }
            }
            drops
        })
    };

    // The client runs in its own thread so that a hang is seen (and reported) by this one.
    let worker = {
        let (tgtd, relay_backend, restarted, last_progress, proxy_addr) = (
            tgtd.clone(),
            Arc::new(relay),
            restarted.clone(),
            last_progress.clone(),
            proxy.addr(),
        );
        std::thread::spawn(move || {
            let mut session = SessionConfig::new(
                "iqn.2026-01.org.iscsi-boot:soak",
                IQN,
                [0x80, 0, 0, 0x50, 0xa4, 1],
            );
            session.login_timeout = Duration::from_secs(3);
            session.keepalive_interval = Duration::from_secs(1);
            session.keepalive_timeout = Duration::from_secs(2);
            let mut config = ClientConfig::new(proxy_addr, session);
            config.lun = 1;
            config.max_reconnects = 40;
            config.initial_backoff = Duration::from_millis(50);
            config.max_backoff = Duration::from_millis(500);
            config.connect_timeout = Duration::from_secs(1);
            let (mut rx, mut tx) = (vec![0u8; 300 << 10], vec![0u8; 300 << 10]);
            let mut client = Client::connect(
                StdConnector::new(),
                &config,
                Buffers {
                    rx: &mut rx,
                    tx: &mut tx,
                },
            )
            .expect("login");
            client.set_block_size(BLOCK as u32);
            let mut f = Figures::default();
            let mut buf = vec![0u8; 1 << 20];
            let blocks = (LUN_BYTES / BLOCK) as u64;
            while Instant::now() < deadline {
                if !restarted.load(Ordering::Relaxed)
                    && Instant::now() > started + (deadline - started) / 2
                {
                    // Restart tgtd between operations: stop it and start a new one on the
                    // bytes the old one left in its backing file (not on the shadow copy).
                    let (old, path) = tgtd.lock().unwrap().take().expect("running tgtd");
                    let bytes = std::fs::read(&path).expect("old backing file");
                    drop(old);
                    let new = target_with(&bytes);
                    relay_backend.set_backend(new.0.portal());
                    *tgtd.lock().unwrap() = Some(new);
                    restarted.store(true, Ordering::Relaxed);
                }
                // 1..=2048 blocks (up to 1 MiB), anywhere.
                let most = if rng.below(4) == 0 { 2048 } else { 64 };
                let count = 1 + rng.below(most);
                let lba = rng.below(blocks - count + 1);
                let (start, len) = (lba as usize * BLOCK, count as usize * BLOCK);
                let window = &mut buf[..len];
                if rng.below(2) == 0 {
                    match client.read(lba, window) {
                        Ok(()) => {
                            if window[..] != shadow[start..start + len] {
                                f.mismatches += 1;
                                eprintln!("MISMATCH: read of {count} blocks at LBA {lba}");
                            }
                        }
                        Err(e) => {
                            f.errors += 1;
                            eprintln!("read error: {e}");
                        }
                    }
                    f.reads += 1;
                } else {
                    rng.fill(window);
                    match client.write(lba, window) {
                        Ok(()) => shadow[start..start + len].copy_from_slice(window),
                        Err(e) => {
                            f.errors += 1;
                            eprintln!("write error: {e}");
                            // The write may or may not have landed: learn what the LUN holds.
                            if client.read(lba, window).is_ok() {
                                shadow[start..start + len].copy_from_slice(window);
                            }
                        }
                    }
                    f.writes += 1;
                }
                f.bytes += len as u64;
                last_progress.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
            }
            // A last full comparison of the whole LUN.
            for (i, chunk) in shadow.chunks(1 << 20).enumerate() {
                let window = &mut buf[..chunk.len()];
                match client.read((i * (1 << 20) / BLOCK) as u64, window) {
                    Ok(()) if window[..] == chunk[..] => {}
                    Ok(()) => f.mismatches += 1,
                    Err(_) => f.errors += 1,
                }
            }
            let _ = client.logout();
            f
        })
    };

    // Watchdog.
    loop {
        if worker.is_finished() {
            break;
        }
        let progress = Duration::from_millis(last_progress.load(Ordering::Relaxed));
        assert!(
            started.elapsed() < progress + HANG,
            "HANG: no operation finished for {HANG:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    done.store(true, Ordering::Relaxed);
    let figures = worker.join().expect("soak worker");
    let drops = faults.join().expect("fault thread");
    let reconnects = proxy.connections().saturating_sub(1);
    eprintln!(
        "SOAK seed {seed:#x} {seconds} s: {} operations ({} reads, {} writes, {} MiB), \
         {drops} drops, 1 tgtd restart, {reconnects} reconnects, {} mismatches, {} errors, 0 hangs",
        figures.reads + figures.writes,
        figures.reads,
        figures.writes,
        figures.bytes >> 20,
        figures.mismatches,
        figures.errors
    );
    assert!(restarted.load(Ordering::Relaxed), "tgtd was restarted");
    assert_eq!(figures.mismatches, 0, "data mismatches");
    assert_eq!(figures.errors, 0, "operations failed despite reconnecting");
    assert!(reconnects > 0, "the proxy dropped connections");
}
