//! A real `tgtd` target on 127.0.0.1 (or `[::1]`), configured with `tgtadm`.
//!
//! Each [`Tgtd`] runs its own daemon in the foreground with its own control port, so tests run in
//! parallel. The daemon is killed and its backing files are removed when the value is dropped, also
//! while a failing test unwinds.
//!
//! ```no_run
//! use iscsi_boot_tests::tgtd::Tgtd;
//! let tgtd = Tgtd::start().unwrap();
//! tgtd.new_target(1, "iqn.2026-01.test:disk").unwrap();
//! let backing = tgtd.add_lun(1, 1, 64 << 20, 512).unwrap();
//! tgtd.bind_all(1).unwrap();
//! println!("portal {} serves {}", tgtd.portal(), backing.display());
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Next control port to try; starts from a per-process offset so parallel test binaries differ.
static NEXT_CONTROL_PORT: AtomicU32 = AtomicU32::new(0);

/// How long a freshly started daemon may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// One running `tgtd` with its private control port and scratch directory.
#[derive(Debug)]
pub struct Tgtd {
    child: Child,
    control_port: u32,
    portal: SocketAddr,
    dir: ScratchDir,
}

/// One open iSCSI connection as `tgtadm --mode conn` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    /// The session id.
    pub sid: u64,
    /// The connection id inside the session.
    pub cid: u32,
}

impl Tgtd {
    /// True when this process may run tgtd: root, with `tgtd` and `tgtadm` installed.
    ///
    /// Prints a loud line naming what is missing otherwise, for tests that skip.
    pub fn available() -> bool {
        let root = is_root();
        let tools = ["tgtd", "tgtadm"].iter().all(|tool| on_path(tool));
        if !root || !tools {
            eprintln!(
                "SKIPPED: tgtd tests need root and the `tgt` package (root: {root}, tgtd/tgtadm installed: {tools})"
            );
        }
        root && tools
    }

