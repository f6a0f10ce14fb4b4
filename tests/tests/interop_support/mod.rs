//! Shared set-up of the interop tests: a tgtd with one target whose LUNs hold known bytes.

#![allow(dead_code)] // each test binary uses a different subset

use initiator::driver::{Buffers, Client, ClientConfig};
use initiator::error::Error;
use initiator::session::SessionConfig;
use iscsi_boot_tests::tgtd::Tgtd;
use netstack_adapter::std_tcp::StdConnector;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The initiator name the tests log in with unless a case says otherwise.
pub const INITIATOR: &str = "iqn.2026-01.org.iscsi-boot:interop";

/// A running tgtd with target 1 (`iqn` below) and LUN 1 filled with a known pattern.
#[derive(Debug)]
pub struct Lab {
    /// The daemon.
    pub tgtd: Tgtd,
    /// Target 1's name.
    pub iqn: String,
    /// LUN 1's backing file.
    pub backing: PathBuf,
}

impl Lab {
    /// `None` (after a loud message) when tgtd cannot run here.
    pub fn new(case: &str, lun_bytes: usize, block_size: u32) -> Option<Lab> {
        Lab::configure(case, lun_bytes, block_size, |_| {})
    }

    /// Like [`Lab::new`], running `extra` (ACLs, accounts, parameters) before the LUN is bound.
    pub fn configure(
        case: &str,
        lun_bytes: usize,
        block_size: u32,
        extra: impl FnOnce(&Lab),
    ) -> Option<Lab> {
        if !Tgtd::available() {
            eprintln!(
                "SKIPPED {case}: tgtd is not available (CI has it; this test must run there)"
            );
            return None;
        }
        let tgtd = Tgtd::start().expect("start tgtd");
        let iqn = format!("iqn.2026-01.org.iscsi-boot.test:{case}");
        tgtd.new_target(1, &iqn).expect("new target");
        let backing = tgtd
            .add_lun_with(1, 1, &pattern(lun_bytes, seed_of(case)), block_size)
            .expect("add LUN");
        let lab = Lab { tgtd, iqn, backing };
        extra(&lab);
        Some(lab)
    }

    /// Lets every initiator in.
    pub fn open_to_all(&self) -> &Lab {
        self.tgtd.bind_all(1).expect("bind ALL");
        self
    }

    /// Bytes `offset..offset + len` of LUN 1's backing file, as tgtd has them now.
    pub fn backing_bytes(&self, offset: u64, len: usize) -> Vec<u8> {
        read_file_range(&self.backing, offset, len)
    }

    /// The `iscsi://` URL of LUN `lun` at the portal `portal` (default: tgtd's).
    pub fn url(&self, lun: u32) -> String {
        format!("iscsi://{}/{}/{lun}", self.tgtd.portal(), self.iqn)
    }
}

/// Reads `len` bytes at `offset` of `path`.
pub fn read_file_range(path: &Path, offset: u64, len: usize) -> Vec<u8> {
    let mut f = File::open(path).expect("open backing file");
    f.seek(SeekFrom::Start(offset)).expect("seek");
    let mut buf = vec![0u8; len];
    f.read_exact(&mut buf).expect("read backing file");
    buf
}

/// A seed derived from a name, so each case has its own bytes.
pub fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `len` pseudo-random bytes (xorshift64*), distinct per seed and per block, never all zero.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The initiator's client over std TCP, as the tests use it.
pub type TestClient = Client<'static, 'static, StdConnector>;

/// A random-format ISID distinct per test process and call.
pub fn isid() -> [u8; 6] {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed).to_be_bytes();
    let pid = (std::process::id() as u16).to_be_bytes();
    [0x80, pid[0], pid[1], n[1], n[2], n[3]]
}

/// A client configuration for target `iqn` at `portal`, LUN `lun`, with test-friendly timeouts.
pub fn config(portal: SocketAddr, iqn: &str, lun: u16) -> ClientConfig<'static> {
    let iqn: &'static str = Box::leak(iqn.to_owned().into_boxed_str());
    let mut session = SessionConfig::new(INITIATOR, iqn, isid());
    session.login_timeout = Duration::from_secs(3);
    let mut config = ClientConfig::new(portal, session);
    config.lun = lun;
    config.connect_timeout = Duration::from_secs(2);
    config.initial_backoff = Duration::from_millis(50);
    config.max_backoff = Duration::from_millis(500);
    config.not_ready_delay = Duration::from_millis(50);
    config
}

/// Buffers big enough for any PDU the tests negotiate.
pub fn buffers() -> Buffers<'static> {
    Buffers {
        rx: Box::leak(vec![0u8; 300 << 10].into_boxed_slice()),
        tx: Box::leak(vec![0u8; 300 << 10].into_boxed_slice()),
    }
}

/// Connects and logs in with `config`.
pub fn connect(config: &ClientConfig<'static>) -> Result<TestClient, Error> {
    Client::connect(StdConnector::new(), config, buffers())
}

/// Reads `len` bytes at `lba` through `client`.
pub fn read(client: &mut TestClient, lba: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    client.read(lba, &mut buf).expect("read");
    buf
}

/// Asserts two byte strings are equal without printing megabytes on failure.
#[track_caller]
pub fn assert_same(got: &[u8], expected: &[u8], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    if let Some(i) = got.iter().zip(expected).position(|(a, b)| a != b) {
        panic!(
            "{what}: first difference at byte {i}: got {:#04x}, expected {:#04x}",
            got[i], expected[i]
        );
    }
}

/// Leaks a string for a `'static` configuration field.
pub fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}
