//! Shared set-up of the interop tests: a tgtd with one target whose LUNs hold known bytes.

#![allow(dead_code)] // each test binary uses a different subset

use iscsi_boot_tests::tgtd::Tgtd;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

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