    /// Starts a daemon listening on 127.0.0.1 on a free port.
    pub fn start() -> io::Result<Tgtd> {
        Tgtd::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// Starts a daemon listening on `[::1]` on a free port.
    pub fn start_v6() -> io::Result<Tgtd> {
        Tgtd::start_on(IpAddr::V6(Ipv6Addr::LOCALHOST))
    }

    /// Starts a daemon listening on `ip` (a loopback address) on a free port.
    pub fn start_on(ip: IpAddr) -> io::Result<Tgtd> {
        Tgtd::start_with_env(ip, &[])
    }

    /// Starts a daemon listening on `ip` on a free port, with `env` added to its environment
    /// (the benchmarks pin glibc's allocator thresholds this way).
    pub fn start_with_env(ip: IpAddr, env: &[(&str, &str)]) -> io::Result<Tgtd> {
        let mut last_error = None;
        for _ in 0..8 {
            match Tgtd::try_start(ip, env) {
                Ok(tgtd) => return Ok(tgtd),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("tgtd did not start")))
    }

    fn try_start(ip: IpAddr, env: &[(&str, &str)]) -> io::Result<Tgtd> {
        let control_port = next_control_port();
        let portal = SocketAddr::new(ip, free_port(ip)?);
        let dir = ScratchDir::new(&format!("tgtd-{control_port}"))?;
        let log = File::create(dir.path().join("tgtd.log"))?;
        let portal_arg = match ip {
            IpAddr::V4(v4) => format!("portal={v4}:{}", portal.port()),
            IpAddr::V6(v6) => format!("portal=[{v6}]:{}", portal.port()),
        };
        let child = Command::new("tgtd")
            .args([
                "-f",
                "-C",
                &control_port.to_string(),
                "--iscsi",
                &portal_arg,
            ])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut tgtd = Tgtd {
            child,
            control_port,
            portal,
            dir,
        };
        tgtd.wait_until_ready()?;
        Ok(tgtd)
    }

    fn wait_until_ready(&mut self) -> io::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "tgtd exited during start-up ({status}): {}",
                    self.log()
                )));
            }
            let listening =
                TcpStream::connect_timeout(&self.portal, Duration::from_millis(200)).is_ok();
            if listening && self.tgtadm(&["--op", "show", "--mode", "sys"]).is_ok() {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("tgtd did not listen on {}: {}", self.portal, self.log()),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The iSCSI portal the daemon listens on.
    pub fn portal(&self) -> SocketAddr {
        self.portal
    }

    /// The control port `tgtadm -C` addresses this daemon with.
    pub fn control_port(&self) -> u32 {
        self.control_port
    }

    /// The scratch directory holding backing files and the daemon's log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the daemon has logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("tgtd.log")).unwrap_or_default()
    }

    /// Runs `tgtadm -C N --lld iscsi ARGS...`; its stdout on success, its message as the error.
    pub fn tgtadm(&self, args: &[&str]) -> io::Result<String> {
        let output = Command::new("tgtadm")
            .args(["-C", &self.control_port.to_string(), "--lld", "iscsi"])
            .args(args)
            .stdin(Stdio::null())
            .output()?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(io::Error::other(format!(
                "tgtadm {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim(),
                String::from_utf8_lossy(&output.stdout).trim()
            )))
        }
    }

    /// Creates target `tid` named `iqn`.
    pub fn new_target(&self, tid: u32, iqn: &str) -> io::Result<()> {
        let tid = tid.to_string();
        self.tgtadm(&["--op", "new", "--mode", "target", "--tid", &tid, "-T", iqn])
            .map(drop)
    }

    /// Adds LUN `lun` to target `tid`, backed by a new sparse file of `size` bytes with
    /// `block_size`-byte logical blocks; returns the backing file's path.
    pub fn add_lun(&self, tid: u32, lun: u32, size: u64, block_size: u32) -> io::Result<PathBuf> {
        let path = self.dir.path().join(format!("t{tid}-lun{lun}.img"));
        File::create(&path)?.set_len(size)?;
        self.attach_backing(tid, lun, &path, block_size)?;
        Ok(path)
    }

    /// Adds LUN `lun` to target `tid`, backed by a new file holding exactly `contents`.
    pub fn add_lun_with(
        &self,
        tid: u32,
        lun: u32,
        contents: &[u8],
        block_size: u32,
    ) -> io::Result<PathBuf> {
        let path = self.dir.path().join(format!("t{tid}-lun{lun}.img"));
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?
            .write_all(contents)?;
        self.attach_backing(tid, lun, &path, block_size)?;
        Ok(path)
    }

    /// Adds LUN `lun` to target `tid`, backed by the existing file `path` (a whole disk image),
    /// which is left in place when the daemon stops.
    pub fn add_lun_file(&self, tid: u32, lun: u32, path: &Path, block_size: u32) -> io::Result<()> {
        self.attach_backing(tid, lun, path, block_size)
    }

    fn attach_backing(&self, tid: u32, lun: u32, path: &Path, block_size: u32) -> io::Result<()> {
        let (tid, lun) = (tid.to_string(), lun.to_string());
        let path = path.to_string_lossy();
        let block_size = block_size.to_string();
        self.tgtadm(&[
            "--op",
            "new",
            "--mode",
            "logicalunit",
            "--tid",
            &tid,
            "--lun",
            &lun,
            "-b",
            &path,
            "--blocksize",
            &block_size,
        ])
        .map(drop)
    }

    /// Lets every initiator log in to target `tid`.
    pub fn bind_all(&self, tid: u32) -> io::Result<()> {
        self.bind_address(tid, "ALL")
    }

    /// Lets initiators from `address` (or `ALL`) log in to target `tid`.
    pub fn bind_address(&self, tid: u32, address: &str) -> io::Result<()> {
        let tid = tid.to_string();
        self.tgtadm(&[
            "--op", "bind", "--mode", "target", "--tid", &tid, "-I", address,
        ])
        .map(drop)
    }

    /// Lets the initiator named `name` log in to target `tid`.
    pub fn bind_name(&self, tid: u32, name: &str) -> io::Result<()> {
        let tid = tid.to_string();
        self.tgtadm(&[
            "--op", "bind", "--mode", "target", "--tid", &tid, "-Q", name,
        ])
        .map(drop)
    }

    /// Creates a CHAP account.
    pub fn new_account(&self, user: &str, secret: &str) -> io::Result<()> {
        self.tgtadm(&[
            "--op",
            "new",
            "--mode",
            "account",
            "--user",
            user,
            "--password",
            secret,
        ])
        .map(drop)
    }

    /// Requires initiators of target `tid` to authenticate as `user` (one-way CHAP).
    pub fn bind_incoming_account(&self, tid: u32, user: &str) -> io::Result<()> {
        let tid = tid.to_string();
        self.tgtadm(&[
            "--op", "bind", "--mode", "account", "--tid", &tid, "--user", user,
        ])
        .map(drop)
    }

    /// Makes target `tid` authenticate itself as `user` when asked (mutual CHAP).
    pub fn bind_outgoing_account(&self, tid: u32, user: &str) -> io::Result<()> {
        let tid = tid.to_string();
        self.tgtadm(&[
            "--op",
            "bind",
            "--mode",
            "account",
            "--tid",
            &tid,
            "--user",
            user,
            "--outgoing",
        ])
        .map(drop)
    }

    /// Sets one target parameter (`HeaderDigest`, `MaxBurstLength`, `nop_interval`,
    /// `RedirectAddress`, ...).
    pub fn set_param(&self, tid: u32, key: &str, value: &str) -> io::Result<()> {
        let tid = tid.to_string();
        self.tgtadm(&[
            "--op", "update", "--mode", "target", "--tid", &tid, "-n", key, "-v", value,
        ])
        .map(drop)
    }

    /// Sets logical-unit parameters, e.g. `online=0` or `sense_format=1`.
    pub fn set_lun_params(&self, tid: u32, lun: u32, params: &str) -> io::Result<()> {
        let (tid, lun) = (tid.to_string(), lun.to_string());
        self.tgtadm(&[
            "--op",
            "update",
            "--mode",
            "logicalunit",
            "--tid",
            &tid,
            "--lun",
            &lun,
            "--params",
            params,
        ])
        .map(drop)
    }

    /// Redirects logins to target `tid` to `to`; `permanent` picks the reason.
    pub fn redirect(&self, tid: u32, to: SocketAddr, permanent: bool) -> io::Result<()> {
        // TargetAddress puts IPv6 literals in brackets (RFC 7143 §13.8); tgtd copies this value.
        let address = match to.ip() {
            IpAddr::V6(v6) => format!("[{v6}]"),
            IpAddr::V4(v4) => v4.to_string(),
        };
        self.set_param(tid, "RedirectAddress", &address)?;
        self.set_param(tid, "RedirectPort", &to.port().to_string())?;
        let reason = if permanent { "Permanent" } else { "Temporary" };
        self.set_param(tid, "RedirectReason", reason)
    }

    /// The open connections of target `tid`.
    pub fn connections(&self, tid: u32) -> io::Result<Vec<Connection>> {
        let out = self.tgtadm(&["--op", "show", "--mode", "conn", "--tid", &tid.to_string()])?;
        Ok(parse_connections(&out))
    }

    /// Closes one connection from the target's side.
    pub fn delete_connection(&self, tid: u32, conn: Connection) -> io::Result<()> {
        let (tid, sid, cid) = (tid.to_string(), conn.sid.to_string(), conn.cid.to_string());
        self.tgtadm(&[
            "--op", "delete", "--mode", "conn", "--tid", &tid, "--sid", &sid, "--cid", &cid,
        ])
        .map(drop)
    }

    /// Closes every connection of target `tid`; returns how many there were.
    pub fn delete_all_connections(&self, tid: u32) -> io::Result<usize> {
        let conns = self.connections(tid)?;
        for conn in &conns {
            self.delete_connection(tid, *conn)?;
        }
        Ok(conns.len())
    }
}

