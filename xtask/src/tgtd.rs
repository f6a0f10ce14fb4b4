//! The benchmarks' target: the test harness's `tgtd` on 127.0.0.1 serving one LUN from a file
//! on tmpfs (std only).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The target name the benchmark LUN is exported under.
pub const TARGET_NAME: &str = "iqn.2026-11.org.example.iscsi-boot:bench";

/// glibc allocator settings for every benchmark `tgtd`, as `(variable, value)`.
///
/// tgtd takes each command's data buffer from `malloc` and frees it when the command is done.
/// With glibc's defaults a buffer of 128 KiB or more comes from a fresh `mmap` (or from heap
/// the allocator has just given back), so tgtd page-faults once per 4 KiB of every command:
/// 970,772 faults in 3 s of 1 MiB reads at queue depth 8. glibc raises the thresholds only after
/// freeing a larger buffer, so the same target ran at half speed or full speed depending on
/// the request sizes it had served before (a `qemu-img convert` first made 1 MiB reads go from
/// 1,354 to 3,124 MiB/s). Fixed thresholds (32 MiB for `mmap`, 256 MiB before trimming) keep
/// every buffer on the heap from the first command, so each run measures a warm target and
/// both initiators meet the same one.
pub const MALLOC_TUNABLES: (&str, &str) = (
    "GLIBC_TUNABLES",
    "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456",
);

/// A running `tgtd` with target 1, LUN 1 backed by `backing`; stopped, and the backing file
/// removed, on drop.
pub struct Tgtd {
    daemon: iscsi_boot_tests::tgtd::Tgtd,
    /// The iSCSI portal, `127.0.0.1:PORT`.
    pub portal: SocketAddr,
    backing: PathBuf,
}

impl Tgtd {
    /// Creates a `size_mib` backing file at `backing` (on tmpfs for the benchmarks), starts
    /// `tgtd` on a free port of 127.0.0.1 and exports the file as LUN 1.
    pub fn start(backing: &Path, size_mib: u64) -> Result<Tgtd, String> {
        write_backing(backing, size_mib)?;
        Self::serve(backing)
    }

    /// Starts `tgtd` on a free port of 127.0.0.1 and exports the existing file `backing` (a
    /// whole disk image) as LUN 1; the file is removed on drop.
    pub fn serve(backing: &Path) -> Result<Tgtd, String> {
        let localhost = std::net::Ipv4Addr::LOCALHOST.into();
        let daemon = iscsi_boot_tests::tgtd::Tgtd::start_with_env(localhost, &[MALLOC_TUNABLES])
            .map_err(|e| format!("cannot start tgtd (package tgt; needs root): {e}"))?;
        let tgtd = Tgtd {
            portal: daemon.portal(),
            daemon,
            backing: backing.to_path_buf(),
        };
        let io = |e: std::io::Error| format!("tgtadm: {e}");
        tgtd.daemon.new_target(1, TARGET_NAME).map_err(io)?;
        tgtd.daemon.add_lun_file(1, 1, backing, 512).map_err(io)?;
        tgtd.daemon.bind_all(1).map_err(io)?;
        Ok(tgtd)
    }

    /// The LUN as an `iscsi://` URL (libiscsi's syntax, also accepted by `iscsi-boot`).
    pub fn url(&self) -> String {
        format!("iscsi://{}/{TARGET_NAME}/1", self.portal)
    }
}

impl Drop for Tgtd {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.backing);
    }
}

/// Writes a file of `size_mib` MiB with a non-zero pattern (so reads move real pages, not holes).
fn write_backing(path: &Path, size_mib: u64) -> Result<(), String> {
    use std::io::Write;
    let mut f =
        std::fs::File::create(path).map_err(|e| format!("create {}: {e}", path.display()))?;
    let chunk: Vec<u8> = (0..1usize << 20).map(|i| (i % 251) as u8).collect();
    for _ in 0..size_mib {
        f.write_all(&chunk)
            .map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    Ok(())
}
