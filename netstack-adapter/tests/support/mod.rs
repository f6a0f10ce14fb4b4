//! Network-namespace fixtures for tests that need a real Linux peer on a TAP device.
//!
//! A test runs twice: the outer run (in the test's own namespace) creates a fresh network
//! namespace with TAP devices, then re-runs the same test binary inside it with
//! `ip netns exec`, filtered to the one test, with `NETNS_INNER` set. The inner run opens the
//! TAP devices with smoltcp and talks to Linux peers (TCP listeners, dnsmasq) on the host side
//! of the TAPs. The namespace, its devices and every process left in it are removed when the
//! outer run ends, pass or fail. Only addresses inside that namespace are used.
#![allow(dead_code)]

use initiator::time::Instant;
use smoltcp::phy::{Medium, TunTapInterface};
use std::os::fd::{AsRawFd, RawFd};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Environment variable that marks the inner run.
const INNER: &str = "NETNS_INNER";

/// Set by `cargo xtask test` (CI): peers must be present.
pub const REQUIRE_PEERS: &str = "ISCSI_BOOT_REQUIRE_PEERS";

/// A monotonic clock that idles by waiting for the TAP's file descriptor to become readable.
pub struct TapClock {
    start: std::time::Instant,
    fd: RawFd,
}

impl TapClock {
    /// A clock that wakes up when `tap` has a frame.
    pub fn new(tap: &TunTapInterface) -> Self {
        TapClock {
            start: std::time::Instant::now(),
            fd: tap.as_raw_fd(),
        }
    }
}

impl netstack_adapter::Clock for TapClock {
    fn now(&mut self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    fn idle(&mut self, timeout: Duration) {
        let timeout = netstack_adapter::time::duration_to_smoltcp(timeout);
        let _ = smoltcp::phy::wait(self.fd, Some(timeout));
    }
}

/// Opens an existing TAP device in the current namespace.
pub fn open_tap(name: &str) -> TunTapInterface {
    TunTapInterface::new(name, Medium::Ethernet)
        .unwrap_or_else(|e| panic!("opening TAP {name}: {e}"))
}

/// The TAP names passed to the inner run, in creation order.
pub fn inner_taps() -> Vec<String> {
    std::env::var(INNER)
        .expect("inner run")
        .split(',')
        .map(str::to_owned)
        .collect()
}

/// Whether this is the inner run.
pub fn is_inner() -> bool {
    std::env::var_os(INNER).is_some()
}

/// One TAP device in the namespace and the Linux-side address on it.
#[derive(Debug, Clone)]
pub struct TapSpec {
    /// Linux address with prefix on the TAP, e.g. `10.77.0.1/24`.
    pub host_cidr: &'static str,
    /// Optional second (IPv6) Linux address, added without duplicate address detection.
    pub host_cidr6: Option<&'static str>,
}

/// Runs `body` inside a fresh namespace holding one TAP per spec. `test_name` is the test's
/// path as libtest prints it (e.g. `tcp_echo_over_tap`). Returns without running when the
/// machine lacks root or `/dev/net/tun`, saying so loudly.
pub fn run_in_netns(test_name: &str, taps: &[TapSpec], body: impl FnOnce()) {
    if is_inner() {
        body();
        return;
    }
    if let Some(reason) = missing_prerequisite() {
        // CI sets this: there a missing peer is a failure, not a skip.
        assert!(
            std::env::var_os(REQUIRE_PEERS).is_none(),
            "{test_name}: {reason}, and {REQUIRE_PEERS} is set"
        );
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !!! SKIPPING {test_name}: {reason}\n\
             !!! This test needs root and /dev/net/tun (CI has both).\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
        return;
    }
    let ns = Netns::create(taps);
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(exe)
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(INNER, ns.taps.join(","))
        .stdin(Stdio::null())
        .spawn()
        .expect("spawning the inner test run");
    let status = wait_with_timeout(&mut child, Duration::from_secs(90));
    drop(ns);
    match status {
        Some(status) => assert!(
            status.success(),
            "inner run of {test_name} failed: {status}"
        ),
        None => panic!("inner run of {test_name} timed out"),
    }
}

fn missing_prerequisite() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not running as root".into());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun is missing".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("`ip` (iproute2) is not installed".into());
    }
    None
}

/// Waits for `child`, killing it after `timeout`.
pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let end = std::time::Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if std::time::Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A network namespace with TAP devices; deleted (with every process left in it) on drop.
struct Netns {
    name: String,
    taps: Vec<String>,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("running ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Netns {
    fn create(specs: &[TapSpec]) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let ns = Netns {
            name: format!("nsa-test-{id}"),
            taps: Vec::new(),
        };
        let _ = Command::new("ip").args(["netns", "del", &ns.name]).output();
        ip(&["netns", "add", &ns.name]);
        let mut ns = ns;
        ip(&["-n", &ns.name, "link", "set", "lo", "up"]);
        for (i, spec) in specs.iter().enumerate() {
            // Interface names are at most 15 bytes; the namespace keeps them apart from others.
            let tap = format!("tap{i}");
            ip(&["-n", &ns.name, "tuntap", "add", "dev", &tap, "mode", "tap"]);
            ns.taps.push(tap.clone());
            ip(&["-n", &ns.name, "addr", "add", spec.host_cidr, "dev", &tap]);
            if let Some(v6) = spec.host_cidr6 {
                ip(&["-n", &ns.name, "addr", "add", v6, "dev", &tap, "nodad"]);
            }
            ip(&["-n", &ns.name, "link", "set", &tap, "up"]);
        }
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // End only what runs inside this namespace, by pid.
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        for tap in &self.taps {
            let _ = Command::new("ip")
                .args(["-n", &self.name, "tuntap", "del", "dev", tap, "mode", "tap"])
                .output();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A child process killed when dropped (peers started by the inner run).
pub struct Peer(pub Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something in this namespace listens on TCP `port` (IPv4).
pub fn wait_for_tcp_listener(port: u16) {
    let end = std::time::Instant::now() + Duration::from_secs(10);
    let suffix = format!(":{port:04X}");
    while std::time::Instant::now() < end {
        let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        // Columns: sl local_address rem_address st ...; st 0A = LISTEN.
        if tcp.lines().any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.len() > 3 && cols[1].ends_with(&suffix) && cols[3] == "0A"
        }) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on port {port}");
}