impl Drop for Tgtd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(format!("/var/run/tgtd/socket.{}", self.control_port));
        let _ = fs::remove_file(format!("/var/run/tgtd/socket.{}.lock", self.control_port));
    }
}

/// Reads `Session: N` / `Connection: M` pairs out of `tgtadm --op show --mode conn`.
fn parse_connections(out: &str) -> Vec<Connection> {
    let mut conns = Vec::new();
    let mut sid = None;
    for line in out.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Session:") {
            sid = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("Connection:")
            && let (Some(sid), Ok(cid)) = (sid, v.trim().parse())
        {
            conns.push(Connection { sid, cid });
        }
    }
    conns
}

fn next_control_port() -> u32 {
    // tgtd accepts 0..=32767. Spread processes over 10000..32000 by pid (other tools use low
    // numbers), then step through ports within a process; a taken port makes tgtd exit and the
    // caller retries with the next one.
    let offset =
        (std::process::id() % 1_100) * 20 + NEXT_CONTROL_PORT.fetch_add(1, Ordering::Relaxed);
    10_000 + offset % 22_000
}

fn free_port(ip: IpAddr) -> io::Result<u16> {
    Ok(TcpListener::bind(SocketAddr::new(ip, 0))?
        .local_addr()?
        .port())
}

fn is_root() -> bool {
    // Root's /proc/self/status lists Uid: 0 for the real user.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// True when `tool` is an executable on `PATH` (or in `/usr/sbin`, often missing from `PATH`).
pub fn on_path(tool: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .any(|dir| dir.join(tool).is_file())
}

/// A directory under the system temp dir, removed with its contents on drop.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates a fresh, uniquely named directory.
    pub fn new(prefix: &str) -> io::Result<ScratchDir> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "iscsi-boot-{prefix}-{}-{n}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&path)?;
        Ok(ScratchDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_connection_listing() {
        let out = "Session: 2\n    Connection: 0\n        Initiator: iqn.x\n        IP Address: 127.0.0.1\nSession: 5\n    Connection: 1\n";
        assert_eq!(
            parse_connections(out),
            vec![Connection { sid: 2, cid: 0 }, Connection { sid: 5, cid: 1 }]
        );
    }

    #[test]
    fn starts_configures_and_stops() {
        if !Tgtd::available() {
            return;
        }
        let tgtd = Tgtd::start().unwrap();
        tgtd.new_target(1, "iqn.2026-01.test:harness").unwrap();
        let backing = tgtd.add_lun(1, 1, 1 << 20, 512).unwrap();
        tgtd.bind_all(1).unwrap();
        tgtd.set_param(1, "MaxBurstLength", "4096").unwrap();
        tgtd.set_lun_params(1, 1, "sense_format=1").unwrap();
        assert_eq!(fs::metadata(&backing).unwrap().len(), 1 << 20);
        assert!(tgtd.connections(1).unwrap().is_empty());
        let dir = tgtd.dir().to_path_buf();
        drop(tgtd);
        assert!(!dir.exists());
    }

    #[test]
    fn the_daemon_gets_the_extra_environment() {
        if !Tgtd::available() {
            return;
        }
        let value = "glibc.malloc.mmap_threshold=33554432";
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let tgtd = Tgtd::start_with_env(ip, &[("GLIBC_TUNABLES", value)]).unwrap();
        let environ = fs::read(format!("/proc/{}/environ", tgtd.child.id())).unwrap();
        let wanted = format!("GLIBC_TUNABLES={value}");
        assert!(
            environ.split(|&b| b == 0).any(|v| v == wanted.as_bytes()),
            "{}",
            String::from_utf8_lossy(&environ)
        );
    }
}
