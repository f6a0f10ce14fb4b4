//! A throw-away `tgtd` on 127.0.0.1 serving one LUN, for the benchmarks (std only).

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The target name the benchmark LUN is exported under.
pub const TARGET_NAME: &str = "iqn.2026-11.org.example.iscsi-boot:bench";

/// A running `tgtd` with target 1, LUN 1 backed by `backing`; stopped and cleaned up on drop.
pub struct Tgtd {
    child: Child,
    /// The iSCSI portal, `127.0.0.1:PORT`.
    pub portal: SocketAddr,
    control_port: u16,
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
        let port = free_port()?;
        // tgtd's control socket is /var/run/tgtd/socket.N with N at most 32767: derive N from
        // our free port so that concurrent instances (and other tests' tgtds) do not share one.
        let control_port = 10_000 + port % 22_000;
        let child = Command::new("tgtd")
            .args(["-f", "-C", &control_port.to_string(), "--iscsi"])
            .arg(format!("portal=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start tgtd (package tgt; needs root): {e}"))?;
        let mut tgtd = Tgtd {
            child,
            portal: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            control_port,
            backing: backing.to_path_buf(),
        };
        tgtd.wait_ready()?;
        tgtd.tgtadm(&[
            "--op",
            "new",
            "--mode",
            "target",
            "--tid",
            "1",
            "-T",
            TARGET_NAME,
        ])?;
        let file = backing.to_string_lossy().into_owned();
        tgtd.tgtadm(&[
            "--op",
            "new",
            "--mode",
            "logicalunit",
            "--tid",
            "1",
            "--lun",
            "1",
            "-b",
            &file,
        ])?;
        tgtd.tgtadm(&[
            "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL",
        ])?;
        Ok(tgtd)
    }

    /// The LUN as an `iscsi://` URL (libiscsi's syntax, also accepted by `iscsi-boot`).
    pub fn url(&self) -> String {
        format!("iscsi://{}/{TARGET_NAME}/1", self.portal)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "tgtd exited at start: {status} (is another tgtd using the port, or are we not root?)"
                ));
            }
            let listening =
                TcpStream::connect_timeout(&self.portal, Duration::from_millis(200)).is_ok();
            if listening && self.tgtadm(&["--op", "show", "--mode", "system"]).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("tgtd did not come up within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn tgtadm(&self, args: &[&str]) -> Result<(), String> {
        crate::run_quiet(
            Command::new("tgtadm")
                .args(["-C", &self.control_port.to_string(), "--lld", "iscsi"])
                .args(args),
        )
    }
}

impl Drop for Tgtd {
    fn drop(&mut self) {
        // tgtd ignores SIGTERM; SIGKILL leaves its control socket behind, so remove that too.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.backing);
        for suffix in ["", ".lock"] {
            let socket = format!("/var/run/tgtd/socket.{}{suffix}", self.control_port);
            let _ = std::fs::remove_file(socket);
        }
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

/// A TCP port of 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}
